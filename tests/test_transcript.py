"""A console transcript's shown output is checked against what its statement really gives."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from exampletest import transcript
from exampletest.parse import parse_document


@pytest.mark.parametrize(
    ("want", "got"),
    [
        ("[0, 1, 2, ..., 29]", repr(list(range(30))) + "\n"),  # an elision
        ("{'id': 1,\n 'name': 'x'}", "{'id': 1, 'name': 'x'}\n"),  # pretty-printed
        ("<object object at 0x7f3a2b1c4d50>", "<object object at 0x7f00deadbeef>\n"),
        ("{'b': 2, 'a': 1}", "{'a': 1, 'b': 2}\n"),  # another order, the same dict
        ("{3, 1, 2}", "{1, 2, 3}\n"),
        ("a\n<BLANKLINE>\nb", "a\n\nb\n"),
        (  # Pydantic's own docs leave its error URL out
            "1 validation error for M\nx\n  Input should be a valid integer [type=int_type]",
            "1 validation error for M\nx\n  Input should be a valid integer [type=int_type]\n"
            "    For further information visit https://errors.pydantic.dev/2.14/v/int_type\n",
        ),
    ],
)
def test_what_a_reader_takes_for_the_same_output_matches(want: str, got: str) -> None:
    assert transcript.matches(want, got)


@pytest.mark.parametrize(
    ("want", "got"),
    [
        ("3", "2\n"),
        ("'{\"id\": 123}'", "'{\"id\":123}'\n"),  # Pydantic v1's .json() against v2's
        ("{'a': 1}", "{'a': 2}\n"),
        ("hello", ""),
    ],
)
def test_a_different_value_does_not_match(want: str, got: str) -> None:
    assert not transcript.matches(want, got)


def test_the_clock_chance_and_the_machine_vary_and_a_field_named_id_does_not() -> None:
    assert transcript.varies("datetime.now()")
    assert transcript.varies("uuid.uuid4()")
    assert transcript.varies("sys.version_info")
    assert not transcript.varies("user.id")
    assert not transcript.varies("sorted({3, 1, 2})")


def test_output_stamped_with_the_day_it_ran_varies() -> None:
    """A logger's timestamp comes from the library's own clock call, not the block's code."""
    today = datetime.date.today().isoformat()
    assert transcript.varies("log.info('hi')", f"{today} 07:05:26 [info     ] hi")
    assert not transcript.varies("log.info('hi')", "2019-01-01 07:05:26 [info     ] hi")


def test_a_session_shows_values_and_printed_text_but_tracebacks_are_not_outputs() -> None:
    text = (
        "```pycon\n>>> x = 1\n>>> x + 1\n2\n>>> for i in range(2):\n...     print(i)\n...\n0\n1\n"
        ">>> int('a')\nTraceback (most recent call last):\n  ...\nValueError: bad\n"
        ">>> {'a': 1}\n{'a': 1}\n```\n"
    )
    [block] = parse_document("d.md", text.encode()).blocks
    assert block.shown_outputs == ((2, "2"), (4, "0\n1"), (7, "{'a': 1}"))
    assert block.expected_exceptions == ((6, "ValueError"),)


IPYTHON = (
    "```ipython\nIn [1]: import math\n\nIn [2]: x = math.sqrt(16)\n\nIn [3]: x\nOut[3]: 4.0\n\n"
    "In [4]: def double(n):\n   ...:     return n * 2\n   ...:\n\nIn [5]: double(21)\n"
    "Out[5]:\n42\n\nIn [6]: %timeit double(3)\n52.1 ns ± 0.3 ns per loop\n\nIn [7]: 1 / 0\n"
    + "-"
    * 75
    + "\nZeroDivisionError                         Traceback (most recent call last)\n"
    "Cell In[7], line 1\n----> 1 1 / 0\n\nZeroDivisionError: division by zero\n\n"
    "In [8]: double(2)\nOut[8]: 5\n```\n"
)


