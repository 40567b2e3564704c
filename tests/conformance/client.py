"""The client the MCP conformance suite tests: `python tests/conformance/client.py URL`.

The harness names the scenario in `MCP_CONFORMANCE_SCENARIO` (and gives credentials in
`MCP_CONFORMANCE_CONTEXT` for some auth scenarios); this picks what to do from it.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any

import httpx

from mcpkit import Client
from mcpkit.auth.client import HeadlessRedirect, OAuth
from mcpkit.auth.metadata import ClientInformation, ClientMetadata
from mcpkit.errors import SkillVerificationFailed
from mcpkit.types import (
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequestParams,
    ElicitResult,
    TextContent,
)

__all__ = ["main"]

# The client ID metadata document URL the suite's authorization servers expect (SEP-991).
CLIENT_METADATA_URL = "https://conformance-test.local/client-metadata.json"
CLIENT_METADATA = ClientMetadata(client_name="mcpkit-conformance-client")

Run = Callable[[str], Coroutine[Any, Any, None]]


def _context() -> dict[str, Any]:
    raw = os.environ.get("MCP_CONFORMANCE_CONTEXT")
    if not raw:
        raise SystemExit("MCP_CONFORMANCE_CONTEXT is not set; this scenario needs credentials")
    context: dict[str, Any] = json.loads(raw)
    return context


async def list_and_call_first(url: str) -> None:
    """Connect, list the tools and call the first one (initialize, tools_call, sse-retry)."""
    async with Client(url) as client:
        if client.server_capabilities.tools is None:
            return  # (initialize: a server with no tools; asking would be our error)
        tools = await client.list_tools()
        if tools:
            wanted = tools[0].input_schema.get("properties", {})
            await client.call_tool(tools[0].name, {"a": 2, "b": 3} if "a" in wanted else {})


def accept_with_defaults(params: ElicitRequestParams) -> ElicitResult:
    """A user who accepts the form as it was pre-filled: every field at its default (SEP-1034)."""
    schema: dict[str, Any] = getattr(params, "requested_schema", None) or {}
    properties: dict[str, Any] = schema.get("properties", {})
    content = {name: field["default"] for name, field in properties.items() if "default" in field}
    return ElicitResult(action="accept", content=content)


async def elicitation_defaults(url: str) -> None:
    async with Client(url, elicitation_handler=accept_with_defaults) as client:
        await client.list_tools()
        await client.call_tool("test_client_elicitation_defaults", {})


async def schema_round_trip(url: str) -> None:
    """Send back the input schema we were given, as we hold it (SEP-1613 preservation)."""
    async with Client(url) as client:
        tools = {tool.name: tool for tool in await client.list_tools()}
        schema = tools["json_schema_2020_12_tool"].input_schema
        await client.call_tool("json_schema_echo", {"schema": schema})


# ------------------------------------------------- the modern revision (2026-07-28)


def confirm(params: ElicitRequestParams) -> ElicitResult:
    """A user who says yes to every form (the MRTR scenarios ask for `confirmed`)."""
    return ElicitResult(action="accept", content={"confirmed": True})


def sample(params: CreateMessageRequestParams) -> CreateMessageResult:
    return CreateMessageResult(role="assistant", content=TextContent(text="ok"), model="none")


def _full_client(url: str) -> Client:
    """A client that declares sampling, elicitation and roots, as request-metadata checks."""
    return Client(url, sampling_handler=sample, elicitation_handler=confirm, roots=[])


async def request_metadata(url: str) -> None:
    """Every request carries the `_meta` fields; a -32022 listing our revision is retried."""
    async with _full_client(url) as client:
        tools = await client.list_tools()
        if tools:
            await client.call_tool(tools[0].name, {})


async def request_state(url: str) -> None:
    """SEP-2322: each MRTR tool called in turn; the unrelated one carries no state of theirs."""
    async with _full_client(url) as client:
        for tool in await client.list_tools():
            await client.call_tool(tool.name, {})


async def standard_headers(url: str) -> None:
    """SEP-2243: Mcp-Method on every POST, Mcp-Name on calls, reads and gets."""
    async with Client(url) as client:
        for tool in await client.list_tools():
            await client.call_tool(tool.name, {})
        for resource in await client.list_resources():
            await client.read_resource(resource.uri)
        for prompt in await client.list_prompts():
            await client.get_prompt(prompt.name)


async def custom_headers(url: str) -> None:
    """SEP-2243: the x-mcp-header parameters of the calls the harness names, as headers."""
    calls: list[dict[str, Any]] = _context().get("toolCalls", [])
    async with Client(url) as client:
        await client.list_tools()
        for call in calls:
            await client.call_tool(call["name"], call.get("arguments") or {})


async def call_every_listed_tool(url: str) -> None:
    """Invalid x-mcp-header tools are left out of the list; the valid ones are called."""
    async with Client(url) as client:
        for tool in await client.list_tools():
            await client.call_tool(tool.name, {"region": "us-west1"})


async def list_only(url: str) -> None:
    """json-schema-ref-no-deref: list the tools; a network `$ref` is never fetched."""
    async with Client(url) as client:
        await client.list_tools()


async def _authorized(url: str, auth: httpx.Auth) -> None:
    async with Client(url, auth=auth) as client:
        tools = await client.list_tools()
        if any(tool.name == "test-tool" for tool in tools):
            await client.call_tool("test-tool", {})


async def authorization_code(url: str) -> None:
    """The authorization code flow, registering by metadata document or dynamically."""
    auth = OAuth(
        HeadlessRedirect(),
        client_metadata=CLIENT_METADATA,
        client_id_metadata_url=CLIENT_METADATA_URL,
    )
    await _authorized(url, auth)


async def pre_registered(url: str) -> None:
    """The authorization code flow with credentials registered beforehand."""
    context = _context()
    client = ClientInformation(
        client_id=context["client_id"], client_secret=context.get("client_secret")
    )
    await _authorized(url, OAuth(HeadlessRedirect(), client=client))


# The grants below come from issue 9's last part (GrantAuth, DPoPKey...); they are imported
# where used so that the other scenarios run on a tree that does not have them yet.


async def client_credentials(url: str) -> None:
    """Client credentials (SEP-1046) with a client secret (HTTP Basic) or a private key."""
    from mcpkit.auth.client import (
        ClientCredentialsGrant,
        ClientSecretBasic,
        GrantAuth,
        PrivateKeyJwt,
    )

    context = _context()
    proof: Any
    if "private_key_pem" in context:
        algorithm = context.get("signing_algorithm") or "ES256"
        proof = PrivateKeyJwt(context["client_id"], context["private_key_pem"], algorithm=algorithm)
    else:
        proof = ClientSecretBasic(context["client_id"], context["client_secret"])
    await _authorized(url, GrantAuth(ClientCredentialsGrant(), proof))


async def enterprise(url: str) -> None:
    """Enterprise-managed authorization (SEP-990): ID token to ID-JAG, then the JWT bearer grant."""
    from mcpkit.auth.client import (
        ClientSecretBasic,
        EnterpriseGrant,
        GrantAuth,
        NoClientAuthentication,
    )

    context = _context()
    grant = EnterpriseGrant(
        context["idp_token_endpoint"],
        context["idp_id_token"],
        idp_authentication=NoClientAuthentication(context["idp_client_id"]),
    )
    proof = ClientSecretBasic(context["client_id"], context["client_secret"])
    await _authorized(url, GrantAuth(grant, proof))


async def workload_identity(url: str) -> None:
    """A workload's platform-issued JWT presented with the JWT bearer grant (RFC 7523)."""
    from mcpkit.auth.client import GrantAuth, JwtBearerGrant, NoClientAuthentication

    context = _context()
    grant = JwtBearerGrant(context["valid_jwt"])
    await _authorized(url, GrantAuth(grant, NoClientAuthentication(context["client_id"])))


