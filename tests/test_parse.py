"""Extraction: which fences are Python blocks, their code, and the map back to the document."""

from __future__ import annotations

from pathlib import Path

import pytest

from exampletest.model import Block, Document, Status
from exampletest.parse import (
    PYTHON_LANGUAGES,
    parse_directive,
    parse_document,
    parse_info,
    read_document,
    split_lines,
)

SHIPPED_DOC = Path(__file__).resolve().parent.parent / "docs/agents/backend-engineer-python.md"


def assert_round_trip(doc: Document) -> None:
    """Every code line is the exact tail of its document line, after its exact prefix."""
    lines = split_lines(doc.raw.decode("utf-8-sig"))
    for block in doc.blocks:
        code = block.code.split("\n")[:-1] if block.code else []
        assert len(code) == len(block.line_map) == len(block.col_offsets) == len(block.prefixes)
        assert list(block.line_map) == sorted(set(block.line_map))
        assert block.fence_line < block.start_line <= block.end_line + 1
        assert lines[block.fence_line - 1][len(block.fence_indent) :][:3] in ("```", "~~~")
        for i, text in enumerate(code):
            assert block.start_line <= block.line_map[i] <= block.end_line
            line = lines[block.line_map[i] - 1]
            assert line[block.col_offsets[i] :] == text, (i, line, block)
            assert block.prefixes[i] + text == line


def parse(text: str | bytes) -> Document:
    doc = parse_document("doc.md", text.encode() if isinstance(text, str) else text)
    assert_round_trip(doc)
    return doc


def only(text: str) -> Block:
    doc = parse(text)
    assert len(doc.blocks) == 1, doc.blocks
    return doc.blocks[0]


def codes(text: str) -> list[str]:
    return [b.code for b in parse(text).blocks]


# --- info strings ----------------------------------------------------------------------------


def test_a_tab_or_admonition_titled_like_a_caption_introduces_the_wrong_way() -> None:
    doc = parse_document(
        "d.md",
        b'=== "Before"\n\n    ```python\n    x = 1\n    ```\n\n'
        b'=== "After"\n\n    ```python\n    x = 2\n    ```\n\n'
        b'!!! warning "Deprecated"\n\n    ```python\n    x = 3\n    ```\n',
    )
    assert [b.directives.expect is not None for b in doc.blocks] == [True, False, True]


@pytest.mark.parametrize(
    ("info", "language"),
    [
        ("python", "python"),
        ("Python", "python"),
        ("PY", "py"),
        ("python3", "python3"),
        ("pycon", "pycon"),
        ('{.python .annotate hl_lines="3"}', "python"),
        ("{ .Python }", "python"),
        ('python title="x.py"', "python"),
        ("python hl_lines='1 2'", "python"),
        ('py {test="skip" lint="skip"}', "py"),
        ("python{title=x}", "python"),
        ("{python}", "python"),  # Quarto
        ("python:app/models.py", "python"),  # Zenn, Qiita
        ("ipython3", "ipython3"),
        ("{python, echo=FALSE}", "python"),  # R Markdown
    ],
)
def test_python_info_strings(info: str, language: str) -> None:
    assert parse_info(info)[0] == language
    assert language in PYTHON_LANGUAGES
    block = only(f"```{info}\n>>> x = 1\n```\n")  # a session: any Python block may hold one
    assert (block.language, block.code, block.info) == (language, "x = 1\n", info.strip())


@pytest.mark.parametrize("info", ["", "js", "text", "pythonic", "{.yaml}", "bash python", "{a=1}"])
def test_other_info_strings_are_not_python(info: str) -> None:
    assert parse(f"```{info}\nx = 1\n```\n").blocks == ()


def test_info_settings() -> None:
    assert parse_info('{.python .annotate hl_lines="3"}') == ("python", {"hl_lines": "3"})
    assert parse_info("python:app/models.py") == ("python", {"title": "app/models.py"})
    assert only("```python:app/models.py\nx = 1\n```\n").title == "app/models.py"
    assert parse_info('py {test="skip" lint="skip"}') == ("py", {"test": "skip", "lint": "skip"})


def test_a_heading_that_names_a_file_titles_the_first_block_under_it() -> None:
    """`## `app/core/config.py`` over a block is the file the block shows, as a first line
    `# app/core/config.py` says; the next block under the same heading is another example,
    and a heading that is no file name titles nothing."""
    doc = parse(
        "## `app/core/config.py`\n\n```python\nx = 1\n```\n\nUsage:\n\n```python\ny = 2\n```\n"
        "\n### 2. File: models.py (new)\n\n```python\nz = 3\n```\n"
        "\n## Configuring app.py files\n\n```python\nw = 4\n```\n"
        "\n### 3. `base.py` - the base models\n\n```python\nv = 5\n```\n"
    )
    titles = [b.title for b in doc.blocks]
    assert titles == ["app/core/config.py", "", "models.py", "", "base.py"]