def test_an_ipython_session_is_read_as_a_console_session() -> None:
    """`In [3]:` and `...:` are prompts, `Out[3]:` heads a value, IPython's traceback header
    names its exception, and a magic (`%timeit`) is neither code nor a claim."""
    [block] = parse_document("d.md", IPYTHON.encode()).blocks
    assert block.session and block.ipython
    assert block.code == (
        "import math\nx = math.sqrt(16)\nx\ndef double(n):\n    return n * 2\n\n"
        "double(21)\n1 / 0\ndouble(2)\n"
    )
    assert block.shown_outputs == ((3, "4.0"), (7, "42"), (9, "5"))
    assert block.expected_exceptions == ((8, "ZeroDivisionError"),)


def test_ipython_help_shell_and_timing_are_not_code_but_a_timed_cell_is() -> None:
    """`math.sqrt?` (help) and `files = !ls` (a shell escape) are IPython's, not Python; a
    `%%time` cell runs its code, and the clock it prints is not the code's output."""
    text = (
        "```ipython\nIn [1]: import math\n\nIn [2]: math.sqrt?\nSignature: math.sqrt(x, /)\n\n"
        "In [3]: files = !ls /tmp\n\nIn [4]: %%time\n   ...: total = sum(range(10))\n"
        "   ...: print(total)\n   ...:\nCPU times: user 3 us, sys: 0 ns, total: 3 us\n"
        "Wall time: 5.2 us\n45\n\nIn [5]: %time double = total * 2\nWall time: 1 us\n```\n"
    )
    [block] = parse_document("d.md", text.encode()).blocks
    assert block.code.split() == [
        "import", "math", "total", "=", "sum(range(10))", "print(total)",
        "double", "=", "total", "*", "2",
    ]  # fmt: skip
    assert block.shown_outputs == ((4, "45"),)


