"""One problem reported once; intentional markers; block status."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from exampletest.model import Block, Category, Directives, Finding, Status, reaches
from exampletest.verdict import mark_intentional, marked_lines, merge, status


def _block(code: str, directives: Directives | None = None) -> Block:
    n = len(code.splitlines())
    return Block(
        "d.md",
        1,
        10,
        11,
        10 + n,
        "python",
        "python",
        None,
        code,
        tuple(range(11, 11 + n)),
        (0,) * n,
        directives=directives or Directives(),
    )


def _f(stage: str, tool: str, rule: str, cat: Category, line: int, msg: str) -> Finding:
    return Finding(stage, tool, rule, cat, line, 1, msg)


def test_mypy_on_a_guessed_import_leaves_the_missing_name_its_own_finding() -> None:
    """`conv["id"]` with `conv` guessed as SQLAlchemy's class: mypy's complaint is said of the
    guess and stays beside the missing import, into which the run's NameError folds (so it
    is incomplete, not a broken NameError of its own)."""
    missing = "`conv` is used but never imported (used 1x); `from sqlalchemy.schema import conv`"
    found = merge(
        [
            _f("context", "exampletest", "ET001", Category.INCOMPLETE, 93, missing),
            _f(
                "types",
                "mypy",
                "misc",
                Category.INCOMPLETE,
                93,
                'The type "type[conv]" is not generic and not indexable (said of `from '
                "sqlalchemy.schema import conv`, exampletest's guess for the missing `conv`)",
            ),
            _f("smoke", "python", "NameError", Category.BROKEN, 93, "NameError: name 'conv' is x"),
        ]
    )
    assert [(f.rule, f.category) for f in found] == [
        ("ET001", Category.INCOMPLETE),
        ("misc", Category.INCOMPLETE),
    ]
    assert "python:NameError" in found[0].corroboration


def test_same_problem_from_three_stages_is_one_finding() -> None:
    found = merge(
        [
            _f("lint", "ruff", "DTZ003", Category.STALE, 12, "`datetime.datetime.utcnow()` used"),
            _f(
                "types",
                "mypy",
                "deprecated",
                Category.STALE,
                12,
                "function datetime.datetime.utcnow is deprecated: Use timezone-aware objects",
            ),
            _f(
                "rules",
                "exampletest",
                "ET501",
                Category.STALE,
                12,
                "`datetime.utcnow` is deprecated",
            ),
        ]
    )
    assert len(found) == 1
    assert found[0].tool == "mypy"  # the strongest evidence present
    assert set(found[0].corroboration) == {"ruff:DTZ003", "exampletest:ET501"}


def test_a_rule_naming_a_keyword_of_a_call_joins_the_run_time_warning_about_it() -> None:
    extra = "Using extra keyword arguments on `Field` is deprecated. (Extra keys: 'example')."
    renamed = "`min_items` is deprecated and will be removed, use `min_length` instead."
    rule = "`Field({}=...)` is deprecated in Pydantic V2"
    found = merge(
        [
            _f("smoke", "python", "PydanticDeprecatedSince20", Category.STALE, 7, extra),
            _f("smoke", "python", "PydanticDeprecatedSince20", Category.STALE, 7, renamed),
            _f("rules", "exampletest", "ET114", Category.STALE, 7, rule.format("min_items")),
            _f("rules", "exampletest", "ET114", Category.STALE, 7, rule.format("example")),
        ]
    )
    assert sorted((f.message[:10], f.corroboration) for f in found) == [
        ("Using extr", ("exampletest:ET114",)),
        ("`min_items", ("exampletest:ET114",)),
    ]
    assert {f.suggestion for f in found} == {rule.format("example"), rule.format("min_items")}


def test_different_problems_on_one_line_stay_apart() -> None:
    found = merge(
        [
            _f("lint", "ruff", "UP006", Category.STALE, 3, "Use `list` instead of `List`"),
            _f("lint", "ruff", "UP006", Category.STALE, 3, "Use `dict` instead of `Dict`"),
        ]
    )
    assert len(found) == 2


def _name_error(name: str) -> Finding:
    message = f"NameError: name '{name}' is not defined: running it as written stops here"
    return _f("smoke", "python", "NameError", Category.BROKEN, 4, message)


def test_a_name_error_on_a_missing_import_joins_it_and_it_stays_incomplete() -> None:
    missing = "`Dict` is used but never imported (used 1x); `from typing import Dict` provides it"
    found = merge(
        [
            Finding("context", "exampletest", "ET001", Category.INCOMPLETE, 4, 5, missing),
            _name_error("Dict"),
        ]
    )
    assert len(found) == 1
    assert found[0].category is Category.INCOMPLETE
    assert found[0].corroboration == ("python:NameError",)
    assert "running it as written stops here (line 4)" in found[0].message
    # A name the block defines only after it needs it is the block's own mistake.
    late = "`get_user` is used before this block defines it (used 1x), and no earlier block does"
    [own] = merge(
        [
            Finding("context", "exampletest", "ET002", Category.INCOMPLETE, 4, 5, late),
            _name_error("get_user"),
        ]
    )
    assert own.category is Category.BROKEN


def test_marker_comment_governs_its_paragraph() -> None:
    code = "# BAD - injection\nq = f'{x}'\nrun(q)\n\n# GOOD\nrun('?', x)\nok()  # ❌ not this\n"
    block = _block(code)
    assert marked_lines(block) == {11, 12, 13, 17}


def test_a_marker_inside_a_body_governs_nothing_outside_it() -> None:
    """``# legacy Query use`` in a function is about that function's lines, not a ``raise``
    at the top level below it; "no longer supported" heads what a migration guide shows gone."""
    code = "def f(s):\n    # legacy Query use\n    return s.query(A)\n\n\nraise RuntimeError\n"
    assert marked_lines(_block(code)) == {12, 13}
    gone = "# no longer supported\nengine.execute('x')\n"
    assert marked_lines(_block(gone)) == {11, 12}


def test_a_marker_above_blank_lines_governs_the_code_after_them() -> None:
    code = "# DO NOT DO THIS: old style.\n\n\n@app.command()\ndef main(): ...\n\nok()\n"
    assert marked_lines(_block(code)) == {11, 14, 15}


def test_the_old_half_of_a_migration_is_marked() -> None:
    code = "# Before (v1)\nold()\n\n# After (v2)\nnew()\n\n# Legacy\nclass A(B): ...\n"
    assert marked_lines(_block(code)) == {11, 12, 17, 18}
    imports = "# OLD IMPORTS (v1)\nfrom pydantic import BaseSettings\n\n# NEW IMPORTS (v2)\nnew()\n"
    assert marked_lines(_block(imports)) == {11, 12}
    # a migration note's "# OLD (Pydantic v1)" half, up to its "# NEW (Pydantic v2)"
    halves = (
        "# OLD (Pydantic v1)\nclass M(BaseModel):\n\n    x: int\n\n# NEW (Pydantic v2)\nnew()\n"
    )
    assert marked_lines(_block(halves)) == {11, 12, 14}
    assert marked_lines(_block("# Old:\nold()\n")) == {11, 12}
    assert marked_lines(_block("x = f()  # old: 5\n")) == set()  # a value noted, no label
    assert marked_lines(_block("# Older versions of the API differ\nx()\n")) == set()
    # A bare "# v1" is not a marker: in some release notes v1 is the new code.
    assert marked_lines(_block("# v1\nnew_api()\n")) == set()
    advice = "# Before running it, set the key\nrun()\n# Deprecated in 2.0, see below\nx()\n"
    assert marked_lines(_block(advice)) == set()


def test_the_older_of_two_labelled_versions_and_a_version_called_deprecated_are_marked() -> None:
    """A migration guide's block shows both halves: `# v1 - Config class` above `# v2 -
    ConfigDict`; or labels its old half `# v1 (deprecated)`."""
    code = "# v1 - Config class\nclass A:\n\n    x = 1\n\n# v2 - ConfigDict\nnew()\n"
    assert marked_lines(_block(code)) == {11, 12, 14}  # blank lines carry no finding
    code = "# Pydantic V1\nold()\n# Pydantic V2\nnew()\n# 3 retries\na()\n# 5 retries\nb()\n"
    assert marked_lines(_block(code)) == {11, 12}
    assert marked_lines(_block("# v1 (deprecated)\nold()\n\nstill_old()\n")) == {11, 12, 14}


