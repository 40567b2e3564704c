"""A proxy: any MCP server served over any of mcpkit's transports (`ProxyServer(target)`);
docs/proxy.md says what is forwarded and how sessions and failures are handled.

A layer above `mcpkit.server`: a `ProxyServer` is a `Server`, and the server package never
imports this one (`Server.composable` is all a mount needs to know of a proxy)."""

from mcpkit.proxy.config import ConfigError, from_config
from mcpkit.proxy.proxy_server import ProxyServer
from mcpkit.proxy.proxy_settings import DEFAULT_MAX_MODERN_UPSTREAMS, DEFAULT_MAX_UPSTREAMS
from mcpkit.proxy.round_trips import DEFAULT_INPUT_TIMEOUT
from mcpkit.proxy.upstream_channel import ChannelOpener, UpstreamTarget

__all__ = [
    "DEFAULT_INPUT_TIMEOUT",
    "DEFAULT_MAX_MODERN_UPSTREAMS",
    "DEFAULT_MAX_UPSTREAMS",
    "ChannelOpener",
    "ConfigError",
    "ProxyServer",
    "UpstreamTarget",
    "from_config",
]
