"""A proxy: any MCP server served over any of mcpkit's transports (`Server.proxy(target)`);
docs/proxy.md says what is forwarded and how sessions and failures are handled."""

from mcpkit.server.proxy.proxy_server import DEFAULT_MAX_UPSTREAMS, ProxyServer
from mcpkit.server.proxy.upstream_channel import ChannelOpener, UpstreamTarget

__all__ = ["DEFAULT_MAX_UPSTREAMS", "ChannelOpener", "ProxyServer", "UpstreamTarget"]