def test_pytest_examples_settings_become_directives() -> None:
    both, test, lint = parse(
        '```py {test="skip" lint="skip"}\na\n```\n\n'
        '```py {test="skip"}\nb\n```\n\n'
        '```py {lint="skip"}\nc\n```\n'
    ).blocks
    assert both.directives.skip == {"smoke", "lint", "types"}
    assert test.directives.skip == {"smoke"}
    assert lint.directives.skip == {"lint", "types"}


# --- fences ----------------------------------------------------------------------------------


def test_backtick_and_tilde_fences() -> None:
    assert codes("```python\na = 1\n```\n\n~~~python\nb = 2\n~~~\n\n~~~~py\nc\n~~~~\n") == [
        "a = 1\n",
        "b = 2\n",
        "c\n",
    ]


def test_four_backtick_wrapper_inner_fence_is_not_a_block() -> None:
    doc = parse("````markdown\n```python\ninner = 1\n```\n````\n\n```python\nouter = 2\n```\n")
    assert [b.code for b in doc.blocks] == ["outer = 2\n"]
    assert doc.blocks[0].fence_line == 7


def test_four_backtick_python_block_holds_a_fence_in_a_string() -> None:
    block = only('````python\nREADME = """\n```python\nx = 1\n```\n"""\n````\n')
    assert block.code == 'README = """\n```python\nx = 1\n```\n"""\n'
    assert (block.start_line, block.end_line) == (2, 6)


def test_indented_fence_in_a_string_does_not_close() -> None:
    # Four spaces of indentation cannot close a fence (CommonMark), so the string survives.
    block = only('```python\ndef f():\n    return """\n    ```\n    """\n```\n')
    assert block.code.splitlines()[2] == "    ```"
    assert block.end_line == 5


def test_closing_fence_at_column_zero_closes_even_inside_a_string() -> None:
    # CommonMark: a bare ``` line closes the fence, whatever Python thinks of it.
    doc = parse('```python\ns = """\n```\n"""\n```\n')
    assert doc.blocks[0].code == 's = """\n'


def test_unterminated_fence_runs_to_end_and_is_reported() -> None:
    doc = parse("# T\n\n```python\nx = 1\n\ny = 2\n")
    (block,) = doc.blocks
    assert block.code == "x = 1\n\ny = 2\n"
    assert block.end_line == 6
    assert doc.errors == (
        "doc.md:3: code fence '```' is never closed; it runs to the end of the document "
        "(or of its list/quote)",
    )


def test_empty_fence() -> None:
    doc = parse("```python\n```\n")
    (block,) = doc.blocks
    assert (block.code, block.line_map, block.start_line, block.end_line) == ("", (), 2, 1)
    assert doc.errors == ()


# --- containers ------------------------------------------------------------------------------


def test_fence_in_list_item() -> None:
    block = only("- item\n\n  ```python\n  def f():\n      return 1\n  ```\n")
    assert block.code == "def f():\n    return 1\n"
    assert block.col_offsets == (2, 2)
    assert block.fence_indent == "  "


def test_fence_on_list_marker_line() -> None:
    block = only("1. ```python\n   x = 1\n   ```\n")
    assert (block.code, block.col_offsets, block.fence_indent) == ("x = 1\n", (3,), "   ")


def test_fence_in_nested_lists() -> None:
    text = "- a\n  - b\n    * c\n\n      ```python\n      if x:\n          y()\n      ```\n"
    block = only(text)
    assert block.code == "if x:\n    y()\n"
    assert block.line_map == (6, 7)
    assert block.col_offsets == (6, 6)


def test_fence_in_block_quotes() -> None:
    doc = parse(
        "> ```python\n> a = 1\n>   b = 2\n> ```\n\n"
        "> > ```python\n> > c = 3\n> > ```\n\n"
        ">```python\n>d = 4\n>```\n\n"
        "> - item\n>\n>   ```python\n>   e = 5\n>   ```\n"
    )
    assert [b.code for b in doc.blocks] == ["a = 1\n  b = 2\n", "c = 3\n", "d = 4\n", "e = 5\n"]
    assert [b.prefixes[0] for b in doc.blocks] == ["> ", "> > ", ">", ">   "]


def test_fence_indented_less_than_its_code_and_fence_indent_stripping() -> None:
    block = only("  ```python\n  x = 1\n    y = 2\n z = 3\n  ```\n")
    assert block.code == "x = 1\n  y = 2\nz = 3\n"
    assert block.col_offsets == (2, 2, 1)


