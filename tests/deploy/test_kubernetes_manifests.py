"""deploy/kubernetes/mcp.yaml, parsed: the probes ask paths the server serves on the port
the container serves, the grace period outlasts the preStop pause and mcpkit's drain, a
PodDisruptionBudget covers the pods, and every container has its resources set."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Any

import yaml

from mcpkit.server.serving._http_run import SHUTDOWN_TIMEOUT
from mcpkit.transports.deployment.app_settings import AppSettings

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "deploy" / "kubernetes" / "mcp.yaml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"

DOCS: list[dict[str, Any]] = [d for d in yaml.safe_load_all(MANIFESTS.read_text()) if d]


def one(kind: str) -> dict[str, Any]:
    (found,) = [d for d in DOCS if d["kind"] == kind]
    return found


def image_port() -> int:
    """The port deploy/Dockerfile's `mcpkit run` serves."""
    entry = re.search(r"^ENTRYPOINT (.+)$", DOCKERFILE.read_text(), re.MULTILINE)
    assert entry is not None
    argv: list[str] = json.loads(entry.group(1))
    return int(argv[argv.index("--port") + 1])


def served_paths() -> set[str]:
    params = inspect.signature(AppSettings).parameters
    return {params["health_path"].default, params["ready_path"].default}


POD = one("Deployment")["spec"]["template"]
(CONTAINER,) = POD["spec"]["containers"]


def port_number(port: int | str) -> int:
    if isinstance(port, int):
        return port
    (named,) = [p for p in CONTAINER["ports"] if p["name"] == port]
    return int(named["containerPort"])


def test_the_container_port_is_the_one_the_image_serves() -> None:
    assert [p["containerPort"] for p in CONTAINER["ports"]] == [image_port()]
    service = one("Service")
    (port,) = service["spec"]["ports"]
    assert port_number(port["targetPort"]) == image_port()
    assert service["spec"]["selector"] == POD["metadata"]["labels"]


def test_the_probes_ask_real_paths_on_that_port() -> None:
    probes = {name: CONTAINER[name] for name in ("readinessProbe", "livenessProbe")}
    probes["startupProbe"] = CONTAINER.get("startupProbe", probes["livenessProbe"])
    for name, probe in probes.items():
        get = probe["httpGet"]
        assert get["path"] in served_paths(), name
        assert port_number(get["port"]) == image_port(), name
    # Readiness turns 503 when a drain begins or the store stops answering: /readyz.
    # Liveness must not restart a pod whose store is down: /healthz.
    assert probes["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert probes["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_the_grace_period_outlasts_the_pause_and_the_drain() -> None:
    grace = POD["spec"]["terminationGracePeriodSeconds"]
    pause = CONTAINER["lifecycle"]["preStop"]["exec"]["command"]
    assert pause[0] == "sleep"
    assert grace > int(pause[1]) + SHUTDOWN_TIMEOUT


def test_rolling_restarts_keep_capacity_and_share_a_store() -> None:
    spec = one("Deployment")["spec"]
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    args = CONTAINER["args"]
    # Sessions outlive the pod that opened them only in a store every replica reaches.
    assert args[args.index("--store") + 1].startswith("redis://")
    env = {e["name"]: e for e in CONTAINER["env"]}
    assert "secretKeyRef" in env["MCPKIT_REQUEST_STATE_KEY"]["valueFrom"]


def test_a_disruption_budget_covers_the_pods() -> None:
    budget = one("PodDisruptionBudget")
    assert budget["apiVersion"] == "policy/v1"
    assert budget["spec"]["selector"]["matchLabels"] == POD["metadata"]["labels"]
    replicas = one("Deployment")["spec"]["replicas"]
    assert 0 < budget["spec"]["minAvailable"] < replicas


def test_resources_and_the_user_are_set() -> None:
    resources = CONTAINER["resources"]
    assert {"cpu", "memory"} <= set(resources["requests"])
    assert "memory" in resources["limits"]
    security = POD["spec"]["securityContext"]
    assert security["runAsNonRoot"] is True and security["runAsUser"] != 0
    assert CONTAINER["securityContext"]["allowPrivilegeEscalation"] is False


def _installed_extras() -> set[str]:
    """The mcpkit extras deploy/Dockerfile's image has, as built without build arguments."""
    text = DOCKERFILE.read_text()
    default = re.search(r"^ARG EXTRAS=(\S+)$", text, re.MULTILINE)
    install = re.search(r'^RUN pip install "\.\[(.+)\]"$', text, re.MULTILINE)
    assert install is not None, "the Dockerfile installs mcpkit with its extras"
    extras = install.group(1)
    if extras == "${EXTRAS}":
        assert default is not None
        extras = default.group(1)
    return set(extras.split(","))


def test_the_image_has_what_the_pods_arguments_need() -> None:
    """The pods run the image's ENTRYPOINT with their `args`: each an option `mcpkit run`
    takes, and a Redis store only where the image has the Redis client."""
    from mcpkit.cli.main import build_parser

    entry = re.search(r"^ENTRYPOINT (.+)$", DOCKERFILE.read_text(), re.MULTILINE)
    assert entry is not None
    argv: list[str] = [*json.loads(entry.group(1))[1:], *CONTAINER["args"]]
    parsed = build_parser().parse_args(argv)  # a misspelt option exits the test
    assert parsed.store.startswith("redis://")
    assert {"http", "redis"} <= _installed_extras()
