"""Parser: a Markdown file -> its Python blocks, each mapped back to document coordinates.

markdown-it-py does the CommonMark work (lists, quotes, fence lengths, closing fences inside
strings). Two things CommonMark cannot see are added to it: front matter (blanked out,
keeping line numbers) and MkDocs admonitions/content tabs (a container block rule, so their
4-space-indented bodies are not read as indented code).

Every code line is a suffix of its document line: ``line[col_offsets[i]:] == code line`` and
``prefixes[i] + code line == line``, so findings and write-back land on the exact characters.
"""

from __future__ import annotations

import ast
import collections
import errno
import functools
import inspect
import io
import itertools
import os
import re
import shlex
import stat
import sys
import tokenize
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.token import Token

from exampletest.model import Block, Directives, Document, Status
from exampletest.symbols import parse_code, parse_tree

PYTHON_LANGUAGES = frozenset(
    {"python", "py", "python3", "py3", "ipython", "ipython3", "pycon", "python-console"}
)
_CONSOLE_LANGUAGES = frozenset({"pycon", "python-console"})
#: Larger files are refused with one line rather than parsed for minutes.
MAX_BYTES = 32 * 1024 * 1024
# MkDocs admonition (``!!! note``), details (``??? tip``, ``???+ tip``), content tab (``=== "A"``).
_ADMONITION = re.compile(r"""(?:!!!|\?\?\?\+?)[ \t]*[\w-]|===[+!]?[ \t]+["']""")
_INCLUDE = re.compile(r"^\s*(?:\{!.*!\}|\{\*.*\*\}|-{2}8<-{2}.*)\s*$")
_DIRECTIVE = re.compile(r"<!--\s*exampletest\s*:\s*(?P<body>.*?)\s*-->", re.S)
_DOCCMD_SKIP = re.compile(
    r"<!-{2,3}\s*skip\s+doccmd\[(?P<what>[^\]]*)\]\s*:\s*(?P<when>next|start|end)\s*-->", re.S
)
_SYBIL_SKIP = re.compile(r"<!--\s*skip\s*:\s*(?P<when>next|start|end)\s*-->")
#: doccmd command names -> the exampletest stage that does that job.
_DOCCMD_STAGES = {
    "all": "all",
    "mypy": "types",
    "pyright": "types",
    "ruff": "lint",
    "flake8": "lint",
    "pylint": "lint",
    "python": "smoke",
    "pytest": "smoke",
}
#: A console prompt: the REPL's ``>>>`` and ``...``, IPython's ``In [3]:`` and ``...:`` (with
#: a ``%time`` magic, whose statement runs as written).
_PROMPT = re.compile(r"^(\s*)(>>>|\.\.\.:|\.\.\.|In \[\d*\]:(?: %%?time(?= |$))?)( |$)")
#: The lines IPython's ``%time`` prints before the code's own output.
_TIMING = re.compile(r"^(?:CPU times|Wall time): ")
#: IPython shows a value under ``Out[3]:``; the value is what the REPL would show.
_OUT_PROMPT = re.compile(r"^Out\[\d*\]:[ \t]?")
#: An IPython magic or shell escape at a prompt (``%timeit f()``, ``!pip install x``,
#: ``files = !ls``), or help (``math.sqrt?``): no Python, so neither it nor what it shows is
#: checked. (``%time stmt`` and a ``%%time`` cell run their code: that is read as code.)
_MAGIC = re.compile(r"^\s*In \[\d*\]: *(?:!|%(?!%?time(?: |$))|\?|[\w.]+\s*=\s*[!%]|.*\?\s*$)")
#: IPython's traceback header: ``ZeroDivisionError      Traceback (most recent call last)``.
_IPYTHON_TRACEBACK = re.compile(r"^([A-Za-z_][\w.]*)\s+Traceback \(most recent call last\)")


def _primary(m: re.Match[str] | None) -> bool:
    """The prompt that starts a statement (``>>>``, ``In [3]:``), not one that goes on."""
    return m is not None and (m.group(2) == ">>>" or m.group(2).startswith("In"))


_LIST_MARKER = re.compile(r"[-*+]|\d{1,9}[.)]")
_CONTAINER_PREFIX = re.compile(r"^(?:[ \t]*>[ ]?)*[ \t]*")
_SETTING = re.compile(r"""([\w-]+)\s*=\s*("[^"]*"|'[^']*'|\S+)""")
_STAGE_NAMES = frozenset({"lint", "types", "smoke", "all"})
_EXPECTABLE = frozenset({"broken", "stale", "incomplete", "env", "ok"})
#: Tokens a directive comment may precede on its way to the fence it is about.
_LIST_CLOSE = frozenset({"bullet_list_close", "ordered_list_close", "list_item_close"})
_CONTAINER_OPEN = frozenset(
    {"bullet_list_open", "ordered_list_open", "list_item_open", "blockquote_open"}
    | {"admonition_open"}
)
#: markdown-it nesting level (a list counts 2, a quote or admonition 1) past which lines are
#: skipped, on the record: markdown-it recurses per level and, past its own limit, silently
#: drops the rest of the document.
_MAX_LEVEL = 64


class DirectiveError(ValueError):
    """A directive the tool does not understand: reported, never silently ignored."""


def read_document(path: str, parse: Callable[[str, bytes], Document] | None = None) -> Document:
    """Read and parse one file; problems become one-line errors on the Document, not raises.
    ``parse`` replaces :func:`parse_document` (the result cache keeps parsed documents)."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer (POSIX only; no FIFOs elsewhere).
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        if exc.errno == errno.ENOENT and os.path.islink(path):
            return _unreadable(path, "cannot read: broken symbolic link")
        return _unreadable(path, f"cannot read: {exc.strerror or exc}")
    try:
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):  # a FIFO, a device: reading could block
                return _unreadable(path, "cannot read: not a regular file")
            if info.st_size > MAX_BYTES:
                return _unreadable(
                    path, f"too large ({info.st_size} bytes, limit {MAX_BYTES}), skipped"
                )
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        return _unreadable(path, f"cannot read: {exc.strerror or exc}")
    if len(raw) > MAX_BYTES:
        return _unreadable(path, f"too large (over {MAX_BYTES} bytes), skipped")
    return (parse or parse_document)(path, raw)


def peek(path: str) -> bytes | None:
    """The bytes of a regular file within the size limit, None otherwise (no error: the read
    proper says what is wrong)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        try:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
                return None
            return fh.read(MAX_BYTES + 1)
        except OSError:
            return None


def left_unread(errors: Sequence[str]) -> bool:
    """Whether these errors say a document (or a file named on the command line) could not
    be read at all: unreadable, too large, binary, not UTF-8. Such a run is not done: exit 2."""
    return any(e.endswith("skipped") or ": cannot read: " in e for e in errors)


#: In every error about a directive the tool could not read.
DIRECTIVE_ERROR = "exampletest directive"