def test_tabs_in_indentation() -> None:
    doc = parse(
        "-\titem\n\n\t```python\n\tdef f():\n\t\treturn 1\n\t```\n\n>\t```py\n>\tx\n>\t```\n"
    )
    assert [b.code for b in doc.blocks] == ["def f():\n\treturn 1\n", "x\n"]


def test_partly_used_tab_stays_in_the_code() -> None:
    # The list takes 2 of the tab's 4 columns; markdown-it would write 2 spaces, we keep the
    # tab so that the code line is still the exact tail of the document line.
    block = only("- a\n\n  ```py\n\tx = 1\n  ```\n")
    assert block.prefixes[0] + block.code == "\tx = 1\n"  # the exact tail of the line
    # The tab indents every code line: the fence's, not the code's (Python would reject it).
    assert (block.code, block.col_offsets, block.code_indent) == ("x = 1\n", (1,), "\t")


# --- MkDocs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "marker", ["!!! note", "!!!note", "??? tip", '???+ tip "Title"', '=== "Tab"', '!!! note ""']
)
def test_admonitions_and_tabs(marker: str) -> None:
    block = only(f"{marker}\n    Some text.\n\n    ```python\n    x = 1\n    ```\n")
    assert (block.code, block.line_map, block.col_offsets) == ("x = 1\n", (5,), (4,))
    assert block.fence_indent == "    "


def test_content_tabs_one_block_each() -> None:
    tab = '=== "{}"\n\n    ```python\n    {} = 1\n    ```\n'
    text = tab.format("Sync", "a") + "\n" + tab.format("Async", "b")
    assert codes(text) == ["a = 1\n", "b = 1\n"]


def test_nested_admonitions() -> None:
    text = (
        "!!! warning\n    !!! note\n        ```python\n        inner = 1\n        ```\n\n"
        "    ```python\n    outer = 2\n    ```\n"
    )
    doc = parse(text)
    assert [b.code for b in doc.blocks] == ["inner = 1\n", "outer = 2\n"]
    assert [b.col_offsets[0] for b in doc.blocks] == [8, 4]


def test_admonition_in_list_item_and_quote() -> None:
    doc = parse(
        "- item\n\n    !!! note\n        ```python\n        a = 1\n        ```\n\n"
        "- !!! tip\n      ```python\n      b = 2\n      ```\n\n"
        "> !!! note\n>     ```python\n>     c = 3\n>     ```\n"
    )
    assert [b.code for b in doc.blocks] == ["a = 1\n", "b = 2\n", "c = 3\n"]


def test_admonition_body_keeps_blank_lines_and_ends_at_dedent() -> None:
    text = (
        "!!! note\n    ```python\n    def f(): pass\n\n\n    def g(): pass\n    ```\n"
        "after\n\n```python\ntop = 1\n```\n"
    )
    assert codes(text) == ["def f(): pass\n\n\ndef g(): pass\n", "top = 1\n"]


def test_admonition_syntax_inside_a_fence_is_code() -> None:
    assert codes("```python\n!!! note\n    x = 1\n```\n") == ["!!! note\n    x = 1\n"]


def test_four_space_indent_without_admonition_is_indented_code_not_a_block() -> None:
    assert codes("Text\n\n    ```python\n    x = 1\n    ```\n") == []


# --- console sessions ------------------------------------------------------------------------


def test_pycon_prompts_stripped_output_dropped() -> None:
    text = (
        "```pycon\n>>> x = 1\n>>> for i in range(2):\n...     print(i)\n...\n0\n1\n>>> x\n1\n```\n"
    )
    block = only(text)
    assert block.code == "x = 1\nfor i in range(2):\n    print(i)\n\nx\n"
    assert block.line_map == (2, 3, 4, 5, 8)
    assert block.col_offsets == (4, 4, 4, 3, 4)
    assert block.prefixes[0] == ">>> "


def test_python_block_that_is_a_session() -> None:
    block = only("- ```python\n  >>> print('hi')\n  hi\n  ```\n")
    assert (block.code, block.line_map, block.col_offsets) == ("print('hi')\n", (2,), (6,))


def test_a_session_may_show_an_exception_in_its_short_form() -> None:
    block = only("```pycon\n>>> {}['x']\nKeyError: 'x'\n>>> print('Note: hi')\nNote: hi\n```\n")
    assert block.expected_exceptions == ((1, "KeyError"),)


