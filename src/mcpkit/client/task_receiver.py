"""The client as task receiver (spec: basic/utilities/tasks, "Task-Augmented Sampling Request"):
a server's task-augmented sampling or elicitation is answered at once with a task, the host's
handler runs in the background, and the server's `tasks/*` requests are answered.

Every task of one `Client` has one owner, the server it talks to: the store may be shared
between clients (a host with many servers) without one server seeing another's tasks.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from mcpkit.client.callbacks import ServerRequestRouter
from mcpkit.protocol.capabilities import task_params
from mcpkit.protocol.events import RequestReceived
from mcpkit.stores.task_runner import Peer, TaskRun, TaskRunner
from mcpkit.stores.tasks import MemoryTaskStore, TaskStore
from mcpkit.types import ClientCapabilities, ClientCapabilitiesTasks

__all__ = ["TASK_METHODS", "ClientTaskReceiver", "receiving_tasks", "task_capability"]

#: The server's requests about our tasks ("Protocol Messages").
TASK_METHODS = frozenset({"tasks/get", "tasks/result", "tasks/list", "tasks/cancel"})


def task_capability(sampling: bool, elicitation: bool) -> dict[str, Any]:
    """The client's `tasks` capability ("Client Capabilities"): list and cancel (the one
    requestor, the server, is known), and the requests a handler exists for."""
    requests: dict[str, Any] = {}
    if sampling:
        requests["sampling"] = {"createMessage": {}}
    if elicitation:
        requests["elicitation"] = {"create": {}}
    return {"list": {}, "cancel": {}, "requests": requests}


class ClientTaskReceiver:
    """Runs the server's task-augmented requests through `router` as tasks kept in `store`."""

    def __init__(self, store: TaskStore, router: ServerRequestRouter) -> None:
        self.runner = TaskRunner(store)
        self.router = router
        self.owner = uuid.uuid4().hex  # the server of this client, whatever else shares store

    def takes(self, ev: RequestReceived) -> bool:
        """Whether this request is ours: a task method, or a task-augmented request that a
        handler serves (one it does not is processed normally, "Task Support and Handling")."""
        if ev.method in TASK_METHODS:
            return True
        if task_params(ev.params) is None:
            return False
        if ev.method == "sampling/createMessage":
            return self.router.sampling is not None
        if ev.method == "elicitation/create":
            return self.router.elicitation is not None or self.router.url_elicitation is not None
        return False

    async def handle(self, ev: RequestReceived, peer: Peer) -> Any:
        """The answer to a request `takes` accepted."""
        method, params = ev.method, ev.params
        if method == "tasks/get":
            return await self.runner.get(self.owner, params.task_id)
        if method == "tasks/result":
            return await self.runner.result(self.owner, params.task_id, peer, ev.request_id)
        if method == "tasks/list":
            return await self.runner.list(self.owner, params.cursor)
        if method == "tasks/cancel":
            return await self.runner.cancel(self.owner, params.task_id)

        async def work(run: TaskRun) -> Any:
            return await self.router.handle(method, params)

        # "Result Retrieval": the CreateTaskResult goes back at once; the handler runs on.
        return await self.runner.start(self.owner, task_params(params).ttl, peer, work)

    async def aclose(self) -> None:
        """Stop the handlers still running (their tasks are marked failed in the store)."""
        await self.runner.aclose()


def receiving_tasks(
    router: ServerRequestRouter, store: TaskStore | None, caps: ClientCapabilities
) -> ClientTaskReceiver:
    """The receiver of the server's task-augmented requests; declares `tasks` in `caps`."""
    sampling = router.sampling is not None
    elicitation = router.elicitation is not None or router.url_elicitation is not None
    if not (sampling or elicitation):
        raise ValueError(
            "tasks=True (or a task_store) lets the server ask for sampling or elicitation as "
            "tasks, so it needs a sampling_handler, elicitation_handler or "
            "url_elicitation_handler; give one, or leave tasks off"
        )
    if store is None:
        store = MemoryTaskStore()
    caps.tasks = msgspec.convert(task_capability(sampling, elicitation), ClientCapabilitiesTasks)
    return ClientTaskReceiver(store, router)