def misread_directive(errors: Sequence[str]) -> bool:
    """Whether these errors include a directive the tool could not read (a typo: ``skp``,
    ``expect=brokn``). The blocks are still checked, but what the author asked for (a skip,
    an expectation) was not done, so the run is not done either: exit 2, as for bad config."""
    return any(DIRECTIVE_ERROR in e for e in errors)


def _unreadable(path: str, why: str) -> Document:
    return Document(path, b"", (), (f"{path}: {why}",))


def parse_document(path: str, raw: bytes) -> Document:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Document(path, raw, (), (f"{path}: UTF-16 encoded (only UTF-8 is read), skipped",))
    nul = raw.find(b"\x00")
    if nul != -1:
        line = _line_at(raw, nul)
        return Document(path, raw, (), (f"{path}:{line}: binary file (NUL byte), skipped",))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = _line_at(raw, exc.start)
        return Document(
            path, raw, (), (f"{path}:{line}: not valid UTF-8 (byte offset {exc.start}), skipped",)
        )
    errors: list[str] = []
    blocks = tuple(_extract(path, text, errors))
    return Document(path, raw, blocks, tuple(errors))


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LINE_BREAK_BYTES = re.compile(rb"\r\n|\r|\n")


def _line_at(raw: bytes, offset: int) -> int:
    """1-based line of a byte offset, counting line breaks as split_lines does."""
    return len(_LINE_BREAK_BYTES.findall(raw, 0, offset)) + 1


def split_lines(text: str) -> list[str]:
    """Lines without their endings, split exactly where markdown-it and editors split them."""
    return _LINE_BREAK.split(text)


def _front_matter_end(lines: list[str]) -> int:
    """Lines taken by YAML (``---``) or TOML (``+++``) front matter at the top, or 0."""
    opener = lines[0].rstrip()
    if opener not in ("---", "+++"):
        return 0
    closers = ("---", "...") if opener == "---" else ("+++",)
    for end in range(1, len(lines)):
        if lines[end].rstrip() in closers:
            return end + 1
    return 0


