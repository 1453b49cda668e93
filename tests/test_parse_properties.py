"""Properties of the parser on random Markdown built from pieces.

Two properties: (1) on any document (tabs, CRLF, junk lines) extraction does not crash and
every code line maps back exactly: ``line[col_offsets[i]:] == code`` and
``prefixes[i] + code == line``; (2) on documents whose Python blocks are known by
construction (nested in lists, quotes, admonitions and tabs), exactly those blocks come out
with exactly that code.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_parse import assert_round_trip

from exampletest.parse import parse_document

PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)
NAME = st.sampled_from(["x", "y", "total", "app", "db", "_n"])
PYTHON_INFOS = ["python", "Python", "py", "python3", "{.python .annotate}", 'py {test="skip"}',
                'python title="a.py"']  # fmt: skip
OTHER_INFOS = ["", "js", "text", "bash", "markdown", "{.yaml}"]


@dataclass
class Piece:
    """Lines of Markdown and the code of the Python blocks they hold, in order."""

    lines: list[str]
    codes: list[list[str]] = field(default_factory=list)


@st.composite
def code_line(draw: st.DrawFn) -> str:
    indent = " " * draw(st.sampled_from([0, 0, 0, 2, 4, 8]))
    body = draw(
        st.one_of(
            st.builds(lambda n, v: f"{n} = {v}", NAME, st.integers(0, 99)),
            st.builds(lambda n: f"print({n})", NAME),
            st.builds(lambda n: f"def {n}():", NAME),
            st.just('s = """'),
            st.just("``` inside a string"),
            st.just("# comment"),
            st.just(""),
        )
    )
    return indent + body if body else ""


@st.composite
def fence(draw: st.DrawFn) -> Piece:
    char = draw(st.sampled_from("`~"))
    marker = char * draw(st.integers(3, 5))
    python = draw(st.booleans())
    info = draw(st.sampled_from(PYTHON_INFOS if python else OTHER_INFOS))
    if draw(st.booleans()) and python:
        # A console session: only the statements are code.
        stmts = draw(
            st.lists(st.builds(lambda n, v: f"{n} = {v}", NAME, st.integers()), max_size=4)
        )
        body: list[str] = []
        for s in stmts:
            body += [f">>> {s}", f">>> {s.split()[0]}", "42"]
        expected = [line for s in stmts for line in (s, s.split()[0])]
        info = draw(st.sampled_from(["pycon", "python"])) if stmts else "pycon"
    else:
        body = draw(st.lists(code_line(), max_size=6))
        # An indent every line shares is the fence's, not the code's.
        expected = textwrap.dedent("\n".join(body)).split("\n") if body else body
    lines = [marker + info, *body, marker]
    return Piece(lines, [expected] if python else [])


PARAGRAPH = st.builds(
    lambda words: Piece([" ".join(words)]), st.lists(WORD, min_size=1, max_size=6)
)
HEADING = st.one_of(
    st.builds(lambda n, w: Piece(["#" * n + " " + w]), st.integers(1, 6), WORD),
    st.builds(lambda w, u: Piece([w, u * 3]), WORD, st.sampled_from("=-")),
)


def _join(children: list[Piece]) -> Piece:
    lines: list[str] = []
    codes: list[list[str]] = []
    for child in children:
        if lines:
            lines.append("")
        lines += child.lines
        codes += child.codes
    return Piece(lines, codes)


def _indent(lines: list[str], first: str, rest: str) -> list[str]:
    return [(first if i == 0 else rest) + line if line else "" for i, line in enumerate(lines)]


@st.composite
def list_item(draw: st.DrawFn, inner: st.SearchStrategy[Piece]) -> Piece:
    marker = draw(st.sampled_from(["- ", "* ", "+ ", "1. ", "10) "]))
    body = _join(draw(st.lists(inner, min_size=1, max_size=3)))
    pad = " " * len(marker)
    if draw(st.booleans()):  # text on the marker line, children below it
        lines = [marker + "item", "", *_indent(body.lines, pad, pad)]
    else:
        lines = _indent(body.lines, marker, pad)
    return Piece(lines, body.codes)


@st.composite
def quote(draw: st.DrawFn, inner: st.SearchStrategy[Piece]) -> Piece:
    body = _join(draw(st.lists(inner, min_size=1, max_size=3)))
    # ``>`` eats one following space, so ``>`` alone only before text that starts unindented.
    bare = draw(st.booleans())
    lines = [(">" if bare and line[:1] not in " \t" else "> ") + line if line else ">"
             for line in body.lines]  # fmt: skip
    return Piece(lines, body.codes)


