"""``exampletest extract``: every block as a module under extracted/, for readers and tools.

A module starts with a comment naming the document and line, so anyone who opens it knows
where to edit. ``--check`` compares instead of writing (exit 1 when out of date), the way
``ruff format --check`` does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from exampletest.context import doc_slug, doc_slugs
from exampletest.model import Block, Document


def heading_slug(heading: str | None) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", (heading or "").lower()).strip("_")
    return slug[:40].rstrip("_") or "block"


def module_path(block: Block, root: str = "extracted", slug: str | None = None) -> str:
    folder = slug or doc_slug(block.doc_path)
    return f"{root}/{folder}/b{block.index:02d}_{heading_slug(block.heading)}.py"


#: How every module ``extract`` writes starts: only such a file is ever removed as stale.
HEADER = "# Extracted by exampletest from "


def module_text(block: Block) -> str:
    where = f"{block.doc_path}:{block.start_line}"
    header = f"{HEADER}{where} (block {block.index}); edit the document.\n"
    if block.skip_reason:
        header += f"# Skipped: {block.skip_reason}\n"
    return header + block.code


def extract(documents: Sequence[Document], root: Path, check: bool) -> list[str]:
    """Write (or, with ``check``, compare) the modules; returns the paths that differ."""
    differing: list[str] = []
    wanted: set[Path] = set()
    slugs = doc_slugs([d.path for d in documents])
    for doc in documents:
        for block in doc.blocks:
            rel = module_path(block, root.as_posix(), slugs[doc.path])
            path = Path(rel)
            wanted.add(path)
            text = module_text(block)
            current = path.read_text(encoding="utf-8") if path.exists() else None
            if current == text:
                continue
            differing.append(rel)
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    for doc in documents:
        folder = root / slugs[doc.path]
        for stale in sorted(folder.glob("b*.py")) if folder.is_dir() else []:
            if stale not in wanted and _written_here(stale):
                differing.append(stale.as_posix())
                if not check:
                    stale.unlink()
    return differing


def _written_here(path: Path) -> bool:
    """Whether ``extract`` wrote the file (a reader's own ``b07_mine.py`` beside the modules
    is theirs: never reported stale, never removed)."""
    try:
        with path.open(encoding="utf-8") as fh:
            return fh.read(len(HEADER)) == HEADER
    except (OSError, UnicodeDecodeError):
        return False