def _admonition(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """MkDocs admonitions and content tabs, which CommonMark reads as indented code.

    The body is every following line indented 4 columns more than the marker, up to the first
    non-blank line indented less (blank lines, even several, do not end it: Python code has
    them). Parsing it as a container keeps markdown-it's own column bookkeeping, so this works
    inside lists and quotes too.
    """
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    pos = state.bMarks[start] + state.tShift[start]
    if state.src[pos : pos + 1] not in ("!", "?", "=") or not _ADMONITION.match(
        state.src, pos, state.eMarks[start]
    ):
        return False
    if silent:
        return True
    body = state.sCount[start] + 4
    last = start + 1  # one past the last body line that is not blank
    for line in range(start + 1, end):
        if not state.isEmpty(line):
            if state.sCount[line] < body:
                break
            last = line + 1
    saved = state.lineMax, state.blkIndent
    state.lineMax, state.blkIndent = last, body
    token = state.push("admonition_open", "div", 1)
    token.map = [start, last]
    token.info = state.src[pos : state.eMarks[start]]
    state.md.block.tokenize(state, start + 1, last)
    state.push("admonition_close", "div", -1)
    state.lineMax, state.blkIndent = saved
    state.line = last
    return True


def _depth_guard(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """Past ``_MAX_LEVEL``, swallow lines one at a time (and note them) instead of recursing."""
    if silent or state.level < _MAX_LEVEL:
        return False
    state.env.setdefault("too_deep", []).append(start)
    state.line = start + 1
    return True


# Block structure only: inline parsing (emphasis, links) is most of markdown-it's time and
# nothing here needs it; heading text is read from the raw inline content.
_MD = MarkdownIt("commonmark", {"maxNesting": _MAX_LEVEL + 16}).disable(["inline", "text_join"])
_MD.block.ruler.before("table", "depth_guard", _depth_guard)
_MD.block.ruler.before(
    "fence", "admonition", _admonition, {"alt": ["paragraph", "reference", "blockquote", "list"]}
)


def _extract(path: str, text: str, errors: list[str]) -> list[Block]:
    lines = split_lines(text)
    front = _front_matter_end(lines)
    env: dict[str, Any] = {}
    # Front matter becomes blank lines: not Markdown, but line numbers stay.
    tokens = _MD.parse("\n" * front + "\n".join(_markdown_lines(lines[front:])), env)
    deep: list[int] = env.get("too_deep", [])
    if deep:
        errors.append(
            f"{path}:{deep[0] + 1}: lists/quotes/admonitions nested too deeply "
            f"(over {_MAX_LEVEL} levels); "
            f"lines {deep[0] + 1}-{deep[-1] + 1} not searched for code blocks"
        )
    blocks: list[Block] = []
    wrong_way = _wrong_way_regions(lines)
    heading: str | None = None
    heading_file: str | None = None  # the file the last heading names, until a block takes it
    pending = Directives()  # from the comments directly before the next token
    doccmd_range: set[str] = set()  # stages skipped by an open doccmd ``start`` comment
    caption = False  # the paragraph right before says the next example is the wrong way
    output = False  # the paragraph right before calls the next block output ("Output:")
    ran = -1  # the Python block the next fence may show the output of (no prose between)
    hands_over = False  # and ends in a colon
    old_tab: int | None = None  # the slashes of an open pymdownx tab titled as the old way
    style_tab: int | None = None  # ... of an open pymdownx tab titled "... non-Annotated"
    version_tab: tuple[int, str] | None = None  # ... of one titled "Python 3.8+": its title
    titles: list[str] = []  # of the open MkDocs tabs and admonitions (``=== "..."``)
    for i, tok in enumerate(tokens):
        if tok.type == "inline" and i and tokens[i - 1].type == "paragraph_open":
            caption = is_counterexample_caption(tok.content)
            output = _OUTPUT_CAPTION.match(re.sub(r"[*_`]", "", tok.content).strip()) is not None
            ran = ran if output else -1
            hands_over = tok.content.rstrip(" *_`").endswith(":")
            tab = _BLOCK_TAB.match(tok.content.split("\n", 1)[0])
            if tab is not None:  # pymdownx blocks: `//// tab | Python 3.10+ non-Annotated`
                old_tab = len(tab[1]) if is_counterexample_caption(tab[2]) else None
                style_tab = len(tab[1]) if _NON_ANNOTATED.search(tab[2]) else None
                version_tab = (len(tab[1]), tab[2])
            else:
                if old_tab is not None and tok.content.strip() == "/" * old_tab:
                    old_tab = None
                if style_tab is not None and tok.content.strip() == "/" * style_tab:
                    style_tab = None
                if version_tab is not None and tok.content.strip() == "/" * version_tab[0]:
                    version_tab = None
            continue
        if tok.type == "paragraph_close":
            continue
        if tok.type == "admonition_open":  # a tab or admonition titled like a caption
            title = re.search(r"""["'](.*)["']""", tok.info)
            caption = caption or (title is not None and is_counterexample_caption(title[1]))
            titles.append(title[1] if title else "")
        elif tok.type == "admonition_close" and titles:
            titles.pop()
        if tok.type != "fence":  # a list item's last words may hand over to the fence after it
            output = output and tok.type in _CONTAINER_OPEN
            caption = caption and (
                tok.type in _CONTAINER_OPEN or (hands_over and tok.type in _LIST_CLOSE)
            )
        if tok.type == "heading_open" and i + 1 < len(tokens):
            ran = -1
            heading = " ".join(tokens[i + 1].content.split()) or heading
            named = _HEADING_FILE.fullmatch(tokens[i + 1].content.strip())
            heading_file = named.group(1) if named else None
        if tok.type == "heading_close" and _BAD_HEADING.match(tokens[i - 1].content.strip()):
            caption, hands_over = True, False  # `### ❌ Bad` right above the example
        if tok.type == "html_block":
            for when, stages in _doccmd(tok.content):
                if when == "start":
                    doccmd_range |= stages
                elif when == "end":
                    doccmd_range -= stages
            pending = _merge(pending, _comment_directives(path, tok, errors))
            continue
        if tok.type == "fence" and tok.map is not None:
            if not _closed(tok):
                errors.append(
                    f"{path}:{tok.map[0] + 1}: code fence {tok.markup!r} is never closed; "
                    "it runs to the end of the document (or of its list/quote)"
                )
            lang, settings = parse_info(tok.info)
            if lang in PYTHON_LANGUAGES:
                block = _make_block(path, len(blocks) + 1, tok, lang, heading, lines)
                skip = _info_skips(settings) | doccmd_range
                directives = _merge(pending, Directives(skip=frozenset(skip)))
                wrapped = any(a < tok.map[0] < b for a, b in wrong_way)
                if (caption or old_tab is not None or wrapped) and directives.expect is None:
                    # all intentional
                    directives = replace(directives, expect=Status.BROKEN, implied=True)
                if style_tab is not None or any(_NON_ANNOTATED.search(t) for t in titles):
                    directives = replace(directives, keeps=STYLE_TAB_RULES)
                tab_titles = [*titles, *([version_tab[1]] if version_tab else [])]
                if older := _older_python_rules(tab_titles):
                    directives = replace(directives, keeps=directives.keeps | older)
                if heading_file and not block.title:  # `## app/models.py`: the file it shows
                    block = replace(block, title=heading_file)
                heading_file = None  # (the next block under the heading is another example)
                blocks.append(replace(block, directives=directives, output_caption=output))
                ran = len(blocks) - 1
            elif ran >= 0:
                blocks[ran] = _ending_as_shown(blocks[ran], tok.content.splitlines())
                ran = -1
            caption = output = False
        if tok.type not in _CONTAINER_OPEN:
            pending = Directives()
    return blocks


#: A caption that calls the block after it output: "Output:", "**CONSOLE OUTPUT:**", "This
#: prints:", "Expected result:", "You should see:".
_OUTPUT_CAPTION = re.compile(
    r"(?i)^(?:(?:the|sample|example|expected|console|terminal|program|its|script)\s+){0,2}"
    r"(?:output|result|response|error|exception|traceback)s?(?:\s*\([^)]*\))?\s*:?$"
    r"|^(?:this|it|which|that) (?:will )?(?:prints?|outputs?|displays?|shows?|raises?|fails?)"
    r"(?: out| with)?:$"
    r"|^you(?:'ll| will| should)? see(?: something like)?(?: this)?:$"
)


_CAPTION = re.compile(
    r"(?i)^(?:❌|🚫|⛔|✗|✘"
    r"|before\s*(?:\(|:|$|v\d|pydantic|sqlalchemy|fastapi|python \d)"
    r"|(?:(?:an?|the)\s+)?old(?:er)?\s*(?:way|style|code|version|api|syntax|approach|pattern|\(|:|$)"
    r"|(?:pydantic |sqlalchemy |fastapi )?v1\b|legacy\b|deprecated\b|outdated\b"
    r"|don'?t\b|do not\b|bad\b|wrong\b|incorrect\b|avoid\b|anti-?pattern|insecure\b)"
)


#: A caption that labels what follows before saying anything else: an ❌, or "BAD:", "Wrong:",
#: "Don't:", "Anti-pattern:" (the label, then a colon).
_LABELLED = re.compile(
    r"(?i)^(?:❌|🚫|⛔|✗|✘)|^(?:bad|wrong|incorrect|avoid|don'?t|do not|never|anti-?pattern)"
    r"(?: (?:example|practice|pattern|way))?\s*:"
)


#: A heading that names a file (``## `app/core/config.py` ``, ``### 2. File: models.py``): the
#: first Python block under it is that file, as a ``# app/core/config.py`` first line says.
_HEADING_FILE = re.compile(
    r"(?i)(?:\d{1,2}[.)]\s*)?(?:(?:file|filename|module)\s*:\s*)?[`*]*([\w.-]+(?:/[\w.-]+)*\.py)[`*]*"
    r"(?:\s*\([^()]*\))?"
    r"(?:\s+[-\u2013\u2014]\s+[^`]*)?"  # "`base.py` - the base models": a description after a dash
)

#: A heading that is only a label for the wrong way: ``### ❌ Bad``, ``## Wrong way``.
_BAD_HEADING = re.compile(
    r"(?i)^[*_]*(?:❌|🚫|⛔|✗|✘)"
    r"|^[*_]*(?:bad|wrong|incorrect|don'?t|do not|anti-?pattern)"
    r"(?:\s+(?:example|practice|pattern|way|code))?[*_]*\s*:?$"
)
#: "Avoid clock skew by issuing tokens like this:" introduces the right way.
_AVOID_BY = re.compile(r"(?i)^(?:avoid|don'?t|do not|never)\b.*\b(?:by|instead)\b")


#: A FastAPI docs tab that shows the style it names on purpose, and the rules that flag it.
_NON_ANNOTATED = re.compile(r"(?i)\bnon[- ]annotated\b")
STYLE_TAB_RULES = frozenset({"FAST002", "ET303"})


#: A tab's title naming the Python it is for: ``Python 3.8+``, ``Python 3.9 and above``.
_TAB_PYTHON = re.compile(r"(?i)\bpython\s*3\.(\d+)")
#: What an older Python cannot write: ``datetime.UTC`` before 3.11, ``X | None`` before 3.10,
#: ``list[int]`` before 3.9.
_NEWER_SYNTAX = (
    (11, frozenset({"UP017"})),
    (10, frozenset({"UP007", "UP045"})),
    (9, frozenset({"UP006", "UP035"})),
)


def _older_python_rules(titles: Sequence[str]) -> frozenset[str]:
    """The rules a block in a tab for an older Python keeps on purpose: FastAPI's and
    SQLModel's docs show each example once per Python (``=== "Python 3.8+"``), the older
    tab in the syntax that Python has."""
    minors = [int(m[1]) for t in titles if (m := _TAB_PYTHON.search(t))]
    if not minors:
        return frozenset()
    return frozenset(r for newer, rules in _NEWER_SYNTAX if min(minors) < newer for r in rules)


#: A pymdownx block tab's opening line: ``//// tab | Python 3.10+ non-Annotated``.
_BLOCK_TAB = re.compile(r"^(/{3,})\s*tab\s*\|\s*(.+?)\s*$")


#: The sentence that hands over to the example says it is what not to do any more.
_HAND_OVER = re.compile(
    r"(?i)(?:^|\b)(?:instead of|rather than) this:$"
    r"|^(?:previously|from|change this|replace(?: this)?|old|before this change):$"
    r"|\b(?:in|with|using|for) (?:pydantic|sqlalchemy|fastapi) v?1(?:\.x)?\b[^:]*:$"
    r"|\bfollowing code will be (?:transformed|changed|rewritten|converted)\b[^:]*:$"
    r"|\b(?:should|must) no longer (?:do|use|write|be used)\b[^:]*:$"
    r"|\b(?:don'?t|do not|never) (?:do|write) (?:this|it)(?: any ?more)?:$"
)


def is_counterexample_caption(text: str) -> bool:
    """A short paragraph that introduces the next example as the wrong or old way
    ("**Before (Pydantic v1):**", "❌ Don't:", "Old style:"): its findings are intentional,
    as under a ``# BAD`` comment. Only a caption: a label ending in a colon, or a few words,
    or a last sentence that hands over with "Instead of this:" or "... should no longer do:"."""
    if len(text) > 400:  # a long paragraph can only hand over in its last sentence: read that
        tail = re.sub(r"[*_`~]", "", " ".join(text[-300:].split())).strip()
        last = re.split(r"(?<=[.!?])\s+", tail)[-1]
        if not (len(last) <= 80 and _HAND_OVER.search(last)):
            return False
    plain = re.sub(r"[*_`~]", "", " ".join(text.split())).strip()
    if _AVOID_BY.match(plain):
        return False
    if _LABELLED.match(plain) and len(plain) <= 200:
        return True  # "❌ BAD: Using the legacy session.query() API."
    last = re.split(r"(?<=[.!?])\s+", plain)[-1]
    if len(last) <= 80 and _HAND_OVER.search(last):
        return True
    if not plain or len(plain) > 60 or not (plain.endswith(":") or len(plain) <= 30):
        return False
    return _CAPTION.match(plain) is not None


def _closed(fence: Token) -> bool:
    """markdown-it's fence map covers the closing line only when there is one."""
    assert fence.map is not None
    lines = fence.content.split("\n")
    return fence.map[1] - fence.map[0] - 1 > len(lines) - (lines[-1] == "")


#: A tag alone on a line: an MDX component (``<CodeGroup>``, ``<Tab title="A">``), an agent
#: prompt's ``<example>``, HTML's ``<details>``. Not ``<pre>``, ``<script>``, ``<style>``,
#: ``<textarea>``, whose content is not Markdown, nor a comment (``<!-- ... -->``).
_TAG_LINE = re.compile(
    r"^\s*</?(?!(?:pre|script|style|textarea)\b)[A-Za-z][\w.:-]*(?:\s[^<>]*)?/?>\s*$", re.I
)
#: The words of a wrapper tag that holds the wrong way: an agent prompt's ``<bad_example>``,
#: ``<anti-pattern>``, ``<example type="incorrect">``.
_WRONG_WAY_WORDS = frozenset(
    {"bad", "wrong", "incorrect", "avoid", "antipattern", "dont", "donts", "never"}
    | {"deprecated", "legacy", "outdated"}
)
_OPEN_TAG = re.compile(r"^\s*<([A-Za-z][\w.:-]*)((?:\s[^<>]*)?)>\s*$")


def _wrong_way_regions(lines: list[str]) -> list[tuple[int, int]]:
    """(opening, closing) line indexes of the wrapper tags, each alone on its line, whose
    name or attributes say they hold the wrong way (``<bad_example>`` ... ``</bad_example>``):
    the examples inside are shown failing on purpose, as under a ``❌ Bad:`` caption."""
    regions: list[tuple[int, int]] = []
    open_at: dict[str, list[int]] = {}
    for i, line in enumerate(lines):
        if m := _OPEN_TAG.match(line):
            # ``bad_example`` -> bad, example; ``anti-pattern`` -> antipattern
            words = re.split(r"[^a-z]+", re.sub(r"[-']", "", f"{m[1]} {m[2]}".lower()))
            if _WRONG_WAY_WORDS.intersection(words):
                open_at.setdefault(m[1].lower(), []).append(i)
        elif (m := re.match(r"^\s*</([A-Za-z][\w.:-]*)\s*>\s*$", line)) and open_at.get(
            m[1].lower()
        ):
            regions.append((open_at[m[1].lower()].pop(), i))
    return regions


#: A fence's opening or closing line: (backticks or tildes, the rest).
_FENCE_LINE = re.compile(r"^\s*(`{3,}|~{3,})(.*)$")
#: A fence that opens on a list item's or a quote's line: ``1. ```bash``, ``> ```python``.
_ITEM_FENCE = re.compile(r"^\s*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+|>[ \t]?)+(`{3,}|~{3,})(.*)$")
#: MyST directives whose body is Markdown (an admonition, a dropdown, a tab).
_MYST_MARKDOWN = frozenset(
    {"note", "tip", "hint", "important", "warning", "caution", "attention", "danger", "error"}
    | {"seealso", "admonition", "dropdown", "tab-item", "tab-set", "card", "grid-item-card"}
    | {"margin", "sidebar", "topic", "versionadded", "versionchanged", "deprecated", "div"}
    | {"container", "only", "todo"}
)


def _markdown_lines(lines: list[str]) -> list[str]:
    """The lines markdown-it reads, one for one with the document's, with the wrappers that
    CommonMark would misread blanked: a tag on its own line (an HTML block to CommonMark,
    which swallows a fence that follows it before a blank line: ``<CodeGroup>``, an agent
    prompt's ``<example>``), and the fences of a MyST directive whose body is Markdown
    (``````{tip}``: code to CommonMark). Fenced code itself is never touched."""
    out = list(lines)
    i = 0
    after_tag = False  # the last non-blank line was a tag (blanked): MDX's <Tab> children
    while i < len(lines):
        m = _FENCE_LINE.match(lines[i]) or _ITEM_FENCE.match(lines[i])
        if m is None:
            if _TAG_LINE.match(lines[i]):
                out[i] = ""
                after_tag = True
            elif lines[i].strip():
                after_tag = False
            i += 1
            continue
        fence, rest = m.groups()
        close = _closing_fence(lines, i + 1, fence)
        indent = len(lines[i]) - len(lines[i].lstrip(" "))
        if after_tag and indent >= 4 and _FENCE_LINE.match(lines[i]):
            # ``<Tab>`` then a fence indented 4 (JSX children): a fence to the reader, an
            # indented code block to CommonMark. Dedented, each code line stays a suffix.
            for j in range(i, min(close + 1, len(lines))):
                line = lines[j]
                out[j] = line[min(indent, len(line) - len(line.lstrip(" "))) :]
        after_tag = False
        directive = _MYST_DIRECTIVE.match(rest.strip())
        if directive is None or directive.group(1) not in _MYST_MARKDOWN or fence[0] in rest:
            i = close + 1  # fenced code (or a fence never closed, to the end): as it is
            continue
        out[i] = ""
        if close < len(lines):
            out[close] = ""
        body = i + 1
        options = _myst_options(lines[body:close])
        out[body : body + options] = [""] * options
        i = body + options  # the body is Markdown: its own fences are found in turn
    return out


def _closing_fence(lines: list[str], start: int, fence: str) -> int:
    """The index of the line closing ``fence`` (as long or longer, same character, nothing
    after it), or ``len(lines)``."""
    for j in range(start, len(lines)):
        m = _FENCE_LINE.match(lines[j])
        if (
            m
            and m.group(1)[0] == fence[0]
            and len(m.group(1)) >= len(fence)
            and not m.group(2).strip()
        ):
            return j
    return len(lines)


#: MyST (Sphinx) directives whose body is code: ``{code-block} python``, ``{doctest}``. The
#: value is the language when the directive names none itself.
_MYST_CODE = {
    "code-block": "", "code": "", "sourcecode": "",
    "code-cell": "python",  # no language: the notebook's kernel, Python in MyST-NB's docs
    "testcode": "python", "testsetup": "python", "testcleanup": "python",
    "jupyter-execute": "python", "doctest": "pycon",
}  # fmt: skip
_MYST_DIRECTIVE = re.compile(r"^\{([\w-]+)\}\s*(\S*)")
#: A MyST directive's options at the top of its body: ``:linenos:``, ``:caption: x``.
_MYST_OPTION = re.compile(r"^\s*:[\w-]+:")


def myst_directive(info: str) -> tuple[str, str] | None:
    """(directive, language) for a MyST code directive's info string, else None."""
    m = _MYST_DIRECTIVE.match(info.strip())
    if m is None or m.group(1).lower() not in _MYST_CODE:
        return None
    directive = m.group(1).lower()
    return directive, (m.group(2) or _MYST_CODE[directive]).lower()


def parse_info(info: str) -> tuple[str, dict[str, str]]:
    """Language and settings of a fence info string: ``py {test="skip"}``, ``{.python .x a=1}``.

    Also ``python title="x.py"`` (extra words), Zenn's ``python:x.py``, Quarto's ``{python}``
    and MyST's ``{code-block} python`` and ``{doctest}``.
    """
    info = info.strip()
    settings = {m.group(1): m.group(2).strip("\"'") for m in _SETTING.finditer(info)}
    myst = myst_directive(info)
    if myst is not None:
        return myst[1], settings
    if info.startswith("{"):
        inner = info[1:].split("}", 1)[0]
        classes = re.findall(r"(?:^|\s)\.([\w+-]+)", inner)
        if classes:
            return classes[0].lower(), settings
        words = re.split(r"[\s,]+", inner.strip())  # R Markdown: ``{python, echo=FALSE}``
        bare = words[0] if words and re.fullmatch(r"[\w+-]+", words[0]) else ""
        return bare.lower(), settings
    first = re.split(r"[\s{,]", info, maxsplit=1)[0]
    lang, colon, name = first.partition(":")
    if colon and re.fullmatch(r"[\w+-]+", lang) and name:
        # Zenn's and Qiita's ``python:app/models.py``: the language, then the file's name.
        settings.setdefault("title", name)
        return lang.lower(), settings
    return first.lower(), settings


def _code_offset(doc_line: str, cline: str) -> int:
    """Where in ``doc_line`` markdown-it's code line ``cline`` starts.

    markdown-it writes a tab that a container only partly used as spaces; such a line keeps
    its tab instead (at most 3 columns can be left over), so the code stays a suffix.
    """
    lead = len(cline) - len(cline.lstrip(" "))
    for j in range(min(lead, 3) + 1):
        if doc_line.endswith(cline[j:]):
            off = len(doc_line) - len(cline) + j
            if j and off > 0 and doc_line[off - 1] == "\t":
                off -= 1
            return off
    return _prefix_len(doc_line)


def _make_block(
    path: str,
    index: int,
    tok: Token,
    lang: str,
    heading: str | None,
    lines: list[str],
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
    for k, cline in enumerate(content[: len(lines) - fence_idx - 1]):
        doc_line = lines[fence_idx + 1 + k]
        off = len(doc_line) - len(cline)
        if off < 0 or not doc_line.endswith(cline):
            off = _code_offset(doc_line, cline)
        code_lines.append(doc_line[off:])
        line_map.append(fence_idx + 2 + k)
        offsets.append(off)
        prefixes.append(doc_line[:off])
    options = _myst_options(code_lines) if myst_directive(tok.info) else 0
    title = parse_info(tok.info)[1].get("title") or _myst_title(code_lines[:options])
    del code_lines[:options], line_map[:options], offsets[:options], prefixes[:options]
    fence_text = lines[fence_idx]
    marker = fence_text.find(tok.markup) if tok.markup else -1
    # What continuation lines of the fence's container start with: list markers become spaces.
    fence_indent = _LIST_MARKER.sub(
        lambda m: " " * len(m.group()), fence_text[: marker if marker >= 0 else 0]
    )
    skip_reason = None
    nonblank = [c for c in code_lines if c.strip()]
    code_only = [c for c in nonblank if not c.lstrip().startswith("#")]  # "# Code omitted"
    if code_only and all(_INCLUDE.match(c) for c in code_only):
        skip_reason = "include-only block: its code lives in another file"
    elif any(_INCLUDE.match(c) for c in code_only):
        # `--8<-- "setup.py"` then code: what runs is that file's text and this, which only
        # the docs build puts together (as Python, the include line is `-(-8) < ...`).
        skip_reason = "includes another file's code (`--8<--`, `{! !}`) among its own"
    elif _configuration(code_only):
        skip_reason = "configuration (an INI or TOML [section]) in a Python fence, not Python"
    elif code_only and all(_HTTP_REQUEST.match(t) for t in code_only):
        # `POST /api/v1/auth/login` parses (a division) and would be checked as Python
        skip_reason = "HTTP requests (`POST /path`) in a Python fence, not Python"
    elif (needs := _required_python(parse_info(tok.info)[1].get("requires", ""))) is not None:
        skip_reason = (
            f"the document gates it on Python {needs} (`requires`); this is Python "
            f"{sys.version_info.major}.{sys.version_info.minor}"
        )
    expected: tuple[tuple[int, str], ...] = ()
    shown: tuple[tuple[int, str], ...] = ()
    printed: tuple[tuple[int, str], ...] = ()
    indent = ""
    head = _session_start(code_lines) if lang not in _CONSOLE_LANGUAGES else None
    if lang in _CONSOLE_LANGUAGES or (nonblank and _primary(_PROMPT.match(nonblank[0]))):
        expected = _expected_exceptions(code_lines)
        shown = _shown_outputs(code_lines)
        code_lines, line_map, offsets, prefixes = _strip_prompts(
            code_lines, line_map, offsets, prefixes
        )
    elif head is not None:  # a script, then a session that uses it
        expected = tuple((n + head, e) for n, e in _expected_exceptions(code_lines[head:]))
        shown = tuple((n + head, text) for n, text in _shown_outputs(code_lines[head:]))
        tail = _strip_prompts(code_lines[head:], line_map[head:], offsets[head:], prefixes[head:])
        code_lines = code_lines[:head] + tail[0]
        line_map = line_map[:head] + tail[1]
        offsets = offsets[:head] + tail[2]
        prefixes = prefixes[:head] + tail[3]
    else:
        indent = _dedent(code_lines, offsets, prefixes)
        expected, printed = script_claims(code_lines)
    start = fence_idx + 2 + options
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
        expected_exceptions=expected,
        shown_outputs=shown,
        printed_outputs=printed,
        code_indent=indent,
        title=title.strip(),
    )


def _ending_as_shown(block: Block, output: list[str]) -> Block:
    """The block, expecting the exception the fence right after it shows (an "Error:" output
    block under a script that ends in a ``ValidationError``), as a transcript does."""
    output = [text for text in output if text.strip()]
    name = _shown_exception_of(output) if output else None
    if name is None or block.session or block.expected_exceptions:
        return block
    name = name.rpartition(".")[2]
    expected = raised_last(block.code, name)
    return replace(block, raises_shown=name, expected_exceptions=expected) if expected else block


def raised_last(code: str, name: str) -> tuple[tuple[int, str], ...]:
    """``name`` expected of the code's last statement (as ``expected_exceptions`` says it):
    what the output shown after a script says it ends in."""
    try:
        body = parse_tree(code).body
    except (SyntaxError, ValueError):
        return ()
    return ((body[-1].end_lineno or body[-1].lineno, name),) if body else ()


def _dedent(code_lines: list[str], offsets: list[int], prefixes: list[str]) -> str:
    """Move an indent every code line shares (code pasted indented into its fence) from the
    code to the lines' prefixes, in place; returns it. Python would reject the code with it
    (unexpected indent), and the lines' own indentation is what the code means."""
    indents = [c[: len(c) - len(c.lstrip(" \t"))] for c in code_lines if c.strip()]
    lo, hi = (min(indents), max(indents)) if indents else ("", "")
    common = lo[
        : next((i for i, (a, b) in enumerate(zip(lo, hi, strict=False)) if a != b), len(lo))
    ]
    for i, line in enumerate(code_lines):
        cut = len(common) if line.startswith(common) else len(line) - len(line.lstrip(" \t"))
        cut = min(cut, len(common))
        code_lines[i], offsets[i], prefixes[i] = (
            line[cut:],
            offsets[i] + cut,
            prefixes[i] + line[:cut],
        )
    return common


def _myst_options(lines: list[str]) -> int:
    """How many lines at the top of a MyST directive's body are its options (``:caption: x``
    lines, or a YAML block between ``---`` lines) and the blank line that ends them: not code
    (``:emphasize-lines: 1`` is the line after it), and kept as they are."""
    count = 0
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        count = 0 if end is None else end + 1
    else:
        while count < len(lines) and _MYST_OPTION.match(lines[count]):
            count += 1
    if count and count < len(lines) and not lines[count].strip():
        count += 1
    return count


#: An INI/TOML section header (``[mypy]``, ``[tool.ruff]``) and a ``key = value`` line.
_SECTION = re.compile(r"^\[{1,2}[\w.\-\" ]+\]{1,2}\s*$")
_KEY_VALUE = re.compile(r"^[\w.\-]+\s*=\s*\S")


_HTTP_REQUEST = re.compile(r"^\s*(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\s+/\S*(?:\s|$)")


def _configuration(lines: list[str]) -> bool:
    """A mypy.ini or pyproject.toml excerpt labelled Python: it starts with a section header,
    every line is a header or a setting, and there is at least one setting. (As Python it
    would parse, ``[mypy]`` being a list, and mislead every check.)"""
    if not lines or not _SECTION.match(lines[0].strip()):
        return False
    kinds = [
        "section" if _SECTION.match(t.strip()) else "setting" if _KEY_VALUE.match(t) else "other"
        for t in lines
    ]
    return "setting" in kinds and "other" not in kinds


def _myst_title(options: list[str]) -> str:
    """The file a MyST directive's options name its code after (``:caption: sync.py``), the
    way a fence's ``title="sync.py"`` does; only a file name counts."""
    for line in options:
        m = re.match(r"\s*:(?:caption|filename|name):\s*(\S+\.pyi?)\s*$", line)
        if m:
            return m.group(1)
    return ""


def _prefix_len(vline: str) -> int:
    """Length of container markup (indent, ``>``) at the start of a line."""
    m = _CONTAINER_PREFIX.match(vline)
    return m.end() if m else 0


_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*)(?::|$)")
#: The short form many transcripts show instead of a whole traceback: ``KeyError: 'x'``.
_SHORT_TRACEBACK = re.compile(
    r"^([A-Za-z_][\w.]*(?:Error|Exception|Violation|Exit|Interrupt|Warning|Failure|Fault))(?::|$)"
)


#: The last line of a traceback shown alone, named by its module: ``idna.core.InvalidCodepoint:
#: Codepoint U+004B ...`` (a class whose name does not say it is an exception).
_QUALIFIED_EXCEPTION = re.compile(r"^((?:[a-z_]\w*\.)+[A-Z]\w*):\s")

_TRACEBACK = "Traceback (most recent call last)"


def _shown_exception(output: list[str]) -> str | None:
    """The exception a shown traceback ends in, read as doctest reads it: after the last
    ``Traceback`` header (a chained one shows the first exception, then the one raised), the
    first line at the margin that starts with a word; the lines after it are its message
    (Pydantic's names a field alone on a line)."""
    last = max(i for i, text in enumerate(output) if text.strip().startswith(_TRACEBACK))
    for text in output[last + 1 :]:
        if re.match(r"\w", text):
            m = _EXCEPTION_LINE.match(text.strip())
            return m.group(1) if m else None
    return None


def _prompted(lines: list[str]) -> list[bool]:
    """Which lines of a console session are code: ``>>>`` lines, and ``...`` lines that
    continue one. A ``...`` after output is output (doctest's elided traceback frames). A
    line without a prompt after a statement that is not finished (``f(a,`` then ``b)``) is
    code too: its author left the ``...`` out (see :attr:`Block.unprompted`)."""
    out: list[bool] = []
    continuing = False
    source: list[str] = []
    for line in lines:
        m = _PROMPT.match(line)
        if _MAGIC.match(line):
            code = False
        elif m is not None and _primary(m):
            source = [line[m.end() :]]
            code = True
        elif m is not None and continuing:
            source.append(line[m.end() :])
            code = True
        else:
            code = continuing and bool(line.strip()) and _unfinished(source, line)
            if code:
                source.append(line)
        out.append(code)
        continuing = code
    return out


def _unfinished(source: list[str], line: str) -> bool:
    """Whether ``line`` (no prompt) goes on with a session's statement so far: the statement
    has an open bracket or string, or is a compound one (``for s in rows:``) and the line is
    indented (its body: no output can come before the body)."""
    if source[0].rstrip().endswith(":"):
        return line[:1] in (" ", "\t")
    text = "\n".join(source)
    try:
        compile(text + "\n", "<session>", "single", dont_inherit=True)
    except SyntaxError as err:
        return bool(re.search(r"was never closed|unterminated triple-quoted", err.msg))
    except ValueError:
        return False
    return False


def _session_start(lines: list[str]) -> int | None:
    """Where a Python block that starts as a script turns into a console session (``>>> ``
    lines at the left margin, then their output): only when the whole is not Python as it
    stands, so a docstring holding a doctest stays what it is."""
    head = next((i for i, line in enumerate(lines) if line.startswith(">>> ")), None)
    if head is None or head == 0:
        return None
    try:
        parse_code("\n".join(lines))
    except (SyntaxError, ValueError):
        return head
    return None


def _statement_outputs(lines: list[str]) -> list[tuple[int, list[str]]]:
    """A console session's statements and what it shows after each: (code line of the
    statement's last line, its output lines without the prompt's indent), as doctest reads
    them. A statement that shows nothing is left out."""
    found: list[tuple[int, list[str]]] = []
    code_line, last, indent = 0, 0, 0  # ``last``: the statement's last line with code on it
    output: list[str] = []
    magic = False  # after an IPython magic: what shows is the magic's
    for line, code in zip(lines, _prompted(lines), strict=True):
        if code:
            if output:
                found.append((last, output))
                output = []
            code_line += 1
            m = _PROMPT.match(line)
            indent = len(m.group(1)) if m is not None and _primary(m) else indent
            last = code_line if m is None or line[m.end() :].strip() else last
            magic = False
        elif _MAGIC.match(line):
            if output:
                found.append((last, output))
                output = []
            magic = True
        elif code_line and not magic:
            cut = min(indent, len(line) - len(line.lstrip(" ")))
            shown = line[cut:]
            if _TIMING.match(shown):  # what a `%time` magic adds: the clock, not the code's
                continue
            if not output and _OUT_PROMPT.match(shown):  # IPython's `Out[3]: 42`
                shown = _OUT_PROMPT.sub("", shown, count=1)
                if not shown.strip():  # `Out[3]:` alone, the value on the lines below
                    continue
            output.append(shown)
    if output:
        found.append((last, output))
    return [(line, kept) for line, output in found if (kept := _without_trailing_notes(output))]


def _without_trailing_notes(output: list[str]) -> list[str]:
    """A statement's output without the comments after a blank line that follows it (``# zero
    filling`` heading the next statement): doctest ends an output at a blank line too."""
    blanks = [i for i, text in enumerate(output) if not text.strip()]
    for at in reversed(blanks):
        if all(not t.strip() or t.lstrip().startswith("#") for t in output[at:]):
            output = output[:at]
    return output


def _shown_exception_of(output: list[str]) -> str | None:
    """The exception class a statement's shown output says it raises: a traceback, or the
    short ``KeyError: 'x'`` form; None when the output is a value."""
    if output[0].strip().startswith(_TRACEBACK):
        return _shown_exception(output)
    if re.fullmatch(r"-{10,}", output[0].strip()) and len(output) > 1:  # IPython's
        m = _IPYTHON_TRACEBACK.match(output[1].strip())
        return m.group(1) if m else None
    if output[0].strip() in ("...", "…"):  # the traceback elided, header and all
        for text in output[1:]:
            m = _EXCEPTION_LINE.match(text) if re.match(r"\w", text) else None
            if m is not None and (m.group().endswith(":") or _SHORT_TRACEBACK.match(text)):
                return m.group(1)
        return None
    m = _SHORT_TRACEBACK.match(output[0]) or _QUALIFIED_EXCEPTION.match(output[0])
    return m.group(1) if m else None


def _expected_exceptions(lines: list[str]) -> tuple[tuple[int, str], ...]:
    """A console session's statements whose shown output is a traceback, as (code line of
    the statement's last line, the exception class shown last), as doctest reads them."""
    return tuple(
        (line, name.rpartition(".")[2])
        for line, output in _statement_outputs(lines)
        if (name := _shown_exception_of(output)) is not None
    )


def _shown_outputs(lines: list[str]) -> tuple[tuple[int, str], ...]:
    """A console session's statements that show a value or printed text, as (code line of
    the statement's last line, the text shown): what the run must print for them."""
    out: list[tuple[int, str]] = []
    for line, output in _statement_outputs(lines):
        text = "\n".join(output).rstrip()
        if text.strip() and _shown_exception_of(output) is None:
            out.append((line, text))
    return tuple(out)


def script_claims(
    lines: list[str],
) -> tuple[tuple[tuple[int, str], ...], tuple[tuple[int, str], ...]]:
    """What a script's own text says its statements do, read again whenever its code changes
    (a fix adds lines): the exceptions it shows them raising, and what it shows them print."""
    return _script_claims(tuple(lines))


@functools.lru_cache(maxsize=2048)
def _script_claims(
    text: tuple[str, ...],
) -> tuple[tuple[tuple[int, str], ...], tuple[tuple[int, str], ...]]:
    """script_claims, once per text: every fix trial of a run reads its blocks' claims again."""
    lines = list(text)
    quoted = any('"""' in t or "'''" in t for t in lines)
    named = any("#" in t and _NAMED_EXCEPTION.search(t, t.index("#")) for t in lines)
    if not (quoted or named):  # most scripts: nothing to read, no need to parse them
        return (), _printed_outputs(lines)
    try:
        tree = parse_tree("\n".join(lines) + "\n")  # (as the block's code: one parse)
    except (SyntaxError, ValueError):
        return (), _printed_outputs(lines)
    strings = list(strings_after(tree)) if quoted else []
    expected = _output_exceptions(strings) + (_comment_exceptions(tree, lines) if named else ())
    printed = tuple(sorted(_printed_outputs(lines) + _printed_strings(strings)))
    return expected, printed


def strings_after(tree: ast.Module) -> Iterator[tuple[ast.stmt, ast.Expr, bool]]:
    """Each statement followed directly by a string statement, pytest-examples' way to show
    a statement's output, with that string's statement and whether it is at the top level."""
    todo: collections.deque[ast.AST] = collections.deque([tree])
    while todo:  # statements, breadth first: no expression holds one (a walk of them all is slow)
        node = todo.popleft()
        for name in ("body", "orelse", "finalbody"):
            stmts = getattr(node, name, None)
            if not isinstance(stmts, list):
                continue
            for stmt, after in itertools.pairwise(stmts):
                if isinstance(after, ast.Expr) and _string_of(after).strip():
                    yield stmt, after, node is tree
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(node, name, None)
            if isinstance(children, list):
                todo.extend(c for c in children if isinstance(c, ast.AST))


def _string_of(stmt: ast.Expr) -> str:
    """The text of a string statement; empty for any other expression."""
    value = stmt.value
    return value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else ""


_PRINTED = re.compile(r"^\s*#>(?: (.*)|$)")


def _printed_outputs(lines: list[str]) -> tuple[tuple[int, str], ...]:
    """pytest-examples' ``#> text`` comments: what the ``print()`` above them prints, as
    (code line of the statement they follow, the text). Consecutive comments are one output."""
    out: list[tuple[int, str]] = []
    after, group = 0, []
    for number, line in enumerate(lines, 1):
        m = _PRINTED.match(line)
        if m and after:
            group.append(m.group(1) or "")
            continue
        if group:
            out.append((after, "\n".join(group)))
            group = []
        if line.strip():
            after = number
    if group:
        out.append((after, "\n".join(group)))
    return tuple(out)


def _printed_strings(
    strings: list[tuple[ast.stmt, ast.Expr, bool]],
) -> tuple[tuple[int, str], ...]:
    """pytest-examples' other way to show what a ``print()`` prints: a string statement right
    after it (``\"\"\"{'id': 1, ...}\"\"\"``, for long output), as (code line of the print's
    last line, the text). A traceback there is an expected exception, not output."""
    found: list[tuple[int, str]] = []
    for stmt, after, _top in strings:
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id == "print"
        ):
            shown = inspect.cleandoc(_string_of(after))
            if _shown_exception_of(shown.splitlines()) is None:
                found.append((stmt.end_lineno or stmt.lineno, shown))
    return tuple(found)


