"""Context stage: the four ways a free name is resolved, on small real documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from exampletest.context import (
    MISSING_IMPORT,
    NOT_INSTALLED,
    UNDEFINED,
    WRONG_CASE,
    analyze_document,
)
from exampletest.model import Finding
from exampletest.nameindex import NameIndex
from exampletest.parse import parse_document
from exampletest.symbols import analyze


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> NameIndex:
    return NameIndex.load(Path(".exampletest_cache"))


def _contexts(text: str, index: NameIndex, stubs: str | None = None):  # type: ignore[no-untyped-def]
    doc = parse_document("doc.md", text.encode())
    return analyze_document(doc.blocks, index, stubs)


def _found(index: NameIndex, code: str) -> list[tuple[str, str]]:
    """(rule, category) of what the context stage finds in a one-block document."""
    ctx = _contexts(f"```python\n{code}```\n", index)[0]
    return [(f.rule, f.category.value) for f in ctx.findings]


def _suggested(ctx) -> dict[str, str | None]:  # type: ignore[no-untyped-def]
    """Each missing name of a block's findings -> the import suggested for it."""
    return {f.message.split("`")[1]: f.suggestion for f in ctx.findings}


def _rules(ctx) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(f.rule, f.message.split("`")[1]) for f in ctx.findings]


def test_earlier_definition_is_context_not_a_finding(index: NameIndex) -> None:
    ctxs = _contexts(
        "```python\ndef get_db():\n    return 1\n\napp = object()\n```\n\n"
        "```python\nprint(app, get_db())\n```\n",
        index,
    )
    assert ctxs[1].findings == ()
    assert {p.block_index for p in ctxs[1].prelude} == {1}
    assert ctxs[1].missing == ()


def test_a_typo_in_one_function_leaves_the_blocks_other_definitions_to_later_blocks(
    index: NameIndex,
) -> None:
    """asgi-lifespan's README: `print("Starting up"...)` in one hook; the next block runs
    `main()`, which the broken block defines further down. Before, `main` was missing and
    guessed to be `json.tool`'s, whose run read stdin and exited."""
    ctxs = _contexts(
        "```python\nimport asyncio\n\n@hook\nasync def startup():\n"
        '    print("Starting up"...)\n\n@hook\n@other\nasync def main():\n'
        "    await asyncio.sleep(0)\n```\n\n"
        "```python\nasyncio.run(main())\n```\n",
        index,
    )
    assert ctxs[0].findings[0].rule == "SyntaxError"
    assert ctxs[1].missing == ()
    assert {n for p in ctxs[1].prelude for n in p.statement.binds} == {"asyncio", "main"}
    assert "startup" not in {n for p in ctxs[1].prelude for n in p.statement.binds}


@pytest.mark.parametrize(
    "caption", ["**OUTPUT:**", "Output:", "Expected output:", "This prints:", "You should see:"]
)
def test_program_output_in_a_python_fence_under_an_output_caption_is_a_wrong_label(
    index: NameIndex, caption: str
) -> None:
    ctx = _contexts(f"{caption}\n\n```python\nThe root user is reserved.\n```\n", index)[0]
    assert [(f.rule, f.category.value) for f in ctx.findings] == [("output", "style")]
    assert "label the fence `text`" in ctx.findings[0].message


def test_log_lines_in_a_python_fence_are_output(index: NameIndex) -> None:
    log = "[2018-07-11 12:57:23,673: INFO/ForkPoolWorker-1] proj.tasks.div[5c]: Executing\n"
    ctx = _contexts(f"The worker prints:\n\n```python\n{log}```\n", index)[0]
    assert [(f.rule, f.category.value) for f in ctx.findings] == [("output", "style")]
    assert "a program's log lines" in ctx.findings[0].message


def test_code_under_an_output_caption_is_still_code(index: NameIndex) -> None:
    code = "class User(BaseModel)\n    name: str\n"
    ctx = _contexts(f"Result:\n\n```python\n{code}```\n", index)[0]
    first = ctx.findings[0]
    assert (first.rule, first.category.value) == ("SyntaxError", "broken")


def test_lines_inside_a_string_of_a_block_that_does_not_parse_are_no_statements(
    index: NameIndex,
) -> None:
    first = 'TEMPLATE = """\nport = 8000\n"""\n\ndef render(:\n    return TEMPLATE\n'
    ctxs = _contexts(f"```python\n{first}```\n\n```python\nprint(port + 1)\n```\n", index)
    assert "port" in ctxs[1].missing


@pytest.mark.parametrize(
    "before",
    [
        "The output of this program:\n\nSome prose in between.\n\n",  # not right before
        "Output is written to the log. Run:\n\n",  # a sentence, no caption
        "",
    ],
)
def test_text_in_a_python_fence_without_an_output_caption_stays_a_syntax_error(
    index: NameIndex, before: str
) -> None:
    ctx = _contexts(f"{before}```python\nThe root user is reserved.\n```\n", index)[0]
    assert [(f.rule, f.category.value) for f in ctx.findings] == [("SyntaxError", "broken")]


def test_a_listing_cut_off_inside_a_docstring_is_an_excerpt(index: NameIndex) -> None:
    method = (
        "    def model_validate(\n        cls,\n        obj: Any,\n    ) -> Self:\n"
        '        """Validate a pydantic model instance.\n\n        Returns:\n'
        "            The validated model instance.\n"
    )
    ctx = _contexts(f"```python\n{method}```\n", index)[0]
    found = [(f.rule, f.category.value) for f in ctx.findings if f.category.value != "style"]
    assert found == [("excerpt", "incomplete")]
    assert "inside the docstring of `model_validate`" in ctx.findings[-1].message
    # a quote left open with code after it at the function's left: a typo
    typo = (
        'def greet(name):\n    """Return a greeting.\n    return f"Hi {name}"\n\n\n'
        "def farewell(name):\n    return name\n"
    )
    ctx = _contexts(f"```python\n{typo}```\n", index)[0]
    assert [(f.rule, f.category.value) for f in ctx.findings] == [("SyntaxError", "broken")]
    # the function is the one the docstring opens, not the first of the listing
    method = 'class Repo:\n    def get(self):\n        """Get it.\n\n        Returns: it\n'
    ctx = _contexts(f"```python\n{method}```\n", index)[0]
    assert "inside the docstring of `get`" in ctx.findings[-1].message
    # a string left open in an expression is a typo: broken
    ctx = _contexts('```python\nx = 1\nquery = """SELECT *\nFROM t\n```\n', index)[0]
    assert [(f.rule, f.category.value) for f in ctx.findings] == [("SyntaxError", "broken")]


def test_a_method_shown_without_its_class_is_not_what_a_later_bare_call_uses(
    index: NameIndex,
) -> None:
    """A rules file shows `async def operation(self) -> None:` for its try/except, then
    `result = await operation()` in another section: mypy said "does not return a value" of
    the method. A plain function stays the later block's context."""
    ctxs = _contexts(
        "```python\nasync def operation(self) -> None:\n    pass\n\n"
        "def helper() -> int:\n    return 1\n```\n\n"
        "```python\nresult = await operation()\nhelper()\n```\n",
        index,
    )
    assert {n for p in ctxs[1].prelude for n in p.statement.binds} == {"helper"}
    assert "operation" in ctxs[1].missing