def test_the_code_for_an_older_python_is_marked() -> None:
    code = "# Python 3.8 and earlier - use typing\nfrom typing import List\n\n"
    code += "# Python 3.9+ - built-in types\nx: list[int] = []\n"
    assert marked_lines(_block(code)) == {11, 12}
    assert marked_lines(_block("# Python < 3.9\nold()\n# pre-3.10\nolder()\n")) == {11, 12, 13, 14}
    # A section of old code goes on past its blank lines, to the next comment at the margin.
    code = "# Python 3.8 and earlier\nfrom typing import List\n\ndef f(x: List[int]):\n"
    code += "    # inside\n    return x\n\n# Python 3.9+\ndef g(x: list[int]): ...\n"
    assert marked_lines(_block(code)) == {11, 12, 14, 15, 16}
    # A pointing marker still ends at the blank line after its code.
    assert marked_lines(_block("# BAD\nbad()\n\ngood()\n")) == {11, 12}


def test_the_older_of_two_alternatives_is_shown_on_purpose() -> None:
    code = (
        "from typing import Optional\nname: Optional[str] = None\n# or\nname: str | None = None\n"
    )
    old = _f("lint", "ruff", "UP045", Category.STALE, 12, "Use `X | None` for type annotations")
    [marked] = mark_intentional(_block(code), [old])
    assert marked.intentional
    # When the other way has the same finding, neither is the newer one.
    same = _f("lint", "ruff", "UP045", Category.STALE, 14, "Use `X | None` for type annotations")
    assert not any(f.intentional for f in mark_intentional(_block(code), [old, same]))
    # Without a "# or" between them, two stale lines are just stale.
    assert not mark_intentional(_block(code.replace("# or\n", "")), [old])[0].intentional


