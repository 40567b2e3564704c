"""MkDocs hooks (mkdocs.yml `hooks:`): the docs site's changelog page is CHANGELOG.md from the
repository's root, its links (written for the root: `docs/x.md`) made relative to docs/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["on_page_markdown"]

#: docs/ pages that stand for a file at the repository's root (that file, read at build time).
_ROOT_FILES = {"changelog.md": "CHANGELOG.md"}


def on_page_markdown(markdown: str, page: Any, config: Any, **_: Any) -> str:
    """The root file `page` stands for, if any, with its `](docs/` links made relative."""
    name = _ROOT_FILES.get(page.file.src_uri)
    if name is None:
        return markdown
    root = Path(config.config_file_path).parent
    return (root / name).read_text(encoding="utf-8").replace("](docs/", "](")