def test_a_later_block_builds_on_the_right_way_not_the_wrong_way_beside_it(
    index: NameIndex,
) -> None:
    ctxs = _contexts(
        "```python\nfrom datetime import datetime, timezone\n\n# ✅ CORRECT\n"
        "past = datetime.now(timezone.utc)\n\n# ❌ WRONG\npast = datetime.utcnow()\n"
        "# ❌ BAD: only this way binds it\nlegacy = datetime.utcnow()\n```\n\n"
        "```python\nprint(datetime.now(timezone.utc) - past, legacy)\n```\n",
        index,
    )
    sources = [p.statement.source.strip() for p in ctxs[1].prelude]
    assert "past = datetime.now(timezone.utc)" in sources
    assert "past = datetime.utcnow()" not in sources
    assert "legacy = datetime.utcnow()" in sources


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("(celery_env) me@host:~/app$ tree\n.\n├── Pipfile\n", "shell"),
        (
            "# V1 → V2\nmodel.dict() → model.model_dump()\nM.parse_obj(d) → M.model_validate(d)\n",
            "arrows",
        ),
        ("if python >= 3.11:\n    → Prefer TaskGroup()\nelse:\n    → gather()\n", "arrows"),
        ("sqlalchemy.url = sqlite:///artists.db\n", "configuration"),
        (
            "def add(a: int) → int:\n    return a\n\n\ndef sub(a: int) → int:\n    return a\n",
            "SyntaxError",
        ),
        ("import os\nIn [2]: import sys\n", "ipython"),  # (a session from the start is one)
    ],
)
def test_a_shell_prompt_with_user_and_host_and_an_ipython_session_are_wrong_labels(
    index: NameIndex, code: str, rule: str
) -> None:
    ctx = _contexts(f"```python\n{code}```\n", index)[0]
    category = "broken" if rule == "SyntaxError" else "style"  # (a typo's arrow stays one)
    assert [(f.rule, f.category.value) for f in ctx.findings] == [(rule, category)]
    session = "In [1]: from proj.tasks import add\n\nIn [2]: add(1, 3)\nOut[2]: 4\n"
    ctx = _contexts(f"```python\n{session}```\n", index)[0]
    assert ctx.block.session and ctx.block.code == "from proj.tasks import add\nadd(1, 3)\n"


def test_a_base_whose_classes_declare_tables_is_not_guessed_to_be_pydantics(
    index: NameIndex,
) -> None:
    """sqlalchemy-mixins' README: `class User(BaseModel): __tablename__ = ...` with the
    project's ORM base named `BaseModel`, never defined. Guessed to be Pydantic's, mypy and
    the run complained of untyped fields: the guess's doing."""
    ormish = "class User(BaseModel):\n    __tablename__ = 'user'\n    id = sa.Column(sa.Integer)\n"
    suggested = _suggested(_contexts(f"```python\n{ormish}```\n", index)[0])
    assert "import" not in (suggested["BaseModel"] or "")  # a fragment: the reader's base
    # another block of the same document, whose class shows no column, means that base too
    later = "class Post(BaseModel):\n    __repr_attrs__ = ['body']\n"
    doc = f"```python\n{later}```\n\n```python\n{ormish}```\n"
    assert "import" not in (_suggested(_contexts(doc, index)[0])["BaseModel"] or "")
    model = "class User(BaseModel):\n    id: int\n    name: str = 'x'\n"
    suggested = _suggested(_contexts(f"```python\n{model}```\n", index)[0])
    assert suggested["BaseModel"] == "from pydantic import BaseModel"


def test_a_block_that_continues_an_earlier_name_gets_its_definition(index: NameIndex) -> None:
    ctxs = _contexts(
        "```python\nimport logging\n\nlog = logging.getLogger()\n```\n\n"
        "```python\nlog = log.getChild('db')\nlog.info('hi')\n```\n",
        index,
    )
    assert ctxs[1].findings == ()
    assert {n for p in ctxs[1].prelude for n in p.statement.binds} >= {"log"}


def test_missing_import_names_the_exact_statement(index: NameIndex) -> None:
    ctxs = _contexts(
        "```python\nimport fastapi\nimport sqlalchemy\n```\n\n"
        "```python\ndef f(db):\n    db.execute(select(1))\n    raise HTTPException(404)\n"
        "    raise IntegrityError('x', None, None)\n```\n",
        index,
    )
    found = _suggested(ctxs[1])
    assert found == {
        "select": "from sqlalchemy import select",
        "HTTPException": "from fastapi import HTTPException",
        "IntegrityError": "from sqlalchemy.exc import IntegrityError",
    }
    assert all(
        f.rule == MISSING_IMPORT and f.category.value == "incomplete" for f in ctxs[1].findings
    )


def test_an_earlier_import_is_context_like_an_earlier_definition(index: NameIndex) -> None:
    ctxs = _contexts(
        "```python\nfrom typing import Dict\n```\n\n```python\nx: Dict[str, int] = {}\n```\n", index
    )
    assert ctxs[1].findings == ()
    assert [p.statement.source for p in ctxs[1].prelude] == ["from typing import Dict\n"]


def test_unknown_name_is_a_fragment_with_placeholder(index: NameIndex) -> None:
    ctxs = _contexts("```python\nprint(user_id + 1)\n```\n", index)
    assert _rules(ctxs[0]) == [(UNDEFINED, "user_id")]
    assert ctxs[0].placeholders == {"user_id"}


def test_variable_names_are_not_matched_to_random_library_names(index: NameIndex) -> None:
    """`user`, `settings`, `token` are the reader's variables, not obscure library exports."""
    ctxs = _contexts(
        "```python\nimport sqlalchemy\nprint(user.name, settings.x, token[:8], db)\n```\n", index
    )
    assert {name for rule, name in _rules(ctxs[0]) if rule == UNDEFINED} == {
        "user",
        "settings",
        "token",
        "db",
    }


def test_stub_declared_name_is_provided(index: NameIndex) -> None:
    ctxs = _contexts("```python\nprint(user_id + 1)\n```\n", index, stubs="user_id: int = 1\n")
    assert ctxs[0].findings == ()
    assert [p.source for p in ctxs[0].provided] == ["stub"]


def test_module_not_installed_is_env_naming_the_distribution(index: NameIndex) -> None:
    ctxs = _contexts("```python\nimport yaml_not_here_xyz\nimport jose\n```\n", index)
    env = [f for f in ctxs[0].findings if f.rule == NOT_INSTALLED]
    assert [f.category.value for f in env] == ["env", "env"]
    assert "python-jose" in env[1].message and env[1].suggestion == "pip install python-jose"
    # A module neither installed metadata nor the table knows: no `pip install` of a name
    # that may be a stranger's project on PyPI.
    assert env[0].suggestion is None and "may be another project" in env[0].message


