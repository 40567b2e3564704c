"""The JSON-RPC and MCP error codes, in one place (spec: basic/index, JSON-RPC 2.0 section 5.1)."""

from __future__ import annotations

__all__ = [
    "INTERNAL_ERROR",
    "INVALID_PARAMS",
    "HEADER_MISMATCH",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "MISSING_REQUIRED_CLIENT_CAPABILITY",
    "PARSE_ERROR",
    "REQUEST_TIMEOUT",
    "RESOURCE_NOT_FOUND",
    "UNSUPPORTED_PROTOCOL_VERSION",
    "URL_ELICITATION_REQUIRED",
]

# JSON-RPC 2.0, section 5.1: the predefined errors. -32700 is for bytes that are not JSON;
# -32600 for JSON that is not a valid message; -32601 for a method unknown or not offered
# (an undeclared capability). Our choices where the spec names no code: -32600 for a request
# the lifecycle does not allow (too early, a second initialize), -32603 for one past our
# limit on requests in flight.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
# Implementation-defined server errors (-32000 to -32099):
# Ours, not the spec's: the code of `errors.RequestTimeout` (one of our requests got no
# answer in time). The peer sees it only when a handler lets that error out.
REQUEST_TIMEOUT = -32001
RESOURCE_NOT_FOUND = -32002  # server/resources: "Resource not found"
URL_ELICITATION_REQUIRED = -32042  # client/elicitation: URLElicitationRequiredError
# 2026-07-28 basic/index, Error Codes: -32020 to -32099 is the specification's own range.
# Over HTTP, an MCP-Protocol-Version, Mcp-Method or Mcp-Name header that disagrees with the
# body (basic/transports/streamable-http); answered with HTTP 400.
HEADER_MISMATCH = -32020
# A request that needs a capability the client did not declare in its _meta (sampling, say);
# data {requiredCapabilities: ClientCapabilities}.
MISSING_REQUIRED_CLIENT_CAPABILITY = -32021
# 2026-07-28 basic/versioning: the revision a request names in its _meta (or, over HTTP, in
# MCP-Protocol-Version) is not one the server speaks; data {supported, requested}.
UNSUPPORTED_PROTOCOL_VERSION = -32022
