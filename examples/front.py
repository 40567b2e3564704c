"""An MCP server whose users sign in with your OpenID provider through an authorization front.

    OIDC_ISSUER=https://login.example.com OIDC_CLIENT_ID=... OIDC_CLIENT_SECRET=... \
    FRONT_KEY_FILE=front-key.pem \
    mcpkit run examples/front.py --transport http --port 8000 \
        --workers 2 --store sqlite:///front.db

Register one confidential web client at the provider, with the redirect URI
http://127.0.0.1:8000/callback (the front's callback), and give its ID and secret above. The
front finds the provider's endpoints by OpenID discovery (`providers.from_discovery`; the other
recipes, `providers.github(...)` and the rest, need no discovery: see docs/auth.md). MCP
clients register with the front itself, so any of them signs in, then calls `whoami`.

`FRONT_KEY_FILE` holds the key that signs the front's tokens and seals what it stores, made
once with `SigningKey().save("front-key.pem")` (from mcpkit.auth.front): every worker and
host must use the same one. Without it the front makes a key of its own process, which is
refused with more than one worker.
"""

from __future__ import annotations

import asyncio
import os

from mcpkit import Context, Server
from mcpkit.auth.front import AuthorizationFront, providers

#: Read once, where the application starts (each worker does it for itself).
upstream = asyncio.run(
    providers.from_discovery(
        os.environ["OIDC_ISSUER"],  # exactly as the provider states it
        client_id=os.environ["OIDC_CLIENT_ID"],
        client_secret=os.environ["OIDC_CLIENT_SECRET"],
        name=os.environ.get("OIDC_NAME"),  # shown on the consent page (default: the host)
        scopes=("openid",),
    )
)
front = AuthorizationFront(upstream, key=os.environ.get("FRONT_KEY_FILE"))
server = Server("front", instructions="Call whoami to see who you signed in as.")
server.auth = front.protect(server)  # the front keeps its state in the server's store


@server.tool()
def whoami(ctx: Context) -> dict[str, object]:
    """Who signed in, as the provider names them, and which worker process answered."""
    subject = None if ctx.auth is None else ctx.auth.subject  # None: served over stdio
    return {"subject": subject, "provider": upstream.name, "worker": os.getpid()}


if __name__ == "__main__":
    server.run(transport="http")