@st.composite
def admonition(draw: st.DrawFn, inner: st.SearchStrategy[Piece]) -> Piece:
    head = draw(st.sampled_from(['!!! note', '!!!note', '??? tip', '???+ tip "Title"',
                                 '=== "Tab"', '!!! warning "A title"']))  # fmt: skip
    body = _join(draw(st.lists(inner, min_size=1, max_size=3)))
    gap = [""] if draw(st.booleans()) else []
    return Piece([head, *gap, *_indent(body.lines, "    ", "    ")], body.codes)


def documents(depth: int = 3) -> st.SearchStrategy[Piece]:
    leaves = st.one_of(PARAGRAPH, HEADING, fence())
    if depth == 0:
        return leaves
    inner = documents(depth - 1)
    return st.one_of(leaves, leaves, list_item(inner), quote(inner), admonition(inner))


@st.composite
def document(draw: st.DrawFn) -> Piece:
    doc = _join(draw(st.lists(documents(), min_size=1, max_size=6)))
    if draw(st.booleans()):
        doc.lines = ["---", "title: x", "```python", "front = 1", "```", "---", *doc.lines]
    return doc


def _encode(data: st.DataObject, lines: list[str]) -> bytes:
    mode = data.draw(st.sampled_from(["\n", "\r\n", "mixed"]))
    out = []
    end = ""
    for line in lines:
        after_cr = end == "\r" and not line  # "\r" + "\n" would be one CRLF ending
        end = data.draw(st.sampled_from(["\n", "\r\n", "\r"])) if mode == "mixed" else mode
        if after_cr and end == "\n":
            end = "\r\n"
        out.append(line + end)
    bom = "\ufeff" if data.draw(st.booleans()) else ""
    return (bom + "".join(out)).encode()


@PROPERTY_SETTINGS
@given(st.data())
def test_known_blocks_come_out_exactly(data: st.DataObject) -> None:
    piece = data.draw(document())
    raw = _encode(data, piece.lines)
    doc = parse_document("t.md", raw)
    assert doc.errors == ()
    got = [b.code.split("\n")[:-1] if b.code else [] for b in doc.blocks]
    assert got == piece.codes, raw.decode()
    assert_round_trip(doc)


JUNK_LINE = st.one_of(
    st.text(alphabet=" \t>-*+1.!?=`~#\"'{}:ab", max_size=14),
    st.sampled_from(["```python", "~~~py", "```", "~~~", "!!! note", "    ```python",
                     "\t```py", "- ```python", "> ```pycon", ">>> x = 1", "... y", "<!-- x -->",
                     "<!-- exampletest: skip -->", "<!-- exampletest: bogus -->", "---"]),
)  # fmt: skip


@st.composite
def tabbed(draw: st.DrawFn) -> list[str]:
    """A structured document with some leading spaces turned into tabs, plus junk lines."""
    lines = list(draw(document()).lines)
    for i, line in enumerate(lines):
        choice = draw(st.integers(0, 9))
        if choice == 0 and line.startswith("    "):
            lines[i] = "\t" + line[4:]
        elif choice == 1 and line.startswith("  "):
            lines[i] = " \t" + line[2:]
        elif choice == 2:
            lines[i] = draw(JUNK_LINE)
    return lines


@PROPERTY_SETTINGS
@given(st.data())
def test_any_document_maps_back_exactly(data: st.DataObject) -> None:
    lines = data.draw(st.one_of(tabbed(), st.lists(JUNK_LINE, max_size=30)))
    doc = parse_document("t.md", _encode(data, lines))
    assert_round_trip(doc)
    assert all(e.startswith("t.md:") and "\n" not in e for e in doc.errors)


MARKDOWNISH = st.text(alphabet=" \t\r\n>-*+1.!?=`~#\"'{}:<>/\ufeffpya\x0c\u2028", max_size=300)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=300), MARKDOWNISH.map(lambda t: t.encode())))
def test_random_input_never_crashes(raw: bytes) -> None:
    doc = parse_document("t.md", raw)
    if doc.blocks:
        assert_round_trip(doc)
    assert all(e.startswith("t.md") and "\n" not in e for e in doc.errors)