def test_a_script_may_show_an_exception_as_the_output_string_after_a_statement() -> None:
    block = only(
        '```python\nfrom x import f\n\nprint(\n    f(1)\n)\n"""\n'
        "pydantic_core._pydantic_core.ValidationError: 1 validation error\n"
        '  Input should be a valid boolean\n"""\nprint(f(2))\n"""\n2\n"""\n'
        "g()\n'''\nTraceback (most recent call last):\n  ...\nKeyError: 'k'\n'''\n```\n"
    )
    assert block.expected_exceptions == ((5, "ValidationError"), (14, "KeyError"))
    plain = only('```python\n"""A module docstring: KeyError: no statement before it."""\n```\n')
    assert plain.expected_exceptions == ()


def test_a_script_then_a_session_keeps_the_script_and_the_sessions_code() -> None:
    block = only(
        "```python\nclass C:\n    x = 1\n\n>>> C.x\n1\n>>> int('z')\n"
        "Traceback (most recent call last):\nValueError: no\n```\n"
    )
    assert block.code == "class C:\n    x = 1\n\nC.x\nint('z')\n"
    assert block.line_map == (2, 3, 4, 5, 7)
    assert block.col_offsets == (0, 0, 0, 4, 4)
    assert block.expected_exceptions == ((5, "ValueError"),)


def test_a_doctest_in_a_docstring_at_the_margin_stays_python() -> None:
    block = only('```python\ndef f():\n    """\n>>> f()\n1\n    """\n```\n')
    assert block.code == 'def f():\n    """\n>>> f()\n1\n    """\n'


# --- front matter, includes, headings --------------------------------------------------------


def test_front_matter_is_skipped_with_line_numbers_kept() -> None:
    doc = parse(
        "---\ntitle: x\nexample: |\n  ```python\n  fm = 1\n  ```\n---\n\n```python\nx = 1\n```\n"
    )
    assert [(b.code, b.fence_line) for b in doc.blocks] == [("x = 1\n", 9)]
    toml = parse("+++\ntitle = 'x'\n```python\nfm\n```\n+++\n```python\ny\n```\n")
    assert [b.code for b in toml.blocks] == ["y\n"]


def test_rule_at_top_without_closing_is_not_front_matter() -> None:
    assert codes("---\n\n```python\nx = 1\n```\n") == ["x = 1\n"]


@pytest.mark.parametrize(
    "line", ["{!../../docs_src/x.py!}", "{* ../../docs_src/x.py hl[3] *}", '--8<-- "file.py"']
)
def test_include_only_blocks_are_marked(line: str) -> None:
    block = only(f"```python\n{line}\n```\n")
    assert block.skip_reason is not None and "include" in block.skip_reason
    # Its own code beside another file's: only the docs build puts them together (as Python
    # the include line is a SyntaxError or `-(-8) < ...`, a false "broken").
    mixed = only(f"```python\n{line}\nx = 1\n```\n").skip_reason
    assert mixed is not None and "includes another file's code" in mixed
    with_comments = only(f"```Python\n{line}\n\n# Code below omitted 👇\n```\n")
    assert with_comments.skip_reason is not None


def test_nearest_heading_atx_and_setext() -> None:
    doc = parse(
        "```python\na\n```\n\n# One\n\n```python\nb\n```\n\n"
        "Two  words\n---------\n\n```python\nc\n```\n\n"
        "## `Three` *x* ##\n\n> # In a quote\n\n```python\nd\n```\n"
    )
    assert [b.heading for b in doc.blocks] == [None, "One", "Two words", "In a quote"]


def test_hash_in_code_is_not_a_heading() -> None:
    doc = parse("# Real\n\n```python\n# comment\n```\n\n```python\nx\n```\n")
    assert [b.heading for b in doc.blocks] == ["Real", "Real"]


# --- directives ------------------------------------------------------------------------------


def test_directives() -> None:
    doc = parse(
        "<!-- exampletest: skip -->\n```python\na\n```\n\n"
        "<!-- exampletest: skip=smoke,types -->\n```python\nb\n```\n\n"
        "<!-- exampletest: expect=broken -->\n```python\nc\n```\n\n"
        "<!-- exampletest: standalone -->\n\n```python\nd\n```\n\n"
        "<!--- skip doccmd[all]: next -->\n```python\ne\n```\n\n"
        "<!-- exampletest: skip=lint expect=stale standalone -->\n```python\nf\n```\n\n"
        "```python\ng\n```\n"
    )
    a, b, c, d, e, f, g = (blk.directives for blk in doc.blocks)
    assert a.skip == {"all"} and a.skips("smoke")
    assert b.skip == {"smoke", "types"} and not b.skips("lint")
    assert c.expect is Status.BROKEN
    assert d.standalone
    assert e.skip == {"all"}
    assert f.skip == {"lint"} and f.expect is Status.STALE and f.standalone
    assert g.skip == set() and g.expect is None and not g.standalone
    assert doc.errors == ()


