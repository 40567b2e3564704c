"""What the verbs print: results on stdout (rich for people, exact JSON with `--json`), and
errors, logs and progress on stderr, so stdout can always be piped or parsed."""

from __future__ import annotations

import base64
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from mcpkit.types import (
        BlobResourceContents,
        LoggingMessageNotificationParams,
        TextResourceContents,
    )

__all__ = ["Terminal", "as_json", "clean", "size_text"]

# C0 and C1 control characters but newline and tab: a server's text must not move the cursor,
# retitle the window or hide what follows (escape sequences start with ESC or CSI).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str) -> str:
    """`text` from the server, safe to show: control characters become U+FFFD."""
    return _CONTROL.sub("\ufffd", text)


def as_json(value: Any) -> str:
    """A result struct (or plain data) as indented JSON, with the protocol's field names."""
    import msgspec

    return json.dumps(msgspec.to_builtins(value), indent=2, ensure_ascii=False)


def size_text(data_b64: str) -> str:
    """The decoded size of base64 `data_b64`, as people read it: 812 B, 12 KB, 3.4 MB."""
    size = len(data_b64) * 3 // 4 - data_b64[-2:].count("=")
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


class Terminal:
    """stdout and stderr as rich consoles; rich writes plain text (no ANSI codes) to anything
    that is not a terminal, and `--json` output bypasses it altogether."""

    def __init__(self, *, json_output: bool = False, save_dir: Path | None = None) -> None:
        from rich.console import Console

        self.json_output = json_output
        self.save_dir = save_dir
        # Not a terminal (a pipe, a file, CI): no width to fit, so tables and lines are never
        # wrapped at rich's 80 columns, which split URIs and descriptions mid-word.
        self.out: Console = Console(file=sys.stdout, highlight=False, width=_width(sys.stdout))
        self.err: Console = Console(file=sys.stderr, highlight=False, width=_width(sys.stderr))
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    # ----------------------------------------------------------------- stdout

    def text(self, text: str) -> None:
        """Text as it is: no markup read, no wrapping (a pipe gets the exact characters)."""
        from rich.text import Text

        self.out.print(Text(clean(text)), soft_wrap=True)

    def json(self, value: Any) -> None:
        sys.stdout.write(as_json(value) + "\n")
        sys.stdout.flush()

    def heading(self, text: str) -> None:
        from rich.text import Text

        self.out.print(Text(clean(text), style="bold"), soft_wrap=True)

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        from rich.table import Table
        from rich.text import Text

        self.heading(title)  # above the table, not as its title: a title wraps to its width
        table = Table(show_lines=False, expand=False)
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*(Text(clean(cell)) for cell in row))
        self.out.print(table)

    def content(self, blocks: Sequence[Any]) -> None:
        """Content blocks by type: text as is (JSON pretty), media as a size line, links."""
        # (Imported here: a result's blocks are decoded, so the types are loaded by now, and
        # `mcpkit --help` need not load them.)
        from mcpkit.types import (
            AudioContent,
            EmbeddedResource,
            ImageContent,
            ResourceLink,
            TextContent,
        )

        for index, block in enumerate(blocks):
            match block:
                case TextContent():
                    self.text(_pretty_if_json(block.text))
                case ImageContent() | AudioContent():
                    self.text(
                        f"[{block.mime_type}, {size_text(block.data)}]" + self._save(block, index)
                    )
                case ResourceLink():
                    title = f" ({block.description})" if block.description else ""
                    self.text(f"[resource link] {block.name}: {block.uri}{title}")
                case EmbeddedResource():
                    self.resource(block.resource)
                case _:
                    self.text(as_json(block))

    def resource(self, contents: TextResourceContents | BlobResourceContents) -> None:
        """One of a resource's contents: its text, or a line naming its size."""
        from mcpkit.types import TextResourceContents

        if isinstance(contents, TextResourceContents):
            self.text(_pretty_if_json(contents.text))
            return
        mime = contents.mime_type or "application/octet-stream"
        self.text(f"[{contents.uri}: {mime}, {size_text(contents.blob)}]")

    def _save(self, block: Any, index: int) -> str:
        if self.save_dir is None:
            return ""
        from mimetypes import guess_extension

        self.save_dir.mkdir(parents=True, exist_ok=True)
        path = self.save_dir / f"content-{index}{guess_extension(block.mime_type) or '.bin'}"
        path.write_bytes(base64.b64decode(block.data))
        return f" saved to {path}"

    # ----------------------------------------------------------------- stderr

    def error(self, message: str) -> None:
        from rich.text import Text

        self.stop_progress()
        self.err.print(
            Text("error: ", style="bold red") + Text(clean(message), style="red"), soft_wrap=True
        )

    def note(self, message: str) -> None:
        from rich.text import Text

        self.err.print(Text(clean(message), style="yellow"), soft_wrap=True)

    def log(self, params: LoggingMessageNotificationParams) -> None:
        """A `notifications/message`, as it comes (server/utilities/logging)."""
        from rich.text import Text

        data = params.data if isinstance(params.data, str) else json.dumps(params.data)
        source = f" {params.logger}:" if params.logger else ""
        style = "red" if params.level in ("error", "critical", "alert", "emergency") else "dim"
        line = Text(clean(f"[{params.level}]{source} "), style=style) + Text(clean(data))
        if self._progress is not None:
            self._progress.console.print(line, soft_wrap=True)
        else:
            self.err.print(line, soft_wrap=True)

    def progress(self, progress: float, total: float | None, message: str | None) -> None:
        """A `notifications/progress` for the running call: a bar on a terminal, a line each
        elsewhere (a bar redrawn into a pipe or a log file is noise)."""
        from rich.text import Text

        message = clean(message) if message else message
        if not self.err.is_terminal:
            of = f"/{total:g}" if total is not None else ""
            line = f"progress {progress:g}{of}" + (f": {message}" if message else "")
            self.err.print(Text(line), soft_wrap=True)
            return
        from rich.markup import escape
        from rich.progress import Progress

        label = escape(message) if message else "working"  # the bar reads its label as markup
        if self._progress is None:
            self._progress = Progress(console=self.err, transient=True)
            self._progress.start()
            self._task = self._progress.add_task(label, total=total)
        assert self._task is not None
        self._progress.update(self._task, completed=progress, total=total, description=label)

    def stop_progress(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def _pretty_if_json(text: str) -> str:
    stripped = text.strip()
    if not stripped.startswith(("{", "[")):
        return text
    try:
        return json.dumps(json.loads(stripped), indent=2, ensure_ascii=False)
    except json.JSONDecodeError:
        return text


_UNWRAPPED = 100_000  # columns: wider than any line the command line prints


def _width(stream: Any) -> int | None:
    """None (the terminal's own width) on a terminal, else no limit worth the name."""
    isatty = getattr(stream, "isatty", None)
    return None if isatty is not None and isatty() else _UNWRAPPED
