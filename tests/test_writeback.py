"""Write-back changes only the targeted blocks: examples and hypothesis properties."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exampletest.parse import parse_document, read_document, split_lines
from exampletest.writeback import WriteError, replace_blocks, write_document


def _outside(text: str, doc_blocks: list[tuple[int, int]]) -> list[str]:
    """Document lines outside the given (start, end) code line ranges."""
    lines = split_lines(text)
    inside = {i for s, e in doc_blocks for i in range(s, e + 1)}
    return [line for n, line in enumerate(lines, start=1) if n not in inside]


def test_list_item_block_keeps_indent_and_crlf() -> None:
    src = b"Intro\r\n\r\n1. Step\r\n\r\n   ```python\r\n   x = 1\r\n   ```\r\n\r\nEnd\r\n"
    doc = parse_document("d.md", src)
    out = replace_blocks(doc, {1: "import os\n\nx = os.sep\n"})
    assert out == (
        b"Intro\r\n\r\n1. Step\r\n\r\n   ```python\r\n   import os\r\n\r\n"
        b"   x = os.sep\r\n   ```\r\n\r\nEnd\r\n"
    )


def test_a_new_line_under_an_indented_fence_keeps_its_indentation() -> None:
    """A fence indented two spaces whose first lines are not: CommonMark takes up to two
    spaces off each line, so the class body's `x` is indented two in the code. A rewritten
    line gets the fence's two back, or the body would lose its indentation."""
    src = b"Text\n\n  ```python\nimport os\n\nclass A:\n    x: Optional[int] = None\n  ```\n"
    doc = parse_document("d.md", src)
    assert doc.blocks[0].code.endswith("class A:\n  x: Optional[int] = None\n")
    out = replace_blocks(doc, {1: "import os\n\nclass A:\n  x: int | None = None\n"})
    assert out == b"Text\n\n  ```python\nimport os\n\nclass A:\n    x: int | None = None\n  ```\n"
    assert parse_document("d.md", out).blocks[0].code.endswith("\n  x: int | None = None\n")


def test_tilde_fence_and_info_string_untouched() -> None:
    src = b"~~~~ {.python .annotate}\nold()\n~~~~\n"
    doc = parse_document("d.md", src)
    assert replace_blocks(doc, {1: "new()\n"}) == b"~~~~ {.python .annotate}\nnew()\n~~~~\n"


def test_blockquote_prefix_is_reapplied() -> None:
    src = b"> ```python\n> a = 1\n>\n> b = 2\n> ```\n"
    doc = parse_document("d.md", src)
    assert (
        replace_blocks(doc, {1: "a = 1\n\nc = 3\n"}) == b"> ```python\n> a = 1\n>\n> c = 3\n> ```\n"
    )


def test_code_indented_inside_its_fence_keeps_its_indent() -> None:
    src = b"```python\n    import os\n\n    x = 1\n```\n"
    doc = parse_document("d.md", src)
    assert doc.blocks[0].code == "import os\n\nx = 1\n"
    out = replace_blocks(doc, {1: "import os\n\nx = os.sep\ny = 2\n"})
    assert out == b"```python\n    import os\n\n    x = os.sep\n    y = 2\n```\n"


def test_a_console_session_is_rewritten_with_each_output_after_its_statement() -> None:
    """A changed line keeps its prompt, an added statement gets ``>>> `` (its continuation
    ``... ``), blank lines of the new code are left out, the shown output stays after the
    statement it belongs to, and every other byte (CRLF, the list's indent) is kept."""
    src = (
        "1. Try it:\r\n\r\n   ```pycon\r\n   >>> import json\r\n   >>> m = M(a=1)\r\n"
        "   >>> m.dict()\r\n   {'a': 1}\r\n   >>> def f(x):\r\n   ...     return x\r\n   ```\r\n"
    )
    doc = parse_document("d.md", src.encode())
    [block] = doc.blocks
    new = "import json\n\nfrom m import M\n\nm = M(a=1)\nm.model_dump()\ndef f(x):\n    return x\n"
    out = replace_blocks(doc, {1: new}).decode()
    assert out == src.replace("   >>> m = M", "   >>> from m import M\r\n   >>> m = M").replace(
        "m.dict()", "m.model_dump()"
    )
    again = parse_document("d.md", out.encode()).blocks[0]
    assert again.shown_outputs == ((4, "{'a': 1}"),) and again.code_line_of(7) == 4
    assert replace_blocks(doc, {1: block.code}) == src.encode()  # unchanged: byte for byte


