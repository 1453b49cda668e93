"""Parser: a Markdown file -> its Python blocks, each mapped back to document coordinates.

markdown-it-py does the CommonMark work (lists, quotes, fence lengths, closing fences inside
strings). Two things CommonMark cannot see are handled around it: YAML front matter (blanked
out, keeping line numbers) and MkDocs admonitions/content tabs, whose 4-space-indented bodies
are dedented in a *view* of the document before parsing, remembering how many characters each
line lost so that columns still point into the real file.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, replace

from markdown_it import MarkdownIt
from markdown_it.token import Token

from exampletest.model import Block, Directives, Document, Status

PYTHON_LANGUAGES = frozenset({"python", "py", "python3", "py3", "pycon", "python-console"})
_ADMONITION = re.compile(r"^[ \t]*(?:!!!|\?\?\?\+?)[ \t]*[\w-]|^[ \t]*===\+?[ \t]+[\"']")
_INCLUDE = re.compile(r"^\s*(?:\{!.*!\}|\{\*.*\*\}|-{2}8<-{2}.*)\s*$")
_DIRECTIVE = re.compile(r"<!--\s*exampletest\s*:\s*(?P<body>.*?)\s*-->", re.S)
_DOCCMD_SKIP = re.compile(r"<!-{2,3}\s*skip\s+doccmd\[(?P<what>[^\]]*)\]\s*:\s*next\s*-->", re.S)
_SETTING = re.compile(r"""([\w-]+)\s*=\s*("[^"]*"|'[^']*'|\S+)""")
_STAGE_NAMES = frozenset({"lint", "types", "smoke", "all"})
_MAX_ADMONITION_DEPTH = 16


class DirectiveError(ValueError):
    """A directive the tool does not understand: reported, never silently ignored."""


