"""Write rewritten blocks back into their document and nothing else.

Every byte outside the replaced code lines is kept: line endings (per line), the container
prefix of each line (list indentation, ``> ``), the fences and their info strings, the BOM.
New lines take the prefix and line ending of the block's own lines. The file is replaced
atomically, keeps its mode, is refused when it changed on disk since it was read, and a
symlink that leads out of the project is not followed.
"""

from __future__ import annotations

import ast
import difflib
import functools
import os
import re
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from exampletest.model import Block, Document
from exampletest.symbols import code_lines

_ENDINGS = re.compile(r"(\r\n|\r|\n)")


class WriteError(RuntimeError):
    """A document that must not or cannot be written: one line saying why."""


def split_keepends(text: str) -> list[tuple[str, str]]:
    """(content, ending) per line, splitting exactly where the parser does."""
    parts = _ENDINGS.split(text)
    return list(zip(parts[0::2], [*parts[1::2], ""], strict=True))


@functools.lru_cache(maxsize=32)
def document_lines(raw: bytes) -> tuple[tuple[str, str], ...]:
    """A document's (content, ending) lines, split once however many of its blocks get a fix
    (a long changelog has dozens)."""
    return tuple(split_keepends(raw.decode("utf-8")))


def writable(block: Block) -> str | None:
    """Why a block cannot be rewritten in place, or None. A console session's code lines
    are not contiguous (its output sits between them): :func:`_session_lines` rewrites it."""
    if block.ipython:
        return "an IPython session (`In [1]:` prompts) is not rewritten in place"
    if block.session:
        if block.line_map and block.line_map[0] in block.unprompted:  # no prompt: a script
            return "a script followed by a console session is not rewritten in place"
        return None
    if block.line_map and list(block.line_map) != list(
        range(block.line_map[0], block.line_map[0] + len(block.line_map))
    ):
        return "the block's lines are not contiguous in the document"
    return None


def _prefixes(block: Block, lines: list[tuple[str, str]]) -> tuple[str, str]:
    """The container prefix for new code lines: (for non-blank lines, for blank lines).

    Copied from the block's own lines where it has them; otherwise from its closing fence (the
    text before the backticks), else the opening fence with list markers turned into spaces.
    """
    codes = code_lines(block.code)
    pairs = list(zip(block.prefixes, codes, strict=False))
    # The longest: under a fence indented N spaces, CommonMark takes up to N spaces off each
    # line, so a line written less indented than the fence has a shorter prefix; a new line
    # written with the whole N keeps its own indentation (`    x: int` in a class body).
    text_prefix = max((pre for pre, code in pairs if code.strip()), key=len, default=None)
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
    lines = list(document_lines(doc.raw))
    by_index = {b.index: b for b in doc.blocks}
    # Replace from the bottom so earlier line numbers stay valid.
    for index in sorted(replacements, key=lambda i: -by_index[i].start_line):
        block = by_index[index]
        reason = writable(block)
        if reason is not None:
            raise WriteError(f"{doc.path}:{block.fence_line}: {reason}")
        if block.session:
            first, last = block.start_line - 1, block.end_line
            lines[first:last] = _session_lines(block, lines, code_lines(replacements[index]))
            continue
        first = block.start_line - 1  # 0-based index of the first code line
        count = len(block.line_map)
        ending = lines[first][1] if count else lines[block.fence_line - 1][1]
        ending = ending or _dominant_ending(lines)
        prefix, bare = _prefixes(block, lines)
        new_code = code_lines(replacements[index])
        kept = _unchanged(code_lines(block.code), new_code) if count else {}
        new_lines = []
        for j, code_line in enumerate(new_code):
            if j in kept:  # a line the fix left alone keeps its bytes (a blank line's spaces)
                content, end = lines[first + kept[j]]
                new_lines.append((content, end or ending))
                continue
            new_lines.append(((prefix if code_line.strip() else bare) + code_line, ending))
        if count:
            last_ending = lines[first + count - 1][1]
            if new_lines and not last_ending:
                new_lines[-1] = (new_lines[-1][0], "")
        lines[first : first + count] = new_lines
        options = range(block.fence_line - 1, first)  # the fence and its option lines
        if any(_highlights(lines[at][0], at == block.fence_line - 1) for at in options):
            moved = _line_mover(block.code, replacements[index])
            known = len(code_lines(block.code))
            for at in options:
                content, end = lines[at]
                head = at == block.fence_line - 1
                lines[at] = (_move_highlights(content, moved, head, known), end)
    return "".join(c + e for c, e in lines).encode("utf-8")


