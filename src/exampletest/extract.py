"""``exampletest extract``: every block as a module under extracted/, for readers and tools.

A module starts with a comment naming the document and line, so anyone who opens it knows
where to edit. ``--check`` compares instead of writing (exit 1 when out of date), the way
``ruff format --check`` does.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from exampletest.model import Block, Document


def stub_path(stubs_dir: Path, doc_slug: str) -> Path:
    return stubs_dir / f"{doc_slug}.py"


def doc_slug(path: str) -> str:
    """A Python-identifier name for a document, from its file name: what extracted/ and stubs/
    use unless another document of the run has the same name (see :func:`doc_slugs`)."""
    stem = os.path.splitext(os.path.basename(path))[0]
    return _identifier(stem)


def path_slug(path: str) -> str:
    """A name for a document from its whole path, for documents that share a file name."""
    rel = os.path.splitext(os.path.normpath(path))[0]
    return _identifier("_".join(p for p in rel.split(os.sep) if p not in ("", ".", "..")))


def doc_slugs(paths: Sequence[str]) -> dict[str, str]:
    """Unique names for the documents of a run (``SKILL.md`` twice: their paths decide;
    ``guide.md`` beside ``guide.markdown``: their extensions too)."""
    stems = Counter(doc_slug(p) for p in set(paths))
    slugs = {p: doc_slug(p) if stems[doc_slug(p)] == 1 else path_slug(p) for p in paths}
    taken = Counter(slugs[p] for p in set(paths))
    return {p: _identifier(os.path.normpath(p)) if taken[s] > 1 else s for p, s in slugs.items()}


def _identifier(text: str) -> str:
    slug = "".join(c if c.isalnum() else "_" for c in text.lower()).strip("_")
    slug = "_".join(filter(None, slug.split("_"))) or "doc"
    return slug if slug[0].isalpha() else f"doc_{slug}"


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