def test_a_session_rewrite_that_would_move_an_output_is_refused() -> None:
    doc = parse_document("d.md", b"```pycon\n>>> x = 1\n>>> x\n1\n>>> y = 2\n```\n")
    with pytest.raises(WriteError, match="by hand"):
        replace_blocks(doc, {1: "x = 1\ny = 2\n"})  # `x`, whose output is shown, is gone
    with pytest.raises(WriteError, match="script followed by a console session"):
        mixed = parse_document("m.md", b"```python\nimport os\n>>> os.sep\n'/'\n```\n")
        replace_blocks(mixed, {1: "import os\nos.sep\n"})


def test_write_is_atomic_keeps_mode_and_refuses_changed_file(tmp_path: Path) -> None:
    path = tmp_path / "d.md"
    path.write_bytes(b"```python\nx = 1\n```\n")
    os.chmod(path, 0o640)
    doc = read_document(str(path))
    write_document(doc, replace_blocks(doc, {1: "x = 2\n"}), tmp_path)
    assert path.read_bytes() == b"```python\nx = 2\n```\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    with pytest.raises(WriteError, match="changed on disk"):
        write_document(doc, b"whatever", tmp_path)  # doc.raw is the old content
    assert [p.name for p in tmp_path.iterdir()] == ["d.md"]  # no temp file left behind


def test_symlink_out_of_project_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "real.md"
    target.write_bytes(b"```python\nx = 1\n```\n")
    project = tmp_path / "project"
    project.mkdir()
    link = project / "link.md"
    link.symlink_to(target)
    doc = read_document(str(link))
    with pytest.raises(WriteError, match="outside the project"):
        write_document(doc, b"", project)
    assert target.read_bytes() == b"```python\nx = 1\n```\n"


# --- properties -----------------------------------------------------------------------------

_code = st.lists(
    st.sampled_from(["x = 1", "def f():", "    return 2", "", "# comment", "print('```')"]),
    min_size=0,
    max_size=5,
)
_prose = st.sampled_from(
    [
        "Some text.",
        "# Heading",
        "",
        "- item",
        "  nested text",
        "\tTabbed",
        "!!! note",
        "    inside note",
        "> quote",
    ]
)


@st.composite
def documents(draw: st.DrawFn) -> str:
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    parts: list[str] = []
    for _ in range(draw(st.integers(1, 5))):
        parts.extend(draw(st.lists(_prose, max_size=3)))
        fence = draw(st.sampled_from(["```", "~~~", "````"]))
        container = draw(st.sampled_from(["", "   ", "> ", "    ", "- "]))
        cont = container if container != "- " else "  "
        lang = draw(st.sampled_from(["python", "py", "Python", "bash", "{.python .x}"]))
        body = draw(_code)
        parts.append("")
        parts.append(f"{container}{fence}{lang}")
        parts.extend(f"{cont}{line}" if line else cont.rstrip() for line in body)
        parts.append(f"{cont}{fence}")
        parts.append("")
    return nl.join(parts) + nl


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), st.data())
def test_unchanged_blocks_round_trip_and_others_are_untouched(
    text: str, data: st.DataObject
) -> None:
    raw = text.encode()
    doc = parse_document("d.md", raw)
    assert replace_blocks(doc, {b.index: b.code for b in doc.blocks}) == raw  # sessions too
    writable = [b for b in doc.blocks if not b.session]
    if not writable:
        return
    target = data.draw(st.sampled_from(writable))
    new_code = data.draw(st.sampled_from(["y = 2\n", "", "a = 1\nb = 2\nc = 3\n"]))
    out = replace_blocks(doc, {target.index: new_code}).decode()
    # Outside the targeted block's code lines, every line is byte-identical and in order.
    before = _outside(text, [(target.start_line, target.end_line)])
    new_doc = parse_document("d.md", out.encode())
    changed = next(b for b in new_doc.blocks if b.fence_line == target.fence_line)
    after = _outside(out, [(changed.start_line, changed.end_line)])
    assert before == after
    assert changed.code == new_code