def _session_lines(
    block: Block, lines: list[tuple[str, str]], new: list[str]
) -> list[tuple[str, str]]:
    """A console session's lines with its code rewritten: a line the fix left alone keeps
    its bytes, a changed line keeps its prompt, a new line gets ``>>> `` where a statement
    starts and ``... `` where it goes on; the output shown after a statement stays after it.
    Refused (WriteError) where a removed or regrouped line has output after it: the output
    would then follow another statement."""
    first, last = block.start_line - 1, block.end_line
    old = code_lines(block.code)
    index_of = {ln - 1: i for i, ln in enumerate(block.line_map)}
    starts = _statement_starts("\n".join(new))
    where = f"{block.doc_path}:{block.fence_line}"
    if starts is None:
        raise WriteError(f"{where}: the rewritten session does not parse")
    sample = next((p for p in block.prefixes if ">>>" in p), ">>> ")
    container = sample[: sample.index(">>>")]
    ending = lines[first][1] or _dominant_ending(lines)
    # what goes where each old code line was: ("keep", j) | ("new", [j, ...]) | ("drop",)
    plan: dict[int, tuple[str, list[int]]] = {}
    before: dict[int, list[int]] = {}  # new lines inserted before an old line
    after_all: list[int] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            for k in range(i2 - i1):
                plan[i1 + k] = ("keep" if tag == "equal" else "new", [j1 + k])
        elif tag == "insert":
            (before.setdefault(i1, []) if i1 < len(old) else after_all).extend(range(j1, j2))
        else:  # a delete, or lines regrouped: the new ones where the first old one was
            plan[i1] = ("new", list(range(j1, j2)))
            for k in range(i1 + 1, i2):
                plan[k] = ("drop", [])
            dropped = range(i1, i2) if tag == "delete" else range(i1, i2 - 1)
            if any(_output_after(block, lines, k) for k in dropped):
                raise WriteError(
                    f"{where}: the fix moves code that has output after it; "
                    "rewrite the session by hand"
                )

    def render(js: list[int]) -> list[tuple[str, str]]:
        return [
            (f"{container}{'>>> ' if j in starts else '... '}{new[j]}".rstrip(), ending)
            for j in js
            if new[j].strip()
        ]

    out: list[tuple[str, str]] = []
    for at in range(first, last):
        i = index_of.get(at)
        if i is None:
            out.append(lines[at])
            continue
        out += render(before.get(i, []))
        kind, js = plan.get(i, ("keep", []))
        if kind == "keep":
            out.append(lines[at])
        elif kind == "new":
            rendered = render(js)
            if len(js) == 1 and rendered:  # the same line changed: its own prompt and ending
                prefix = block.prefixes[i] if i < len(block.prefixes) else container + ">>> "
                rendered = [(prefix + new[js[0]], lines[at][1] or ending)]
            out += rendered
    return out + render(after_all)


def _statement_starts(code: str) -> set[int] | None:
    """0-based lines where a top-level statement (or its first decorator) starts."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    out: set[int] = set()
    for stmt in tree.body:
        decorators = getattr(stmt, "decorator_list", [])
        out.add((decorators[0].lineno if decorators else stmt.lineno) - 1)
    return out


def _output_after(block: Block, lines: list[tuple[str, str]], i: int) -> bool:
    """Whether output is shown after old code line ``i`` (before the next code line)."""
    start = block.line_map[i]  # 0-based index of the line after it
    stop = block.line_map[i + 1] - 1 if i + 1 < len(block.line_map) else block.end_line
    return any(lines[at][0].strip() for at in range(start, stop))


#: Lines a fence highlights: pymdownx/Hugo ``hl_lines="2 4-5"``, MyST/Sphinx's
#: ``:emphasize-lines: 2,4-5`` option, and (on the fence line) Docusaurus' ``{2,4-5}``.
_HIGHLIGHTS = (
    re.compile(r"""(\bhl_lines\s*=\s*["']?)([\d\s,-]*\d)"""),
    re.compile(r"(^\s*:emphasize-lines:\s*)([\d\s,-]*\d)"),
)
_FENCE_HIGHLIGHTS = re.compile(r"(\{\s*)(\d[\d\s,-]*)(?=\s*\})")


def _highlights(text: str, fence: bool) -> bool:
    """Whether a fence (or option) line highlights lines (only then are they renumbered)."""
    found = any(p.search(text) for p in _HIGHLIGHTS)
    return found or (fence and _FENCE_HIGHLIGHTS.search(text) is not None)


def _unchanged(old: list[str], new: list[str]) -> dict[int, int]:
    """New line index -> the old line index it equals, where the rewrite left lines alone."""
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    return {
        j1 + k: i1 + k
        for tag, i1, i2, j1, _ in matcher.get_opcodes()
        if tag == "equal"
        for k in range(i2 - i1)
    }


def _line_mover(old: str, new: str) -> dict[int, int]:
    """Where each line of ``old`` is in ``new`` (1-based; a replaced line counts as the line
    most like it among those that replaced it, not an import put above it; a removed line is
    not there)."""
    before, after = code_lines(old), code_lines(new)
    where: dict[int, int] = {}
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                where[i1 + k + 1] = j1 + k + 1
        elif tag == "replace" and j2 > j1:
            for k in range(i1, i2):
                ratios = [
                    difflib.SequenceMatcher(None, before[k], after[j]).ratio()
                    for j in range(j1, j2)
                ]
                where[k + 1] = j1 + ratios.index(max(ratios)) + 1
    return where


def _move_highlights(text: str, where: dict[int, int], fence: bool, known: int) -> str:
    """``text`` with the code lines it highlights renumbered for the rewritten code, so that a
    fix that adds or removes a line keeps the highlight on the line it was on. A number past
    the block's ``known`` lines (the document's own slip) is left as it was."""

    def renumber(m: re.Match[str]) -> str:
        spec = m.group(2)
        numbers: list[int] = []
        for part in re.split(r"[\s,]+", spec.strip()):
            lo, _, hi = part.partition("-")
            if not lo.isdigit() or (hi and not hi.isdigit()):
                return m.group(0)  # not a list of lines after all
            numbers += range(int(lo), int(hi or lo) + 1)
        moved = sorted({where[n] if n <= known else n for n in numbers if n in where or n > known})
        if moved == sorted(set(numbers)):
            return m.group(0)
        ranges: list[str] = []
        for n in moved:
            if ranges and int(ranges[-1].rpartition("-")[2]) == n - 1:
                ranges[-1] = f"{ranges[-1].partition('-')[0]}-{n}"
            else:
                ranges.append(str(n))
        sep = "," if "," in spec else " "
        sep += " " if ", " in spec else ""
        return m.group(1) + sep.join(ranges)

    for pattern in (*_HIGHLIGHTS, *((_FENCE_HIGHLIGHTS,) if fence else ())):
        text = pattern.sub(renumber, text)
    return text


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
