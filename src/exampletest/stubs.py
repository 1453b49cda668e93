"""``exampletest stubs``: declare the names a document takes for granted, for the user to refine.

Each unknown name becomes a placeholder that both checkers accept (a class for mypy when the
examples use it as a type, an absorbing object at run time). Refining one (``class User(Base)``
with real columns, ``password: str = "..."``) lets mypy and smoke check the blocks that use it
for real. A refresh only appends names that are new: what the user wrote is never rewritten.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from exampletest.context import analyze_document
from exampletest.extract import doc_slugs, stub_path
from exampletest.model import Document
from exampletest.pipeline import Options, load_index
from exampletest.symbols import analyze

HEADER = '''"""Context stubs for {doc}: names its examples use but never define.

exampletest checks each block with these in scope (mypy and the smoke run). Each TODO is a
placeholder that accepts anything; give it a real definition to make the checks deeper.
"""

from typing import TYPE_CHECKING, Any

from exampletest.placeholder import placeholder
'''


def render_entry(name: str, as_type: bool, blocks: list[int]) -> str:
    where = ", ".join(str(b) for b in blocks)
    if as_type:
        return (
            f"\n# TODO: refine (used as a type in block {where}), e.g. a model class.\n"
            f"if TYPE_CHECKING:\n    class {name}(Any): ...\n"
            f"else:\n    {name} = placeholder({name!r}, as_type=True)\n"
        )
    return f"\n# TODO: refine (used in block {where}).\n{name}: Any = placeholder({name!r})\n"


def _imports_for(new: dict[str, tuple[bool, list[int]]], defined: frozenset[str]) -> str:
    """The imports the new entries need that the user's stubs file no longer has."""
    typing = [n for n in ("TYPE_CHECKING", "Any") if n not in defined]
    if not any(as_type for as_type, _ in new.values()):
        typing = [n for n in typing if n != "TYPE_CHECKING"]
    lines = [f"from typing import {', '.join(typing)}"] if typing else []
    if "placeholder" not in defined:
        lines.append("from exampletest.placeholder import placeholder")
    return (
        "\n# Used by the entries exampletest added below.\n" + "\n".join(lines) + "\n"
        if lines
        else ""
    )


def write_stubs(options: Options, documents: Sequence[Document]) -> Iterator[str]:
    index = load_index(options, documents)
    slugs = doc_slugs([d.path for d in documents])
    for doc in documents:
        path = stub_path(options.stubs_dir, slugs[doc.path])
        existing = path.read_text(encoding="utf-8") if path.is_file() else None
        contexts = analyze_document(doc.blocks, index, existing)
        wanted: dict[str, tuple[bool, list[int]]] = {}
        # A FastAPI app or router the run builds for real (see context) is better than a
        # placeholder here, which would swallow the routes registered on it again.
        real = sorted({p.name for c in contexts for p in c.provided if p.standin})
        for ctx in contexts:
            for prov in ctx.provided:
                if prov.source == "placeholder" and prov.name in ctx.missing and not prov.standin:
                    as_type, blocks = wanted.get(prov.name, (False, []))
                    wanted[prov.name] = (as_type or prov.as_type, [*blocks, ctx.block.index])
        defined = analyze(existing).binds if existing else frozenset()
        new = {n: v for n, v in wanted.items() if n not in defined}
        kept = f"; left to a real FastAPI stand-in: {', '.join(real)}" if real else ""
        if not new:
            yield f"{path}: up to date ({len(defined)} names){kept}"
            continue
        text = existing if existing is not None else HEADER.format(doc=doc.path)
        if existing is not None:  # a refined file may have dropped what the entries use
            text += _imports_for(new, defined)
        text += "".join(render_entry(n, t, b) for n, (t, b) in sorted(new.items()))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        yield f"{path}: {len(new)} names added: {', '.join(sorted(new))}{kept}"