def test_a_myst_block_keeps_its_options() -> None:
    text = "```{code-block} python\n:caption: Example\n:emphasize-lines: 1\nx = 1\n```\n"
    doc = parse_document("doc.md", text.encode())
    assert replace_blocks(doc, {1: "x = 2\n"}) == text.replace("x = 1", "x = 2").encode()


def test_highlighted_lines_follow_the_code_a_fix_moves() -> None:
    """A fix that removes or adds a line renumbers the lines the fence highlights, so the
    highlight stays on the line it was on; a line the fix removed is no longer highlighted."""
    old = (
        "from typing import Optional\nfrom pydantic import BaseModel\n\n\nclass User(BaseModel):\n"
    )
    old += "    nickname: Optional[str] = None\n"
    new = "from pydantic import BaseModel\n\n\nclass User(BaseModel):\n"
    new += "    nickname: str | None = None\n"
    for fence, moved in [
        ('```python hl_lines="6"', '```python hl_lines="5"'),
        ("```python hl_lines='1 5-6'", "```python hl_lines='4-5'"),
        ('```python title="a.py" {2,6}', '```python title="a.py" {1,5}'),
        ('```python linenums="1" hl_lines="2"', '```python linenums="1" hl_lines="1"'),
        ('```python hl_lines="6 9"', '```python hl_lines="5 9"'),  # 9: the document's slip
        ('```python hl_lines="9"', '```python hl_lines="9"'),
    ]:
        doc = parse_document("d.md", f"Intro\n\n{fence}\n{old}```\n".encode())
        assert replace_blocks(doc, {1: new}) == f"Intro\n\n{moved}\n{new}```\n".encode()
    myst = "```{code-block} python\n:caption: user.py\n:emphasize-lines: 1, 6\n\n" + old + "```\n"
    doc = parse_document("d.md", myst.encode())
    out = replace_blocks(doc, {1: new}).decode()
    assert ":emphasize-lines: 5\n" in out and ":caption: user.py\n" in out
    # A highlighted line the fix rewrites, with imports put above it, stays highlighted.
    code = "async def f(v: str = Depends(get_value)):\n    return v\n"
    fixed = (
        "from typing import Annotated\n\n\nasync def f(v: Annotated[str, Depends(get_value)]):\n"
    )
    doc = parse_document("d.md", f'```python hl_lines="1"\n{code}```\n'.encode())
    out = replace_blocks(doc, {1: fixed + "    return v\n"}).decode()
    assert out.startswith('```python hl_lines="4"\n')
    # Unmoved highlights keep their bytes.
    same = '```python hl_lines="1  2"\nx = 1\ny = 2\n```\n'
    doc = parse_document("d.md", same.encode())
    assert replace_blocks(doc, {1: "x = 1\ny = 3\n"}) == same.replace("y = 2", "y = 3").encode()


def test_lines_a_fix_leaves_alone_keep_their_bytes() -> None:
    """Whitespace-only lines inside a list item's block (the code's own indentation after the
    list's) are not re-indented because another line of the block changed."""
    text = (
        "* item:\n\n  ```python\n  from typing import Dict\n\n  x: Dict[str, int] = {}\n"
        "      \n  def f() -> None:\n      x['a'] = 1\n      \n      x['a'] += 1\n  ```\n"
    )
    doc = parse_document("d.md", text.encode())
    [block] = doc.blocks
    new = block.code.replace("from typing import Dict\n\n", "").replace("Dict[", "dict[")
    out = replace_blocks(doc, {1: new}).decode()
    assert out == text.replace("  from typing import Dict\n\n", "").replace("Dict[", "dict[")


def test_a_diff_of_a_document_without_a_final_newline_is_a_patch() -> None:
    from exampletest.fix.diff import document_diff

    doc = parse_document("d.md", b"```python\nfrom typing import List\nx: List[int] = []\n```")
    diff = document_diff(doc, {1: "x: list[int] = []\n"})
    assert diff.endswith(" ```\n\\ No newline at end of file\n")
