"""The client: `Client`, the callback protocols a host implements, and `ServerGroup` (the
servers of an `mcpServers` config, `Client(config).servers`)."""

from __future__ import annotations

from mcpkit.client.callbacks import (
    ElicitationHandler,
    LogHandler,
    NotificationHandler,
    RootsProvider,
    SamplingHandler,
)
from mcpkit.client.client import Client
from mcpkit.client.group import ServerGroup
from mcpkit.client.skill_calls import LoadedSkill
from mcpkit.client.task_requestor import ClientTask

__all__ = [
    "Client",
    "ClientTask",
    "ElicitationHandler",
    "LoadedSkill",
    "LogHandler",
    "NotificationHandler",
    "RootsProvider",
    "SamplingHandler",
    "ServerGroup",
]
