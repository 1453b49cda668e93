"""Result cache: an unchanged block in an unchanged context skips every stage.

The key is content only: the block's code and directives, the context it receives (the earlier
statements it uses, how each free name is provided, the stub source), the versions of Python,
the checkers and the libraries, exampletest's own version and the configuration. Editing one
block therefore re-checks it and the later blocks whose context includes its statements.

Entries are stored position-free (code lines, code columns), so a block that only moved in its
document is still a hit. Writes are atomic (temp file + rename) so concurrent runs are safe; an
unreadable or corrupt entry is a miss; the folder is pruned to a bounded size.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from exampletest.model import (
    Block,
    BlockResult,
    Category,
    Directives,
    Document,
    Finding,
    Fix,
    Status,
)
from exampletest.parse import parse_document

if TYPE_CHECKING:
    from exampletest.context import BlockContext

FORMAT = 3
#: A document line inside a message or a fix note ("on line 12", "(line 12)"): stored as the
#: block's own line (``@3``), so a block that moved in its document says where it is now.
_DOC_LINE = re.compile(r"(\bon line |\(line )(\d+)\b")
_CODE_LINE = re.compile(r"(\bon line |\(line )@(\d+)\b")
MAX_ENTRIES = 20_000


def block_key(ctx: BlockContext, salt: str) -> str:
    h = hashlib.sha256()
    for part in (
        str(FORMAT),
        salt,
        ctx.block.code,
        ctx.block.language,
        repr(sorted(ctx.block.directives.skip)),
        str(ctx.block.directives.expect),
        str(ctx.block.directives.standalone),
        repr(sorted(ctx.block.directives.keeps)),
        str(ctx.block.skip_reason),
        repr(ctx.block.expected_exceptions),
        repr(ctx.block.shown_outputs),
        repr(ctx.block.printed_outputs),
        str(ctx.block.output_caption),
        *(p.statement.source for p in ctx.prelude),
        *(
            f"{p.name}:{p.source}:{p.statement}:{p.as_type}:{p.guessed}:{p.later}:{p.rivals}"
            for p in ctx.provided
        ),
        ctx.stub_source or "",
        *(f"{name}\0{code}" for name, code in ctx.doc_modules),
        # what later blocks make of this one: names they define or take from its imports
        repr(ctx.later),
        repr(ctx.nowhere),
        repr(ctx.exported),
        repr(ctx.altered),
        repr(sorted(ctx.unbound_attributes)),
        repr(ctx.class_listings),
        repr(sorted(ctx.tables)),
        str(ctx.creates_tables),
        repr(ctx.loose_members),
        repr(ctx.file_parts),
        repr(ctx.rebound),
        repr(ctx.relative_modules),
        repr(ctx.packages),
        repr(ctx.block.unprompted),
        *(f.message for f in ctx.findings),  # ("defined only in a later block (line 40)")
    ):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


#: The cache directory tagging standard (https://bford.info/cachedir/): backup tools skip
#: the folder, and ``exampletest clean`` removes only a folder that carries it.
CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n# exampletest's cache: safe to delete\n"
)
#: What a cache folder written before it was tagged holds (``clean`` accepts those too).
_CACHE_ENTRIES = re.compile(r"results|mypy|work|CACHEDIR\.TAG|\.gitignore|nameindex-[\w-]+\.json")


def mark_cache_folder(folder: Path) -> None:
    """Tag the cache folder (and make git ignore it, as ruff and pytest do) when it is new or
    already exampletest's; a folder of other files (``cache-dir = "docs"``) is never tagged,
    so ``clean`` never takes it for a cache."""
    try:
        if folder.is_dir() and not is_cache_folder(folder):
            return
        folder.mkdir(parents=True, exist_ok=True)
        tag = folder / "CACHEDIR.TAG"
        if not tag.is_file():
            tag.write_text(CACHEDIR_TAG, encoding="utf-8")
        ignore = folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# Created by exampletest\n*\n", encoding="utf-8")
    except OSError:
        return  # a cache that cannot be written is only slower


def is_cache_folder(folder: Path) -> bool:
    """Whether ``folder`` is exampletest's cache: tagged, or holding only what the cache
    writes (an empty folder counts)."""
    try:
        tag = (folder / "CACHEDIR.TAG").read_text(encoding="utf-8")
        if tag.startswith(CACHEDIR_TAG.split("\n", 1)[0]):
            return True
    except (OSError, UnicodeDecodeError):
        pass
    try:
        return all(_CACHE_ENTRIES.fullmatch(entry.name) for entry in folder.iterdir())
    except OSError:
        return False


class ResultCache:
    def __init__(self, folder: Path, salt: str = "") -> None:
        self.folder = folder / "results"
        self.salt = salt  # exampletest's own code: a parser change re-parses
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str, block: Block) -> BlockResult | None:
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
            result = _load(data, block)
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            self.misses += 1
            return None
        self.hits += 1
        return result

    def put(self, key: str, result: BlockResult) -> None:
        self._write(self._path(key), _dump(result))

    def _write(self, path: Path, data: object) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh)
            os.replace(tmp, path)
        except OSError:
            return  # a cache that cannot be written is only slower

    def _parsed_file(self, path: str, raw: bytes) -> Path:
        digest = hashlib.sha256(f"{FORMAT}\0{self.salt}\0{path}\0".encode() + raw).hexdigest()
        return self.folder / "parsed" / digest[:2] / f"{digest}.json"

    def has_parsed(self, path: str, raw: bytes) -> bool:
        """Whether :meth:`parse` remembers the document (it would not run markdown-it)."""
        return self._parsed_file(path, raw).is_file()

    def parse(self, path: str, raw: bytes) -> Document:
        """:func:`parse_document`, remembered by the bytes of the file (warm runs skip
        markdown-it)."""
        file = self._parsed_file(path, raw)
        try:
            data = json.loads(file.read_text("utf-8"))
            return Document(
                path, raw, tuple(_block_from(b) for b in data["blocks"]), tuple(data["errors"])
            )
        except (OSError, ValueError, KeyError, TypeError):
            pass
        doc = parse_document(path, raw)
        blocks = [{**_shallow(b), "directives": _directives_dict(b.directives)} for b in doc.blocks]
        self._write(file, {"blocks": blocks, "errors": list(doc.errors)})
        return doc

    def get_keys(self, digest: str) -> list[str] | None:
        """The block keys of a document seen before (by the digest of its bytes and context)."""
        try:
            keys = json.loads((self.folder / "docs" / f"{digest}.json").read_text("utf-8"))
        except (OSError, ValueError):
            return None
        ok = isinstance(keys, list) and all(isinstance(k, str) for k in keys)
        return keys if ok else None

    def put_keys(self, digest: str, keys: list[str]) -> None:
        self._write(self.folder / "docs" / f"{digest}.json", keys)

    def prune(self, limit: int = MAX_ENTRIES) -> None:
        """Keep the newest ``limit`` entries."""
        try:
            entries = sorted(self.folder.glob("*/*.json"), key=lambda p: p.stat().st_mtime)
        except OSError:
            return
        for path in entries[: max(0, len(entries) - limit)]:
            try:
                path.unlink()
            except OSError:
                continue


def _directives_dict(d: Directives) -> dict[str, Any]:
    return {
        "skip": sorted(d.skip),
        "expect": None if d.expect is None else d.expect.value,
        "standalone": d.standalone,
        "keeps": sorted(d.keeps),
        "implied": d.implied,
    }


def _block_from(data: dict[str, Any]) -> Block:
    d = data["directives"]
    directives = Directives(
        frozenset(d["skip"]),
        None if d["expect"] is None else Status(d["expect"]),
        d["standalone"],
        frozenset(d.get("keeps", ())),
        bool(d.get("implied", False)),
    )
    tuples = ("line_map", "col_offsets", "prefixes")
    fields: dict[str, Any] = {k: (tuple(v) if k in tuples else v) for k, v in data.items()}
    fields["directives"] = directives
    fields["expected_exceptions"] = tuple(
        (int(line), str(name)) for line, name in data.get("expected_exceptions", ())
    )
    for key in ("shown_outputs", "printed_outputs"):
        fields[key] = tuple((int(line), str(text)) for line, text in data.get(key, ()))
    return Block(**fields)


def _shallow(obj: Any) -> dict[str, Any]:
    """A dataclass's fields, not copied (``asdict`` copies every tuple, int by int: a run's
    cache writes spent most of their time there); JSON takes the tuples as they are."""
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def _dump(result: BlockResult) -> dict[str, Any]:
    block = result.block
    findings = []
    for f in result.findings:
        code_line = block.code_line_of(f.line)
        findings.append(
            {
                **_shallow(f),
                "message": _code_lines(f.message, block),
                "suggestion": f.suggestion and _code_lines(f.suggestion, block),
                "category": f.category.value,
                "line": code_line if code_line is not None else f.line - block.fence_line,
                "in_code": code_line is not None,
                "column": f.column - (block.col_offsets[code_line - 1] if code_line else 0),
                "end_line": _rel(block, f.end_line),
                "end_column": None
                if f.end_column is None
                else f.end_column
                - (
                    block.col_offsets[(block.code_line_of(f.end_line or f.line) or 1) - 1]
                    if block.col_offsets and block.code_line_of(f.end_line or f.line)
                    else 0
                ),
            }
        )
    fix = result.fix
    return {
        "findings": findings,
        "stages": result.stages,
        "status": result.status.value,
        "fix": None
        if fix is None
        else {**_shallow(fix), "diff": "", "notes": [_code_lines(n, block) for n in fix.notes]},
    }


def _code_lines(text: str, block: Block) -> str:
    def sub(m: re.Match[str]) -> str:
        code_line = block.code_line_of(int(m.group(2)))
        return m.group(0) if code_line is None else f"{m.group(1)}@{code_line}"

    return _DOC_LINE.sub(sub, text)


def _doc_lines(text: str, block: Block) -> str:
    return _CODE_LINE.sub(lambda m: f"{m.group(1)}{block.doc_line(int(m.group(2)))}", text)


def _rel(block: Block, line: int | None) -> int | None:
    if line is None:
        return None
    code_line = block.code_line_of(line)
    return code_line if code_line is not None else None


def _load(data: dict[str, Any], block: Block) -> BlockResult:
    findings = []
    for f in data["findings"]:
        if f.pop("in_code"):
            line = block.doc_line(f["line"])
            column = block.doc_column(f["line"], f["column"])
        else:
            line, column = block.fence_line + f["line"], f["column"]
        end_line = block.doc_line(f["end_line"]) if f["end_line"] else line
        end_col = f["end_column"]
        if end_col is not None and f["end_line"]:
            end_col = block.doc_column(f["end_line"], end_col)
        findings.append(
            Finding(
                stage=f["stage"],
                tool=f["tool"],
                rule=f["rule"],
                category=Category(f["category"]),
                line=line,
                column=column,
                message=_doc_lines(f["message"], block),
                end_line=end_line,
                end_column=end_col,
                suggestion=f["suggestion"] and _doc_lines(f["suggestion"], block),
                intentional=f["intentional"],
                corroboration=tuple(f["corroboration"]),
            )
        )
    fix = data["fix"]
    return BlockResult(
        block=block,
        findings=findings,
        stages=dict(data["stages"]),
        status=Status(data["status"]),
        fix=None
        if fix is None
        else Fix(
            fix["replacement"],
            "",
            tuple(fix["resolves"]),
            fix["verified"],
            tuple(_doc_lines(n, block) for n in fix["notes"]),
        ),
    )
