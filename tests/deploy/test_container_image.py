"""deploy/Dockerfile, parsed (no Docker needed): a pinned base, a non-root user, the server
run with `mcpkit run --transport http --host 0.0.0.0` in the exec form (so it gets the
SIGTERM), its port exposed, a health check on a path the server serves, and every file it
copies present in the repository."""

from __future__ import annotations

import inspect
import json
import re
import shlex
from pathlib import Path

from mcpkit.transports.deployment.app_settings import AppSettings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of each instruction, continuation lines joined, comments
    dropped."""
    found: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        whole = pending + stripped
        pending = ""
        name, _, rest = whole.partition(" ")
        found.append((name.upper(), rest.strip()))
    assert pending == "", "a continuation line ends the file"
    return found


def exec_form(arguments: str) -> list[str]:
    """The JSON array of an exec-form CMD/ENTRYPOINT (a shell form fails the test)."""
    parsed = json.loads(arguments)
    assert isinstance(parsed, list) and all(isinstance(a, str) for a in parsed), arguments
    return parsed


def default_paths() -> tuple[str, str]:
    params = inspect.signature(AppSettings).parameters
    return params["health_path"].default, params["ready_path"].default


STEPS = instructions(DOCKERFILE.read_text())


def all_of(name: str) -> list[str]:
    return [args for step, args in STEPS if step == name]


def test_the_base_image_is_pinned() -> None:
    (base,) = all_of("FROM")
    image = base.split()[0]
    name, _, tag = image.partition(":")
    assert name == "python"
    # An exact release on a named Debian release, never a moving tag.
    assert re.fullmatch(r"\d+\.\d+\.\d+-slim-(bookworm|trixie)(@sha256:[0-9a-f]{64})?", tag), tag


def test_it_runs_as_a_user_that_is_not_root_from_before_the_server_starts() -> None:
    names = [step for step, _ in STEPS]
    (user,) = all_of("USER")
    uid = user.split(":")[0]
    assert uid not in ("root", "0") and uid.isdigit()
    assert names.index("USER") < names.index("ENTRYPOINT")
    # Nothing runs as root after the user is set.
    assert "RUN" not in names[names.index("USER") :]
    # The user the image makes is the one it runs as.
    created = " ".join(all_of("RUN"))
    assert f"--uid {uid}" in created


def test_the_entrypoint_serves_http_on_every_interface_in_the_exec_form() -> None:
    (entry,) = all_of("ENTRYPOINT")
    argv = exec_form(entry)
    assert argv[:2] == ["mcpkit", "run"]
    assert argv[argv.index("--transport") + 1] == "http"
    assert argv[argv.index("--host") + 1] == "0.0.0.0"
    port = argv[argv.index("--port") + 1]
    assert all_of("EXPOSE") == [port]
    assert all_of("CMD") == []  # arguments given at run time are added to mcpkit run's
    # SIGTERM, mcpkit run's graceful stop, reaches it: PID 1 is mcpkit itself.
    assert all_of("STOPSIGNAL") in ([], ["SIGTERM"])


def test_the_health_check_asks_a_path_the_server_serves_on_its_port() -> None:
    (check,) = all_of("HEALTHCHECK")
    options, _, command = check.partition("CMD")
    assert "--interval" in options and "--timeout" in options
    argv = exec_form(command.strip())
    assert argv[0] == "python"  # the slim image has no curl
    url = re.search(r"http://127\.0\.0\.1:(\d+)(/\w+)", argv[-1])
    assert url is not None
    (entry,) = all_of("ENTRYPOINT")
    served = exec_form(entry)
    assert url.group(1) == served[served.index("--port") + 1]
    assert url.group(2) in default_paths()


def test_what_it_copies_is_in_the_repository() -> None:
    args = {a.split("=")[0]: a.split("=", 1)[1] for a in all_of("ARG") if "=" in a}
    for copy in all_of("COPY"):
        *sources, _ = shlex.split(copy)
        for source in sources:
            if source.startswith("--"):
                continue
            name = re.fullmatch(r"\$\{(\w+)\}", source)
            path = args[name.group(1)] if name else source
            assert (ROOT / path).exists(), path
    installed = " ".join(all_of("RUN")).replace("${EXTRAS}", args.get("EXTRAS", ""))
    extras = re.search(r'pip install "\.\[([\w,]+)\]"', installed)
    assert extras is not None, installed
    assert "http" in extras.group(1).split(",")  # uvicorn, which `mcpkit run` serves with
