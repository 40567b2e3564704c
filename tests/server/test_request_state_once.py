"""A multi round-trip request's last step runs once (basic/patterns/mrtr, "Server Requirements"
4): a requestState is accepted once, across the processes sharing a store, unless the server
says otherwise; and answers to questions that were never asked are not taken as answers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

from mcpkit import Context, Server
from mcpkit.testing import raw_session

REVISION = "2026-07-28"
CAPS: dict[str, Any] = {"elicitation": {"form": {}}, "sampling": {}}
NAME = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
PAY = {"name": "pay", "arguments": {"amount": 30}}


def modern(params: dict[str, Any]) -> dict[str, Any]:
    meta = {
        "io.modelcontextprotocol/protocolVersion": REVISION,
        "io.modelcontextprotocol/clientCapabilities": CAPS,
        "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"},
    }
    return {**params, "_meta": meta}


def billing(charges: list[str], **options: Any) -> Server:
    """A tool that asks who pays, then charges them: the charge is its last step."""
    server = Server("billing", request_state_key="k" * 32, **options)

    @server.tool()
    async def pay(amount: int, ctx: Context) -> str:
        """Ask who pays, then charge them."""
        who = await ctx.elicit(f"Who pays {amount}?", NAME)
        assert who.data is not None
        charges.append(who.data["name"])
        return f"charged {who.data['name']}"

    @server.tool()
    async def pay_twice(ctx: Context) -> str:
        """Ask who pays, then ask the LLM for a receipt, then charge."""
        who = await ctx.elicit("Who pays?", NAME)
        assert who.data is not None
        receipt = await ctx.sample("Write a receipt", max_tokens=20)
        charges.append(who.data["name"])
        return f"{who.data['name']}: {getattr(receipt.content, 'text', '')}"

    return server


def answer(name: str) -> dict[str, Any]:
    return {"action": "accept", "content": {"name": name}}


async def send(peer: Any, params: dict[str, Any]) -> dict[str, Any]:
    reply: dict[str, Any] = await peer.request("tools/call", modern(params))
    return reply


async def test_a_replayed_final_retry_charges_once() -> None:
    charges: list[str] = []
    async with raw_session(billing(charges), initialize=False) as peer:
        asked = (await send(peer, PAY))["result"]
        final = {
            **PAY,
            "inputResponses": {"q1": answer("Ada")},
            "requestState": asked["requestState"],
        }
        replies = [await send(peer, final) for _ in range(3)]
    assert replies[0]["result"]["content"][0]["text"] == "charged Ada"
    for replayed in replies[1:]:
        assert replayed["error"]["code"] == -32602
        message = replayed["error"]["message"]
        assert "used already" in message and "request_state_single_use" in message
    assert charges == ["Ada"]


async def test_a_state_is_spent_for_every_process_sharing_the_store(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'state.db'}"
    charges: list[str] = []
    here, there = billing(charges, store=store), billing(charges, store=store)
    try:
        async with raw_session(here, initialize=False) as peer:
            asked = (await send(peer, PAY))["result"]
            state = asked["requestState"]
            final = {**PAY, "inputResponses": {"q1": answer("Ada")}, "requestState": state}
            assert "result" in await send(peer, final)
        async with raw_session(there, initialize=False) as peer:  # another worker
            replayed = await send(peer, final)
    finally:
        await here.store.aclose()
        await there.store.aclose()
    assert replayed["error"]["code"] == -32602 and "used already" in replayed["error"]["message"]
    assert charges == ["Ada"]


async def test_states_may_be_replayable_when_the_server_says_so() -> None:
    charges: list[str] = []
    server = billing(charges, request_state_single_use=False)
    async with raw_session(server, initialize=False) as peer:
        asked = (await send(peer, PAY))["result"]
        final = {
            **PAY,
            "inputResponses": {"q1": answer("Ada")},
            "requestState": asked["requestState"],
        }
        for _ in range(2):
            assert "result" in await send(peer, final)
    assert charges == ["Ada", "Ada"]  # what docs/server.md says a handler must then expect


async def test_answers_sent_with_no_state_answer_nothing() -> None:
    charges: list[str] = []
    async with raw_session(billing(charges), initialize=False) as peer:
        unasked = await send(peer, {**PAY, "inputResponses": {"q1": answer("Mallory")}})
    result = unasked["result"]
    # The question is asked: answers to a question never asked are ignored (mrtr, "Error
    # Handling": what the server does not recognize it ignores).
    assert result["resultType"] == "input_required"
    assert result["inputRequests"]["q1"]["params"]["message"] == "Who pays 30?"
    assert charges == []


async def test_an_answer_ahead_of_its_question_or_over_an_earlier_one_is_ignored() -> None:
    charges: list[str] = []
    twice = {"name": "pay_twice", "arguments": {}}
    receipt = {"role": "assistant", "content": {"type": "text", "text": "paid"}, "model": "m"}
    async with raw_session(billing(charges), initialize=False) as peer:
        first = (await send(peer, twice))["result"]
        # q2 was not asked yet: its answer, sent ahead, must not skip the question.
        ahead = {"q1": answer("Ada"), "q2": receipt}
        second = await send(
            peer, {**twice, "inputResponses": ahead, "requestState": first["requestState"]}
        )
        asked = second["result"]
        assert asked["resultType"] == "input_required" and list(asked["inputRequests"]) == ["q2"]
        # q1 was answered and travels sealed: a new answer to it is not taken either.
        late = {"q1": answer("Mallory"), "q2": receipt}
        done = await send(
            peer, {**twice, "inputResponses": late, "requestState": asked["requestState"]}
        )
    assert done["result"]["content"][0]["text"] == "Ada: paid"
    assert charges == ["Ada"]


def sealed_without_id(state: str) -> str:
    """`state` as a server before single-use states sealed it: the same payload with no `j`,
    signed with the same key (the key of `billing`)."""
    version, payload, _ = state.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    del data["j"]
    text = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    mac = hmac.new(b"k" * 32, f"{version}.{text}".encode(), hashlib.sha256).digest()
    return f"{version}.{text}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


async def test_a_state_with_no_id_cannot_be_spent_so_is_refused() -> None:
    charges: list[str] = []
    server = billing(charges)
    async with raw_session(server, initialize=False) as peer:
        asked = (await send(peer, PAY))["result"]
        old = sealed_without_id(asked["requestState"])
        reply = await send(
            peer, {**PAY, "inputResponses": {"q1": answer("A")}, "requestState": old}
        )
    assert reply["error"]["code"] == -32602
    assert "sealed before this server made them single-use" in reply["error"]["message"]
    assert charges == []
