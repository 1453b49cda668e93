"""Write rewritten blocks back into their document and nothing else.

Every byte outside the replaced code lines is kept: line endings (per line), the container
prefix of each line (list indentation, ``> ``), the fences and their info strings, the BOM.
New lines take the prefix and line ending of the block's own lines. The file is replaced
atomically, keeps its mode, is refused when it changed on disk since it was read, and a
symlink that leads out of the project is not followed.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from exampletest.model import Block, Document
from exampletest.parse import split_lines

_ENDINGS = re.compile(r"(\r\n|\r|\n)")


class WriteError(RuntimeError):
    """A document that must not or cannot be written: one line saying why."""


def split_keepends(text: str) -> list[tuple[str, str]]:
    """(content, ending) per line, splitting exactly where the parser does."""
    parts = _ENDINGS.split(text)
    return list(zip(parts[0::2], [*parts[1::2], ""], strict=True))


def writable(block: Block) -> str | None:
    """Why a block cannot be rewritten in place, or None."""
    if block.language in ("pycon", "python-console") or any(">>>" in p for p in block.prefixes):
        return "console sessions are not rewritten in place"
    if block.line_map and list(block.line_map) != list(
        range(block.line_map[0], block.line_map[0] + len(block.line_map))
    ):
        return "the block's lines are not contiguous in the document"
    return None


def code_lines(code: str) -> list[str]:
    """Lines split where the parser splits them (not at form feeds, as str.splitlines does)."""
    lines = split_lines(code)
    return lines[:-1] if lines and lines[-1] == "" else lines


def _prefixes(block: Block, lines: list[tuple[str, str]]) -> tuple[str, str]:
    """The container prefix for new code lines: (for non-blank lines, for blank lines).

    Copied from the block's own lines where it has them; otherwise from its closing fence (the
    text before the backticks), else the opening fence with list markers turned into spaces.
    """
    codes = code_lines(block.code)
    pairs = list(zip(block.prefixes, codes, strict=False))
    text_prefix = next((pre for pre, code in pairs if code.strip()), None)
    if text_prefix is None:
        closing = block.end_line  # 0-based index of the line after the last code line
        m = re.search(r"[`~]{3,}", lines[closing][0]) if closing < len(lines) else None
        if m is not None:
            text_prefix = lines[closing][0][: m.start()]
        else:
            text_prefix = re.sub(r"[^\s>]", " ", block.fence_indent)
    blank_prefix = next((pre for pre, code in pairs if not code.strip()), None)
    if blank_prefix is None:
        blank_prefix = text_prefix.rstrip(" \t") if ">" in text_prefix else ""
    return text_prefix, blank_prefix


def replace_blocks(doc: Document, replacements: Mapping[int, str]) -> bytes:
    """The document's bytes with each block (by index) replaced by new code."""
    text = doc.raw.decode("utf-8")
    lines = split_keepends(text)
    by_index = {b.index: b for b in doc.blocks}
    # Replace from the bottom so earlier line numbers stay valid.
    for index in sorted(replacements, key=lambda i: -by_index[i].start_line):
        block = by_index[index]
        reason = writable(block)
        if reason is not None:
            raise WriteError(f"{doc.path}:{block.fence_line}: {reason}")
        first = block.start_line - 1  # 0-based index of the first code line
        count = len(block.line_map)
        ending = lines[first][1] if count else lines[block.fence_line - 1][1]
        ending = ending or _dominant_ending(lines)
        prefix, bare = _prefixes(block, lines)
        new_lines = []
        for code_line in code_lines(replacements[index]):
            new_lines.append(((prefix if code_line.strip() else bare) + code_line, ending))
        if count:
            last_ending = lines[first + count - 1][1]
            if new_lines and not last_ending:
                new_lines[-1] = (new_lines[-1][0], "")
        lines[first : first + count] = new_lines
    return "".join(c + e for c, e in lines).encode("utf-8")


def _dominant_ending(lines: list[tuple[str, str]]) -> str:
    endings = [e for _, e in lines if e]
    return max(set(endings), key=endings.count) if endings else "\n"


def write_document(doc: Document, new: bytes, project_root: Path | None = None) -> None:
    """Atomically replace the file, refusing when that would lose or leak something."""
    path = Path(doc.path)
    root = (project_root or Path.cwd()).resolve()
    real = path.resolve()
    if path.is_symlink() and root not in real.parents:
        raise WriteError(f"{doc.path}: symbolic link to {real}, outside the project; not written")
    try:
        current = real.read_bytes()
    except OSError as exc:
        raise WriteError(f"{doc.path}: cannot read: {exc.strerror}") from None
    if current != doc.raw:
        raise WriteError(f"{doc.path}: changed on disk since it was read; not written")
    if new == current:
        return
    mode = stat.S_IMODE(real.stat().st_mode)
    fd, tmp = tempfile.mkstemp(dir=real.parent, prefix=f".{real.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(new)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, real)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