def test_directive_reaches_the_fence_through_containers_only() -> None:
    doc = parse(
        "<!-- exampletest: skip -->\n- ```python\n  a\n  ```\n\n"
        "<!-- exampletest: skip -->\n!!! note\n    ```python\n    b\n    ```\n\n"
        "<!-- exampletest: skip -->\nA paragraph.\n\n```python\nc\n```\n"
    )
    assert [b.directives.skip for b in doc.blocks] == [{"all"}, {"all"}, set()]


def test_doccmd_ranges_and_commands() -> None:
    doc = parse(
        "<!--- skip doccmd[all]: start -->\n\n```python\na\n```\n\n```python\nb\n```\n\n"
        "<!--- skip doccmd[all]: end -->\n\n```python\nc\n```\n\n"
        "<!--- skip doccmd[mypy]: next -->\n```python\nd\n```\n\n"
        "<!--- skip doccmd[black]: next -->\n```python\ne\n```\n"
    )
    assert [b.directives.skip for b in doc.blocks] == [{"all"}, {"all"}, set(), {"types"}, set()]


def test_sybils_skip_comments() -> None:
    doc = parse(
        "<!-- skip: next -->\n\n```python\na\n```\n\n```python\nb\n```\n\n"
        "<!-- skip: start -->\n\n```python\nc\n```\n\n<!-- skip: end -->\n\n"
        "<!-- skip: next if(True, reason='x') -->\n\n```python\nd\n```\n"
    )
    # A conditional skip is not taken: its condition is Sybil's to evaluate.
    assert [b.directives.skip for b in doc.blocks] == [{"all"}, set(), {"all"}, set()]


def test_unknown_directive_is_one_error_with_path_and_line() -> None:
    doc = parse(
        "# T\n\n<!--\nexampletest: frobnicate\n-->\n```python\nx\n```\n\n"
        "<!-- exampletest: skip=bogus -->\n\nText.\n"
    )
    assert doc.errors == (
        "doc.md:4: unknown exampletest directive 'frobnicate' (known: skip, skip=STAGES, "
        "expect=STATUS, standalone)",
        "doc.md:10: unknown stage 'bogus' in exampletest directive "
        "(known: lint, types, smoke, all)",
    )
    assert doc.blocks[0].directives.skip == frozenset()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("skip", ({"all"}, None, False)),
        ("skip=smoke,types", ({"smoke", "types"}, None, False)),
        ("expect=broken", (set(), Status.BROKEN, False)),
        ("standalone; skip=lint", ({"lint"}, None, True)),
    ],
)
def test_parse_directive(body: str, expected: tuple[set[str], Status | None, bool]) -> None:
    assert parse_directive(body) == expected


@pytest.mark.parametrize(
    "body", ["", "skip=nope", "expect=skipped", "expect=", "standalone=1", 'a"']
)
def test_parse_directive_rejects(body: str) -> None:
    with pytest.raises(ValueError, match="exampletest directive"):
        parse_directive(body)


# --- encodings and line endings --------------------------------------------------------------


def test_crlf_mixed_endings_and_bom() -> None:
    raw = "\ufeff# T\r\n\r\n```python\r\nx = 1\ry = 2\n```\r\n\r\n> ```py\r\n> z\r\n> ```\r\n"
    doc = parse(raw.encode())
    assert [b.code for b in doc.blocks] == ["x = 1\ny = 2\n", "z\n"]
    assert [b.line_map for b in doc.blocks] == [(4, 5), (9,)]
    assert doc.blocks[0].heading == "T"
    assert doc.raw.startswith(b"\xef\xbb\xbf")


def test_split_lines_matches_every_ending() -> None:
    assert split_lines("a\r\nb\rc\nd") == ["a", "b", "c", "d"]
    assert split_lines("") == [""]


# --- the shipped document --------------------------------------------------------------------


def test_shipped_document() -> None:
    doc = read_document(str(SHIPPED_DOC))
    assert doc.errors == ()
    assert [b.fence_line for b in doc.blocks] == [
        288, 305, 331, 361, 400, 439, 599, 624, 644, 676, 703, 722, 755,
    ]  # fmt: skip
    assert [b.index for b in doc.blocks] == list(range(1, 14))
    assert all(b.language == "python" and b.code for b in doc.blocks)
    assert_round_trip(doc)


def test_a_transcripts_expected_traceback_is_recorded_and_its_dots_are_not_code() -> None:
    block = only(
        "```pycon\n>>> import json\n>>> json.loads(\n...     '{bad')\n"
        "Traceback (most recent call last):\n  ...\n"
        "json.decoder.JSONDecodeError: Expecting property name\n>>> print(1)\n1\n```\n"
    )
    assert block.code == "import json\njson.loads(\n    '{bad')\nprint(1)\n"
    assert block.expected_exceptions == ((3, "JSONDecodeError"),)