def read_document(path: str) -> Document:
    """Read and parse one file; problems become one-line errors on the Document, not raises."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        return Document(path, b"", (), (f"{path}: cannot read: {exc.strerror or exc}",))
    return parse_document(path, raw)


def parse_document(path: str, raw: bytes) -> Document:
    nul = raw.find(b"\x00")
    if nul != -1:
        return Document(path, raw, (), (f"{path}: binary file (NUL byte at offset {nul}), skipped",))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return Document(
            path, raw, (), (f"{path}:{line}: not valid UTF-8 (byte offset {exc.start}), skipped",)
        )
    errors: list[str] = []
    blocks = tuple(_extract(path, text, errors))
    return Document(path, raw, blocks, tuple(errors))


def split_lines(text: str) -> list[str]:
    """Lines without their endings, split exactly where markdown-it and editors split them."""
    return re.split(r"\r\n|\r|\n", text)


@dataclass
class _View:
    """The document as markdown-it sees it, with what each line lost to the left."""

    lines: list[str]  # original lines (no endings)
    shifts: list[int]  # characters removed from the start of each line

    def text(self) -> str:
        return "\n".join(line[s:] for line, s in zip(self.lines, self.shifts, strict=True))


def _make_view(text: str) -> _View:
    lines = split_lines(text)
    view = _View(lines, [0] * len(lines))
    _blank_front_matter(view)
    _dedent_admonitions(view)
    return view


def _blank_front_matter(view: _View) -> None:
    if not view.lines or view.lines[0].rstrip() != "---":
        return
    for end in range(1, len(view.lines)):
        if view.lines[end].rstrip() in ("---", "..."):
            for i in range(end + 1):
                view.shifts[i] = len(view.lines[i])
            return


def _indent_width(line: str) -> int:
    width = 0
    for ch in line:
        if ch == " ":
            width += 1
        elif ch == "\t":
            width += 4 - width % 4
        else:
            break
    return width


def _cut(line: str, columns: int) -> int:
    """How many characters of leading whitespace make up ``columns`` columns."""
    width = chars = 0
    for ch in line:
        if width >= columns or ch not in " \t":
            break
        width += 1 if ch == " " else 4 - width % 4
        chars += 1
    return chars


def _dedent_admonitions(view: _View) -> None:
    """Dedent MkDocs admonition / tab bodies by 4 columns per level, in the view only."""
    stack: list[int] = []  # body indent (columns) of each open admonition
    fence: str | None = None
    for i, line in enumerate(view.lines):
        if view.shifts[i] == len(line) and line:
            continue  # front matter
        stripped = line.strip()
        indent = _indent_width(line)
        if stripped:
            while stack and indent < stack[-1]:
                stack.pop()
        depth = len(stack)
        if depth:
            view.shifts[i] = _cut(line, 4 * depth if stripped else min(indent, 4 * depth))
        body = line[view.shifts[i] :].lstrip(" \t")
        # Do not open admonitions from inside a fenced block.
        marker = re.match(r"(`{3,}|~{3,})", body)
        if marker:
            if fence is None:
                fence = marker.group(1)
            elif body.startswith(fence) and not body[len(fence) :].strip(fence[0] + " \t"):
                fence = None
            continue
        if fence is None and _ADMONITION.match(line) and len(stack) < _MAX_ADMONITION_DEPTH:
            stack.append(indent + 4)


_MD = MarkdownIt("commonmark")


def _extract(path: str, text: str, errors: list[str]) -> list[Block]:
    view = _make_view(text)
    tokens = _MD.parse(view.text())
    blocks: list[Block] = []
    heading: str | None = None
    pending: list[Token] = []  # html blocks directly before the next token
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and i + 1 < len(tokens):
            heading = tokens[i + 1].content.strip() or heading
        if tok.type == "html_block":
            pending.append(tok)
            continue
        if tok.type == "fence" and tok.map is not None:
            lang, settings = parse_info(tok.info)
            if lang in PYTHON_LANGUAGES:
                block = _make_block(path, len(blocks) + 1, tok, lang, settings, heading, view)
                directives = _directives(path, block.fence_line, pending, settings, errors)
                blocks.append(replace(block, directives=directives))
        pending = []
    return blocks


def parse_info(info: str) -> tuple[str, dict[str, str]]:
    """Language and settings of a fence info string: ``py {test="skip"}``, ``{.python .x a=1}``."""
    info = info.strip()
    settings = {m.group(1): m.group(2).strip("\"'") for m in _SETTING.finditer(info)}
    if info.startswith("{"):
        classes = re.findall(r"(?:^|\s)\.([\w+-]+)", info.strip("{}"))
        return (classes[0].lower() if classes else ""), settings
    first = re.split(r"[\s{,]", info, maxsplit=1)[0]
    return first.lower(), settings


def _make_block(
    path: str,
    index: int,
    tok: Token,
    lang: str,
    settings: dict[str, str],
    heading: str | None,
    view: _View,
) -> Block:
    assert tok.map is not None
    fence_idx = tok.map[0]
    content = tok.content.split("\n")
    if content and content[-1] == "":
        content.pop()
    code_lines: list[str] = []
    line_map: list[int] = []
    offsets: list[int] = []
    prefixes: list[str] = []
    for k, cline in enumerate(content):
        idx = fence_idx + 1 + k
        if idx >= len(view.lines):
            break
        doc_line = view.lines[idx]
        vline = doc_line[view.shifts[idx] :]
        if cline and vline.endswith(cline):
            off = view.shifts[idx] + len(vline) - len(cline)
        elif cline.strip() and cline.lstrip() and vline.endswith(cline.lstrip()):
            off = view.shifts[idx] + len(vline) - len(cline.lstrip())
        else:
            off = view.shifts[idx] + _prefix_len(vline)
        code_lines.append(cline)
        line_map.append(idx + 1)
        offsets.append(off)
        prefixes.append(doc_line[:off])
    fence_line_text = view.lines[fence_idx]
    vfence = fence_line_text[view.shifts[fence_idx] :]
    fence_indent = fence_line_text[: view.shifts[fence_idx] + _prefix_len(vfence)]
    skip_reason = None
    nonblank = [c for c in code_lines if c.strip()]
    if nonblank and all(_INCLUDE.match(c) for c in nonblank):
        skip_reason = "include-only block: its code lives in another file"
    if lang in ("pycon", "python-console") or (
        nonblank and nonblank[0].lstrip().startswith(">>>")
    ):
        code_lines, line_map, offsets, prefixes = _strip_prompts(
            code_lines, line_map, offsets, prefixes
        )
    start = fence_idx + 2
    end = fence_idx + 1 + len(content)
    return Block(
        doc_path=path,
        index=index,
        fence_line=fence_idx + 1,
        start_line=start,
        end_line=max(end, start - 1),
        language=lang,
        info=tok.info.strip(),
        heading=heading,
        code="\n".join(code_lines) + ("\n" if code_lines else ""),
        line_map=tuple(line_map),
        col_offsets=tuple(offsets),
        prefixes=tuple(prefixes),
        fence_indent=fence_indent,
        skip_reason=skip_reason,
    )


def _prefix_len(vline: str) -> int:
    """Length of container markup (indent, ``>``) before content on a view line."""
    m = re.match(r"^(?:[ \t]*>[ ]?)*[ \t]*", vline)
    return m.end() if m else 0


def _strip_prompts(
    lines: list[str], line_map: list[int], offsets: list[int], prefixes: list[str]
) -> tuple[list[str], list[int], list[int], list[str]]:
    """Keep only ``>>>``/``...`` lines of a console session, without their prompts."""
    out: tuple[list[str], list[int], list[int], list[str]] = ([], [], [], [])
    for line, ln, off, pre in zip(lines, line_map, offsets, prefixes, strict=True):
        m = re.match(r"^(\s*)(>>>|\.\.\.)( |$)", line)
        if not m:
            continue
        cut = m.end()
        out[0].append(line[cut:])
        out[1].append(ln)
        out[2].append(off + cut)
        out[3].append(pre + line[:cut])
    return out


def _directives(
    path: str, fence_line: int, html: list[Token], settings: dict[str, str], errors: list[str]
) -> Directives:
    skip: set[str] = set()
    expect: Status | None = None
    standalone = False
    # pytest-examples settings in the info string.
    if settings.get("test") == "skip":
        skip.add("smoke")
    if settings.get("lint") == "skip":
        skip.update({"lint", "types"})
    for tok in html:
        line = (tok.map[0] + 1) if tok.map else fence_line
        if _DOCCMD_SKIP.search(tok.content):
            skip.add("all")
        for m in _DIRECTIVE.finditer(tok.content):
            try:
                s, e, st = parse_directive(m.group("body"))
            except DirectiveError as exc:
                errors.append(f"{path}:{line}: {exc}")
                continue
            skip |= s
            expect = e or expect
            standalone = standalone or st
    return Directives(skip=frozenset(skip), expect=expect, standalone=standalone)


def parse_directive(body: str) -> tuple[set[str], Status | None, bool]:
    """``skip``, ``skip=smoke,types``, ``expect=broken``, ``standalone`` (space separated)."""
    skip: set[str] = set()
    expect: Status | None = None
    standalone = False
    try:
        words = shlex.split(body.replace(";", " "))
    except ValueError as exc:
        raise DirectiveError(f"unreadable exampletest directive {body!r}: {exc}") from None
    if not words:
        raise DirectiveError("empty exampletest directive")
    for word in words:
        key, _, value = word.partition("=")
        if key == "skip":
            stages = {s.strip() for s in value.split(",") if s.strip()} if value else {"all"}
            unknown = stages - _STAGE_NAMES
            if unknown:
                raise DirectiveError(
                    f"unknown stage {sorted(unknown)[0]!r} in exampletest directive "
                    f"(known: lint, types, smoke, all)"
                )
            skip |= stages
        elif key == "expect" and value in {s.value for s in Status}:
            expect = Status(value)
        elif key == "expect":
            raise DirectiveError(
                f"exampletest directive expect={value!r}: expected one of "
                "broken, stale, incomplete, env, ok"
            )
        elif key == "standalone" and not value:
            standalone = True
        else:
            raise DirectiveError(
                f"unknown exampletest directive {word!r} (known: skip, skip=STAGES, "
                "expect=STATUS, standalone)"
            )
    return skip, expect, standalone