def test_a_block_using_what_an_earlier_block_imported_from_a_missing_module_is_env(
    index: NameIndex,
) -> None:
    """The earlier block has the ET003; a later block that uses its import (or a value or
    function made with it) runs against the same stand-in: env too, at its first use, with
    the import's document line. A block using nothing of it, and a module the document
    writes itself, stay as they are."""
    ctxs = _contexts(
        "```python\nimport jose\nfrom jose import jwt\n\n"
        "def token(claims):\n    return jwt.encode(claims, 'k')\n\nname = 'x'\n```\n\n"
        "```python\nprint(jose.__version__)\n```\n\n"
        "```python\nprint(token({'sub': name}))\n```\n\n"
        "```python\nprint(name.upper())\n```\n",
        index,
    )
    direct = [f for f in ctxs[1].findings if f.rule == NOT_INSTALLED]
    assert [(f.category.value, f.line, f.column) for f in direct] == [("env", 12, 7)]
    assert direct[0].message.startswith("`jose` comes from `jose`, which is not installed here")
    assert "(imported at line 2)" in direct[0].message
    assert direct[0].suggestion == "pip install python-jose"
    [made] = [f for f in ctxs[2].findings if f.rule == NOT_INSTALLED]
    assert made.line == 16 and made.message.startswith("`token`, from an earlier block, needs")
    assert "(imported at line 3)" in made.message
    assert not ctxs[3].findings  # `name` needs nothing that is missing
    # the module's second import, in another block: what this block uses comes from that one
    ctxs = _contexts(
        "```python\nimport jose\n```\n\n```python\nfrom jose import jwt\n```\n\n"
        "```python\nprint(jwt)\n```\n",
        index,
    )
    [later] = [f for f in ctxs[2].findings if f.rule == NOT_INSTALLED]
    assert later.message.startswith("`jwt` comes from `jose`") and "(imported at line 6)" in (
        later.message
    )


def test_the_examples_own_project_is_never_suggested_for_installation(index: NameIndex) -> None:
    ctxs = _contexts("```python\nfrom app.core.config import settings\nimport jose\n```\n", index)
    own, jose = [f for f in ctxs[0].findings if f.rule == NOT_INSTALLED]
    assert own.category.value == "env" and "own project" in own.message
    assert own.suggestion is None
    assert jose.suggestion == "pip install python-jose"


def test_a_wrong_case_import_is_broken_and_never_suggested(index: NameIndex) -> None:
    ctxs = _contexts(
        "```python\nfrom SQLAlchemy import Column, String\n```\n\n"
        "```python\nname = Column(String)\n```\n",
        index,
    )
    [wrong] = ctxs[0].findings
    assert (wrong.rule, wrong.category.value) == (WRONG_CASE, "broken")
    assert "`sqlalchemy`" in wrong.message
    # The block that uses the names has no finding of its own: the import's block has it.
    assert not [f for f in ctxs[1].findings if f.rule == MISSING_IMPORT]


def test_standalone_directive_ignores_earlier_blocks(index: NameIndex) -> None:
    ctxs = _contexts(
        "```python\napp = 1\n```\n\n<!-- exampletest: standalone -->\n```python\nprint(app)\n```\n",
        index,
    )
    assert _rules(ctxs[1]) == [(UNDEFINED, "app")]


def test_symbols_scoping() -> None:
    s = analyze(
        "import os\n"
        "def f(password):\n    return password + secret\n"
        "class A:\n    x: Dict = {}\n"
        "[y for y in range(3)]\n"
    )
    names = {(u.name, u.eager, u.annotation) for u in s.free}
    assert names == {("secret", False, False), ("Dict", True, True)}


def test_a_name_used_like_a_module_gets_the_module(index: NameIndex) -> None:
    ctxs = _contexts("```python\ntime.sleep(1)\nprint(datetime.now())\n```\n", index)
    assert [f.suggestion for f in ctxs[0].findings] == [
        "import time",
        "from datetime import datetime",
    ]


def test_a_name_frameworks_export_too_is_not_guessed_from_the_standard_library(
    index: NameIndex,
) -> None:
    fragment = "```python\ndef tween(request: Request) -> None:\n    log.info(request)\n```\n"
    ctxs = _contexts(fragment, index)
    assert sorted(_rules(ctxs[0])) == [(UNDEFINED, "Request"), (UNDEFINED, "log")]
    # Once the document imports from urllib.request, its Request is the credible one.
    ctxs = _contexts("```python\nfrom urllib.request import urlopen\n```\n\n" + fragment, index)
    assert _rules(ctxs[1]) == [(MISSING_IMPORT, "Request"), (UNDEFINED, "log")]


def test_an_attribute_of_the_module_means_the_module(index: NameIndex) -> None:
    ctxs = _contexts("```python\nd = datetime.timedelta(days=1)\n```\n", index)
    assert [f.suggestion for f in ctxs[0].findings] == ["import datetime"]


def test_names_of_rarely_used_standard_modules_are_coincidences(index: NameIndex) -> None:
    fragment = (
        "```python\nfor c in Comment.where(post=1):\n    setup(c, version, e, A)\n"
        "raise HTTPException(status_code=404)\n```\n"
    )
    ctxs = _contexts(fragment, index)
    assert sorted(_rules(ctxs[0])) == [
        (MISSING_IMPORT, "HTTPException"),  # FastAPI's (a name only it exports), not http's
        *[(UNDEFINED, name) for name in ("A", "Comment", "e", "setup", "version")],
    ]
    # A common module's class or function is still a credible guess.
    code = "x: Optional[int] = None\nwarn(str(Path('.')))\nf: Callable[[], None]\n"
    ctxs = _contexts(f"```python\n{code}```\n", index)
    assert [f.suggestion for f in ctxs[0].findings] == [
        "from typing import Optional",
        "from warnings import warn",
        "from pathlib import Path",
        "from collections.abc import Callable",  # not typing's deprecated alias
    ]


def test_a_name_only_declared_is_the_readers_to_supply_never_guessed(index: NameIndex) -> None:
    # `path: Path` binds nothing when it runs; `path` is not guessed from the standard library.
    (ctx,) = _contexts(
        "```python\nfrom pathlib import Path\n\npath: Path\nprint(path.name)\n```\n", index
    )
    assert ctx.symbols.declared == {"path"} and "path" not in ctx.symbols.binds
    assert [(p.name, p.source) for p in ctx.provided] == [("path", "declared")]
    assert _rules(ctx) == [("ET002", "path")] and "only declared" in ctx.findings[0].message
    # A value, another binding or a function's `global` make it defined.
    for code in ("path: int = 1\n", "path: int\npath = 1\n", "x: int\ndef f():\n    global x\n"):
        assert not analyze(code).declared


def test_a_line_inside_a_syntax_error_message_is_the_documents(index: NameIndex) -> None:
    (ctx,) = _contexts('# T\n\ntext\n\n```python\nx = 1\ns = """abc\n```\n', index)
    (f,) = ctx.findings
    assert (f.rule, f.line) == ("SyntaxError", 7) and f.message.endswith("(detected at line 7)")


def test_a_later_block_using_a_name_only_declared_earlier_is_told_so(index: NameIndex) -> None:
    ctxs = _contexts(
        "```python\nuser: tuple[str, int]\n```\n\n```python\nname, coins = user\n```\n", index
    )
    assert ctxs[1].missing == ("user",)
    assert "only declared in an earlier block" in ctxs[1].findings[0].message


def test_typing_names_come_from_typing_and_generic_names_are_not_guessed(
    index: NameIndex,
) -> None:
    (ctx,) = _contexts(
        "```python\nimport asyncio\nfrom sqlalchemy.orm import Mapped\n\nif TYPE_CHECKING:\n"
        "    pass\n\nclass App(Protocol): ...\n\nctx: Context = None\nc = Column(Text)\n```\n",
        index,
    )
    imports = {p.name: p.statement for p in ctx.provided if p.source == "import"}
    # Not sqlalchemy's re-export of TYPE_CHECKING, not asyncio's transport Protocol; a
    # library's own class (sqlalchemy.Text) is still the library's.
    assert imports["TYPE_CHECKING"] == "from typing import TYPE_CHECKING"
    assert imports["Protocol"] == "from typing import Protocol"
    assert imports["Text"] == "from sqlalchemy import Text"
    assert "Context" not in imports  # contextvars.Context would be a coincidence of names


