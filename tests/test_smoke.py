"""The smoke stage end to end on small documents: two passes, evidence rules, containment."""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def _findings(run_json: Any, *args: str) -> list[dict[str, Any]]:
    _code, report = run_json("--stages", "smoke", "--no-cache", *args)
    return [f for b in report["documents"][0]["blocks"] for f in b["findings"]]


def _rules_by_block(run_json: Any, path: str) -> list[list[tuple[str, str]]]:
    """(category, rule) of each block's findings, smoke only."""
    _code, report = run_json("--stages", "smoke", "--no-cache", path)
    return [
        [(f["category"], f["rule"]) for f in b["findings"]]
        for b in report["documents"][0]["blocks"]
    ]


def _doc(write_doc: Callable[[str, str], Path], code: str) -> str:
    write_doc("d.md", f"# T\n\n```python\n{code}```\n")
    return "d.md"


def _one(
    write_doc: Callable[[str, str], Path], run_json: Any, code: str, *args: str
) -> dict[str, Any]:
    """The one finding of a one-block document with ``code``."""
    (found,) = _findings(run_json, _doc(write_doc, code), *args)
    return found


def test_a_missing_import_stays_incomplete_and_says_where_running_it_stops(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    doc = _doc(write_doc, "def f(x: Dict[str, int]) -> None:\n    return select(x)\n")
    by_name = {f["message"].split("`")[1]: f for f in _findings(run_json, doc)}
    assert by_name["Dict"]["category"] == "incomplete"  # a fragment, as the contract has it
    assert "python:NameError" in by_name["Dict"]["corroboration"]  # the annotation runs
    assert "running it as written stops here" in by_name["Dict"]["message"]
    assert by_name["select"]["category"] == "incomplete"  # only inside the body
    assert "python:NameError" not in by_name["select"].get("corroboration", [])


def test_every_eager_missing_name_is_proven_not_just_the_first(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    doc = _doc(write_doc, "a: Dict[str, int] = {}\nb = Decimal('1')\n")
    seen = {f["message"].split("`")[1]: f["corroboration"] for f in _findings(run_json, doc)}
    assert seen == {"Dict": ["python:NameError"], "Decimal": ["python:NameError"]}


def test_names_needed_in_class_bodies_and_called_functions_are_proven(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    # Only `Enum` stops the block as written; `auto` (a class body) and `Decimal` (a function
    # the top level calls) are seen looked up once the earlier names are there.
    doc = _doc(
        write_doc,
        "class Color(Enum):\n    RED = auto()\n\n"
        "def price():\n    return Decimal('1')\n\nprice()\n",
    )
    seen = {f["message"].split("`")[1]: f["corroboration"] for f in _findings(run_json, doc)}
    assert seen == {n: ["python:NameError"] for n in ("Enum", "auto", "Decimal")}


def test_a_stand_in_in_the_error_after_the_first_is_not_evidence(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    # As written the block stops at `Dict`; given `Dict`, it raises a stand-in for the
    # reader's own exception class, which is no evidence of anything.
    doc = _doc(write_doc, "cache: Dict[str, int] = {}\nraise UserNotFound('x')\n")
    found = _findings(run_json, doc)
    assert {(f["rule"], f["category"]) for f in found} == {
        ("ET001", "incomplete"),
        ("ET002", "incomplete"),
    }


def test_second_pass_finds_problems_hidden_behind_the_first_error(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    doc = _doc(
        write_doc,
        "from pydantic import BaseModel\n\nclass M(BaseModel):\n    x: List[int] = []\n\n"
        "    class Config:\n        orm_mode = True\n",
    )
    found = _findings(run_json, doc)
    assert any("python:NameError" in f["corroboration"] and "`List`" in f["message"] for f in found)
    # Only visible once `List` is provided: Pydantic's renamed-key warning, as stale.
    assert any(f["category"] == "stale" and "orm_mode" in f["message"] for f in found)


def test_placeholder_trouble_is_not_evidence(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    doc = _doc(write_doc, "total = int(order_total) + tax_rate * 3\nprint(total)\n")
    found = _findings(run_json, doc)
    assert {f["rule"] for f in found} == {"ET002"}
    assert all(f["category"] == "incomplete" for f in found)


def test_settings_without_environment_is_env(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    f = _one(
        write_doc,
        run_json,
        "from pydantic_settings import BaseSettings\n\nclass S(BaseSettings):\n    api_key: str\n\n"
        "settings = S()\n",
    )
    assert (f["category"], f["line"]) == ("env", 9)


def test_runtime_deprecation_is_stale_at_the_decorator(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    doc = _doc(
        write_doc,
        "from pydantic import BaseModel, validator\n\nclass M(BaseModel):\n    x: int\n\n"
        "    @validator('x')\n    def check(cls, v):\n        return v\n",
    )
    (f,) = [f for f in _findings(run_json, doc) if f["rule"] == "PydanticDeprecatedSince20"]
    assert (f["category"], f["line"]) == ("stale", 9)


def test_top_level_await_and_relative_imports_run(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    doc = _doc(
        write_doc,
        "import asyncio\nfrom .models import User\n\nasync def f():\n    return User\n\n"
        "print(await f())\n",
    )
    found = _findings(run_json, doc)
    assert [(f["rule"], f["category"]) for f in found] == [("ET003", "env")]


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("while True:\n    pass\n", "timeout"),
        ("import sys\nsys.exit(3)\n", "SystemExit"),
        ("open('../escape.txt', 'w').write('x')\n", "sandbox:write"),
    ],
)
def test_hostile_blocks_are_contained_findings(
    write_doc: Callable[[str, str], Path], run_json: Any, in_tmp: Path, code: str, kind: str
) -> None:
    doc = _doc(write_doc, code)
    found = _findings(run_json, "--smoke-timeout", "1.5", doc)
    assert any(kind in f["rule"] and f["category"] == "broken" for f in found), found
    assert not (in_tmp.parent / "escape.txt").exists()


def test_a_scratch_folder_under_tmp_the_example_names_is_env_not_broken(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """``os.makedirs("/tmp/storage")``: the sandbox keeps the block in its own folder, but
    the reader's machine has /tmp; the example is not at fault."""
    code = "import os\n\nos.makedirs('/tmp/exampletest-storage/attachment', exist_ok=True)\n"
    found = _one(write_doc, run_json, code)
    assert (found["rule"], found["category"]) == ("sandbox:write", "env")
    assert "scratch folder" in found["message"]
    assert not Path("/tmp/exampletest-storage").exists()


def test_secret_and_network_never_reach_the_block(
    write_doc: Callable[[str, str], Path], run_json: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket
    import threading

    monkeypatch.setenv("GITHUB_TOKEN", "s3cret-token-value")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(6)
    port = listener.getsockname()[1]
    accepted: list[object] = []

    def accept() -> None:
        with contextlib.suppress(OSError):
            accepted.append(listener.accept())

    thread = threading.Thread(target=accept)
    thread.start()
    doc = _doc(
        write_doc,
        "import os, socket\nassert 'GITHUB_TOKEN' not in os.environ, 'secret leaked'\n"
        f"socket.create_connection(('127.0.0.1', {port}), timeout=2)\n",
    )
    found = _findings(run_json, doc)
    thread.join()
    listener.close()
    assert accepted == []
    assert not any("secret leaked" in f["message"] for f in found)
    network = [f for f in found if f["rule"] == "sandbox:network"]
    assert [(f["line"], f["category"]) for f in network] == [(6, "env")], found  # a service


def test_a_failing_checker_is_reported_per_stage(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """mypy crashing (a plugin that does not exist) costs the types stage, not the report;
    the run was not done as asked, so it exits 2, never a green 0 or a plain 1."""
    write_doc(
        "pyproject.toml",
        "[tool.exampletest]\nmypy-options = ['plugins = no_such_plugin_xyz']\n"
        "ruff-select = ['XYZ999']\n",
    )
    doc = _doc(write_doc, "from pydantic import BaseSettings\n")
    code, report = run_json(doc)
    block = report["documents"][0]["blocks"][0]
    assert block["stages"] == {"lint": "error", "types": "error", "smoke": "ran"}
    assert any("types stage failed" in e for e in report["errors"])
    assert any("lint stage failed" in e for e in report["errors"])
    assert block["status"] == "broken" and code == 2  # what smoke found is still reported


def test_module_missing_here_and_imported_by_an_earlier_block(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """The later block uses the earlier block's import (a stand-in): never broken for it."""
    write_doc(
        "d.md",
        "```python\nimport not_installed_pkg_xyz\n```\n\n"
        "```python\nwith not_installed_pkg_xyz.open('x') as f:\n    print(f.pages)\n```\n",
    )
    _, report = run_json("d.md")
    first, second = report["documents"][0]["blocks"]
    assert first["status"] == "env"
    assert [f for f in second["findings"] if f["category"] in ("broken", "incomplete")] == []


def test_sleeping_blocks_are_spread_through_the_queue_not_bunched() -> None:
    from types import SimpleNamespace

    from exampletest.stages.smoke import schedule

    codes = [f"x = {i}\n" for i in range(40)]
    for i in (10, 11, 12, 13):  # one document's async examples, back to back
        codes[i] = f"import time\ntime.sleep(1)  # {i}\n"
    contexts: Any = [
        SimpleNamespace(block=SimpleNamespace(code=c, doc_path="spread.md", index=i))
        for i, c in enumerate(codes)
    ]
    ordered = [c.block.code for c in schedule(contexts)]
    assert sorted(ordered) == sorted(codes)  # a permutation: nothing lost, nothing twice
    sleeping = [i for i, c in enumerate(ordered) if "sleep" in c]
    assert sleeping[0] == 0
    assert min(b - a for a, b in itertools.pairwise(sleeping)) >= 5
    assert sleeping[-1] < 30  # not in the tail, where nothing else would overlap


def test_blocks_known_to_take_long_go_first_longest_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fix engine's re-check runs blocks the run timed: the slow ones start first, so
    that the workers do not end on them."""
    from types import SimpleNamespace

    from exampletest.stages import smoke

    monkeypatch.setattr(smoke, "_TOOK", {("d.md", 7): 2.0, ("d.md", 3): 0.6, ("d.md", 1): 0.01})
    contexts: Any = [
        SimpleNamespace(block=SimpleNamespace(code=f"x = {i}\n", doc_path="d.md", index=i))
        for i in range(10)
    ]
    ordered = [c.block.index for c in smoke.schedule(contexts)]
    assert ordered[:2] == [7, 3] and sorted(ordered) == list(range(10))


def test_a_small_run_preloads_only_the_stack_its_documents_import() -> None:
    """An edit run on a Django document does not wait for FastAPI and SQLAlchemy to load, nor
    one on FastAPI for its test client; a large run loads the whole stack once per worker."""
    from exampletest import pipeline

    options = pipeline.Options(paths=("d.md",))
    small = pipeline.smoke_workers(options, 3, {"jwt", "datetime"})._preload
    assert "jwt" in small and "exampletest.harness" in small and "datetime" in small
    assert not {"fastapi", "sqlalchemy", "pydantic"} & set(small)
    web = pipeline.smoke_workers(options, 3, {"fastapi", "sqlalchemy.orm"})._preload
    assert {"fastapi", "pydantic.v1", "sqlalchemy", "sqlalchemy.orm"} <= set(web)  # v1: per route
    assert not {"fastapi.testclient", "sqlalchemy.ext.asyncio"} & set(web)
    tested = pipeline.smoke_workers(options, 3, {"fastapi.testclient"})._preload
    assert {"fastapi", "fastapi.testclient"} <= set(tested)
    large = pipeline.smoke_workers(options, 100, {"jwt"})._preload
    assert {"fastapi", "sqlalchemy", "pydantic", "jwt"} <= set(large)


def test_a_module_whose_import_warns_is_not_preloaded_so_the_block_sees_the_warning(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    # The workers preload what the documents import; `cgi` warns when imported (3.11, 3.12).
    pytest.importorskip("cgi")
    doc = _doc(write_doc, "import cgi\n\nprint(cgi.__name__)\n")
    found = _findings(run_json, doc)
    assert any(
        f["category"] == "stale" and f["rule"] == "DeprecationWarning" and f["line"] == 4
        for f in found
    ), found


def test_a_generic_pydantic_model_runs_as_it_does_in_a_script(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    # Pydantic looks the defining module up in sys.modules to parametrise `Page[int]`.
    doc = _doc(
        write_doc,
        "from typing import Generic, TypeVar\n\nfrom pydantic import BaseModel, RootModel\n\n"
        'T = TypeVar("T")\n\n\nclass Page(BaseModel, Generic[T]):\n    items: list[T]\n\n\n'
        "print(Page[int](items=[1]), RootModel[list[int]]([1]))\n",
    )
    assert _findings(run_json, doc) == []


def test_a_block_still_runs_when_an_earlier_block_failed_to_define_what_it_uses(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    write_doc(
        "d.md",
        "```python\nlimit = int('ten')\n```\n\n"
        "```python\nimport json\n\nprint(limit)\njson.loads('{not json')\n```\n",
    )
    _code, report = run_json("--stages", "smoke", "--no-cache", "d.md")
    first, second = report["documents"][0]["blocks"]
    assert [f["rule"] for f in first["findings"]] == ["ValueError"]
    # The stand-in for `limit` is no evidence, but the block's own error is.
    assert [(f["rule"], f["line"]) for f in second["findings"]] == [("JSONDecodeError", 9)]
    assert second["status"] == "broken"


def test_an_elided_value_makes_a_block_incomplete_not_broken(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    doc = _doc(write_doc, "routes = ...\n\nfor route in routes:\n    print(route)\n")
    _code, report = run_json("--no-cache", "--no-fix", doc)
    [block] = report["documents"][0]["blocks"]
    assert [(f["category"], f["rule"], f["line"]) for f in block["findings"]] == [
        ("incomplete", "elided", 6)
    ]
    assert block["status"] == "incomplete"


def test_an_elided_value_a_deep_smoke_call_trips_on_is_incomplete(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """``return {...}`` in a serializer: dumping the model the deep smoke made fails on the
    elided value, which the reader is to write; the same failure without ``...`` is broken."""
    code = (
        "from pydantic import BaseModel, model_serializer\n\n\nclass M(BaseModel):\n"
        "    x: int = 1\n\n    @model_serializer\n    def ser(self) -> dict:\n"
        "        return {...}\n"
    )
    found = _one(write_doc, run_json, code)
    assert (found["category"], found["rule"]) == ("incomplete", "elided")
    assert "leaves a value out with `...`" in found["message"]
    assert "(deep smoke)" in found["message"]
    found = _one(write_doc, run_json, code.replace("{...}", "{object()}"))
    assert found["category"] == "broken" and "(deep smoke)" in found["message"]


def test_a_submodule_nothing_imported_is_broken_unless_a_missing_module_may_import_it(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """``sqlalchemy.dialects.postgresql`` after ``import sqlalchemy`` alone: the submodule
    is an attribute only once imported (broken, the hint says which import). Beside an import
    of a module not installed here (``databases`` imports that dialect), no evidence (env)."""
    code = "import sqlalchemy\n\ndialect = sqlalchemy.dialects.postgresql.dialect()\n"
    found = _one(write_doc, run_json, code)
    assert (found["category"], found["rule"]) == ("broken", "AttributeError")
    assert found["suggestion"] == "import sqlalchemy.dialects.postgresql"
    rules = _rules_by_block(run_json, _doc(write_doc, "import exampletest_absent_db\n" + code))
    assert ("env", "AttributeError") in rules[0]


def test_what_a_statement_naming_a_missing_module_raises_is_no_evidence(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """``fig, ax = plt.subplots()`` with matplotlib not installed: the stand-in unpacks to
    nothing. ``class A(rx.State, mixin=True)``: the stand-in class takes no keywords. Neither
    says anything of the block; its own error still does."""
    write_doc(
        "d.md",
        "```python\nimport nosuchplot.pyplot as plt\n```\n\n"
        "```python\nfig, ax = plt.subplots()\n```\n\n"
        "```python\nimport nosuchui as rx\n\n\nclass A(rx.State, mixin=True):\n    n: int = 0\n"
        "```\n\n```python\nfig, ax = [1]\n```\n",
    )
    env = [("env", "ET003")]  # the context stage's, at the imports (and at the use of one)
    assert _rules_by_block(run_json, "d.md") == [env, env, env, [("broken", "ValueError")]]
    # ... in a function too, where the stand-in is a global the failing statement names
    write_doc(
        "f.md",
        "```python\nimport asyncio\n\nfrom nosuchmcp import client\n\n\nasync def main():\n"
        "    async with client('http://localhost/mcp') as (read, write):\n        pass\n\n\n"
        "asyncio.run(main())\n```\n",
    )
    assert _rules_by_block(run_json, "f.md") == [env]


def test_submodules_of_a_missing_package_are_stand_ins_and_the_block_runs_on(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    doc = _doc(
        write_doc,
        "from pathlib import Path\n\nfrom nosuchpkg.sub.deeper import thing\n"
        "from nosuchpkg.other import *\n\n"
        "BASE_DIR = Path(__file__).resolve().parent\nprint(thing, BASE_DIR)\nsize = len(42)\n",
    )
    found = _findings(run_json, doc)
    assert [(f["category"], f["rule"], f["line"]) for f in found if f["category"] == "broken"] == [
        ("broken", "TypeError", 11)  # reached: the block's own error, past the stand-ins
    ]
    assert not any(f["rule"] == "ModuleNotFoundError" for f in found)


def test_missing_settings_and_folders_the_example_assumes_are_env_not_broken(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    write_doc(
        "d.md",
        "```python\nimport os\n\nkey = os.environ['API_KEY']\n```\n\n"
        "```python\nfrom starlette.config import Config\n\nurl = Config()('DATABASE_URL')\n```\n\n"
        "```python\nfrom starlette.staticfiles import StaticFiles\n\n"
        "static = StaticFiles(directory='static')\n```\n\n"
        "```python\nfrom pathlib import Path\n\nPath('/srv/app/a.md').read_text()\n```\n",
    )
    assert _rules_by_block(run_json, "d.md") == [
        [("env", "needs-configuration")],
        [("env", "needs-configuration")],
        [("env", "needs-file")],
        [("env", "needs-file")],  # an absolute path is the reader's machine's too
    ]


def test_a_guard_naming_an_unset_variable_it_looked_up_is_env_another_error_is_broken(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    write_doc(
        "d.md",
        "```python\nimport os\n\nurl = os.getenv('REDIS_URL')\nif not url:\n"
        "    raise RuntimeError(\"Set up Redis; the config var is named 'REDIS_URL'.\")\n```\n\n"
        "```python\nimport os, sys\n\nif 'API_TOKEN' not in os.environ:\n"
        "    sys.exit('API_TOKEN must be set')\n```\n\n"
        "```python\nimport os\n\nurl = os.getenv('OTHER_URL')\n"
        "raise RuntimeError('REDIS_URL is wrong')\n```\n\n"
        "```python\nimport sys\n\nfrom pydantic_settings import BaseSettings\n\n\n"
        "class S(BaseSettings):\n    api_key: str\n\n\ntry:\n    s = S()\n"
        "except Exception:\n    sys.exit(1)\n```\n",
    )
    assert _rules_by_block(run_json, "d.md") == [
        [("env", "needs-configuration")],
        [("env", "needs-configuration")],
        [("broken", "RuntimeError")],  # names a variable this run never looked up
        [("env", "needs-configuration")],  # exits for the settings error it handles
    ]


def test_a_none_an_unset_variable_gave_is_env_the_same_error_otherwise_is_broken(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """``f"...:{os.getenv('DB_PORT')}/db"`` builds "...:None/db": the engine's "invalid
    literal for int(): 'None'" is the sandbox's missing configuration. With a default, or
    with no variable looked up, the same error is the block's."""
    write_doc(
        "d.md",
        "```python\nimport os\n\nfrom sqlalchemy import create_engine\n\n"
        "engine = create_engine(f\"postgresql://u@h:{os.getenv('DB_PORT')}/db\")\n```\n\n"
        "```python\nimport os\n\nhosts = os.environ.get('HOSTS').split(',')\n```\n\n"
        "```python\nimport os\n\nport = os.getenv('PORT', '80')\nx = int('None')\n```\n",
    )
    assert _rules_by_block(run_json, "d.md") == [
        [("env", "needs-configuration")],
        [("env", "needs-configuration")],
        [("broken", "ValueError")],
    ]


def test_sql_left_out_of_a_string_with_dots_is_an_elision(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    write_doc(
        "d.md",
        "```python\nimport sqlite3\n\ncur = sqlite3.connect(':memory:').cursor()\n"
        "cur.execute('INSERT INTO t ...')\n```\n\n"
        "```python\nimport sqlite3\n\nsqlite3.connect(':memory:').execute('SELEC 1')\n```\n",
    )
    assert _rules_by_block(run_json, "d.md") == [
        [("incomplete", "elided")],
        [("broken", "OperationalError")],
    ]


def test_a_block_asking_the_reader_for_a_secret_needs_input_not_a_fix(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """``getpass.getpass()`` opens the terminal (the sandbox has none, and refuses it), then
    reads stdin (empty): both say the block wants its reader, neither that it is broken."""
    write_doc(
        "d.md",
        "```python\nimport getpass\nimport os\n\nif not os.environ.get('API_KEY'):\n"
        "    os.environ['API_KEY'] = getpass.getpass('API_KEY: ')\n```\n",
    )
    [found] = _rules_by_block(run_json, "d.md")
    assert {(c, r) for c, r in found if c != "style"} == {
        ("env", "sandbox:write"),
        ("env", "needs-input"),
    }


def test_a_transcript_may_show_an_exception_but_not_raise_another(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    write_doc(
        "d.md",
        "```pycon\n>>> from argon2 import PasswordHasher\n>>> ph = PasswordHasher()\n"
        ">>> ph.verify(ph.hash('right'), 'wrong')\nTraceback (most recent call last):\n  ...\n"
        "argon2.exceptions.VerifyMismatchError: The password does not match the supplied hash\n"
        ">>> print(ph.check_needs_rehash(ph.hash('right')))\nFalse\n>>> int('x')\n```\n",
    )
    found = _findings(run_json, "d.md")
    assert [(f["rule"], f["line"]) for f in found] == [("ValueError", 10)]  # only the unshown one


def test_a_script_may_show_the_exception_a_statement_raises_as_its_output(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """pytest-examples' output string after a statement: a traceback there is the point of
    the example; the statements after it still run (and may fail on their own)."""
    write_doc(
        "d.md",
        "```python\nfrom pydantic import TypeAdapter\n\nta = TypeAdapter(list[bool])\n"
        "print(ta.validate_python([True, 'invalid']))\n"
        '"""\npydantic_core._pydantic_core.ValidationError: 1 validation error for list[bool]\n'
        '"""\nint("x")\n```\n',
    )
    found = _findings(run_json, "d.md")
    assert [(f["rule"], f["line"]) for f in found] == [("ValueError", 9)]


def test_a_multi_line_warning_keeps_the_names_it_is_about(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    doc = _doc(
        write_doc,
        "from pydantic import BaseModel\n\n\nclass M(BaseModel):\n    x: int\n\n"
        "    class Config:\n        orm_mode = True\n",
    )
    renamed = [f for f in _findings(run_json, doc) if f["rule"] == "UserWarning"]
    assert renamed and all("orm_mode" in f["message"] for f in renamed)


def test_run_time_findings_point_at_the_call_not_the_start_of_the_line(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    doc = _doc(
        write_doc,
        "from pydantic import BaseModel\n\n\nclass M(BaseModel):\n    x: int\n\n\n"
        "print('dumped:', M(x=1).dict())\nvalue = {'a': 1}['b']\n",
    )
    spans = {
        f["rule"]: (f["line"], f["column"], f["end_line"], f["end_column"])
        for f in _findings(run_json, doc)
    }
    assert spans["PydanticDeprecatedSince20"] == (11, 18, 11, 31)  # M(x=1).dict()
    assert spans["KeyError"] == (12, 9, 12, 22)  # {'a': 1}['b']


def test_postponed_annotations_resolve_when_a_schema_is_built_later(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    # The deep check builds the schema after the block ran: Pydantic then resolves the
    # string annotations through the block's module, which must hold what the block imported.
    code = (
        "from __future__ import annotations\n\nfrom datetime import datetime\n\n"
        "from pydantic import BaseModel\n\n\nclass Item(BaseModel):\n    created: datetime\n"
    )
    assert _findings(run_json, _doc(write_doc, code)) == []


def test_a_name_used_before_the_block_defines_it_is_broken(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    code = (
        "from typing import Annotated\n\nfrom fastapi import Depends\n\n"
        "CurrentUser = Annotated[str, Depends(get_current_user)]\n\n\n"
        "async def get_current_user() -> str:\n    return 'alice'\n"
    )
    _code, report = run_json("--no-cache", "--no-fix", _doc(write_doc, code))
    [block] = report["documents"][0]["blocks"]
    [finding] = block["findings"]
    assert (block["status"], finding["rule"], finding["line"]) == ("broken", "ET002", 8)
    assert "before this block defines it" in finding["message"]


def test_a_statement_continuing_a_name_from_before_the_example_is_a_fragment(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    code = "model = FastLanguageModel.get_peft_model(\n    model,\n    r=32,\n)\n"
    _code, report = run_json("--no-cache", "--no-fix", _doc(write_doc, code))
    [block] = report["documents"][0]["blocks"]
    assert block["status"] == "incomplete"
    assert all("fragment" in f["message"] for f in block["findings"])


def test_a_loop_over_a_stand_in_never_runs_and_what_it_binds_is_not_evidence(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    doc = _doc(write_doc, "for row in session.rows():\n    last = row\nprint(last)\n")
    found = _findings(run_json, doc)
    assert {(f["rule"], f["category"]) for f in found} == {("ET002", "incomplete")}
    # A loop over real, empty data that leaves the name unbound is the block's own bug.
    own = _one(write_doc, run_json, "for row in []:\n    last = row\nprint(last)\n")
    assert (own["rule"], own["category"], own["line"]) == ("NameError", "broken", 6)


def test_a_loop_a_stand_in_keeps_going_is_not_evidence_and_a_real_one_stays_broken(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    paging = "page = client.list_tools()\nwhile page.next_cursor:\n    page = client.list_tools()\n"
    found = _findings(run_json, _doc(write_doc, paging), "--smoke-timeout", "2")
    assert {(f["rule"], f["category"]) for f in found} == {("ET002", "incomplete")}
    own = _one(write_doc, run_json, "n = 1\nwhile n:\n    n += 1\n", "--smoke-timeout", "2")
    assert (own["rule"], own["category"]) == ("timeout", "broken")
    # Waiting (here on a lock another thread might release) is no such evidence: maybe slow.
    wait = "import threading\n\nthreading.Event().wait(30)\n"
    slow = _one(write_doc, run_json, wait, "--smoke-timeout", "2")
    assert (slow["rule"], slow["category"]) == ("timeout", "env")
    assert "not computing" in slow["message"]


def test_a_declared_name_without_a_value_is_a_fragment_and_mypy_keeps_its_type(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    write_doc(
        "d.md", "# T\n\n```python\nuser: str | None\nif user is not None:\n    user + 1\n```\n"
    )
    _code, report = run_json("--no-cache", "--no-fix", "d.md")
    found = {
        (f["tool"], f["rule"], f["category"])
        for f in report["documents"][0]["blocks"][0]["findings"]
    }
    # The declared type is what mypy checks `user + 1` against; running it needs a value.
    assert found == {("exampletest", "ET002", "incomplete"), ("mypy", "operator", "broken")}


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="the syntax is valid here")
def test_syntax_of_a_later_python_is_env_and_a_real_syntax_error_stays_broken(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    write_doc(
        "d.md",
        "# T\n\n```python\ntype UserId = int\n\ndef first[T](xs: list[T]) -> T:\n"
        "    return xs[0]\n```\n\n```python\ntype UserId = int\nx = (\n```\n",
    )
    _code, report = run_json("--no-cache", "--no-fix", "d.md")
    newer, both = report["documents"][0]["blocks"]
    assert newer["status"] == "env"
    assert [(f["rule"], f["line"]) for f in newer["findings"]] == [("newer-python", 4)]
    assert "needs Python 3.12 or later" in newer["findings"][0]["message"]
    assert both["status"] == "broken"  # not valid on any Python


def test_a_module_the_document_writes_is_imported_from_it_not_installed(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    write_doc(
        "d.md",
        '# T\n\n```python title="shapes.py"\nclass Rect:\n    def __init__(self, w: int) -> None:\n'
        "        self.width = w\n```\n\n```python\nfrom shapes import Rect\n\n"
        "print(Rect(3).widht)\n```\n\n```python\n# app/models.py\nNAME = 'x'\n```\n\n"
        "```python\nfrom app import models\nfrom app.models import NAME\n"
        "print(models.NAME, NAME)\n```\n",
    )
    _code, report = run_json("--no-cache", "--no-fix", "d.md")
    blocks = report["documents"][0]["blocks"]
    # No "pip install shapes": the block runs against the document's own module, whose
    # attribute it misspells.
    assert [(f["rule"], f["category"], f["line"]) for f in blocks[1]["findings"]] == [
        ("AttributeError", "broken", 12)
    ]
    assert blocks[3]["status"] == "ok" and blocks[3]["findings"] == []
    # MyST names the file in the directive's options.
    write_doc(
        "m.md",
        "```{code-block} python\n:caption: sync.py\n\nimport json\n\n\n"
        "def cli() -> str:\n    return json.dumps('Syncing')\n```\n\n"
        "```python\nfrom sync import cli\n\nprint(cli())\n```\n",
    )
    _code, report = run_json("--no-cache", "--no-fix", "m.md")
    assert [b["status"] for b in report["documents"][0]["blocks"]] == ["ok", "ok"]
    # An agent file names each file in a heading of its own.
    write_doc(
        "h.md",
        "## `shop/models.py`\n\n```python\nclass Item:\n    price = 3\n```\n\n"
        "## `shop/main.py`\n\n```python\nfrom shop.models import Item\n\nprint(Item.price)\n```\n",
    )
    _code, report = run_json("--no-cache", "--no-fix", "h.md")
    assert [b["findings"] for b in report["documents"][0]["blocks"]] == [[], []]


def test_a_cached_result_names_the_lines_where_the_block_is_now(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    block = "```python\nx: Dict[str, int] = {}\n```\n"
    write_doc("d.md", "# T\n\n" + block)
    _code, first = run_json("--stages", "smoke", "d.md")
    (f,) = first["documents"][0]["blocks"][0]["findings"]
    assert f["line"] == 4 and f["message"].endswith("(line 4)")
    write_doc("d.md", "# T\n\nThree more\nlines of\nprose.\n\n" + block)  # from the cache now
    _code, moved = run_json("--stages", "smoke", "d.md")
    (f,) = moved["documents"][0]["blocks"][0]["findings"]
    assert f["line"] == 8 and f["message"].endswith("(line 8)")


def test_a_missing_optional_dependency_is_env(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    for message in ("orjson is not installed", "To use ZMQ broker please install pyzmq lib"):
        doc = _doc(write_doc, f"raise RuntimeError({message!r})\n")
        (f,) = _findings(run_json, doc)
        assert (f["rule"], f["category"]) == ("needs-install", "env")


def test_a_missing_optional_dependency_is_env_though_a_stand_in_took_part(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """A module that is not installed gets a stand-in; a library then saying which package it
    needs ("Form data requires python-multipart") is still that package missing."""
    doc = _doc(
        write_doc,
        "import notinstalled_xyz_pkg\n\n\ndef connect(client):\n"
        "    raise RuntimeError('orjson is not installed')\n\n\n"
        "connect(notinstalled_xyz_pkg.Client())\n",
    )
    rules = {(f["rule"], f["category"]) for f in _findings(run_json, doc)}
    assert ("needs-install", "env") in rules and ("ET003", "env") in rules


def test_a_block_run_once_has_most_of_the_time_limit(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    # Nothing missing, so no second run shares the limit: 1.2 s of a 2 s limit is fine.
    doc = _doc(write_doc, "import threading\n\nthreading.Event().wait(1.2)\n")  # a real wait
    assert _findings(run_json, doc, "--smoke-timeout", "2") == []


def test_an_error_on_a_statement_that_elides_code_is_the_elision(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    f = _one(write_doc, run_json, "from decimal import Decimal\n\nprice = Decimal(...)\n")
    assert (f["rule"], f["category"]) == ("elided", "incomplete")
    # `...` as a type's part or a body is no elision: the error stays the block's.
    f = _one(write_doc, run_json, "x: tuple[int, ...] = (1, 2)\nint('a')\n")
    assert (f["rule"], f["category"]) == ("ValueError", "broken")


def test_a_script_that_needs_command_line_arguments_is_env(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    f = _one(
        write_doc,
        run_json,
        "import argparse\n\nparser = argparse.ArgumentParser()\nparser.add_argument('path')\n"
        "args = parser.parse_args()\n",
    )
    assert (f["rule"], f["category"], f["line"]) == ("needs-arguments", "env", 8)
    # The block's own exit stays broken.
    f = _one(write_doc, run_json, "import sys\n\nsys.exit(3)\n")
    assert (f["rule"], f["category"]) == ("SystemExit", "broken")
    # `sys.argv[1]` with no arguments given; an IndexError of its own stays broken.
    f = _one(write_doc, run_json, "import os\nimport sys\n\nnames = os.listdir(sys.argv[1])\n")
    assert (f["rule"], f["category"], f["line"]) == ("needs-arguments", "env", 7)
    assert "reads `sys.argv`" in f["message"]
    f = _one(write_doc, run_json, "items = []\nfirst = items[0]\n")
    assert (f["rule"], f["category"]) == ("IndexError", "broken")


def test_a_statement_a_comment_shows_raising_may_raise_that_class_only(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """`# After: ValidationError` under the statement (a changelog), or `# raises KeyError`
    on it: the author shows the exception; another class stays the block's error."""
    code = (
        "from pydantic import BaseModel, ConfigDict\n\n\nclass Page(BaseModel):\n"
        "    model_config = ConfigDict(extra='forbid')\n    size: int = 10\n\n\n"
        "Page.model_validate({'page_size': 50})\n# Before: Page(size=10)\n"
        "# After: ValidationError (extra_forbidden)\n{}['k']  # raises KeyError\n"
        "print('still runs')\n"
    )
    assert _findings(run_json, _doc(write_doc, code)) == []
    f = _one(write_doc, run_json, "{}['k']  # raises ValueError\n")
    assert (f["rule"], f["category"]) == ("KeyError", "broken")
    # Pydantic's own words name no class: `# 1 validation error for User` is its
    # ValidationError, shown on purpose.
    shown = (
        "from pydantic import BaseModel\n\n\nclass User(BaseModel):\n    name: str\n\n\n"
        "user = User()\n# 1 validation error for User name -> Field required [type=missing]\n"
    )
    assert _findings(run_json, _doc(write_doc, shown)) == []


def test_a_block_that_asks_the_reader_something_is_env(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    f = _one(write_doc, run_json, "name = input('Your name: ')\n")
    assert (f["rule"], f["category"]) == ("needs-input", "env")
    # A library turns the empty input into its own error, as click's prompt does (Abort):
    # the cause stays in the chain.
    prompt = (
        "class Abort(Exception):\n    pass\n\n\ndef prompt(text: str) -> str:\n    try:\n"
        "        return input(text)\n    except EOFError:\n        raise Abort() from None\n\n\n"
        "value = prompt('A number')\n"
    )
    f = _one(write_doc, run_json, prompt)
    assert (f["rule"], f["category"]) == ("needs-input", "env")
    f = _one(write_doc, run_json, "with open('/dev/tty') as tty:\n    key = tty.read(1)\n")
    assert (f["rule"], f["category"]) == ("needs-input", "env")
    # An EOFError of the block's own making stays broken.
    f = _one(write_doc, run_json, "import io, pickle\n\npickle.load(io.BytesIO(b''))\n")
    assert (f["rule"], f["category"]) == ("EOFError", "broken")


def test_network_access_is_env_and_what_the_library_made_of_the_refusal_is_not_a_finding(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    f = _one(
        write_doc,
        run_json,
        "import urllib.request\n\nurllib.request.urlopen('https://api.example.com/users')\n",
    )
    assert (f["rule"], f["category"], f["line"]) == ("sandbox:network", "env", 6)


def test_a_block_that_awaits_at_top_level_says_how_it_was_run(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    f = _one(
        write_doc, run_json, "import asyncio\n\nawait asyncio.sleep(0)\nraise ValueError('x')\n"
    )
    assert f["rule"] == "ValueError" and "as an asyncio REPL runs it" in f["message"]
    f = _one(write_doc, run_json, "async def main():\n    await main()\n\nraise ValueError('x')\n")
    assert "REPL" not in f["message"]  # an await inside a function is no top-level await


def test_what_stops_a_block_once_its_missing_imports_are_there_says_so(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    doc = _doc(write_doc, "x = Decimal('1')\nraise KeyError\n")
    by_rule = {f["rule"]: f for f in _findings(run_json, doc)}
    assert "running it as written stops here" in by_rule["ET001"]["message"]
    assert by_rule["KeyError"]["message"] == (
        "KeyError (raised while running the block as written, its missing imports added)"
    )


def test_messages_name_no_temporary_folder_and_a_missing_backend_its_distribution(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    f = _one(write_doc, run_json, "import os\n\nf = open(os.path.abspath('o.txt'), 'w')\ndel f\n")
    assert f["rule"] == "ResourceWarning" and "name='./o.txt'" in f["message"]
    # A library importing an optional backend that is not installed (here by hand).
    f = _one(write_doc, run_json, "import importlib\n\nimportlib.import_module('cv2')\n")
    assert (f["rule"], f["category"]) == ("ModuleNotFoundError", "env")
    assert f["suggestion"] == "pip install opencv-python"


def test_an_excerpt_of_a_function_body_is_incomplete_and_says_it_never_ran(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    doc = _doc(write_doc, "user = {'name': 'x'}\nreturn user\n")
    found = _findings(run_json, doc)
    assert {f["category"] for f in found} == {"incomplete"}
    assert any("excerpt of a function's body" in f["message"] for f in found)
    doc = _doc(write_doc, "items = [1]\nfor item in items:\n    pass\nbreak\n")
    assert {f["category"] for f in _findings(run_json, doc)} == {"incomplete"}


def test_a_module_an_installed_package_does_not_have_is_broken_not_env(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    f = _one(write_doc, run_json, "from pydantic.extensions_gone import plugin\n\nplugin()\n")
    assert (f["rule"], f["category"]) == ("ModuleNotFoundError", "broken")
    assert "`pydantic` is installed" in f["message"]


def test_a_block_imports_the_version_of_a_document_module_written_before_it(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    write_doc(
        "d.md",
        "```python\nfrom shapes import Rect\n\nprint(Rect().width)\n```\n\n"
        '```python title="shapes.py"\nclass Rect:\n    width = 1\n```\n\n'
        '```python title="shapes.py"\nclass Rect:\n    width = 1\n\n'
        "    def area(self) -> int:\n        return self.width\n```\n\n"
        "```python\nfrom shapes import Rect\n\nprint(Rect().area())\n```\n",
    )
    _code, report = run_json("--no-cache", "--no-fix", "d.md")
    # The first block reads the module the document writes after it; the last one, the
    # second version, which has `area`.
    assert [b["status"] for b in report["documents"][0]["blocks"]] == ["ok"] * 4


def test_a_standard_library_name_a_newer_python_added_is_env(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    if sys.version_info >= (3, 13):
        pytest.skip("warnings.deprecated exists here")
    doc = _doc(
        write_doc, "from warnings import deprecated\n\n\n@deprecated('no')\ndef f() -> None: ...\n"
    )
    found = {(f["tool"], f["rule"], f["category"]) for f in _findings(run_json, doc)}
    assert found == {("python", "newer-python", "env")}  # mypy's "no attribute" corroborates
    # Used as the module's attribute, and an error that names the Python it needs.
    doc = _doc(write_doc, "import copy\n\nprint(copy.replace(1))\n")
    found = {(f["tool"], f["rule"], f["category"]) for f in _findings(run_json, doc)}
    assert found == {("python", "newer-python", "env")}
    f = _one(write_doc, run_json, "raise ValueError('only supported in Python 3.99 and above')\n")
    assert (f["rule"], f["category"]) == ("newer-python", "env")
    # No interpreter path in what an import error says.
    f = _one(write_doc, run_json, "from json import no_such_name\n")
    assert f["message"].startswith("ImportError: cannot import name 'no_such_name' from 'json'")
    assert "/" not in f["message"].split("(")[0]


def test_files_a_tutorial_changes_together_are_one_state(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    write_doc(
        "d.md",
        '```python title="package/__init__.py"\nthing = "from init"\n```\n\n'
        '```python title="package/thing.py"\nother = "other"\n```\n\n'
        "The files change to:\n\n"
        '```python title="package/__init__.py"\nfrom package.thing import thing\n```\n\n'
        '```python title="package/thing.py"\nthing = "from thing"\n```\n\n'
        "```python\nfrom package import thing\n\nprint(thing)\n```\n",
    )
    _code, report = run_json("--no-cache", "--no-fix", "--stages", "smoke", "d.md")
    assert [b["status"] for b in report["documents"][0]["blocks"]] == ["ok"] * 5


def test_a_part_of_a_namespace_package_is_a_package_not_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from exampletest.stages.smoke import _missing_from_installed

    (tmp_path / "nsfamily_xyz").mkdir()  # a namespace: its parts are distributions
    (tmp_path / "regular_xyz").mkdir()
    (tmp_path / "regular_xyz" / "__init__.py").write_text("", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert not _missing_from_installed("nsfamily_xyz.sdk")
    assert _missing_from_installed("regular_xyz.extensions")
    assert not _missing_from_installed("not_installed_xyz.sub")


def test_orm_classes_split_across_blocks_find_each_other_by_their_string_names(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    head = "from sqlalchemy import ForeignKey\nfrom sqlalchemy.orm import DeclarativeBase, "
    head += "Mapped, mapped_column, relationship\n\n\nclass Base(DeclarativeBase):\n    pass\n\n\n"
    child = "class Child(Base):\n    __tablename__ = 'children'\n"
    child += "    id: Mapped[int] = mapped_column(primary_key=True)\n"
    child += "    parent_id: Mapped[int] = mapped_column(ForeignKey('parents.id'))\n"
    child += "    parent: Mapped['Parent'] = relationship(back_populates='children')\n"
    parent = "from sqlalchemy.orm import Mapped, mapped_column, relationship\n\n\n"
    parent += "class Parent(Base):\n    __tablename__ = 'parents'\n"
    parent += "    id: Mapped[int] = mapped_column(primary_key=True)\n"
    parent += "    children: Mapped[list['Child']] = relationship(back_populates='parent')\n"
    write_doc("d.md", f"```python\n{head}{child}```\n\nThen:\n\n```python\n{parent}```\n")
    _code, report = run_json("--no-cache", "--no-fix", "d.md")
    first, second = report["documents"][0]["blocks"]
    # The first names `Parent`, which only the second defines: the reader's order, not a bug.
    assert [(f["category"], f["rule"]) for f in first["findings"]] == [
        ("incomplete", "defined-later")
    ]
    assert "`Parent` is defined in a later block (line 23)" in first["findings"][0]["message"]
    assert second["status"] == "ok"  # `Child` comes from the first block, by its string name


@pytest.mark.parametrize(
    ("target", "expected"),
    [("OrderItem", ("incomplete", "defined-nowhere")), ("Ordr", ("broken", "InvalidRequestError"))],
)
def test_a_class_named_by_string_that_no_block_defines_is_part_of_a_larger_example(
    write_doc: Callable[[str, str], Path], run_json: Any, target: str, expected: tuple[str, str]
) -> None:
    """``relationship("OrderItem")`` where the document never defines it shows part of the
    models; a near-miss of a class it does define (``Ordr``) is a misspelling, still broken."""
    code = "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship\n\n\n"
    code += "class Base(DeclarativeBase):\n    pass\n\n\nclass Order(Base):\n"
    code += "    __tablename__ = 'orders'\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
    code += f"    items: Mapped[list['{target}']] = relationship()\n"
    write_doc("d.md", f"```python\n{code}```\n")
    _code, report = run_json("--no-cache", "--no-fix", "--stages", "smoke", "d.md")
    [block] = report["documents"][0]["blocks"]
    assert [(f["category"], f["rule"]) for f in block["findings"]] == [expected]


def test_a_later_block_configuring_an_earlier_models_unknown_class_is_incomplete(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """The first block's ``relationship("Post")`` names a class no block defines; the second
    block's ``selectinload(User.posts)`` configures the mapper and fails on it."""
    code = "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship\n\n\n"
    code += "class Base(DeclarativeBase):\n    pass\n\n\nclass User(Base):\n"
    code += "    __tablename__ = 'users'\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
    code += "    posts: Mapped[list['Post']] = relationship()\n"
    later = "from sqlalchemy import select\nfrom sqlalchemy.orm import selectinload\n\n"
    later += "stmt = select(User).options(selectinload(User.posts))\n"
    write_doc("d.md", f"```python\n{code}```\n\n```python\n{later}```\n")
    _code, report = run_json("--no-cache", "--no-fix", "--stages", "smoke", "d.md")
    second = report["documents"][0]["blocks"][1]
    assert [(f["category"], f["rule"]) for f in second["findings"]] == [
        ("incomplete", "defined-nowhere")
    ]


def test_a_model_shown_by_its_relationships_alone_is_an_excerpt_and_one_without_a_key_is_not(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    head = "from sqlalchemy import String\n"
    head += "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship\n\n\n"
    head += "class Base(DeclarativeBase):\n    pass\n\n\n"
    part = "class User(Base):\n    __tablename__ = 'users'\n\n    # one-to-many\n"
    part += "    posts: Mapped[list['Post']] = relationship(back_populates='author')\n"
    keyless = "class Tag(Base):\n    __tablename__ = 'tags'\n"
    keyless += "    name: Mapped[str] = mapped_column(String(20))\n"
    found = {}
    for name, body in (("part", part), ("keyless", keyless)):
        write_doc(f"{name}.md", f"```python\n{head}{body}```\n")
        _code, report = run_json("--no-cache", "--no-fix", "--stages", "smoke", f"{name}.md")
        [block] = report["documents"][0]["blocks"]
        found[name] = [(f["category"], f["rule"]) for f in block["findings"]]
    assert found == {
        "part": [("incomplete", "excerpt")],
        "keyless": [("broken", "ArgumentError")],
    }


def test_two_excerpts_of_one_file_serve_what_each_block_imports(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """``# app/deps.py`` twice, different parts of it: a block between them that imports from
    the first part gets that one, although the next file block would otherwise count as the
    same change."""
    first = "```python\n# app/deps.py\nSESSION = 'db'\n```\n\n"
    user = "```python\n# app/users.py\nfrom app.deps import SESSION\n\nprint(SESSION)\n```\n\n"
    second = "```python\n# app/deps.py\nclass Pagination:\n    page: int = 1\n```\n"
    write_doc("d.md", first + user + second)
    _code, report = run_json("--no-cache", "--no-fix", "d.md")
    assert [b["status"] for b in report["documents"][0]["blocks"]] == ["ok"] * 3


def test_a_name_the_documents_own_module_lacks_is_an_excerpt_of_that_file(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    module = "```python\n# app/db/crud.py\nclass CRUDBase:\n    pass\n```\n\n"
    write_doc(
        "d.md", module + "```python\nfrom app.db.crud import user_crud\n\nprint(user_crud)\n```\n"
    )
    found = [(f["category"], f["rule"]) for f in _findings(run_json, "d.md")]
    assert ("incomplete", "excerpt-module") in found and "broken" not in {c for c, _ in found}


def test_an_error_about_a_template_placeholder_string_is_an_elision(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    doc = _doc(write_doc, "import importlib\n\nimportlib.import_module('{your_package}')\n")
    found = [(f["category"], f["rule"]) for f in _findings(run_json, doc)]
    assert found == [("incomplete", "elided")]
    # A URL's port left as a word is the same: the reader puts in theirs.
    doc = _doc(write_doc, "import httpx\n\nhttpx.Client(proxy='socks5://user:pass@host:port')\n")
    found = [(f["category"], f["rule"]) for f in _findings(run_json, doc)]
    assert found == [("incomplete", "elided")]


def test_a_librarys_own_deprecation_warning_class_is_stale_whatever_it_subclasses(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    code = "import warnings\n\n\nclass LibDeprecationWarning(UserWarning):\n    pass\n\n\n"
    code += "warnings.warn('old_api() is deprecated', LibDeprecationWarning)\n"
    doc = _doc(write_doc, code)
    found = [(f["category"], f["rule"]) for f in _findings(run_json, doc)]
    assert found == [("stale", "LibDeprecationWarning")]


def test_a_message_naming_the_blocks_file_names_the_document(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """FastAPI names the file of a duplicate operation's endpoint: the reader's file is the
    document, not the job's ``example.py``."""
    code = "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/a', operation_id='x')\n"
    code += "def a() -> None: ...\n\n\n@app.get('/b', operation_id='x')\ndef b() -> None: ...\n\n\n"
    code += "app.openapi()\n"
    doc = _doc(write_doc, code)
    [f] = [f for f in _findings(run_json, doc) if "Duplicate Operation ID" in f["message"]]
    assert "example.py" not in f["message"] and f"at {doc}" in f["message"]


def test_sleeping_moves_a_virtual_clock_where_nothing_else_could_happen(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """A retry loop sleeping 63 s, gathered coroutines sleeping 30 s each: no time limit is
    reached, a measured duration reads as it would have, an ``asyncio`` timeout still fires
    first; a thread keeps the wait real (it may be what the sleep waits for)."""
    write_doc(
        "d.md",
        "```python\nimport time\n\nfor attempt in range(6):\n    time.sleep(2 ** attempt)\n```\n\n"
        "```python\nimport asyncio\nimport time\n\n\nasync def work(n):\n"
        "    await asyncio.sleep(30)\n    return n\n\n\nasync def main():\n"
        "    start = time.monotonic()\n"
        "    got = await asyncio.gather(*(work(i) for i in range(3)))\n"
        "    assert got == [0, 1, 2] and 29.9 < time.monotonic() - start < 31\n"
        "    try:\n        await asyncio.wait_for(asyncio.sleep(10), timeout=1)\n"
        "    except TimeoutError:\n        return\n    raise AssertionError('no timeout')\n\n\n"
        "asyncio.run(main())\n```\n\n"
        "```python\nimport threading\nimport time\n\ndone = []\n"
        "threading.Thread(target=lambda: (time.sleep(0.2), done.append(1))).start()\n"
        "time.sleep(0.5)\nassert done == [1]\n```\n\n"
        "```python\nimport subprocess\nimport sys\nimport time\n\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(0.3)'])\n"
        "time.sleep(1.5)\nassert child.poll() == 0, 'a child process needs the real time'\n```\n",
    )
    _code, report = run_json("--stages", "smoke", "--no-cache", "d.md")
    blocks = report["documents"][0]["blocks"]
    assert [(b["status"], b["findings"]) for b in blocks] == [("ok", [])] * 4


def test_a_timeit_measurement_is_read_off_a_short_run(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """``timeit`` of a slow statement a thousand times (about 15 s here, the whole time limit)
    runs briefly and reports what the whole would take, the clock moved by it; a cheap
    statement still runs every time (its side effects are all there); an exception raised by
    the statement is still raised."""
    write_doc(
        "d.md",
        "```python\nimport time\nimport timeit\n\nstart = time.perf_counter()\n"
        "took = timeit.timeit('sum(range(10**6))', number=1000)\n"
        "assert took > 3, took\nassert time.perf_counter() - start >= took\n"
        "calls = []\ntimeit.timeit(lambda: calls.append(1), number=10_000)\n"
        "assert len(calls) == 10_000\n```\n\n"
        "```python\nimport timeit\n\ntimeit.timeit('1 / 0', number=100)\n```\n",
    )
    began = time.monotonic()
    _code, report = run_json("--stages", "smoke", "--no-cache", "d.md")
    assert time.monotonic() - began < 10
    first, second = report["documents"][0]["blocks"]
    assert (first["status"], first["findings"]) == ("ok", [])
    assert [f["rule"] for f in second["findings"]] == ["ZeroDivisionError"]


def test_a_class_that_shows_only_part_of_its_body_is_a_fragment(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """``# ...`` in a class body: the rest was shown before (``__tablename__``); that the
    part alone cannot be mapped is the excerpt's doing."""
    model = (
        "from sqlalchemy import Column, DateTime, Integer, func\n"
        "from sqlalchemy.orm import declarative_base\n\nBase = declarative_base()\n\n\n"
        "class A(Base):\n    __tablename__ = 'a'\n    id = Column(Integer, primary_key=True)\n"
    )
    part = "class A(Base):\n    # ...\n\n    made = Column(DateTime, server_default=func.now())\n"
    write_doc("d.md", f"```python\n{model}```\n\n```python\n{part}```\n")
    _code, report = run_json("--stages", "smoke", "--no-cache", "d.md")
    found = report["documents"][0]["blocks"][1]["findings"]
    assert [(f["rule"], f["category"]) for f in found] == [("elided", "incomplete")]


def test_random_draws_are_the_same_every_run(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """A block that simulates a flaky service with ``random`` gets one verdict, run to run."""
    code = "import random\n\nassert random.random() == 0.8444218515250481\n"
    assert _findings(run_json, _doc(write_doc, code)) == []


def test_an_undefined_app_is_a_real_fastapi_app_that_checks_what_is_registered(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """A placeholder app swallowed every route; a real one runs FastAPI's own checks (here
    its deprecation of on_event), while a route failing only for a placeholder's sake (a
    parameter typed with a stand-in class) is left out and the block goes on."""
    code = (
        "from fastapi import Depends\n\n\n"
        '@app.on_event("startup")\nasync def startup():\n    pass\n\n\n'
        '@router.post("/users", response_model=UserOut)\n'
        "def create(user: UserIn, db=Depends(get_db)):\n    return user\n\n\n"
        "1 / 0\n"
    )
    found = {(f["rule"], f["category"]) for f in _findings(run_json, _doc(write_doc, code))}
    assert ("DeprecationWarning", "stale") in found  # raised by FastAPI, when run
    assert ("ZeroDivisionError", "broken") in found  # the run went past the route


@pytest.mark.skipif(
    importlib.util.find_spec("multipart") is not None, reason="python-multipart is installed"
)
def test_an_upload_route_on_an_undefined_app_says_python_multipart_is_missing(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    code = (
        "from fastapi import File, UploadFile\n\n\n"
        '@app.post("/upload")\nasync def upload(file: UploadFile = File(...)):\n'
        "    return file.filename\n"
    )
    found = _findings(run_json, _doc(write_doc, code))
    needs = [f for f in found if f["rule"] == "needs-install"]
    assert needs and needs[0]["category"] == "env" and "python-multipart" in needs[0]["message"]


@pytest.mark.skipif(importlib.util.find_spec("trio") is not None, reason="trio is installed")
def test_a_library_naming_the_install_command_is_env_whatever_its_exception_class(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """anyio raises LookupError: "Backend 'trio' is not available. Install it with: pip
    install anyio[trio]"."""
    code = "import anyio\n\n\nasync def main() -> None:\n    pass\n\n\n"
    code += 'anyio.run(main, backend="trio")\n'
    found = [(f["rule"], f["category"]) for f in _findings(run_json, _doc(write_doc, code))]
    assert found == [("needs-install", "env")]


def test_what_earlier_blocks_do_to_an_object_reaches_the_block_that_uses_it(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """A tutorial defines an app with routes, a router included in it and a dependency
    override, and fills a dict, block by block; the block testing them sees all of it, as a
    reader running the document in order would (before, only ``app = FastAPI()`` reached it:
    a 404 and a KeyError, both false broken)."""
    write_doc(
        "d.md",
        "# T\n\n```python\nfrom typing import Annotated\n\n"
        "from fastapi import APIRouter, Depends, FastAPI\n\napp = FastAPI()\n"
        "router = APIRouter()\ncounts = {}\n\n\ndef user() -> str:\n"
        "    raise RuntimeError('the real auth service')\n\n\n"
        '@app.get("/me")\ndef me(name: Annotated[str, Depends(user)]):\n'
        '    return {"name": name}\n```\n\n'
        '```python\n@router.get("/ping")\ndef ping():\n    return "pong"\n\n\n'
        "app.include_router(router)\n\n\ndef fake_user() -> str:\n    return 'test'\n\n\n"
        'app.dependency_overrides[user] = fake_user\ncounts["a"] = 1\n```\n\n'
        "```python\nfrom fastapi.testclient import TestClient\n\nclient = TestClient(app)\n"
        'assert client.get("/me").json() == {"name": "test"}\n'
        'assert client.get("/ping").json() == "pong"\nassert counts["a"] == 1\n```\n',
    )
    assert _rules_by_block(run_json, "d.md") == [[], [], []]


def test_a_v1_config_warning_stays_with_the_block_that_writes_the_config(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """Building the schema of a later block's route warns again about an earlier block's
    ``orm_mode``: that block says so, the route's block is not stale for it."""
    write_doc(
        "d.md",
        "# T\n\n```python\nfrom pydantic import BaseModel\n\n\nclass UserOut(BaseModel):\n"
        "    id: int\n\n    class Config:\n        orm_mode = True\n```\n\n"
        "```python\nfrom fastapi import APIRouter\n\nrouter = APIRouter()\n\n\n"
        '@router.get("/u/{uid}", response_model=UserOut)\nasync def read(uid: int):\n'
        '    return {"id": uid}\n```\n',
    )
    first, second = _rules_by_block(run_json, "d.md")
    assert ("stale", "UserWarning") in first
    assert second == []


@pytest.mark.parametrize(
    "spelled", ["from app.schemas import ItemIn", "from .schemas import ItemIn"]
)
def test_a_document_module_gets_the_document_modules_it_imports(
    write_doc: Callable[[str, str], Path], run_json: Any, spelled: str
) -> None:
    """``app/main.py`` imports ``app/schemas.py``, both written by the document: a block
    importing ``app.main`` gets both, the models before the routes that use them (before,
    ``app.schemas`` was a stand-in and the route was lost: a 404, false broken)."""
    write_doc(
        "d.md",
        '# T\n\n```python title="app/schemas.py"\nfrom pydantic import BaseModel\n\n\n'
        "class ItemIn(BaseModel):\n    name: str\n```\n\n"
        f'```python title="app/main.py"\nfrom fastapi import FastAPI\n\n{spelled}\n\n'
        'app = FastAPI()\n\n\n@app.post("/items")\ndef create(item: ItemIn) -> ItemIn:\n'
        "    return item\n```\n\n"
        "```python\nfrom fastapi.testclient import TestClient\n\nfrom app.main import app\n\n"
        'r = TestClient(app).post("/items", json={"name": "pen"})\n'
        "assert r.status_code == 200, r.text\n```\n",
    )
    assert _rules_by_block(run_json, "d.md")[2] == []


def test_a_block_showing_several_files_makes_each_a_module(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """One fence with ``# app/models.py``, its code, then ``# app/service.py``: each file is a
    module of the document, for the fence's own later files and for later blocks (before,
    the whole fence was ``app.models`` and ``app.service`` a stand-in: env, unchecked), and
    a name imported again from an earlier file of the fence is no redefinition."""
    write_doc(
        "d.md",
        "# T\n\n```python\n# app/models.py\nfrom pydantic import BaseModel\n\n\n"
        "class User(BaseModel):\n    name: str\n\n\n"
        "# app/service.py\nfrom app.models import User\n\n\n"
        "def make_user(name: str) -> User:\n    return User(name=name)\n```\n\n"
        "```python\nfrom app.service import make_user\n\nprint(make_user('ann').nam)\n```\n",
    )
    first, second = _rules_by_block(run_json, "d.md")
    assert first == []  # no stand-in for `app.models`
    assert second == [("broken", "AttributeError")]  # the real `User` ran: a real typo
    _code, report = run_json("--no-cache", "--no-fix", "d.md")
    # the second file's import is no F811 (ruff) or no-redef (mypy)
    assert report["documents"][0]["blocks"][0]["findings"] == []


def test_each_file_of_a_fence_may_open_with_its_own_future_import(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """A fence's later file that starts with ``from __future__ import annotations`` is where
    that import belongs: the fence runs file by file (before, it was not run at all:
    incomplete), and ruff's F404 about it is dropped. One placed after the file's own
    ``import os`` is the file's real SyntaxError. A file no import can name
    (``# my-script.py``) still runs in its turn (before, it was silently skipped)."""
    models = "# app/models.py\nfrom dataclasses import dataclass\n\n\n@dataclass\nclass User:\n"
    models += "    name: str\n\n\n"
    service = (
        "# app/service.py\nfrom __future__ import annotations\n\nfrom app.models import User\n"
    )
    service += (
        "\n\ndef make(name: str) -> User:\n    return User(name=name)\n\n\nprint(make('a'))\n"
    )
    write_doc("d.md", f"# T\n\n```python\n{models}{service}```\n")
    assert _rules_by_block(run_json, "d.md") == [[]]
    misplaced = service.replace("# app/service.py\n", "# app/service.py\nimport os\n")
    write_doc("d.md", f"# T\n\n```python\n{models}{misplaced}```\n")
    assert ("broken", "SyntaxError") in _rules_by_block(run_json, "d.md")[0]
    # one file, a late future import: the block's own mistake
    found = _one(write_doc, run_json, "x = 1\nfrom __future__ import annotations\n")
    assert (found["rule"], found["category"]) == ("SyntaxError", "broken")
    script = "# my-script.py\nfrom app.models import User\n\nprint(User('b').nme)\n"
    write_doc("d.md", f"# T\n\n```python\n{models}{script}```\n")
    assert _rules_by_block(run_json, "d.md") == [[("broken", "AttributeError")]]
    # two such files, each using a name it never imports: each finding at its own line
    steps = "# step-1.py\nprint('first')\nprint(User)\n\n\n# step-2.py\nprint(User)\n"
    write_doc("d.md", f"# T\n\n```python\n{models}{steps}```\n")
    _code, report = run_json("--stages", "smoke", "--no-cache", "d.md")
    found = report["documents"][0]["blocks"][0]["findings"]
    assert [(f["rule"], f["line"]) for f in found] == [("file-import", 15), ("file-import", 19)]
    # files after code no marker names: checked as one module, which does not compile
    unnamed = models.replace("# app/models.py\n", "") + service
    _doc(write_doc, unnamed)
    assert ("incomplete", "files") in _rules_by_block(run_json, "d.md")[0]


def test_the_code_after_a_marked_failure_still_runs(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """``# ❌ Bad`` code fails on purpose; the ``# ✅ Good`` half after it is still run, and
    its own failure is the block's (before, the run stopped at the marked one: a false ok)."""
    bad = "# ❌ Bad: dividing by zero\nprint(1 / 0)\n\n# ✅ Good\n"
    _code, report = run_json(
        "--stages", "smoke", "--no-cache", _doc(write_doc, bad + "x = {}['k']\n")
    )
    [block] = report["documents"][0]["blocks"]
    assert block["status"] == "broken"
    assert [(f["rule"], f["line"]) for f in block["findings"]] == [("KeyError", 8)]
    _code, report = run_json("--stages", "smoke", "--no-cache", _doc(write_doc, bad + "x = 1\n"))
    [block] = report["documents"][0]["blocks"]
    assert block["status"] == "ok"
    assert [(f["rule"], f["intentional"]) for f in block["findings"]] == [
        ("ZeroDivisionError", True)
    ]


def test_a_client_that_retries_is_one_finding_not_one_per_try(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    code = (
        "import socket\n\nfor attempt in range(4):\n    try:\n"
        "        socket.getaddrinfo('example.com', 443)\n    except OSError:\n        pass\n"
    )
    f = _one(write_doc, run_json, code)
    assert (f["rule"], f["category"], f["line"]) == ("sandbox:network", "env", 8)


def test_a_library_exception_over_a_missing_name_is_that_name_not_the_blocks_error(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """`pytest.warns` exits with "DID NOT WARN" while the missing `old_func` propagates: the
    missing name is what happened (incomplete). Without a missing name, "DID NOT WARN" is the
    block's own failure (broken); so is an error raised where the block handled a NameError."""
    code = 'import pytest\n\nwith pytest.warns(DeprecationWarning, match="old"):\n    old_func()\n'
    found = _findings(run_json, _doc(write_doc, code))
    assert [(f["rule"], f["category"]) for f in found] == [("ET002", "incomplete")]
    shown = "import pytest\n\n\ndef f() -> None:\n    pass\n\n\n"
    shown += "with pytest.warns(DeprecationWarning):\n    f()\n"
    found = _findings(run_json, _doc(write_doc, shown))
    assert [(f["rule"], f["category"]) for f in found] == [("Failed", "broken")]
    # a NameError the block handles itself is not what happened: the handler's error is
    handled = (
        'import json\n\ntry:\n    SETTINGS\nexcept NameError:\n    SETTINGS = json.loads("{")\n'
    )
    found = _findings(run_json, _doc(write_doc, handled))
    assert [(f["rule"], f["category"]) for f in found] == [("JSONDecodeError", "broken")]


_MODEL = "from pydantic import BaseModel\n\nclass User(BaseModel):\n    id: int\n\n"


@pytest.mark.parametrize(
    ("code", "shown", "expected"),
    [
        # the tutorial's "If invalid data is provided:" then "Error:" and the error text
        ('User(id="abc")\n', "pydantic_core._pydantic_core.ValidationError: 1 validation", []),
        ('User(id="abc")\n', "Traceback (most recent call last):\n  ...\nValidationError: x", []),
        # another exception than the one shown
        ("{}['k']\n", "ValidationError: 1 validation error", [("broken", "KeyError")]),
        # shown for the last statement; an earlier one raising it is not what is shown
        ('User(id="abc")\nprint(1)\n', "ValidationError: 1", [("broken", "ValidationError")]),
    ],
)
def test_the_exception_the_fence_after_a_script_shows_is_expected_of_its_last_statement(
    write_doc: Callable[[str, str], Path], run_json: Any, code: str, shown: str, expected: Any
) -> None:
    error = f"Error:\n\n```\n{shown}\n```\n"
    write_doc("d.md", f"```python\n{_MODEL}```\n\n```python\n{code}```\n\n{error}")
    assert _rules_by_block(run_json, "d.md")[1] == expected


@pytest.mark.parametrize(
    ("tail", "intentional"),
    [
        ('if not policy.admin:\n    raise PermissionError("Admin access required")\n', True),
        ('raise PermissionError("Admin access required")\n', True),
        # the raise is not where the block ends: the code after it never ran
        ('if not policy.admin:\n    raise PermissionError("no")\nprint("granted")\n', False),
        # another exception than the one the block raises at its end
        ('if policy.nope:\n    raise PermissionError("no")\n', False),
        # a check of the code's own result that fails: the bug it caught
        ('if policy.admin is not True:\n    raise AssertionError("expected admin")\n', False),
        # notes on raising: unconditional `raise` statements at the top level, one by one
        ('raise ValueError("negative")\nraise TypeError("not an int")\n', True),
        # the code after a raise never runs: the raise is no note on raising
        ('raise ValueError("negative")\nprint({}["k"])\n', False),
        # a handler's raise over the reader's own failing code is that code's error
        (
            'import json\n\ntry:\n    json.loads("{x")\nexcept ValueError as e:\n'
            '    raise RuntimeError("x") from e\n',
            False,
        ),
        # exception chaining shown: `raise ... from e` in the handler the block ends in
        (
            'try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    raise RuntimeError("x") from e\n',
            True,
        ),
    ],
)
def test_a_block_ending_in_its_own_raise_shows_that_error_on_purpose(
    write_doc: Callable[[str, str], Path], run_json: Any, tail: str, intentional: bool
) -> None:
    code = "class Policy:\n    admin = False\n\n\npolicy = Policy()\n" + tail
    (found,) = _findings(run_json, _doc(write_doc, code))
    assert found["intentional"] is intentional


def test_an_error_at_a_def_line_is_not_blamed_on_a_value_its_body_leaves_out(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """The annotation fails when the ``def`` runs; the ``return_value=...`` in the body had
    nothing to do with it (it was reported as an elision)."""
    code = "import os\n\ndef f(m: os.NoSuchThing) -> None:\n    m.patch('x', return_value=...)\n"
    found = _one(write_doc, run_json, code)
    assert (found["rule"], found["category"]) == ("AttributeError", "broken")
    code = "import os\n\ndef f(m: os.NoSuchThing = ...) -> None:\n    pass\n"
    found = _one(write_doc, run_json, code)  # (a default the `def` runs: it may be the cause)
    assert (found["rule"], found["category"]) == ("elided", "incomplete")


_NO_TABLES = (
    "from sqlalchemy import Column, Integer, create_engine\n"
    "from sqlalchemy.orm import declarative_base, sessionmaker\n\n"
    "engine = create_engine('sqlite:///app.db')\nBase = declarative_base()\n\n\n"
    "class User(Base):\n    __tablename__ = 'user'\n"
    "    id = Column(Integer, primary_key=True)\n\n\n"
    "session = sessionmaker(bind=engine)()\n"
)


def test_a_table_no_block_creates_is_a_database_the_example_assumes(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """A tutorial that says in prose to run `create_all`, and queries: the run's "no such
    table" is the database the example assumes (env), and the next block, whose session the
    failed commit left rolled back, is not blamed for it."""
    first = "session.add(User(id=1))\nsession.commit()\n"
    then = "print(session.get(User, 1))\n"
    write_doc(
        "d.md", f"```python\n{_NO_TABLES}```\n\n```python\n{first}```\n\n```python\n{then}```\n"
    )
    found = _rules_by_block(run_json, "d.md")
    assert found[1] == [("env", "needs-database")]
    assert found[2] == []  # (PendingRollbackError: the earlier block's failure, reported there)
    # with the tables created, a table no model declares is the code's mistake (a typo),
    # while a declared one this block's run lacks is no evidence
    typo = "from sqlalchemy import text\n\nsession.execute(text('SELECT * FROM usr'))\n"
    made = f"```python\n{_NO_TABLES}Base.metadata.create_all(engine)\n```\n\n"
    write_doc("d.md", f"{made}```python\n{typo}```\n")
    assert ("broken", "OperationalError") in _rules_by_block(run_json, "d.md")[1]


def test_a_client_over_a_stand_in_app_failing_is_no_evidence(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """`TestClient(app)` with `app` from the reader's own `main` (not installed here): the
    stand-in is wrapped twice inside the client, and the client finding no response is
    about the stand-in, not the code."""
    code = (
        "from fastapi.testclient import TestClient\n\nfrom main import app\n\n"
        "client = TestClient(app)\nresponse = client.get('/items/1')\n"
    )
    assert [
        r for c, r in _rules_by_block(run_json, _doc(write_doc, code))[0] if c == "broken"
    ] == []


def test_an_earlier_failure_excuses_only_what_it_acted_on(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """The earlier block's `int("abc")` failed: the later block's own `int("eighty")` is its
    own error (a builtin is not left broken by it)."""
    write_doc(
        "d.md",
        '```python\ncount = int("abc")\n```\n\n'
        '```python\nprint(count)\nport = int("eighty")\n```\n',
    )
    assert ("broken", "ValueError") in _rules_by_block(run_json, "d.md")[1]


def test_an_object_of_the_block_that_holds_a_stand_in_still_fails_for_its_own_code(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    code = (
        "class Service:\n    def __init__(self, db):\n        self.db = db\n\n"
        "    def total(self, prices):\n        return sum(prices)\n\n\n"
        "service = Service(db)\nprint(service.total([1, 2, '3']))\n"
    )
    assert ("broken", "TypeError") in _rules_by_block(run_json, _doc(write_doc, code))[0]


def test_raising_what_a_module_not_installed_here_gives_is_not_evidence(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """`raise bad_request(...)`, where the helper returns a class of a module not installed
    here: what fails is raising the stand-in, not the block's own code. Raising a real
    non-exception stays the block's bug."""
    code = (
        "from fastapi_custom_responses import ErrorResponse\n\n"
        "def bad_request(message: str) -> ErrorResponse:\n"
        "    return ErrorResponse(status_code=400, error=message)\n\n"
        'raise bad_request("Invalid payload")\n'
    )
    found = _findings(run_json, _doc(write_doc, code))
    assert {(f["rule"], f["category"]) for f in found} == {("ET003", "env")}, found
    own = _one(
        write_doc,
        run_json,
        "def bad_request(message):\n    return message\n\nraise bad_request('x')\n",
    )
    assert (own["rule"], own["category"]) == ("TypeError", "broken")
    # A stand-in is no exception otherwise: code that sorts results from failures keeps it.
    kept = (
        "results = [fetch_page(n) for n in range(3)]\n"
        "assert not any(isinstance(r, Exception) for r in results)\n"
    )
    assert {f["rule"] for f in _findings(run_json, _doc(write_doc, kept))} == {"ET002"}


def test_signatures_listed_one_under_another_leave_their_bodies_out(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """A naming guide's ``def test_a_when_b():`` lines one under another list names, their
    bodies left out: incomplete. A header followed by code at its own depth stays broken."""
    code = "def test_a_when_b():\ndef test_c_when_d():\nasync def test_e():\n# Bad\ndef t1():\n"
    found = _one(write_doc, run_json, code)
    assert (found["category"], found["rule"]) == ("incomplete", "elided")
    assert found["message"].endswith(": signatures listed without their bodies")
    # an interface's outline: its class, its methods' signatures under it
    found = _one(write_doc, run_json, "class Shape:\n    def area(self) -> float:\n"
                 "    def perimeter(self) -> float:\n")  # fmt: skip
    assert (found["category"], found["rule"]) == ("incomplete", "elided")
    broken = [
        "def f():\n    return 1\ndef g():\nprint(f())\n",
        # a class whose body lost its indent; an `if` is no signature; a method without a
        # body among methods with one
        "class UserService:\ndef get_user(self, user_id: int) -> dict:\n    return {}\n",
        'if __name__ == "__main__":\ndef main() -> None:\n    print(1)\n',
        "class Stack:\n    def push(self, x: int) -> None:\n    def pop(self) -> int:\n"
        "        return 1\n",
    ]
    for code in broken:
        found = _one(write_doc, run_json, code)
        assert (found["category"], found["rule"]) == ("broken", "SyntaxError"), code


_DATABASE = (
    "# app/database.py\nfrom sqlalchemy import create_engine\n"
    "from sqlalchemy.orm import DeclarativeBase, sessionmaker\n\n"
    "engine = create_engine('sqlite://')\nSessionLocal = sessionmaker(bind=engine)\n\n\n"
    "class Base(DeclarativeBase):\n    pass\n\n\n"
)
_MODELS = (
    "# app/models.py\nfrom sqlalchemy.orm import Mapped, mapped_column\n\n"
    "from app.database import Base\n\n\nclass User(Base):\n    __tablename__ = 'users'\n"
    "    id: Mapped[int] = mapped_column(primary_key=True)\n    name: Mapped[str]\n\n\n"
)
_CRUD = (
    "# app/crud.py\nfrom sqlalchemy.orm import Session\n\nfrom app.models import User\n\n\n"
    "def create_user(db: Session, name: str) -> User:\n    user = User(name=name)\n"
    "    db.add(user)\n    db.commit()\n    return user\n"
)


def test_the_files_of_one_fence_import_what_the_fence_defines_as_it_runs(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """`# app/database.py`, `# app/models.py` importing its `Base`, `# app/crud.py` importing
    `User`, in one fence: run as one module, each class is defined once (before, importing
    `app.models` defined `User` again on the same `Base`: "Table 'users' is already defined",
    a false broken). A later block gets the files as modules. A fence's file that imports a
    file an earlier block also wrote gets the fence's own version (with `email`)."""
    use = (
        "```python\nfrom app.database import Base, SessionLocal, engine\n"
        "from app.crud import create_user\n\nBase.metadata.create_all(engine)\n"
        "with SessionLocal() as db:\n    print(create_user(db, 'ann').name)\n```\n"
    )
    write_doc("d.md", f"# T\n\n```python\n{_DATABASE}{_MODELS}{_CRUD}```\n\n{use}")
    assert _rules_by_block(run_json, "d.md") == [[], []]
    first = "# app/models.py\nfrom dataclasses import dataclass\n\n\n@dataclass\nclass User:\n"
    write_doc(
        "d.md",
        f"# T\n\n```python\n{first}    name: str\n```\n\n"
        f"```python\n{first}    name: str\n    email: str\n\n\n"
        "# app/service.py\nfrom app.models import User\n\n"
        "ADMIN = User(name='root', email='root@example.com')\n```\n",
    )
    assert _rules_by_block(run_json, "d.md") == [[], []]


def test_a_fences_file_that_never_imports_an_earlier_files_name_is_incomplete(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """`# app/service.py` uses the `User` that `# app/models.py` above it defines, without
    importing it: run as one module the fence has it, but as files the service stops there
    (incomplete, with the import to add). A later block importing the service is checked
    with stand-ins for what it did not define, and says so (before: silently ok, its typo
    `.nam` hidden). A NameError raised inside a document's module a block calls is that
    module's missing import, not the caller's error."""
    models = "# app/models.py\nfrom dataclasses import dataclass\n\n\n@dataclass\nclass User:\n"
    models += "    name: str\n\n\n"
    service = "# app/service.py\ndef make_user(name: str) -> User:\n    return User(name=name)\n"
    use = "```python\nfrom app.service import make_user\n\nprint(make_user('ann').nam)\n```\n"
    write_doc("d.md", f"# T\n\n```python\n{models}{service}```\n\n{use}")
    _code, report = run_json("--stages", "smoke", "--no-cache", "d.md")
    first, second = (
        [(f["rule"], f["category"], f["line"], f.get("suggestion")) for f in b["findings"]]
        for b in report["documents"][0]["blocks"]
    )
    assert first == [("file-import", "incomplete", 14, "from app.models import User")]
    assert second == [("file-failed", "incomplete", 19, None)]
    # a file that fails for want of configuration: the later block is env, as the fence is
    config = "# app/config.py\nimport os\n\nPORT = int(os.environ['PORT'])\n\n\n"
    config += "# app/server.py\nfrom app.config import PORT\n\nURL = f'http://x:{PORT}'\n"
    use_config = "```python\nfrom app.server import URL\n\nprint(URL)\n```\n"
    write_doc("d.md", f"# T\n\n```python\n{config}```\n\n{use_config}")
    found = _rules_by_block(run_json, "d.md")
    assert found == [[("env", "needs-configuration")], [("env", "file-failed")]]
    service = (
        "# app/service.py\nfrom app.models import User\n\n\n"
        "def make_user(name: str) -> User:\n    return User(name=name, at=datetime.now())\n"
    )
    write_doc("d.md", f"# T\n\n```python\n{models}{service}```\n\n{use}")
    _code, report = run_json("--stages", "smoke", "--no-cache", "d.md")
    second = report["documents"][0]["blocks"][1]["findings"]
    assert [(f["rule"], f["category"]) for f in second] == [("NameError", "incomplete")]
    assert "raised inside `app.service`" in second[0]["message"]


def test_a_library_refusing_none_from_an_unset_variable_needs_configuration(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """`create_engine(os.getenv("DATABASE_URL"))`: SQLAlchemy's "Expected string or URL
    object, got None" is the unset variable's doing (env), not the code's."""
    code = "import os\n\nfrom sqlalchemy import create_engine\n\n"
    code += "engine = create_engine(os.getenv('DATABASE_URL'))\n"
    found = _one(write_doc, run_json, code, "--stages", "smoke")
    assert (found["rule"], found["category"]) == ("needs-configuration", "env")


def test_a_fences_file_imports_what_that_file_bound_not_a_later_namesake(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """`models.User` (a dataclass) and `schemas.User` (a model) in one fence: `models.User`
    is the one `app/models.py` bound, not the later `schemas.User` (a false AttributeError).
    A name imported from a file that does not bind it is an ImportError, as the files would
    give. A file imported before its turn (`main.py` importing the `models.py` shown below
    it) runs then, and its turn reuses it: the model is defined once on the shared `Base`."""
    fence = (
        "# app/models.py\nfrom dataclasses import dataclass\n\n\n@dataclass\nclass User:\n"
        "    email: str\n    hashed_password: str\n\n\n"
        "# app/schemas.py\nfrom pydantic import BaseModel\n\n\nclass User(BaseModel):\n"
        "    email: str\n\n\n"
        "# app/crud.py\nfrom app import models, schemas\n\n"
        "db_user = models.User(email='a@x.org', hashed_password='pw')\n"
        "print(db_user.hashed_password, schemas.User(email=db_user.email))\n"
    )
    assert _rules_by_block(run_json, _doc(write_doc, fence)) == [[]]
    # a name a file imports from an earlier one is that file's too
    again = "# app/main.py\nfrom app.crud import User, db_user\n\nprint(User, db_user)\n"
    found = _rules_by_block(
        run_json,
        _doc(
            write_doc,
            fence.replace("models, schemas", "models, schemas\nfrom app.models import User")
            + "\n\n"
            + again,
        ),
    )
    assert found == [[]]
    wrong = fence.replace("schemas\n", "schemas\nfrom app.models import BaseModel\n", 1)
    assert _rules_by_block(run_json, _doc(write_doc, wrong)) == [[("broken", "ImportError")]]
    forward = (
        f"{_DATABASE}# app/main.py\nfrom app.database import Base, SessionLocal, engine\n"
        "from app.models import User\n\n\ndef create_user(name: str) -> int:\n"
        "    Base.metadata.create_all(engine)\n    with SessionLocal() as db:\n"
        "        user = User(name=name)\n        db.add(user)\n        db.commit()\n"
        "        return user.id\n\n\n"
        f"{_MODELS}"
    )
    assert _rules_by_block(run_json, _doc(write_doc, forward)) == [[]]


def test_a_fences_file_using_an_earlier_files_name_in_a_function_is_incomplete(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """`app/service.py` uses `User` only inside a function, never importing it: as a file it
    fails when called (incomplete, with the import to add). A name the earlier file itself
    imports (`os`) gets that import, not an import from the earlier file."""
    code = (
        "# app/config.py\nimport os\n\nfrom dataclasses import dataclass\n\n\n@dataclass\n"
        "class User:\n    name: str\n\n\n"
        "# app/service.py\ndef make(name: str) -> 'User':\n"
        "    return User(name=os.path.basename(name))\n"
    )
    found = _findings(run_json, _doc(write_doc, code), "--stages", "smoke")
    assert [(f["rule"], f["category"], f["line"], f["suggestion"]) for f in found] == [
        ("file-import", "incomplete", 17, "from app.config import User"),
        ("file-import", "incomplete", 17, "import os"),
    ]


def test_a_failure_on_a_line_using_a_guessed_import_is_said_of_the_guess(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """Run with the imports exampletest guessed, a line that uses one another package of the
    document offers too fails (`Column`: SQLAlchemy's or rich's, where it imports both): the
    guess may not be the author's name, so the failure is incomplete and says whose it is,
    and a fix that writes the guess in is refused. One only the standard library offers
    (`json`, or `Counter`, which typing only aliases), or a line that uses no guess, stays
    broken. ``Path(__file__).parent`` in a FastAPI document is pathlib's (FastAPI's markers
    are defaults or ``Annotated`` metadata): before, the guess `from fastapi import Path`
    made it a false broken."""
    both = "from rich.console import Console\nfrom sqlalchemy import Integer\n\nout = Console()\n"
    use = "width = Column('id', Integer).width + 1\n"
    write_doc("d.md", f"# T\n\n```python\n{both}```\n\n```python\n{use}```\n")
    assert _rules_by_block(run_json, "d.md")[1] == [
        ("incomplete", "AttributeError"),
        ("incomplete", "ET001"),
    ]
    _code, report = run_json("--no-cache", "d.md")
    block = report["documents"][0]["blocks"][1]
    assert "exampletest's guess" in block["findings"][0]["message"]
    assert block["fix"] is None or not block["fix"]["verified"]
    # FastAPI's `Request` is Starlette's: no rival, though the document imports both
    both = "from fastapi import FastAPI\nfrom starlette.middleware.cors import CORSMiddleware\n"
    use = "req = Request({'type': 'websocket'})\n"
    write_doc("d.md", f"# T\n\n```python\n{both}```\n\n```python\n{use}```\n")
    assert ("broken", "AssertionError") in _rules_by_block(run_json, "d.md")[1]
    _doc(write_doc, "top = int(Counter('ab').most_common(1)[0][0])\n")
    assert ("broken", "ValueError") in _rules_by_block(run_json, "d.md")[0]
    _doc(write_doc, "data = json.loads('{')\n")
    assert ("broken", "JSONDecodeError") in _rules_by_block(run_json, "d.md")[0]
    _doc(write_doc, "text = json.dumps(1)\nratio = 1 / 0\n")
    assert ("broken", "ZeroDivisionError") in _rules_by_block(run_json, "d.md")[0]
    write_doc(
        "d.md",
        "# T\n\n```python\nfrom fastapi import APIRouter\n\nrouter = APIRouter()\n```\n\n"
        "```python\nROOT = Path(__file__).parent / 'templates'\n\n\n"
        "@router.get('/items/{item_id}')\ndef item(item_id: int) -> int:\n"
        "    return item_id\n```\n",
    )
    _code, report = run_json("--stages", "smoke", "--no-cache", "d.md")
    (found,) = report["documents"][0]["blocks"][1]["findings"]
    assert (found["category"], found["suggestion"]) == ("incomplete", "from pathlib import Path")


def test_a_relative_import_of_the_documents_own_module_gets_that_module(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """`from .database import Base` in a block titled `app/models.py` (or in that file of a
    fence showing several), `from . import crud` in `app/main.py`, `from ..schemas import
    Item` in `app/api/routes.py`: the document's own modules, run as written (before, each
    was a stand-in: env, and what the block did with them unchecked). A relative import of a
    module the document never shows stays a stand-in."""
    schemas = "# app/schemas.py\nfrom pydantic import BaseModel\n\n\nclass Item(BaseModel):\n"
    schemas += "    name: str\n"
    crud = "# app/crud.py\nfrom . import schemas\n\n\ndef make(name: str) -> schemas.Item:\n"
    crud += "    return schemas.Item(name=name)\n"
    main = "# app/main.py\nfrom . import crud\nfrom .config import settings\n\n"
    main += "print(settings)\nprint(crud.make('a').nme)\n"
    routes = "# app/api/routes.py\nfrom ..crud import make\n\nprint(make('b').name)\n"
    text = "# T\n\n" + "".join(f"```python\n{c}```\n\n" for c in (schemas, crud, main, routes))
    write_doc("d.md", text)
    assert _rules_by_block(run_json, "d.md") == [
        [],
        [],
        [("env", "ET003"), ("broken", "AttributeError")],
        [],
    ]
    # a package's `__init__.py` imports from itself: `from .user import User` in
    # `app/models/__init__.py` is `app.models.user`; its modules loaded before it stay its own
    user = "# app/models/user.py\nclass User:\n    name = 'ann'\n"
    init = "# app/models/__init__.py\nfrom .user import User\n"
    crud = "# app/crud.py\nfrom .models import User\n\nprint(User.nmae)\n"
    core = "# app/api/routes.py\nfrom ..models import user\n\nprint(user.User.name)\n"
    text = "# T\n\n" + "".join(f"```python\n{c}```\n\n" for c in (user, init, crud, core))
    write_doc("d.md", text)
    assert _rules_by_block(run_json, "d.md") == [[], [], [("broken", "AttributeError")], []]
    # `from . import app, VERSION`: what the package's `__init__.py` defines
    init = "# app/__init__.py\nfrom fastapi import FastAPI\n\n"
    init += "app = FastAPI(title='x')\nVERSION = '1'\n"
    routes = "# app/routes.py\nfrom . import VERSION, app\n\nprint(VERSION, app.titel)\n"
    write_doc("d.md", "# T\n\n" + "".join(f"```python\n{c}```\n\n" for c in (init, routes)))
    assert _rules_by_block(run_json, "d.md") == [[], [("broken", "AttributeError")]]
    # the block is not run once more as the package's module (its table made twice), and a
    # name neither `__init__.py` defines nor the document shows as a module is a stand-in
    init = "# app/__init__.py\nimport sqlite3\n\ndb = sqlite3.connect(':memory:')\n"
    items = "# app/items.py\nfrom . import db\n\ndb.execute('CREATE TABLE items (id INTEGER)')\n"
    main = "# app/main.py\nfrom . import crud, db\n\nprint(crud)\nprint({}['DEBUG'])\n"
    write_doc("d.md", "# T\n\n" + "".join(f"```python\n{c}```\n\n" for c in (init, items, main)))
    assert _rules_by_block(run_json, "d.md") == [[], [], [("env", "ET003"), ("broken", "KeyError")]]
    # an `__init__.py` that star-imports gives what it gets; a near-miss of a module the
    # document shows is said so (not a stand-in)
    tools = "# agent/tools.py\ndef search(query):\n    return [query]\n"
    init = "# agent/__init__.py\nfrom .tools import *\n"
    run = "# agent/run.py\nfrom . import search\n\nprint(search('x', limit=3))\n"
    write_doc("d.md", "# T\n\n" + "".join(f"```python\n{c}```\n\n" for c in (tools, init, run)))
    assert _rules_by_block(run_json, "d.md")[2] == [("broken", "TypeError")]
    typo = "# agent/run.py\nfrom . import toosl\n\nprint(toosl)\n"
    init = "# agent/__init__.py\nfrom .tools import search\n"
    write_doc("d.md", "# T\n\n" + "".join(f"```python\n{c}```\n\n" for c in (tools, init, typo)))
    assert _rules_by_block(run_json, "d.md")[2] == [("incomplete", "excerpt-module")]
    # files shown without their folder are siblings: `from . import models` in `crud.py`
    models = '```python title="models.py"\nclass User:\n    name = "ann"\n```\n\n'
    crud = '```python title="crud.py"\nfrom . import models\n\nprint(models.User.nme)\n```\n'
    write_doc("d.md", f"# T\n\n{models}{crud}")
    assert _rules_by_block(run_json, "d.md") == [[], [("broken", "AttributeError")]]
    fence = (
        "# app/database.py\nfrom sqlalchemy.orm import DeclarativeBase\n\n\n"
        "class Base(DeclarativeBase):\n    pass\n\n\n"
        "# app/models.py\nfrom sqlalchemy.orm import Mapped, mapped_column\n\n"
        "from .database import Base\n\n\nclass User(Base):\n    __tablename__ = 'users'\n"
        "    id: Mapped[int] = mapped_column(primary_key=True)\n\n\n"
        "print(User.__tablename__.uper())\n"
    )
    write_doc("d.md", f"# T\n\n```python\n{fence}```\n")
    _code, report = run_json("--no-cache", "--no-fix", "d.md")
    [block] = report["documents"][0]["blocks"]
    # no stand-in, and the file's import of `Base` is no redefinition (mypy's no-redef)
    assert [(f["category"], f["rule"]) for f in block["findings"]] == [("broken", "AttributeError")]