@pytest.mark.parametrize(
    ("caption", "counterexample"),
    [
        ("**Before (Pydantic v1):**", True),
        ("❌ Don't do this:", True),
        ("Old style:", True),
        ("Bad:", True),
        ("An older way of setting a default value is this:", True),
        ("❌ BAD: Using the legacy `session.query()` API.", True),  # a label, then prose
        ("✅ GOOD: Using `select()` with `session.scalars()`.", False),
        ("**After (Pydantic v2):**", False),
        ("Before you start, install the package with pip and configure it:", False),
        ("Here is a model that validates its input, which is bad for nobody:", False),
        ("A forward reference solves this. This is what you should no longer do:", True),
        ("Instead of this:", True),
        ("Instead of this, write:", False),
        ("You no longer need to write it, just:", False),
        ("2. A forward reference solves this. Don't do this anymore:", True),  # a list item
        ("- Avoid globals", False),  # a short list item that hands nothing over
        ("Previously:", True),
        ("In Pydantic v1 you would write:", True),
        ("The following code will be transformed:", True),
        ("Change this:", True),
        ("Into:", False),
        ("In Pydantic v2 you write:", False),
        ("Replace the token with yours and run:", False),
        ("Avoid clock skew problems by issuing tokens like this:", False),  # the right way
        ("Avoid this:", True),
        ("### ❌ Bad", True),  # a heading that is only a label
        ("## Bad example", True),
        ("### Avoid blocking the event loop", False),  # a section about a problem
    ],
)
def test_a_caption_can_introduce_the_wrong_way(caption: str, counterexample: bool) -> None:
    block = only(f"{caption}\n\n```python\nfrom pydantic import BaseSettings\n```\n")
    assert (block.directives.expect is not None) is counterexample


@pytest.mark.parametrize(
    ("info", "language"),
    [
        ("{code-block} python", "python"),
        ("{code-block} Python3", "python3"),
        ("{code} py", "py"),
        ("{sourcecode} python", "python"),
        ("{code-cell} python", "python"),
        ("{code-cell} ipython3", "ipython3"),  # what jupytext writes
        ("{code-cell}", "python"),  # the notebook's kernel
        ("{testcode}", "python"),
        ("{doctest}", "pycon"),
        ("{code-block} bash", "bash"),
        ("{code-cell} ipython3", "ipython3"),  # magics: not plain Python
        ("{code-block}", ""),
        ("{note}", "note"),  # not code: an admonition
    ],
)
def test_myst_directives(info: str, language: str) -> None:
    assert parse_info(info)[0] == language


def test_myst_options_are_not_code_and_lines_still_map() -> None:
    doc = parse(
        "# T\n\n```{code-block} python\n:caption: An example\n:linenos:\n\nx = 1\n```\n\n"
        "```{code-cell} python\n---\ntags: [hide-input]\n---\ny = 2\n```\n"
    )
    first, second = doc.blocks
    # The blank line that ends the options is the directive's, not code.
    assert first.code == "x = 1\n" and first.start_line == 7 and first.line_map == (7,)
    assert second.code == "y = 2\n" and second.start_line == 14 and second.line_map == (14,)


def test_myst_doctest_is_a_session() -> None:
    block = only("```{doctest}\n>>> 1 + 1\n2\n```\n")
    assert (block.language, block.code) == ("pycon", "1 + 1\n")


def test_a_fence_right_after_an_mdx_component_tag_is_code() -> None:
    doc = parse(
        "# Tasks\n\n<CodeGroup>\n```python Code\nx = 1\n```\n\n```text Result\n1\n```\n"
        '</CodeGroup>\n\n<Tabs>\n<Tab title="A">\n```python\ny = 2\n```\n</Tab>\n</Tabs>\n'
    )
    python = [b for b in doc.blocks if b.language == "python"]
    assert [(b.code, b.start_line) for b in python] == [("x = 1\n", 5), ("y = 2\n", 16)]
    # Inside a fence, a line that looks like a tag is the code's (a repr in a transcript).
    block = only("```pycon\n>>> print(r)\n<Response [200]>\n```\n")
    assert block.code == "print(r)\n"


def test_a_fence_inside_a_myst_admonition_is_code() -> None:
    doc = parse(
        "# Options\n\n````{tip}\n:class: dropdown\nPrefer this:\n\n```python\nnames = []\n```\n"
        "````\n\n````{eval-rst}\n.. code-block:: python\n\n   x = 1\n````\n"
    )
    assert [(b.code, b.start_line) for b in doc.blocks if b.language == "python"] == [
        ("names = []\n", 8)
    ]