#: An exception class a comment names: ``# After: ValidationError (extra_forbidden)``.
#: An exception class a comment names, or Pydantic's own words for its ValidationError
#: (``# 1 validation error for User``), which name no class.
_NAMED_EXCEPTION = re.compile(
    r"\b([A-Z]\w*(?:Error|Exception|Exit|Interrupt))\b|\b\d+ (validation) errors? for [A-Za-z_]"
)


def _comment_exceptions(tree: ast.Module, lines: list[str]) -> tuple[tuple[int, str], ...]:
    """The simple statements a comment shows raising: on the statement's last line, or on the
    comment lines right after it, it names an exception class (``# raises KeyError``, ``#
    -> ValidationError``). As (code line of the statement's last line, the class); the run
    lets the statement raise that class, and only that class."""
    text = "\n".join(lines)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (SyntaxError, tokenize.TokenError):
        return ()
    comments = {t.start[0]: t.string for t in tokens if t.type == tokenize.COMMENT}
    found: list[tuple[int, str]] = []
    for stmt in tree.body:
        if hasattr(stmt, "body"):  # compound: which of its statements the comment means is unsure
            continue
        end = stmt.end_lineno or stmt.lineno
        said = [comments.get(end, "")]
        after = end
        while after < len(lines) and lines[after].lstrip().startswith("#"):
            said.append(lines[after])
            after += 1
        m = _NAMED_EXCEPTION.search(" ".join(said))
        if m is not None:
            found.append((end, m.group(1) or "ValidationError"))
    return tuple(found)


