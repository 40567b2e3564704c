"""Ready configurations of the upstream providers an authorization front signs users in with
(GitHub, Google, Microsoft Entra ID, Auth0, Okta, Keycloak, AWS Cognito, WorkOS, or any
OpenID provider by discovery), what the front sends them, and the verifier of their own
tokens for pass-through mode."""

from mcpkit.auth.front.providers.microsoft import entra
from mcpkit.auth.front.providers.openid import ProviderDiscoveryFailed, from_discovery
from mcpkit.auth.front.providers.recipes import (
    auth0,
    cognito,
    github,
    google,
    keycloak,
    okta,
    workos,
)
from mcpkit.auth.front.providers.sign_in import authorize_parameters, upstream_resource
from mcpkit.auth.front.providers.verifiers import verifier_for

__all__ = [
    "ProviderDiscoveryFailed",
    "auth0",
    "authorize_parameters",
    "cognito",
    "entra",
    "from_discovery",
    "github",
    "google",
    "keycloak",
    "okta",
    "upstream_resource",
    "verifier_for",
    "workos",
]