def test_a_fence_right_after_an_agent_prompts_tag_and_a_line_of_text_is_code() -> None:
    doc = parse(
        "# Agent\n\n<example>\nContext: the user asks for settings.\n```python\nx = 1\n```\n"
        "</example>\n\n```python\ny = 2\n```\n\n<pre>\n```python\nz = 3\n```\n</pre>\n"
    )
    # Inside <pre> the text is not Markdown: no block there.
    assert [(b.code, b.start_line) for b in doc.blocks] == [("x = 1\n", 6), ("y = 2\n", 11)]


def test_configuration_in_a_python_fence_is_skipped_with_a_reason() -> None:
    block = only("```python\n# mypy.ini\n[mypy]\nplugins = sqlalchemy.ext.mypy.plugin\n```\n")
    assert block.skip_reason is not None and "configuration" in block.skip_reason
    assert only("```python\n[x] = [1]\nvalue = x\n```\n").skip_reason is None


def test_a_pymdownx_block_tab_titled_as_the_old_way_introduces_it() -> None:
    fence = "```python\nfrom pydantic import BaseSettings\n```\n"
    text = f"//// tab | After\n\n{fence}\n////\n\n//// tab | Before (Pydantic v1)\n\n"
    text += f"/// tip\n\nUpgrade soon.\n\n///\n\n{fence}\n////\n\n{fence}"
    blocks = parse(text).blocks
    assert [b.directives.expect is not None for b in blocks] == [False, True, False]


def test_a_fence_opened_on_a_list_items_line_keeps_the_scan_in_step() -> None:
    """``1. ```bash`` is a fence too: its closing line is not taken for an opening (which
    lost a later tab's block), and tag-like lines inside it stay code."""
    doc = parse(
        b"1. ```bash\n   pip install x\n   ```\n\n<Tabs>\n<TabItem>\n```python\nx = 1\n```\n"
        b"</TabItem>\n</Tabs>\n\n"
        b'1. ```python\n   PAGE = """\n   <html>\n   </html>\n   """\n   ```\n'
    )
    assert [b.code for b in doc.blocks] == ["x = 1\n", 'PAGE = """\n<html>\n</html>\n"""\n']


def test_an_mdx_fence_indented_under_a_tab_is_a_fence() -> None:
    doc = parse(
        b'<Tabs>\n  <Tab title="Python">\n    ```python\n    x = 1\n    ```\n  </Tab>\n</Tabs>\n'
    )
    [block] = doc.blocks
    assert (block.code, block.start_line, block.col_offsets) == ("x = 1\n", 4, (4,))


def test_a_non_annotated_tab_keeps_its_style_on_purpose() -> None:
    """FastAPI's docs show each example twice: a tab titled "... non-Annotated" shows that
    style beside its Annotated twin, so its FAST002/ET303 findings are intentional (nothing
    else is: it is still checked as a fragment)."""
    doc = parse(
        b"//// tab | Python 3.10+\n\n```python\nx = 1\n```\n\n////\n\n"
        b"//// tab | Python 3.10+ non-Annotated\n\n/// tip\n\nPrefer Annotated.\n\n///\n\n"
        b"```python\ny = 1\n```\n\n////\n\n"
        b'=== "Python 3.8+ non-Annotated"\n\n    ```python\n    z = 1\n    ```\n\n'
        b"```python\nw = 1\n```\n"
    )
    assert [sorted(b.directives.keeps) for b in doc.blocks] == [
        ["UP017"],
        ["ET303", "FAST002", "UP017"],
        ["ET303", "FAST002", "UP006", "UP007", "UP017", "UP035", "UP045"],  # Python 3.8's syntax
        [],
    ]
    assert all(b.directives.expect is None for b in doc.blocks)


def test_a_tab_for_an_older_python_keeps_that_pythons_syntax_on_purpose() -> None:
    """``=== "Python 3.8+"`` beside ``=== "Python 3.10+"``: the older tab writes
    ``Optional[int]`` and ``List[int]`` because that Python has nothing else (and no tab
    before 3.11 has ``datetime.UTC``)."""
    doc = parse(
        b'=== "Python 3.10+"\n\n    ```python\n    a = 1\n    ```\n\n'
        b'=== "Python 3.9+"\n\n    ```python\n    b = 1\n    ```\n\n'
        b'=== "Python 3.8 and above"\n\n    ```python\n    c = 1\n    ```\n\n'
        b"//// tab | Python 3.9+\n\n```python\nd = 1\n```\n\n////\n\n"
        b"```python\ne = 1\n```\n"
    )
    assert [sorted(b.directives.keeps) for b in doc.blocks] == [
        ["UP017"],
        ["UP007", "UP017", "UP045"],
        ["UP006", "UP007", "UP017", "UP035", "UP045"],
        ["UP007", "UP017", "UP045"],
        [],
    ]
    newest = parse(b'=== "Python 3.11+"\n\n    ```python\n    a = 1\n    ```\n')
    assert [b.directives.keeps for b in newest.blocks] == [frozenset()]