def test_code_indented_inside_its_fence_is_checked_without_the_indent(index: NameIndex) -> None:
    (ctx,) = _contexts("```python\n    import os\n    print(os.sep)\n```\n", index)
    assert ctx.symbols.syntax_error is None
    assert [(f.rule, f.category.value, f.line, f.column) for f in ctx.findings] == [
        ("ET005", "style", 2, 5)
    ]


def test_a_stdlib_name_that_works_only_beside_another_is_guessed_only_with_it(
    index: NameIndex,
) -> None:
    def guess(code: str) -> list[str | None]:
        ctxs = _contexts(f"```python\n{code}```\n", index)
        return [p.statement for p in ctxs[0].provided if p.name == "field"]

    # attrs' `field(converter=...)` under `@define` is not `dataclasses.field`.
    assert guess("@define\nclass A:\n    a: int = field(converter=int)\n") == [None]
    assert guess("@dataclass\nclass A:\n    a: list = field(default_factory=list)\n") == [
        "from dataclasses import field"
    ]


def test_decorators_shown_alone_are_an_excerpt_and_other_syntax_errors_stay_broken(
    index: NameIndex,
) -> None:
    assert _found(index, "@click.option('--upper', flag_value='upper')\n") == [
        ("excerpt", "incomplete")
    ]
    assert _found(index, "@app.get(\n    '/items',\n)\n") == [("excerpt", "incomplete")]
    assert _found(index, "@app.get('/')\ndef f(:\n    pass\n") == [("SyntaxError", "broken")]
    # `...` after keyword arguments: "and the rest".
    assert _found(index, "db.add(Movement(type=Kind.OUT, ...))\n") == [("elided", "incomplete")]
    assert _found(index, "f(a=1, b)\n") == [("SyntaxError", "broken")]
    # ... and after a dict's entries; a missing comma before it is still a mistake.
    assert _found(index, "err = {'error': {'code': 'X', ...}}\n") == [("elided", "incomplete")]
    assert _found(index, "err = {'code': 'X' ...}\n") == [("SyntaxError", "broken")]
    # Template placeholders and a parameter list left out.
    assert _found(index, "{var_name}: {type_hint} = {var_value}\n") == [("elided", "incomplete")]
    assert _found(index, "from {your_package}._typing import List\n") == [("elided", "incomplete")]
    items = "routes = [\n    ...\n    Mount('/static', app=None),\n]\n"  # "more items here"
    assert _found(index, items) == [("elided", "incomplete")]
    mustache = "class {{ResourceName}}Base(BaseModel):\n    name: str\n"  # copy-and-fill templates
    assert _found(index, mustache) == [("elided", "incomplete")]
    assert _found(index, "def convert(...) -> ...: ...\n") == [("elided", "incomplete")]
    # Signatures shown one after another, each without its body.
    both = "async def get(id: int) -> Item:\n\n# not this\nasync def get(id: int):\n"
    assert _found(index, both) == [("elided", "incomplete")]
    # An API listing: signatures alone, without a colon or a body.
    listing = "def on_event(self, event: Event)\n\nasync def close() -> None\n"
    assert _found(index, listing) == [("elided", "incomplete")]
    # ... one parameter per line (httpx-sse's README), a default's call among them
    listing = "def connect_sse(\n    client: Client,\n    timeout=Timeout(5),\n) -> Source\n"
    assert _found(index, listing) == [("elided", "incomplete")]
    assert _found(index, "def f(\n    x,\n)\n    return x\n") == [("SyntaxError", "broken")]
    # Python 2, by Python 3's own words: outdated, not a typo.
    assert _found(index, "print 'hello'\n") == [("python2", "stale")]
    assert _found(index, "try:\n    x()\nexcept ValueError, e:\n    pass\n") == [
        ("python2", "stale")
    ]
    # A signature over several lines shown without its body.
    signature = "async def create(\n    item: Item,  # the body\n    db=Depends(get_db),\n):\n"
    assert _found(index, signature) == [("elided", "incomplete")]
    assert _found(index, "def f(x):\nreturn x\n") == [("SyntaxError", "broken")]
    # A template with another mistake: that one is reported, where it is.
    template = "class {Resource}(Base):\n    def f(self):\n    return 1\n"
    ctx = _contexts(f"```python\n{template}```\n", index)[0]
    [finding] = ctx.findings
    assert (finding.rule, finding.category.value, finding.line) == ("SyntaxError", "broken", 4)
    assert "expected an indented block" in finding.message
    assert "read with its elisions filled in" in finding.message
    # A line or two from inside a signature or a dict.
    assert _found(index, "first_name: str, last_name: str\n") == [("excerpt", "incomplete")]
    assert _found(index, '... "item_name": item.name ...\n') == [("excerpt", "incomplete")]
    assert _found(index, "x = [1, 2\n") == [("SyntaxError", "broken")]
    # A clause shown without the statement it belongs to.
    assert _found(index, "except ValidationError as e:\n    print(e)\n") == [
        ("excerpt", "incomplete")
    ]
    assert _found(index, "# then\nelse:\n    x = 1\n") == [("excerpt", "incomplete")]
    assert _found(index, "except ValueError\n    pass\n") == [("SyntaxError", "broken")]
    # ... also after other code: an anti-pattern list's `except CancelledError: return None`
    listed = "# NEVER\nx = await gather()\n\n# NEVER\nexcept CancelledError:\n    pass\n"
    assert _found(index, listed)[0] == ("excerpt", "incomplete")
    assert _found(index, "x = 1\nexcept E\n    pass\n")[0] == ("SyntaxError", "broken")
    # a clause right after other code is out of place, not an excerpt
    split = "try:\n    v = int(t)\nexcept ValueError:\n    v = 0\nprint(v)\n"
    split += "except TypeError:\n    v = 1\n"
    assert _found(index, split)[0] == ("SyntaxError", "broken")


def test_a_stdlib_guess_that_cannot_be_what_the_block_uses_is_dropped(index: NameIndex) -> None:
    def guess(code: str, name: str) -> list[str | None]:
        ctxs = _contexts(f"```python\n{code}```\n", index)
        return [p.statement for p in ctxs[0].provided if p.name == name]

    # weakref's ReferenceType has no ORDER: the document's own enum.
    assert guess("db.add(Move(kind=ReferenceType.ORDER))\n", "ReferenceType") == [None]
    # A keyword the class does not take.
    assert guess("d = OrderedDict(a=1)\nx = Decimal('1', places=2)\n", "Decimal") == [None]
    # What fits stays guessed.
    assert guess("x = Decimal('1.5').quantize(Decimal('1'))\n", "Decimal") == [
        "from decimal import Decimal"
    ]
    assert guess("return Token(access_token=t, token_type='bearer')\n", "Token") == [None]


def test_a_name_only_earlier_blocks_use_is_guessed_from_their_use(index: NameIndex) -> None:
    ctxs = _contexts(
        "```python\ndef today() -> str:\n    return datetime.datetime.today().isoformat()\n```\n\n"
        "```python\nprint(today())\n```\n",
        index,
    )
    # The earlier block reads `datetime.datetime`: the module, not the class.
    assert [(p.name, p.statement) for p in ctxs[1].provided] == [("datetime", "import datetime")]