async def dpop(url: str) -> None:
    """The authorization code flow with DPoP-bound tokens (RFC 9449, SEP-1932)."""
    from mcpkit.auth.client import DPoPKey

    auth = OAuth(
        HeadlessRedirect(),
        client_metadata=CLIENT_METADATA,
        client_id_metadata_url=CLIENT_METADATA_URL,
        dpop=DPoPKey(),
    )
    await _authorized(url, auth)


AUTHORIZATION_CODE_2026 = [
    "auth/resource-mismatch",
    "auth/offline-access-scope",
    "auth/offline-access-not-supported",
    "auth/authorization-server-migration",
    "auth/iss-supported",
    "auth/iss-not-advertised",
    "auth/iss-supported-missing",
    "auth/iss-wrong-issuer",
    "auth/iss-unexpected",
    "auth/iss-normalized",
    "auth/metadata-issuer-mismatch",
]


async def list_skills_only(url: str) -> None:
    """List the skills and load none: a host fetches no skill file ahead of need (SEP-2640)."""
    async with Client(url) as client:
        await client.list_skills()


async def load_listed_skill(url: str) -> None:
    """Load the first listed skill and read the supporting file its SKILL.md points at; a
    SKILL.md that fails verification stops it before that read (SEP-2640)."""
    async with Client(url) as client:
        skills = await client.list_skills()
        if not skills:
            return
        try:
            loaded = await client.load_skill(skills[0])
            await loaded.read("references/FORMS.md")
        except SkillVerificationFailed as exc:
            print(f"client.py: refused the skill: {exc}", file=sys.stderr)


SCENARIOS: dict[str, Run] = {
    "initialize": list_and_call_first,
    "tools_call": list_and_call_first,
    "sse-retry": list_and_call_first,
    "elicitation-sep1034-client-defaults": elicitation_defaults,
    "json-schema-2020-12-preservation": schema_round_trip,
    "request-metadata": request_metadata,
    "sep-2322-client-request-state": request_state,
    "http-standard-headers": standard_headers,
    "http-custom-headers": custom_headers,
    "http-invalid-tool-headers": call_every_listed_tool,
    "json-schema-ref-no-deref": list_only,
    "auth/pre-registration": pre_registered,
    "auth/client-credentials-basic": client_credentials,
    "auth/client-credentials-jwt": client_credentials,
    "auth/enterprise-managed-authorization": enterprise,
    "auth/wif-jwt-bearer": workload_identity,
    "auth/dpop": dpop,
    "auth/dpop-nonce": dpop,
    # 2026-07-28: the authorization code flow, whose checks are what the client sends or
    # refuses: a resource or metadata issuer that does not match (RFC 9728, RFC 8414), the
    # iss of the authorization response (RFC 9207, SEP-2468), offline_access (SEP-2207) and a
    # new registration when the authorization server changes (SEP-2352).
    **dict.fromkeys(AUTHORIZATION_CODE_2026, authorization_code),
    "sep-2640-client-no-prefetch": list_skills_only,
    "sep-2640-client-verify-digest": load_listed_skill,
    "sep-2640-client-verify-size": load_listed_skill,
    "sep-2640-client-verify-frontmatter": load_listed_skill,
}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python tests/conformance/client.py URL", file=sys.stderr)
        return 2
    scenario = os.environ.get("MCP_CONFORMANCE_SCENARIO", "initialize")
    run = SCENARIOS.get(scenario)
    if run is None and scenario.startswith("auth/"):
        run = authorization_code
    if run is None:
        print(f"client.py: no behaviour for scenario {scenario!r}", file=sys.stderr)
        return 2
    asyncio.run(run(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