def test_a_comment_announcing_the_error_marks_it() -> None:
    code = "def greet(name):\n    print(name)\n\n# user's code: immediate error\ngreet('a', 'b')\n"
    assert marked_lines(_block(code)) == {14, 15}
    assert marked_lines(_block("x = int('a')  # raises ValueError\n")) == {11}
    assert marked_lines(_block("# catch ValueError and retry\ntry_again()\n")) == set()


def test_a_marker_over_a_commented_out_line_ends_at_the_blank_line() -> None:
    code = "# NEVER hardcode\n# SECRET = 'x'  # BAD\n\nclass Settings: ...\n"
    assert marked_lines(_block(code)) == {11, 12}
    # An explanation over several comment lines still reaches the code under it.
    code = "# BAD: this is wrong\n# because it injects\nq = f'{x}'\n"
    assert marked_lines(_block(code)) == {11, 12, 13}


def test_a_marker_may_be_emphasised_and_polite() -> None:
    assert marked_lines(_block("# *PLEASE DON'T DO THIS ANYMORE.*\nold()\n")) == {11, 12}


def test_advice_comment_is_not_a_marker() -> None:
    assert marked_lines(_block("log(password='x')  # Never log passwords\n")) == set()


def test_intentional_findings_do_not_decide_status() -> None:
    block = _block("# BAD\nq = f'{x}'\n")
    found = mark_intentional(block, [_f("smoke", "python", "NameError", Category.BROKEN, 12, "x")])
    assert found[0].intentional
    assert status(block, found, ran_any=True) is Status.OK