def test_a_stdlib_module_the_block_reads_a_missing_attribute_of_is_not_guessed(
    index: NameIndex,
) -> None:
    ctxs = _contexts("```python\nqueue.enqueue(say_hello)\nq = queue.Queue()\n```\n", index)
    assert [p.statement for p in ctxs[0].provided if p.name == "queue"] == [None]
    ctxs = _contexts("```python\nq = queue.Queue()\n```\n", index)
    assert [p.statement for p in ctxs[0].provided if p.name == "queue"] == ["import queue"]
    # A submodule is an attribute only once imported: `logging.handlers` is logging's.
    ctxs = _contexts("```python\nh = logging.handlers.SysLogHandler()\n```\n", index)
    assert [p.statement for p in ctxs[0].provided if p.name == "logging"] == ["import logging"]


def test_the_documents_own_later_import_of_a_name_beats_a_guess(index: NameIndex) -> None:
    ctxs = _contexts(
        "```python\ngen = Generator(model)\n```\n\n"
        "```python\nfrom outlines_not_here import Generator\n```\n",
        index,
    )
    assert [(p.name, p.statement) for p in ctxs[0].provided if p.name == "Generator"] == [
        ("Generator", "from outlines_not_here import Generator")
    ]


def test_shell_commands_in_a_python_fence_are_a_label_to_fix_not_broken_python(
    index: NameIndex,
) -> None:
    """A whole block of commands (or a `$ ` session with its output) is mislabelled: style.
    A command line above Python the reader must run elsewhere: the block is incomplete.
    Python that merely starts with a command's name stays what it is."""
    assert _found(index, "$ pip install fastapi\n$ uvicorn main:app --reload\n") == [
        ("shell", "style")
    ]
    assert _found(index, "$ python main.py\nHello, world\n") == [("shell", "style")]
    assert _found(index, 'pip install "fastapi[standard]"\n') == [("shell", "style")]
    assert _found(index, "pip install fastapi\nfrom fastapi import FastAPI\n") == [
        ("shell", "incomplete")
    ]
    assert _found(index, "import os\nexport = os.getcwd(\n") == [("SyntaxError", "broken")]


def test_code_that_parses_once_its_elisions_are_filled_in_is_incomplete(
    index: NameIndex,
) -> None:
    assert _found(
        index, "def get_handler(..., config, ...):\n    return H(..., config=config)\n"
    ) == [("elided", "incomplete")]
    assert _found(index, "model = <your_model_as_defined_above>\n") == [("elided", "incomplete")]
    assert _found(index, "def handler(job, *exc_info):\n    # do custom things here\n") == [
        ("elided", "incomplete")
    ]
    assert _found(index, "%pip install outlines -q\nimport json\n") == [("notebook", "incomplete")]
    assert _found(index, "item = Model.query.filter(.....).one()\n") == [("elided", "incomplete")]
    # an agent command's `$ARGUMENTS`, where the reader's input goes
    assert _found(index, "from app.schemas.$ARGUMENTS import Item\n") == [("elided", "incomplete")]
    # `...,` on a line of its own among a dict's entries: more of them
    then = 'db = {\n    "johndoe": {\n        "username": "johndoe",\n        ...,\n    }\n}\n'
    assert _found(index, then) == [("elided", "incomplete")]
    then = 'db = {\n    "a": 1,\n    ...\n    "b": 2,\n}\n'  # (no comma after it)
    assert _found(index, then) == [("elided", "incomplete")]
    then = "def create(...):\n    ...\n\nraise KeyError(...)\n"  # a body's `...` stays
    assert _found(index, then) == [("elided", "incomplete")]
    # a template's `${NUM}` (the `{NUM}` inside it is not read first, leaving a `$`)
    assert _found(index, "run(max_turns=${NUM})\n") == [("elided", "incomplete")]
    # `async def ask(self, request): ...` and then its body: the `...` is "and so on"
    then = "async def ask(self, request): ...\n    raise NotFound(request.id)\n"
    assert _found(index, then) == [("elided", "incomplete")]
    stubs = (
        "class R(Protocol):\n    def get(self) -> int: ...\n        def put(self) -> None: ...\n"
    )
    assert _found(index, stubs)[0] == ("SyntaxError", "broken")  # a stub indented under a stub
    assert _found(index, "x = 1\n    y = 2\n")[0] == ("SyntaxError", "broken")
    # A real mistake next to an elision stays broken; so does a body that lost its indent.
    assert _found(index, "m = <your model>\nfor c in m.stream()\n    print(c)\n")[0][1] == "broken"
    assert _found(index, "def read():\ncfg = 1\n")[0] == ("SyntaxError", "broken")


def test_a_name_an_earlier_block_defines_is_context_though_another_block_imports_it(
    index: NameIndex,
) -> None:
    main = "```python\n# app/main.py\nfrom fastapi import FastAPI\n\n\ndef create_app():\n"
    main += "    return FastAPI()\n```\n\n"
    test = "```python\n# tests/conftest.py\nfrom app.main import create_app\n\n"
    test += "app = create_app()\n```\n\n"
    later = "```python\n# app/main.py\napp = create_app()\n```\n"
    *_, last = _contexts(main + test + later, index)
    assert _rules(last) == []


def test_a_block_that_is_a_module_never_gets_an_import_from_itself(index: NameIndex) -> None:
    first = "```python\n# app/main.py\napp = create_app()\n```\n\n"
    other = "```python\nfrom app.main import create_app\n\nprint(create_app)\n```\n"
    ctx, _ = _contexts(first + other, index)
    assert [p.source for p in ctx.provided if p.name == "create_app"] == ["placeholder"]
    assert not any("from app.main" in (f.suggestion or "") for f in ctx.findings)


def test_a_stdlib_function_or_class_the_block_only_passes_along_is_its_own_value(
    index: NameIndex,
) -> None:
    def guess(code: str, name: str) -> list[str | None]:
        ctxs = _contexts(f"```python\n{code}```\n", index)
        return [p.statement for p in ctxs[0].provided if p.name == name]

    assert guess("context = {'count': count}\n", "count") == [None]
    assert guess("print(isinstance(array, list) and len(array) > 0)\n", "array") == [None]
    # Called, passed by keyword, or a type: the library's.
    assert guess("ids = Field(default_factory=uuid4)\n", "uuid4") == ["from uuid import uuid4"]
    assert guess("for i in count(1):\n    break\n", "count") == ["from itertools import count"]
    assert guess("def f(p: Path) -> None: ...\n", "Path") == ["from pathlib import Path"]


def test_a_standard_type_or_function_beats_a_librarys_name_for_it(index: NameIndex) -> None:
    """In a document that imports SQLAlchemy and FastAPI: ``item_id: UUID`` is uuid's (a SQL
    column type is never a value's type), and ``@asynccontextmanager`` contextlib's (FastAPI
    re-exports it, which is no reason to import it from there). A SQLAlchemy type passed to a
    column stays SQLAlchemy's."""
    ctxs = _contexts(
        "```python\nfrom sqlalchemy import Column\nfrom fastapi import FastAPI\n```\n\n"
        "```python\nasync def delete_item(item_id: UUID) -> None: ...\n```\n\n"
        "```python\n@asynccontextmanager\nasync def lifespan(app: FastAPI):\n    yield\n```\n\n"
        "```python\nid = Column(UUID(as_uuid=True))\n```\n",
        index,
    )
    assert [[f.suggestion for f in c.findings] for c in ctxs[1:]] == [
        ["from uuid import UUID"],
        ["from contextlib import asynccontextmanager"],
        ["from sqlalchemy import UUID"],
    ]