def test_an_ipython_session_is_checked_and_not_written_back(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    write_doc("d.md", IPYTHON)
    _code, report = run_json("--no-cache", "d.md")
    [block] = report["documents"][0]["blocks"]
    found = [(f["line"], f["rule"], f["category"]) for f in block["findings"]]
    assert found == [(28, "wrong-output", "broken")]
    fix = block["fix"]
    assert fix is None or (not fix["verified"] and not fix["diff"]), fix


def _session(write_doc: Callable[[str, str], Path], run_json: Any, session: str) -> list[Any]:
    write_doc("d.md", f"# Session\n\n```pycon\n{session}```\n")
    _code, report = run_json("--stages", "smoke", "--no-cache", "--no-fix", "d.md")
    return [
        (f["line"], f["category"], f["message"])
        for f in report["documents"][0]["blocks"][0]["findings"]
        if f["rule"] == "wrong-output"
    ]


def test_a_value_the_code_does_not_give_is_broken_at_its_statement(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    session = (
        ">>> from pydantic import BaseModel\n>>> class User(BaseModel):\n...     id: int\n...\n"
        ">>> user = User(id='7')\n>>> user\nUser(id=7)\n>>> user.model_dump_json()\n"
        "'{\"id\": 7}'\n>>> len(\"abc\")\n4\n>>> print(user.model_dump())\n{'id': 7}\n"
    )
    found = _session(write_doc, run_json, session)
    assert [(line, category) for line, category, _ in found] == [(11, "broken"), (13, "broken")]
    assert found[0][2] == (
        "the document shows `'{\"id\": 7}'` as its output; running it gives `'{\"id\":7}'`"
    )
    assert "shows `4` as its output; running it gives `3`" in found[1][2]


def test_no_evidence_from_the_clock_or_a_name_the_document_never_defines(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """`datetime.now()` shows the day the document was written; `db` is a placeholder here,
    whatever it returns is exampletest's making; neither says the code is wrong."""
    session = (
        ">>> import datetime\n>>> datetime.datetime.now()\ndatetime.datetime(2023, 1, 1, 12, 0)\n"
        ">>> db.count()\n3\n>>> async def f():\n...     return 5\n...\n>>> await f()\n5\n"
    )
    assert _session(write_doc, run_json, session) == []


def test_printed_comments_are_grouped_under_the_statement_above_them() -> None:
    code = "for i in range(2):\n    print(i)\n    #> 0\n    #> 1\n\nprint('a')\n#>\n#> b\nx = 1\n"
    [block] = parse_document("d.md", f"```python\n{code}```\n".encode()).blocks
    assert block.printed_outputs == ((2, "0\n1"), (6, "\nb"))


def test_a_printed_comment_the_code_does_not_print_is_broken(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """pytest-examples' `#>` comments: a loop's prints are one output, a long value wrapped
    over lines with a last comma is the same value, the version in Pydantic's error URL is
    the release's; a printed value that differs is broken at its `print()`."""
    code = (
        "from pydantic import BaseModel, ValidationError\n\n\nclass User(BaseModel):\n"
        "    id: int\n    tags: list[str] = []\n\n\nuser = User(id='1', tags=['a'])\n"
        "for tag in user.tags * 2:\n    print(tag)\n    #> a\n    #> a\n"
        "print(user.model_dump())\n#> {\n#>     'id': 1,\n#>     'tags': ['a'],\n#> }\n"
        "try:\n    User(id='x')\nexcept ValidationError as e:\n    print(e)\n"
        "    #> 1 validation error for User\n    #> id\n"
        "    #>   Input should be a valid integer, unable to parse string as an integer"
        " [type=int_parsing, input_value='x', input_type=str]\n"
        "    #>     For further information visit https://errors.pydantic.dev/2/v/int_parsing\n"
        "print(user.id + 1)\n#> 3\n"
    )
    write_doc("d.md", f"# Doc\n\n```python\n{code}```\n")
    _code, report = run_json("--stages", "smoke", "--no-cache", "--no-fix", "d.md")
    found = [
        (f["line"], f["category"], f["message"])
        for f in report["documents"][0]["blocks"][0]["findings"]
        if f["rule"] == "wrong-output"
    ]
    assert found == [
        (30, "broken", "the document shows `3` as its output; running it gives `2`"),
    ]


def test_what_a_placeholder_gives_through_str_or_len_is_no_evidence(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """A project module the reader has (``myproject``) is a placeholder here: its values turn
    into plain text and numbers on the way to the output, and still say nothing."""
    session = (
        ">>> from myproject import settings\n>>> str(settings.SECRET_KEY)\n'98n349'\n"
        ">>> print(len(settings.ALLOWED_HOSTS))\n2\n>>> 1 + 1\n3\n"
    )
    assert [(line, c) for line, c, _ in _session(write_doc, run_json, session)] == [(9, "broken")]
    code = (
        "from myproject import settings\n\nprint(len(settings.HOSTS))\n#> 2\nprint(2 + 2)\n#> 5\n"
    )
    write_doc("s.md", f"```python\n{code}```\n")
    _code, report = run_json("--stages", "smoke", "--no-cache", "--no-fix", "s.md")
    found = report["documents"][0]["blocks"][0]["findings"]
    assert [f["line"] for f in found if f["rule"] == "wrong-output"] == [6]


def test_a_value_built_from_a_stand_in_earlier_is_no_evidence_later(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """``from StringIO import StringIO`` (Python 2's module: a stand-in here) makes ``table``
    empty, and a loop over a stand-in leaves ``found`` empty: showing them later says nothing.
    An unrelated statement after them still does."""
    session = (
        ">>> import csv\n>>> from StringIO import StringIO\n"
        ">>> table = list(csv.reader(StringIO('spam, 42')))\n>>> table\n[['spam', ' 42']]\n"
        ">>> from nosuchsym import solve\n>>> found = []\n>>> for r in solve(1):\n"
        "...     found.append(r)\n>>> found\n[1]\n>>> 2 + 2\n5\n"
    )
    assert [(line, c) for line, c, _ in _session(write_doc, run_json, session)] == [(15, "broken")]


def test_a_print_of_a_stand_in_is_no_evidence(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    code = "print(settings.database_url)\n#> postgresql://localhost/app\n"
    write_doc("d.md", f"```python\n{code}```\n")
    _code, report = run_json("--stages", "smoke", "--no-cache", "--no-fix", "d.md")
    rules = [f["rule"] for f in report["documents"][0]["blocks"][0]["findings"]]
    assert "wrong-output" not in rules


def test_a_string_after_a_print_is_its_output_unless_it_is_a_traceback() -> None:
    code = (
        "print({'a': 1})\n'''\n{'a': 1}\n'''\ntry:\n    int('x')\nexcept ValueError as e:\n"
        '    print(e)\n    """\n    invalid literal\n    """\nprint(1)\n"""\nTraceback (most '
        'recent call last):\nValueError: no\n"""\n'
    )
    [block] = parse_document("d.md", f"```python\n{code}```\n".encode()).blocks
    assert block.printed_outputs == ((1, "{'a': 1}"), (8, "invalid literal"))


def test_a_difference_is_shown_where_the_outputs_part() -> None:
    assert transcript.difference("a\nb\nc", "a\nx\nc\n") == ("b", "x")
    want = "{\n    'id': 1,\n    'name': 'x',\n    'tags': [],\n}"
    got = "{'id': 1, 'name': 'x', 'tags': ['a']}\n"
    shown, real = transcript.difference(want, got)
    assert shown.endswith("'tags': []}") and real.endswith("'tags': ['a']}")


def test_a_traceback_shown_by_its_last_line_alone_is_an_expected_exception() -> None:
    """idna's README: the traceback elided to `...`, then `idna.core.InvalidCodepoint: ...`
    (a class whose name does not end in Error, named by its module)."""
    text = (
        "```pycon\n>>> import idna\n>>> idna.encode('K')\n...\n"
        "idna.core.InvalidCodepoint: Codepoint U+004B not allowed\n>>> 1\n1\n```\n"
    )
    [block] = parse_document("d.md", text.encode()).blocks
    assert block.expected_exceptions == ((2, "InvalidCodepoint"),)
    assert block.shown_outputs == ((4, "1"),)


def test_the_blocks_classes_print_as_a_scripts_do(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """The reader runs the block as a script (`<class '__main__.A'>`, whatever module name it
    runs under here); a docs build may show the class without its module (`<class 'A'>`).
    Another module is another class."""
    code = (
        "class A:\n    pass\n\n\nprint(A)\n#> <class '__main__.A'>\nprint(A)\n#> <class 'A'>\n"
        "print(A)\n#> <class 'models.A'>\n"
    )
    write_doc("d.md", f"```python\n{code}```\n")
    _code, report = run_json("--stages", "smoke", "--no-cache", "--no-fix", "d.md")
    found = [
        (f["line"], f["message"])
        for f in report["documents"][0]["blocks"][0]["findings"]
        if f["rule"] == "wrong-output"
    ]
    assert found == [
        (
            10,
            "the document shows `<class 'models.A'>` as its output; "
            "running it gives `<class '__main__.A'>`",
        )
    ]


def test_a_value_in_a_compound_statement_at_the_prompt_is_displayed_too(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """The REPL displays every expression statement's value, in a `with` or `for` body too
    (attrs' docs: `c.execute(...)` in a `with` shows two cursors)."""
    session = (
        ">>> import sqlite3\n>>> with sqlite3.connect(':memory:') as conn:\n"
        "...     c = conn.cursor()\n...     c.execute('CREATE TABLE t (x)')\n"
        "...     c.execute('INSERT INTO t VALUES (1)')\n...\n"
        "<sqlite3.Cursor object at ...>\n<sqlite3.Cursor object at ...>\n"
        ">>> for i in range(2):\n...     i * 10\n...\n0\n11\n"
    )
    found = _session(write_doc, run_json, session)
    assert [(line, message) for line, _, message in found] == [
        (13, "the document shows `11` as its output; running it gives `10`")
    ]


def test_the_fix_writes_what_the_print_really_prints_and_keeps_every_other_byte(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """`#>` comments and the string under a `print()` get the real output (a long value laid
    out over lines), checked again; the rest of the block is the document's, CRLF included."""
    code = (
        "import json\r\n\r\nfor n in (1, 2):\r\n    print(n * 10)\r\n    #> 10\r\n    #> 21\r\n"
        "print(json.dumps([1, 2]))\r\n#> [1, 2, 3]\r\n"
        'print({f\'key{i}\': list(range(i)) for i in range(6)})\r\n"""\r\n{}\r\n"""\r\n'
    )
    path = write_doc("d.md", f"# Out\r\n\r\n```python\r\n{code}```\r\n")
    _code, report = run_json("--no-cache", "d.md")
    fix = report["documents"][0]["blocks"][0]["fix"]
    assert fix["verified"] and fix["resolves"] == ["wrong-output"], fix
    new = fix["replacement"]
    assert "    #> 10\n    #> 20\n" in new
    assert "#> [1, 2]\n" in new
    assert "\"\"\"\n{'key0': [],\n 'key1': [0],\n" in new
    before = path.read_bytes()
    from exampletest.cli import main

    assert main(["fix", "--write", "d.md"]) == 0
    after = path.read_bytes()
    assert after.count(b"\r\n") == after.count(b"\n")  # nothing turned into a bare LF
    assert after.startswith(before[: before.index(b"#> 21")])
    assert b"    #> 10\r\n    #> 20\r\n" in after


def test_underscore_at_the_prompt_is_the_last_value_displayed(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """`_` is no undefined name in a session: it is what the REPL displayed last, in the run
    as written too (a shown traceback makes that run one of its own)."""
    session = (
        ">>> 1 + 1\n2\n>>> _ * 10\n30\n>>> int('x')\n"
        "Traceback (most recent call last):\nValueError: invalid literal\n"
    )
    write_doc("d.md", f"```pycon\n{session}```\n")
    _code, report = run_json("--no-cache", "--no-fix", "d.md")
    [block] = report["documents"][0]["blocks"]
    assert [(f["rule"], f["message"]) for f in block["findings"]] == [
        ("wrong-output", "the document shows `30` as its output; running it gives `20`")
    ]


def test_output_that_goes_to_a_loggers_stream_is_no_evidence(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """A session shows log lines as the terminal did; the logger writes to the stream it
    was given, which this run does not read: nothing caught says nothing."""
    session = (
        ">>> import logging\n>>> logging.basicConfig(level=logging.INFO)\n"
        ">>> logging.info('started')\nINFO:root:started\n>>> print('x')\ny\n"
    )
    assert [line for line, _, _ in _session(write_doc, run_json, session)] == [8]


def test_a_sessions_late_future_import_is_legal_as_the_repl_compiles_it(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """The REPL (and doctest) compiles each statement alone: ``from __future__ import x``
    after other statements is fine there. In a script it is a SyntaxError."""
    session = ">>> import os\n>>> from __future__ import annotations\n>>> 1 + 1\n2\n"
    write_doc(
        "d.md",
        f"```pycon\n{session}```\n\n"
        "```python\nimport os\nfrom __future__ import annotations\n```\n",
    )
    _code, report = run_json("--stages", "smoke", "--no-cache", "--no-fix", "d.md")
    session_block, script = report["documents"][0]["blocks"]
    assert [f["rule"] for f in session_block["findings"]] == []
    assert [f["rule"] for f in script["findings"]] == ["SyntaxError"]


def test_output_the_author_annotated_is_read_as_the_author_meant() -> None:
    """Output written as comments, a note after it on its line, a prompt glued to text
    printed without a newline: the claim under the notes is what is compared."""
    from exampletest.transcript import matches

    assert matches("# red", "red\n")
    assert matches("# {'age': 33,\n#  'x': 1}", "{'age': 33, 'x': 1}\n")
    assert matches("3.14   # two decimals", "3.14\n")
    assert matches("hi>>>", "hi")
    assert not matches("# 3", "4\n")
    assert not matches("3.14   # two decimals", "3.15\n")


def test_a_session_value_from_an_earlier_blocks_loop_left_out_is_no_evidence(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """The later block needs ``holdings`` (its prelude makes the ``Counter``), not the loop
    that filled it from the reader's data: the empty counter it shows here says nothing. A
    statement that reads nothing of the kind still does; so does a comment after a blank line
    not count as output."""
    write_doc(
        "d.md",
        "```pycon\n>>> from collections import Counter\n>>> holdings = Counter()\n"
        ">>> for row in rows:\n...     holdings[row[0]] += row[1]\n```\n\n"
        "```pycon\n>>> holdings['IBM']\n150\n>>> print(2 + 2)\n4\n\n# and now\n"
        ">>> 1 + 1\n3\n```\n",
    )
    _code, report = run_json("--stages", "smoke", "--no-cache", "--no-fix", "d.md")
    found = [
        (f["line"], f["rule"])
        for f in report["documents"][0]["blocks"][1]["findings"]
        if f["rule"] == "wrong-output"
    ]
    assert found == [(15, "wrong-output")]