def test_expect_directive_marks_findings_intentional() -> None:
    block = _block("import nothing\n", Directives(expect=Status.BROKEN))
    found = mark_intentional(block, [_f("smoke", "python", "E", Category.BROKEN, 11, "x")])
    assert found[0].intentional


def test_status_order_and_fail_on() -> None:
    block = _block("x = 1\n")
    fs = [
        _f("lint", "ruff", "S1", Category.SECURITY, 11, "x"),
        _f("lint", "ruff", "UP1", Category.STALE, 11, "y"),
    ]
    assert status(block, fs, ran_any=True) is Status.STALE
    assert reaches(Status.STALE, "stale") and not reaches(Status.STALE, "broken")
    assert reaches(Status.BROKEN, "env") and not reaches(Status.OK, "env")
    assert not reaches(Status.BROKEN, "never")


def _lint_only(write_doc: Callable[[str, str], Path], run_json: Any, code: str) -> Any:
    write_doc("d.md", f"```python\n{code}```\n")
    _code, report = run_json("--stages", "lint", "--no-fix", "d.md")
    return report["documents"][0]["blocks"][0]


def test_a_marker_does_not_excuse_what_the_unmarked_code_needs_too(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    block = _lint_only(
        write_doc,
        run_json,
        "# Don't do this: the order is wrong.\nroutes = [Route('/a/{x}'), Route('/a/me')]\n"
        "\n# Do this instead.\nroutes = [Route('/a/me'), Route('/a/{x}')]\n",
    )
    route = [f for f in block["findings"] if "`Route`" in f["message"]]
    assert route and not any(f["intentional"] for f in route)
    # A module that is not installed, used by the unmarked code too.
    block = _lint_only(
        write_doc,
        run_json,
        "# Old way (still works, but more verbose)\nimport somepkg_not_here\n"
        "import otherpkg_not_here\nc = otherpkg_not_here.patch(1)\n\n"
        "# New way\nclient = somepkg_not_here.from_provider('x')\n",
    )
    env = {f["message"].split("`")[1]: f["intentional"] for f in block["findings"]}
    assert env == {"somepkg_not_here": False, "otherpkg_not_here": True}
    assert block["status"] == "env"


def test_a_type_error_shown_under_a_handler_for_it_is_intentional() -> None:
    code = "try:\n    double('a')\nexcept TypeError:\n    pass\n\ndouble('b')\n"
    shown = _f("types", "mypy", "arg-type", Category.BROKEN, 12, "Argument 1 has incompatible type")
    plain = _f("types", "mypy", "arg-type", Category.BROKEN, 16, "Argument 1 has incompatible type")
    marked = mark_intentional(_block(code), [shown, plain])
    assert [f.intentional for f in marked] == [True, False]
    # A handler for something else shows nothing about types.
    other = code.replace("TypeError", "KeyError")
    assert not any(f.intentional for f in mark_intentional(_block(other), [shown]))


def test_pytest_examples_upgrade_skip_keeps_the_spelling_on_purpose() -> None:
    code = "x: Optional[int] = None\n"
    up = _f("lint", "ruff", "UP045", Category.STALE, 11, "Use `X | None` for type annotations")
    block = _block(code)
    assert not mark_intentional(block, [up])[0].intentional
    kept = dataclasses.replace(block, info='python {upgrade="skip"}')
    assert mark_intentional(kept, [up])[0].intentional


def test_mypy_rejecting_keywords_the_run_shows_deprecated_is_that_stale_finding() -> None:
    stale = _f(
        "smoke",
        "python",
        "PydanticDeprecatedSince20",
        Category.STALE,
        12,
        "`min_items` is deprecated, use `min_length`",
    )
    rejected = _f(
        "types",
        "mypy",
        "call-overload",
        Category.BROKEN,
        12,
        'Unexpected keyword argument "min_items" for overloaded function "Field"',
    )
    variant = _f(
        "types",
        "mypy",
        "call-overload",
        Category.BROKEN,
        12,
        'No overload variant of "Field" matches argument types "int"',
    )
    other = _f(
        "types",
        "mypy",
        "arg-type",
        Category.BROKEN,
        12,
        'Argument 1 to "g" has incompatible type "str"',
    )
    found = merge([stale, rejected, variant, other])
    assert [(f.rule, f.category) for f in found] == [
        ("PydanticDeprecatedSince20", Category.STALE),
        ("arg-type", Category.BROKEN),  # another problem on the line stays
    ]


def test_a_comment_saying_the_code_is_not_validated_marks_it() -> None:
    code = "class S:\n    # default won't be validated\n    foo: int = 'test'\n"
    assert marked_lines(_block(code)) == {12, 13}
    assert marked_lines(_block("# this is validated\nfoo: int = 1\n")) == set()


def test_mypy_on_a_line_the_run_shows_elided_is_a_fragment() -> None:
    elided = Finding("smoke", "python", "elided", Category.INCOMPLETE, 7, 15, "leaves code out")
    call = Finding("types", "mypy", "call-arg", Category.BROKEN, 7, 15, 'Missing "month"')
    other = Finding("types", "mypy", "call-arg", Category.BROKEN, 8, 1, 'Missing "day"')
    found = {f.line: f.category for f in merge([elided, call, other]) if f.tool == "mypy"}
    assert found == {7: Category.INCOMPLETE, 8: Category.BROKEN}


def test_a_syntax_error_is_intentional_only_under_a_marker_of_old_code() -> None:
    """``# ❌ Bad`` code is valid code doing the wrong thing: a syntax error in it is a typo.
    Under ``# Python 2 (old style)`` it may be the point (``print "x"``)."""
    syntax = Finding("extract", "python", "SyntaxError", Category.BROKEN, 12, 1, "invalid syntax")
    bad = _block("# ❌ Bad: request-scoped session\ndef f(a=1, b):\n    pass\n")
    old = _block("# Old style (Python 2)\nprint 'hi'\n")
    assert not mark_intentional(bad, [syntax])[0].intentional
    assert mark_intentional(old, [syntax])[0].intentional
    # A marker that names the error: the syntax error is what the example shows.
    shown = _block(
        "# Wrong - can't call async from sync\ndef f():\n    x = await g()  # SyntaxError!\n"
    )
    error = Finding("extract", "python", "SyntaxError", Category.BROKEN, 13, 9, "'await' outside")
    assert mark_intentional(shown, [error])[0].intentional
    # "# invalid code!" says so too; a name that starts with the word does not
    invalid = _block("def f(a: int | None = None, b: int): ...  # invalid code!\n")
    assert mark_intentional(invalid, [syntax.replace(line=11)])[0].intentional
    named = _block("def f(a=1, b): ...  # invalid_input = 3\n")
    assert not mark_intentional(named, [syntax.replace(line=11)])[0].intentional


def test_what_the_run_did_once_a_missing_name_was_imported_is_another_problem() -> None:
    """`pytest.MockerFixture` with `pytest` missing: the run with `import pytest` added failed
    on the attribute. That finding shares the line and the category with the missing import;
    it used to absorb it, which left the run's NameError standing alone as broken."""
    missing = _f(
        "context", "exampletest", "ET001", Category.INCOMPLETE, 11,
        "`pytest` is used but never imported (used 1x); `import pytest` provides it",
    )  # fmt: skip
    name_error = _f(
        "smoke", "python", "NameError", Category.BROKEN, 11,
        "NameError: name 'pytest' is not defined: running it as written stops here",
    )  # fmt: skip
    other = _f(
        "smoke", "python", "elided", Category.INCOMPLETE, 11,
        "the example stops there when run: AttributeError: module 'pytest' has no attribute",
    )  # fmt: skip
    merged = merge([missing, name_error, other])
    assert [(f.rule, f.category) for f in merged] == [
        ("ET001", Category.INCOMPLETE),
        ("elided", Category.INCOMPLETE),
    ]