def test_a_package_the_document_imports_from_is_suggested_when_used_bare(
    index: NameIndex,
) -> None:
    """Not installed, so the index does not know it; the document itself names it."""
    ctxs = _contexts(
        "```python\nfrom notinstalled_xyz.gen import make\n```\n\n"
        "```python\nc = notinstalled_xyz.Converter()\nprint(c, other_thing)\n```\n",
        index,
    )
    found = _suggested(ctxs[1])
    assert found["notinstalled_xyz"] == "import notinstalled_xyz"
    assert not (found["other_thing"] or "").startswith("import")  # a fragment's own name


def test_server_names_are_never_guessed_from_an_http_client(index: NameIndex) -> None:
    """A document that calls an API with requests: a middleware's ``Request`` is the web
    framework's, and ``Path(..., gt=0)`` is FastAPI's (pathlib's takes no keywords)."""
    ctxs = _contexts(
        "```python\nimport requests\n\nrequests.get('https://x.test', timeout=5)\n```\n\n"
        "```python\nasync def dispatch(request: Request, call_next):\n    return 1\n\n\n"
        "async def get_user(user_id: int = Path(..., gt=0)):\n    return Path('a') / 'b'\n```\n",
        index,
    )
    found = _suggested(ctxs[1])
    assert not (found["Request"] or "").startswith("from requests")
    assert not (found["Path"] or "").startswith("from pathlib")


def test_an_elided_blocks_other_statements_and_later_definitions_are_known(
    index: NameIndex,
) -> None:
    """``from <service>.settings import settings`` elides one import: the block's others are
    still context for later blocks; a name only a later block defines is said to be there."""
    ctxs = _contexts(
        "```python\nfrom contextlib import asynccontextmanager\nfrom fastapi import FastAPI\n"
        "from <service>.settings import settings\n\napp = FastAPI()\n```\n\n"
        "```python\n@asynccontextmanager\nasync def lifespan(app: FastAPI):\n    yield\n\n\n"
        "def get_user(user_id: int) -> User:\n    return User(id=user_id)\n```\n\n"
        "```python\nclass User:\n    def __init__(self, id: int) -> None:\n"
        "        self.id = id\n```\n",
        index,
    )
    assert [f.rule for f in ctxs[0].findings] == ["elided"]
    [fragment] = ctxs[1].findings
    assert "`User` is defined only in a later block (line 20)" in fragment.message


def test_a_module_named_after_the_documents_project_folder_is_its_own(
    index: NameIndex, tmp_path: Path
) -> None:
    """``fastapi-pagination-0.12/docs/x.md`` importing ``fastapi_pagination``: the project's
    own docs, not "PyPI's `fastapi_pagination` may be another project"."""
    text = b"```python\nfrom notinstalled_proj import Page\n```\n"
    doc = parse_document(str(tmp_path / "notinstalled-proj-1.2" / "docs" / "x.md"), text)
    [ctx] = analyze_document(doc.blocks, index, None)
    [env] = ctx.findings
    assert "in the folder of its project (`notinstalled-proj-1.2`)" in env.message
    assert env.suggestion is None
    elsewhere = parse_document(str(tmp_path / "docs" / "x.md"), text)
    [ctx] = analyze_document(elsewhere.blocks, index, None)
    assert "may be another project" in ctx.findings[0].message


def test_a_fragments_column_counts_characters(index: NameIndex) -> None:
    code = 'msg = "ééééé🚀"; print(undefined_u)\n'
    [ctx] = _contexts(f"```python\n{code}```\n", index)
    [f] = ctx.findings
    assert f.column == code.index("undefined_u") + 1


def test_a_document_of_fragments_that_evidently_uses_the_stack_gets_its_imports(
    index: NameIndex,
) -> None:
    """No block imports anything, but `Column` and `relationship` are SQLAlchemy's: their
    imports are suggested as if the document imported SQLAlchemy somewhere."""
    code = "class User(Base):\n    id = Column(Integer, primary_key=True)\n"
    code += "    items = relationship('Item')\n"
    [ctx] = _contexts(f"```python\n{code}```\n", index)
    found = {name: (rule, f.suggestion) for f in ctx.findings for rule, name in [_rules_of(f)]}
    assert found["Column"] == (MISSING_IMPORT, "from sqlalchemy import Column")
    assert found["relationship"] == (MISSING_IMPORT, "from sqlalchemy.orm import relationship")
    assert found["Base"][0] == UNDEFINED  # the reader's own base class: no guess


def test_one_stack_name_alone_or_another_library_imported_is_no_evidence(
    index: NameIndex,
) -> None:
    """`Response` alone could be any framework's; a Django document's `Column`-like names
    are Django's: the document imports another library."""
    [alone] = _contexts("```python\nreturn_value = Response(content)\n```\n", index)
    assert all(f.rule == UNDEFINED for f in alone.findings)
    code = "import django\n\nx = Column(Integer)\ny = relationship('Item')\n"
    [other] = _contexts(f"```python\n{code}```\n", index)
    assert {f.rule for f in other.findings} == {UNDEFINED, NOT_INSTALLED}  # django: not here


def _rules_of(finding: Finding) -> tuple[str, str]:
    return finding.rule, finding.message.split("`")[1]


def test_a_test_frameworks_name_is_guessed_only_for_test_code(index: NameIndex) -> None:
    """The document's tests import pytest; a route's `Item` is still the reader's model."""
    route = "from sqlalchemy import select\n\nasync def items(db):\n    return select(Item)\n"
    tests = "import pytest\n\n@pytest.fixture\ndef data():\n    return 1\n"
    ctxs = _contexts(f"```python\n{route}```\n\n```python\n{tests}```\n", index)
    assert [_rules_of(f) for f in ctxs[0].findings] == [(UNDEFINED, "Item")]

    # the framework itself by its own name, and a mock's names where the code mocks
    check = "if not docker_available:\n    pytest.fail('Docker is required')\n"
    mocks = "mock_llm.ainvoke = AsyncMock(return_value=1)\nmock_llm.ainvoke.assert_called()\n"
    first, second = _contexts(f"```python\n{check}```\n\n```python\n{mocks}```\n", index)
    assert _suggested(first)["pytest"] == "import pytest"
    assert _suggested(second)["AsyncMock"] == "from unittest.mock import AsyncMock"