def _output_exceptions(
    strings: list[tuple[ast.stmt, ast.Expr, bool]],
) -> tuple[tuple[int, str], ...]:
    """The statements a script shows raising: pytest-examples' convention puts a statement's
    output in the string right after it, and when that string is a traceback (or its last
    line, ``ValidationError: 1 validation error ...``) the statement raises it on purpose, as
    in a console session: (code line of the statement's last line, the exception class). Top
    level only: the run lets a top-level statement raise it."""
    found: list[tuple[int, str]] = []
    for stmt, after, top in strings:
        shown = [t for t in _string_of(after).strip().splitlines() if t.strip()]
        name = _shown_exception_of(shown) if top else None
        if name is not None:
            found.append((stmt.end_lineno or stmt.lineno, name.rpartition(".")[2]))
    return tuple(found)


def _strip_prompts(
    lines: list[str], line_map: list[int], offsets: list[int], prefixes: list[str]
) -> tuple[list[str], list[int], list[int], list[str]]:
    """Keep only the code lines of a console session, without their prompts."""
    out: tuple[list[str], list[int], list[int], list[str]] = ([], [], [], [])
    rows = zip(lines, line_map, offsets, prefixes, _prompted(lines), strict=True)
    for line, ln, off, pre, code in rows:
        m = _PROMPT.match(line)
        if not code:
            continue
        cut = m.end() if m is not None else 0  # a continuation without its prompt
        out[0].append(line[cut:])
        out[1].append(ln)
        out[2].append(off + cut)
        out[3].append(pre + line[:cut])
    return out


