"""docs/llm.md works as written: each of its programs (claude_weather.py, openai_weather.py,
gemini_weather.py, sample_with_claude.py) runs as a reader runs it, its SDK pointed by the
environment at the local provider server (standing in for the provider's API), and prints
what the page says."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path
from typing import Any

from _answers import anthropic_answer, chat_answer, gemini_answer, responses_answer
from _processes import finished
from _providers import ProviderServer, provider_server

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "llm.md"
WAIT = 60  # seconds: a bound on a hang, not a measurement
PARIS = [("call_1", "forecast", {"city": "Paris"})]
ANSWER = "It is sunny in Paris, 21 °C."


def page() -> tuple[dict[str, str], dict[str, str]]:
    """The page's files by name, and what each script prints."""
    text = DOC.read_text()
    block = r"```python\n# (\w+\.py)\n((?:(?!```).)*)```\n"
    files = dict(re.findall(block, text, re.S))
    printed = {
        name: shown
        for name, _, shown in re.findall(block + r"\nprints\n\n```text\n(.*?)```", text, re.S)
    }
    return files, printed


SCRIPTS: dict[str, dict[str, list[dict[str, Any]]]] = {
    "claude_weather.py": {"anthropic": [anthropic_answer("", PARIS), anthropic_answer(ANSWER)]},
    "openai_weather.py": {
        "chat": [chat_answer(None, PARIS), chat_answer(ANSWER)],
        "responses": [
            responses_answer("", [("call_2", "forecast", {"city": "Rome"})]),
            responses_answer("Sunny, 21 °C."),
        ],
    },
    "gemini_weather.py": {"gemini": [gemini_answer("", PARIS), gemini_answer(ANSWER)]},
    "sample_with_claude.py": {"anthropic": [anthropic_answer("Trains: tomorrow, on time, today.")]},
}


def environment(url: str) -> dict[str, str]:
    """What a reader's shell has, the API hosts replaced by the local server."""
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
    return {
        **env,
        "PYTHONPATH": str(REPO / "src"),
        "ANTHROPIC_API_KEY": "test",
        "ANTHROPIC_BASE_URL": url,
        "OPENAI_API_KEY": "test",
        "OPENAI_BASE_URL": f"{url}/v1",
        "GOOGLE_API_KEY": "test",
        "GOOGLE_GEMINI_BASE_URL": url,
    }


async def run(name: str, folder: Path, provider: ProviderServer) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable, name, cwd=folder, env=environment(provider.url),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await finished(process)
    assert process.returncode == 0, f"{name}:\n{out.decode()}\n{err.decode()}"
    return out.decode()


async def check(name: str, folder: Path, printed: str) -> None:
    async with provider_server() as provider:
        provider.script = {api: list(answers) for api, answers in SCRIPTS[name].items()}
        out = await run(name, folder, provider)
    assert out == printed, f"{name} printed {out!r}"
    assert provider.errors == [], name
    assert all(not left for left in provider.script.values()), f"{name} asked the model less"


async def test_every_program_prints_what_the_page_says(tmp_path: Path) -> None:
    files, printed = page()
    assert sorted(printed) == sorted(SCRIPTS), sorted(printed)
    for saved, source in files.items():
        (tmp_path / saved).write_text(source)
    # each with a provider server of its own, all at once: most of a run is importing SDKs
    async with asyncio.timeout(WAIT), asyncio.TaskGroup() as group:
        for name in SCRIPTS:
            group.create_task(check(name, tmp_path, printed[name]))