def test_a_submodule_read_as_a_module_is_its_packages_when_it_has_what_is_read(
    index: NameIndex,
) -> None:
    """`@event.listens_for(...)` in a SQLAlchemy document: `from sqlalchemy import event`,
    the one module named `event` that has `listens_for`. `engine.sync_engine` is the reader's
    engine (`sqlalchemy.engine` has no `sync_engine`), so it stays a fragment's name; so do
    FastAPI's `Path` where the code reads `Path(__file__).parent`."""
    code = (
        "from sqlalchemy import select\n\n\n@event.listens_for(engine.sync_engine, 'connect')\n"
        "def pragma(conn, _):\n    conn.execute(select(1))\n\n\n"
        "ROOT = Path(__file__).parent\n"
    )
    held = "UPLOADS = Path('uploads')\nUPLOADS.mkdir(exist_ok=True)\nprint(open(Path('a.txt')))\n"
    held += "FOLDERS = [Path('static'), Path('media')]\n"
    [kept] = _contexts(
        f"```python\nfrom fastapi import FastAPI\n```\n\n```python\n{held}```\n", index
    )[1:]
    assert _suggested(kept)["Path"] == "from pathlib import Path"
    # a list of markers kept for `dependencies=`: FastAPI's; a list of paths: pathlib's
    kept = "COMMON = [Depends(verify)]\napp = FastAPI(dependencies=COMMON)\n"
    [ctx] = _contexts(
        f"```python\nfrom fastapi import FastAPI\n```\n\n```python\n{kept}```\n", index
    )[1:]
    assert _suggested(ctx)["Depends"] == "from fastapi import Depends"
    paths = "FOLDERS = [Path('static'), Path('media')]\n"
    [ctx] = _contexts(
        f"```python\nfrom fastapi import FastAPI\n```\n\n```python\n{paths}```\n", index
    )[1:]
    assert _suggested(ctx)["Path"] == "from pathlib import Path"
    two = "SUBJECTS = [Header('Bestellung', 'utf-8')]\n"  # FastAPI's take one positional
    [ctx] = _contexts(
        f"```python\nfrom fastapi import FastAPI\n```\n\n```python\n{two}```\n", index
    )[1:]
    assert _suggested(ctx)["Header"] != "from fastapi import Header"
    # a marker in the annotation (a slip mypy reports) is still FastAPI's
    slip = "async def me(token: Depends(scheme)):\n    return token\n"
    [ctx] = _contexts(
        f"```python\nfrom fastapi import FastAPI\n```\n\n```python\n{slip}```\n", index
    )[1:]
    assert _suggested(ctx)["Depends"] == "from fastapi import Depends"
    [ctx] = _contexts(
        f"```python\nfrom fastapi import FastAPI\n```\n\n```python\n{code}```\n", index
    )[1:]
    found = _suggested(ctx)
    assert found["event"] == "from sqlalchemy import event"
    assert found["Path"] == "from pathlib import Path"
    assert (UNDEFINED, "engine") in _rules(ctx)


def test_the_readers_project_package_is_not_their_app_instance(index: NameIndex) -> None:
    """`app.include_router` reads what the `app` package never showed: the FastAPI app. A
    block named after its module never imports itself (`# main.py`)."""
    code = "# main.py\nfrom app.api import items\n\napp.include_router(items.router)\n"
    [ctx] = _contexts(f"```python\n{code}```\n", index)
    assert (UNDEFINED, "app") in [_rules_of(f) for f in ctx.findings]
    code = "from app.api import items\n\nrouter = app.api.items.router\n"
    [ctx] = _contexts(f"```python\n{code}```\n", index)
    assert all(f.suggestion != "import app" for f in ctx.findings if f.rule == UNDEFINED)
    handler = "# main.py\n@app.exception_handler(ValueError)\nasync def h(request, exc):\n"
    handler += "    return None\n"
    later = "from app.main import app\n\nprint(app)\n"
    ctxs = _contexts(f"```python\n{handler}```\n\n```python\n{later}```\n", index)
    assert [_rules_of(f) for f in ctxs[0].findings] == [(UNDEFINED, "app")]


def test_a_signature_name_or_a_deep_public_class_is_suggested_beside_other_imports(
    index: NameIndex,
) -> None:
    """`BaseModel` alone is Pydantic's; `AsyncSession` is sqlalchemy.ext.asyncio's (a deep
    module examples import from), but `async_session` there is the reader's sessionmaker."""
    [ctx] = _contexts("```python\nclass User(BaseModel):\n    name: str\n```\n", index)
    assert [f.suggestion for f in ctx.findings] == ["from pydantic import BaseModel"]
    code = "import redis\nfrom sqlalchemy import select\n\n"
    code += "async def get(db: AsyncSession):\n    async with async_session() as s:\n"
    code += "        return await s.execute(select(1))\n"
    [ctx] = _contexts(f"```python\n{code}```\n", index)
    found = {name: rule for rule, name in map(_rules_of, ctx.findings) if rule != NOT_INSTALLED}
    assert found == {"AsyncSession": MISSING_IMPORT, "async_session": UNDEFINED}
    django = "from rest_framework.views import APIView\n\nclass V(APIView, BaseModel):\n    pass\n"
    [ctx] = _contexts(f"```python\n{django}```\n", index)
    assert (UNDEFINED, "BaseModel") in [_rules_of(f) for f in ctx.findings]


def test_a_name_the_document_defines_is_not_imported_from_its_own_project(
    index: NameIndex,
) -> None:
    """A conftest's `from app.db.session import get_db` is a layout the fix cannot check;
    the block that defines `get_db` (later) is what the reader has."""
    route = "def items(db=Depends(get_db)):\n    return db\n"
    define = "def get_db():\n    yield None\n"
    conftest = "from app.db.session import get_db\n"
    text = "".join(f"```python\n{c}```\n\n" for c in (route, define, conftest))
    ctxs = _contexts(text, index)
    found = {name: (rule, f.message) for f in ctxs[0].findings for rule, name in [_rules_of(f)]}
    assert found["get_db"][0] == UNDEFINED and "later block" in found["get_db"][1]


def test_a_module_is_not_guessed_when_its_family_exception_is_not_in_it(
    index: NameIndex,
) -> None:
    """``jwt`` beside ``JWTError``: PyJWT (installed) has no ``JWTError``; the fragment is
    python-jose's ``from jose import JWTError, jwt``, and ``import jwt`` would leave the
    ``except`` clause a NameError. ``jwt`` alone is PyJWT's as before."""
    lone = _contexts(
        "```python\nfrom jwt import PyJWTError\n```\n\n"
        "```python\ndef f(token):\n    try:\n        return jwt.decode(token, 'k')\n"
        "    except JWTError:\n        return None\n```\n\n"
        "```python\ndef g(token):\n    return jwt.decode(token, 'k')\n```\n",
        index,
    )
    found = _suggested(lone[1])
    assert not (found["jwt"] or "").startswith("import jwt")
    assert _suggested(lone[2]) == {"jwt": "import jwt"}


def test_a_tutorial_block_gets_the_state_the_earlier_ones_set_up(index: NameIndex) -> None:
    """Run in order, a tutorial's query sees the tables ``create_all`` made and the class a
    relationship names by string further down; a call that runs a server is no set-up."""
    ctxs = _contexts(
        "```python\nfrom sqlalchemy import create_engine\n"
        "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship\n\n\n"
        "class Base(DeclarativeBase):\n    pass\n\n\nclass User(Base):\n"
        "    __tablename__ = 'u'\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
        "    addresses: Mapped[list['Address']] = relationship()\n\n\n"
        "class Address(Base):\n    __tablename__ = 'a'\n"
        "    id: Mapped[int] = mapped_column(primary_key=True)\n```\n\n"
        "```python\nengine = create_engine('sqlite://')\nBase.metadata.create_all(engine)\n"
        "print('made')\nengine.run()\n```\n\n"
        "```python\nfrom sqlalchemy.orm import Session\n\nwith Session(engine) as session:\n"
        "    session.add(User())\n    session.commit()\n```\n\n"
        "```python\nprint(User, engine)\n```\n",
        index,
    )
    sources = [p.statement.source.strip() for p in ctxs[3].prelude]
    assert any(s.startswith("with Session(engine) as session:") for s in sources)
    assert "Base.metadata.create_all(engine)" in sources
    assert any(s.startswith("class Address") for s in sources)
    assert "engine.run()" not in sources and "print('made')" not in sources