def _doccmd(html: str) -> list[tuple[str, frozenset[str]]]:
    """doccmd's ``<!--- skip doccmd[all]: next -->`` and Sybil's ``<!-- skip: next -->``
    comments (unconditional ones): (next|start|end, stages)."""
    out = []
    for m in _DOCCMD_SKIP.finditer(html):
        stage = _DOCCMD_STAGES.get(m.group("what").strip().lower())
        if stage is not None:  # a skip for some other doccmd command is not about us
            out.append((m.group("when"), frozenset({stage})))
    out += [(m.group("when"), frozenset({"all"})) for m in _SYBIL_SKIP.finditer(html)]
    return out


def _required_python(spec: str) -> str | None:
    """pytest-examples' ``requires="3.12"``: the version, when newer than this Python."""
    m = re.fullmatch(r"\s*(\d+)\.(\d+)\s*", spec)
    if m is None:
        return None
    needed = (int(m.group(1)), int(m.group(2)))
    return f"{needed[0]}.{needed[1]}" if needed > sys.version_info[:2] else None


def _info_skips(settings: dict[str, str]) -> set[str]:
    """pytest-examples settings in the info string: ``py {test="skip" lint="skip"}``."""
    skip = set()
    if settings.get("test") == "skip":
        skip.add("smoke")
    if settings.get("lint") == "skip":
        skip.update({"lint", "types"})
    return skip


def _comment_directives(path: str, tok: Token, errors: list[str]) -> Directives:
    """What an HTML comment block says; a directive we do not understand becomes an error."""
    skip: set[str] = set()
    expect: Status | None = None
    standalone = False
    for when, stages in _doccmd(tok.content):
        if when == "next":
            skip |= stages
    for m in _DIRECTIVE.finditer(tok.content):
        line = tok.map[0] + 1 + tok.content.count("\n", 0, m.start("body")) if tok.map else 1
        try:
            s, e, st = parse_directive(m.group("body"))
        except DirectiveError as exc:
            errors.append(f"{path}:{line}: {exc}")
            continue
        skip |= s
        expect = e or expect
        standalone = standalone or st
    return Directives(skip=frozenset(skip), expect=expect, standalone=standalone)


def _merge(a: Directives, b: Directives) -> Directives:
    return Directives(
        skip=a.skip | b.skip, expect=b.expect or a.expect, standalone=a.standalone or b.standalone
    )


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
        elif key == "expect" and value in _EXPECTABLE:
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