def test_a_block_gated_on_a_newer_python_is_skipped_and_says_why() -> None:
    """pytest-examples' `requires="3.12"` on Python 3.11: `class Foo[T]` is not this Python's
    syntax, and not the document's mistake."""
    import sys

    newer = f"{sys.version_info.major}.{sys.version_info.minor + 1}"
    gated = only(f'```python {{requires="{newer}"}}\nclass Foo[T]:\n    f: T\n```\n')
    assert gated.skip_reason is not None and f"Python {newer}" in gated.skip_reason
    current = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert only(f'```python {{requires="{current}"}}\nx = 1\n```\n').skip_reason is None


def test_a_shown_traceback_names_the_exception_as_doctest_reads_it() -> None:
    """The first word at the margin after the last Traceback header: Pydantic's message puts
    a field name alone on the next line, and a chained traceback shows the raised one last."""
    block = only(
        "```pycon\n>>> Point(y='three')\nTraceback (most recent call last):\n  ...\n"
        "pydantic_core._pydantic_core.ValidationError: 1 validation error for Point\ny\n"
        "  Input should be a valid integer\n>>> f()\nTraceback (most recent call last):\n"
        "  File \"<stdin>\", line 1\nKeyError: 'k'\n\nDuring handling of the above exception, "
        "another exception occurred:\n\nTraceback (most recent call last):\n...\n"
        "ValueError: bad\nx\n```\n"
    )
    assert block.expected_exceptions == ((1, "ValidationError"), (2, "ValueError"))
    script = only(
        "```python\nPoint(y='three')\n'''\nTraceback (most recent call last):\n  ...\n"
        "pydantic_core._pydantic_core.ValidationError: 1 validation error for Point\ny\n"
        "  Input should be a valid integer\n'''\n```\n"
    )
    assert script.expected_exceptions == ((1, "ValidationError"),)


def test_a_wrapper_tag_for_the_wrong_way_marks_its_examples_intentional() -> None:
    doc = parse(
        "<bad_example>\nNaive:\n\n```python\na\n```\n</bad_example>\n\n"
        "<good_example>\n```python\nb\n```\n</good_example>\n\n"
        '<example type="incorrect">\n```python\nc\n```\n</example>\n\n'
        "<anti-pattern>\n- item\n\n  ```python\n  d\n  ```\n</anti-pattern>\n\n"
        "```python\ne\n```\n"
    )
    expects = [b.directives.expect for b in doc.blocks]
    assert expects == [Status.BROKEN, None, Status.BROKEN, Status.BROKEN, None]
    assert doc.blocks[0].directives.implied


def test_a_session_continuation_without_its_prompt_is_code() -> None:
    """``>>> f(a,`` then ``      b)`` with no ``...``: the line continues the statement (an
    open bracket), where a REPL would take it for output; an output line after a finished
    statement stays output."""
    from exampletest.parse import parse_document

    raw = (
        b"```pycon\n>>> d = dict(a=1,\n         b=2)\n>>> d\n{'a': 1, 'b': 2}\n>>> len(d)\n2\n```\n"
    )
    [block] = parse_document("d.md", raw).blocks
    assert block.code == "d = dict(a=1,\n         b=2)\nd\nlen(d)\n"
    assert block.unprompted == (3,)
    assert block.shown_outputs == ((3, "{'a': 1, 'b': 2}"), (4, "2"))


def test_http_requests_in_a_python_fence_are_skipped_not_checked_as_divisions() -> None:
    from exampletest.parse import parse_document

    raw = (
        b"```python\nPOST /api/v1/auth/login\nGET /api/v1/users/me\n```\n\n```python\nx = 1\n```\n"
    )
    listing, code = parse_document("d.md", raw).blocks
    assert listing.skip_reason is not None and "HTTP requests" in listing.skip_reason
    assert code.skip_reason is None


def test_a_compound_statements_body_without_prompts_is_its_body() -> None:
    from exampletest.parse import parse_document

    raw = b"```pycon\n>>> for s in rows:\n        total += s\n\n>>> total\n3\n```\n"
    [block] = parse_document("d.md", raw).blocks
    assert block.code == "for s in rows:\n        total += s\ntotal\n"
    assert block.unprompted == (3,) and block.shown_outputs == ((3, "3"),)