def test_a_library_function_is_not_the_name_whose_attributes_the_block_reads(
    index: NameIndex,
) -> None:
    """``table.insert()`` is the reader's Table; ``sqlalchemy.table`` is a function."""
    ctxs = _contexts(
        "```python\nfrom sqlalchemy import create_engine\n```\n\n"
        "```python\nwith engine.begin() as conn:\n    conn.execute(table.insert(), {'x': 1})\n"
        "print(select(1))\n```\n",
        index,
    )
    found = _suggested(ctxs[1])
    assert not (found["table"] or "").startswith("from sqlalchemy")
    assert found["select"] == "from sqlalchemy import select"  # called: still guessed


def test_a_legacy_module_the_document_imports_from_is_never_suggested(index: NameIndex) -> None:
    ctxs = _contexts(
        "```python\nstmt = select(1)\n```\n\n"
        "```python\nfrom sqlalchemy.future import select\n```\n",
        index,
    )
    found = _suggested(ctxs[0])
    assert found["select"] == "from sqlalchemy import select"


def test_an_earlier_block_that_does_not_parse_still_imports_what_it_imports(
    index: NameIndex,
) -> None:
    ctxs = _contexts(
        "```python\nfrom sqlalchemy.orm import (\n    Session,\n)\nimport json\n\n"
        'print(f"x: {json.dumps(1)})\n```\n\n'
        "```python\nwith Session(engine) as session:\n    print(json.dumps(2))\n```\n",
        index,
    )
    assert {"Session", "json"} <= {n for p in ctxs[1].prelude for n in p.statement.binds}
    assert not any("Session" in f.message for f in ctxs[1].findings)


def _standins(index: NameIndex, text: str) -> dict[str, str | None]:
    """Each placeholder of the last block -> the framework class standing in for it."""
    ctx = _contexts(text, index)[-1]
    return {p.name: p.standin for p in ctx.provided if p.source == "placeholder"}


def test_an_undefined_app_that_routes_gets_a_real_fastapi_stand_in(index: NameIndex) -> None:
    head = "```python\nfrom fastapi import FastAPI, APIRouter\n```\n\n"
    routes = (
        '```python\n@app.get("/")\ndef home():\n    return 1\n\n\n'
        '@users_router.post("/u")\ndef add(user: UserIn):\n    return user\n\n\n'
        "print(db)\n```\n"
    )
    standins = _standins(index, head + routes)
    assert standins == {
        "app": "fastapi:FastAPI",
        "users_router": "fastapi:APIRouter",
        "UserIn": None,  # a type, not something routes are registered on
        "db": None,
    }
    message = next(f.message for f in _contexts(head + routes, index)[-1].findings)
    assert "checked with a new `fastapi.FastAPI()` in its place" in message


def test_no_fastapi_stand_in_without_fastapi_or_beside_another_framework(
    index: NameIndex,
) -> None:
    routes = '```python\n@app.get("/")\ndef home():\n    return 1\n```\n'
    assert _standins(index, routes) == {"app": None}  # Flask 2 has @app.get too
    flask = "```python\nfrom fastapi import FastAPI\nfrom flask import Flask\n```\n\n"
    assert _standins(index, flask + routes) == {"app": None}
    used = "```python\nfrom fastapi import FastAPI\n```\n\n```python\nprint(app.title)\n```\n"
    assert _standins(index, used) == {"app": None}  # nothing registered on it


def test_a_session_continuation_without_its_prompt_is_a_style_finding(index: NameIndex) -> None:
    doc = "```pycon\n>>> d = dict(a=1,\n         b=2)\n>>> d\n{'a': 1, 'b': 2}\n```\n"
    ctx = _contexts(doc, index)[0]
    assert [(f.rule, f.category.value, f.line) for f in ctx.findings] == [("ET006", "style", 3)]


def test_strings_a_relationship_evaluates_are_names_the_block_refers_to() -> None:
    """``secondary="post_tags"``, ``order_by="Tag.name"``: resolved by the mappers once every
    class is defined, like ``relationship("Tag")``; another keyword's string is not a name."""
    code = (
        "class Post(Base):\n    tags = relationship(secondary='post_tags', order_by='Tag.name',"
        " back_populates='posts', lazy='selectin')\n"
        "    author = relationship('User', info='Note')\n"
    )
    assert analyze(code).refers == {"post_tags", "Tag", "User"}


def test_a_module_named_like_a_source_folder_is_still_the_documents_module() -> None:
    """`# src.py` (a blog post's file) is the module `src`; `src/app.py` is `app`; a title
    that names no module (`__init__.py` alone) is none."""
    from exampletest.context import document_modules

    doc = parse_document(
        "t.md",
        b"```python\n# src.py\nx = 1\n```\n\n```python\n# src/app.py\ny = 2\n```\n\n"
        b"```python\n# __init__.py\nz = 3\n```\n",
    )
    assert {m: [b.index for b in bs] for m, bs in document_modules(doc.blocks).items()} == {
        "src": [1],
        "app": [2],
    }


def test_a_fence_is_split_into_files_only_at_comments_that_name_them() -> None:
    """Lines `# app/models.py` at the left, the first at the top: one file each, on the
    block's own line numbers. A line like it inside a string (a scaffold's template), or
    indented, or a first one below other code, splits nothing."""
    from exampletest.context import file_sections

    code = "# app/models.py\nX = 1\n\n# app/main.py\nfrom app.models import X\n"
    assert file_sections(code) == (
        ("app/models.py", "# app/models.py\nX = 1\n\n"),
        ("app/main.py", "\n\n\n# app/main.py\nfrom app.models import X\n"),
    )
    template = "# scaffold.py\nMODELS = '''\\\n# models.py\nclass A: ...\n'''\n"
    indented = "# a.py\ndef f():\n    # b.py\n    return 1\n"
    below = "import os\n# a.py\nx = 1\n# b.py\ny = 2\n"
    assert file_sections(template) == file_sections(indented) == file_sections(below) == ()


def test_env_file_settings_above_python_make_the_block_incomplete(index: NameIndex) -> None:
    """`PH_API_TOKEN=abc123` and `DATABASE_URL=sqlite:///x.db` (a `.env` file's) above the
    Python that loads them: without them the code parses (incomplete, `configuration`). A
    block of settings alone is a wrong label (style)."""
    code = (
        "# .env file\nPH_API_TOKEN=abc123\nDATABASE_URL=sqlite:///data/app.db\n\n"
        "from pydantic_settings import BaseSettings\n"
    )
    assert _found(index, code) == [("configuration", "incomplete")]
    assert _found(index, "sqlalchemy.url = sqlite:///artists.db\n") == [("configuration", "style")]
    # a Python typo, or a value missing its quotes, is no env file
    assert _found(index, "price = 10\ntotal = price *\nprint(total)\n") == [
        ("SyntaxError", "broken")
    ]
    assert _found(index, "BASE_URL = https://x.org/api\nimport os\n") == [("SyntaxError", "broken")]
    # a typo in the Python below the settings stays the block's
    assert _found(index, "DEBUG=true\nURL=sqlite:///x.db\n\nimport os\nos.path(\n") == [
        ("SyntaxError", "broken")
    ]
