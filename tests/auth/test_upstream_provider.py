"""`UpstreamProvider`: the configuration of an authorization front's upstream provider."""

from __future__ import annotations

import pytest

from mcpkit.auth.front import UpstreamProvider


def _provider(**options: object) -> UpstreamProvider:
    return UpstreamProvider(
        name="Example",
        authorize_url="https://id.example.com/authorize",
        token_url="https://id.example.com/token",
        client_id="front",
        **options,  # type: ignore[arg-type]
    )


def test_the_client_secret_stays_out_of_its_repr() -> None:
    """A provider is logged and shown in tracebacks: its secret must not be."""
    provider = _provider(client_secret="s3cret-value")
    assert "s3cret-value" not in repr(provider)
    assert provider.client_secret == "s3cret-value"


def test_a_secret_is_required_unless_the_client_is_public() -> None:
    with pytest.raises(ValueError, match="needs client_secret="):
        _provider()
    assert _provider(token_auth="none").client_secret is None


def test_a_fixed_resource_needs_its_value() -> None:
    with pytest.raises(ValueError, match="resource_parameter='fixed' needs resource="):
        _provider(client_secret="s", resource_parameter="fixed")


def test_extra_parameters_are_frozen() -> None:
    params = {"prompt": "consent"}
    provider = _provider(client_secret="s", authorize_params=params)
    params["prompt"] = "none"
    assert provider.authorize_params["prompt"] == "consent"
    with pytest.raises(TypeError):
        provider.authorize_params["x"] = "y"  # type: ignore[index]
