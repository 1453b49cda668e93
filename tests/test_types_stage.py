"""The types stage: mypy's parallel workers, used on a cold cache, find what one process finds."""

from __future__ import annotations

import json
import os
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from exampletest import pipeline
from exampletest.context import analyze_document
from exampletest.stages import types

DOC = textwrap.dedent(
    """\
    ```python
    from typing import Optional

    def greet(name: Optional[str]) -> str:
        return "hi " + name
    ```

    ```python
    count: int = greet("ada")
    ```
    """
)


def _check(tmp: Path, name: str, cores: int) -> dict[tuple[str, int], list[tuple[int, str]]]:
    (tmp / "doc.md").write_text(DOC, encoding="utf-8")
    options = pipeline.Options(paths=(str(tmp / "doc.md"),), cache_dir=tmp / name)
    documents, _ = pipeline.load_documents(options)
    index = pipeline.load_index(options, documents)
    contexts = analyze_document(documents[0].blocks, index)
    modules = [(c, f"m_{name}_b{c.block.index}") for c in contexts]
    found = types.check(modules, tmp / name / "work", tmp / name / "mypy", cores=cores)
    return {k: sorted((f.line, f.rule) for f in v) for k, v in found.items()}


def test_parallel_mypy_on_a_cold_cache_finds_the_same(tmp_path: Path) -> None:
    one = _check(tmp_path, "one", cores=1)
    two = _check(tmp_path, "two", cores=2)
    assert one == two
    assert any(rule == "operator" for found in one.values() for _, rule in found)
    assert any(rule == "assignment" for found in one.values() for _, rule in found)


def test_parallel_workers_only_for_a_cold_cache_with_cores_to_spare(tmp_path: Path) -> None:
    cache = tmp_path / "mypy"
    assert types._workers(cache, 2) == ["--num-workers", "2"]
    assert types._workers(cache, 1) == []
    cache.mkdir()
    assert types._workers(cache, 2) == []  # warm: starting workers costs more than it saves


def test_a_rewritten_module_gets_a_new_whole_second_mtime(tmp_path: Path) -> None:
    # mypy trusts its cache when a file's size and int(mtime) match what it recorded; a
    # block's context module changes without changing size when a stub module (named by a
    # hash) changes, and runs are fast enough to do that within one second.
    path = tmp_path / "m_ctx.py"
    path.write_text("from stub_aaaa import X\n", encoding="utf-8")
    second = int(time.time())
    os.utime(path, ns=(second * 10**9, second * 10**9 + 1))  # as mypy recorded it
    types._write_if_changed(path, "from stub_bbbb import X\n")
    assert path.read_text(encoding="utf-8") == "from stub_bbbb import X\n"
    assert path.stat().st_mtime_ns // 10**9 != second
    before = path.stat().st_mtime_ns
    types._write_if_changed(path, "from stub_bbbb import X\n")  # unchanged: mtime kept
    assert path.stat().st_mtime_ns == before


def test_a_block_that_stops_mypy_does_not_take_the_other_blocks_findings_with_it(
    tmp_path: Path,
) -> None:
    from exampletest.cli import main

    doc = tmp_path / "doc.md"
    doc.write_text('```python\nyield 1\n```\n\n```python\nx: int = "no"\n```\n', encoding="utf-8")
    report = tmp_path / "r.json"
    main(["run", "--no-cache", "--no-fix", "--format", "json", f"--report=json={report}", str(doc)])
    blocks = json.loads(report.read_text(encoding="utf-8"))["documents"][0]["blocks"]
    first = [(f["tool"], f["rule"]) for f in blocks[0]["findings"]]
    assert ("python", "excerpt") in first  # `yield` alone: lines out of a function's body
    assert not any(rule.startswith("sandbox:") for _, rule in first)  # a clean compile error
    second = [(f["line"], f["column"], f["rule"]) for f in blocks[1]["findings"]]
    assert second == [(6, 10, "assignment")]


def test_what_mypy_says_about_stand_ins_for_missing_packages_is_no_evidence(
    tmp_path: Path,
) -> None:
    code = (
        "from nosuchpkg import Model, Page\n\nIntPage = Page[int]\n\n\n"
        "class Hero(Model, table=True):\n    name: str\n\n\n"
        "class Villain(Hero, table=True):\n    lair: str\n\n\n"
        "def first() -> IntPage:\n    raise NotImplementedError\n\n\n"
        "algorithms: list[str] = [ALGORITHM]\n\n\n"
        "class Store(SomeBase, database=DB):\n    pass\n\n\n"
        'count: int = "three"\n'
    )
    [block] = _run_types(tmp_path, code)
    found = [(f["line"], f["rule"]) for f in block["findings"] if f["stage"] == "types"]
    assert found == [(26, "assignment")]  # only the block's own error


def test_generated_module_names_and_overload_lists_stay_out_of_messages() -> None:
    assert types._GENERATED.sub("", 'Variable "m378170fdbc_b001.IntPage" is') == (
        'Variable "IntPage" is'
    )
    long = "\n".join(f"    def f(x: int{i}) -> None" + "x" * 300 for i in range(12))
    short = types._short_hint(long)
    assert len(short.splitlines()) == 5 and short.endswith("(8 more lines from mypy)")
    assert all(len(line) <= 200 for line in short.splitlines())


def test_a_class_made_at_runtime_is_not_broken_because_mypy_cannot_follow_it(
    tmp_path: Path,
) -> None:
    code = (
        "from sqlalchemy import Column, Integer\nfrom sqlalchemy.orm import declarative_base\n\n"
        "Base = declarative_base()\n\n\nclass User(Base):\n"
        '    __tablename__ = "users"\n    id = Column(Integer, primary_key=True)\n'
    )
    [block] = _run_types(tmp_path, code)
    found = [(f["rule"], f["category"]) for f in block["findings"] if f["stage"] == "types"]
    assert found == [("valid-type", "stale")]
    assert any("DeclarativeBase" in f["message"] for f in block["findings"])
    assert block["status"] == "stale"


def test_what_follows_from_a_type_mypy_cannot_use_is_not_another_finding(
    tmp_path: Path,
) -> None:
    code = (
        "from sqlalchemy import create_engine\nfrom sqlalchemy.orm import sessionmaker\n\n"
        "Session = sessionmaker(bind=create_engine('sqlite://'))\n\n\n"
        "def delete(session: Session, pk: int) -> None:\n"
        "    session.delete(session.get(dict, pk))\n"
    )
    [block] = _run_types(tmp_path, code)
    found = [(f["rule"], f["category"]) for f in block["findings"] if f["stage"] == "types"]
    assert found == [("valid-type", "style")]  # not `Session? has no attribute "get"`


def test_a_prewarmed_cache_gives_the_same_findings(tmp_path: Path) -> None:
    cache = tmp_path / "warm" / "mypy"
    types.prewarm(tmp_path / "warm" / "work" / "types", cache, ["pydantic"])
    types.end_prewarm(cache)
    assert any(p.is_file() for p in cache.rglob("*"))  # the library is analysed ahead
    assert _check(tmp_path, "warm", cores=1) == _check(tmp_path, "cold", cores=1)


def _run_types(tmp_path: Path, code: str, prose: str = "", then: str = "") -> list[dict[str, Any]]:
    """The JSON blocks of a one-block document (``prose`` before the block, ``then`` the code
    of a second block after it) checked by the types stage alone."""
    second = f"\n```python\n{then}```\n" if then else ""
    return _types_blocks(tmp_path, f"{prose}```python\n{code}```\n{second}")


def _types_blocks(tmp_path: Path, text: str) -> list[dict[str, Any]]:
    """The JSON blocks of a document of ``text`` checked by the types stage alone."""
    from exampletest.cli import main

    doc = tmp_path / "doc.md"
    doc.write_text(text, encoding="utf-8")
    report = tmp_path / "r.json"
    args = ["--no-cache", "--no-fix", "--stages", "types", f"--report=json={report}", str(doc)]
    main(["run", *args])
    blocks: list[dict[str, Any]] = json.loads(report.read_text(encoding="utf-8"))["documents"][0][
        "blocks"
    ]
    return blocks


def test_classes_a_placeholder_or_stand_in_decorates_are_no_evidence(tmp_path: Path) -> None:
    code = (
        "import strawberry\nfrom typing import Generic\n\nfrom pydantic import BaseModel\n\n\n"
        "@define\nclass A:\n    a: str\n\n\n@strawberry.type\nclass B:\n    title: str\n\n\n"
        "class Page(BaseModel, Generic[T]):\n    items: list[T]\n\n\n"
        'a = A("x")\nb = B(title="Dune")\n\n\nclass Plain:\n    pass\n\n\nPlain(1)\n'
    )
    [block] = _run_types(tmp_path, code)
    found = [(f["line"], f["rule"]) for f in block["findings"] if f["stage"] == "types"]
    assert found == [(30, "call-arg")]  # only the undecorated class's error


def test_a_class_over_a_base_imported_for_it_from_a_missing_module_is_no_evidence(
    tmp_path: Path,
) -> None:
    """``class User(Base, table=True)`` where ``Base`` is what exampletest imports for the
    block (here from the document's later block) from a module not installed: mypy sees
    ``Any`` and blames ``object.__init_subclass__``. Over a real class it is evidence."""
    code = "class User(Base, table=True):\n    name: str\n\n\nclass Own:\n    pass\n\n\n"
    code += "class Other(Own, table=True):\n    pass\n"
    [block, _] = _run_types(tmp_path, code, then="from exampletest_absent_odm import Base\n")
    found = [(f["line"], f["rule"]) for f in block["findings"] if f["stage"] == "types"]
    assert found == [(10, "call-arg")]


def test_a_line_a_mypy_message_names_is_a_document_line(tmp_path: Path) -> None:
    code = "class Schema:\n    a: int\n\n\nclass Schema:\n    b: int\n"
    [block] = _run_types(tmp_path, code, prose="# Schemas\n\nSome text.\n\n")
    [redef] = [f for f in block["findings"] if f["rule"] == "no-redef"]
    assert redef["line"] == 10 and redef["message"].endswith("already defined on line 6")


def test_exampletests_module_names_never_reach_a_message() -> None:
    from exampletest.stages.types import _GENERATED

    raw = '"__m9a5e1d83db_b002_ctx_User_AttrsAttributes__" has no attribute "pasword"'
    assert _GENERATED.sub("", raw) == '"__User_AttrsAttributes__" has no attribute "pasword"'
    raw = 'Argument 1 has type "m9a5e1d83db_b002_ctx.User"; expected "m0000000000_b010.Item"'
    assert _GENERATED.sub("", raw) == 'Argument 1 has type "User"; expected "Item"'


def test_mypy_seeing_the_error_a_transcript_shows_is_intentional(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    write_doc(
        "t.md",
        "# T\n\n```pycon\n>>> from dataclasses import dataclass\n>>> @dataclass(kw_only=True)\n"
        "... class A:\n...     a: int\n>>> A()\nTraceback (most recent call last):\n  ...\n"
        "TypeError: A.__init__() missing 1 required keyword-only argument: 'a'\n>>> A(b=1)\n```\n",
    )
    _code, report = run_json("--no-cache", "--no-fix", "t.md")
    (block,) = report["documents"][0]["blocks"]
    found = {
        (f["rule"], f["line"], f["intentional"]) for f in block["findings"] if f["stage"] == "types"
    }
    # Shown to raise: the doc's point. Not shown: the document's bug.
    assert ("call-arg", 8, True) in found and ("call-arg", 12, False) in found
    assert block["status"] == "broken"
    # A statement over several lines: the traceback follows its last line.
    write_doc(
        "m.md",
        "```pycon\n>>> from dataclasses import dataclass\n>>> @dataclass(kw_only=True)\n"
        "... class A:\n...     a: int\n>>> print(\n...     A()\n... )\n"
        "Traceback (most recent call last):\n  ...\nTypeError: missing 'a'\n```\n",
    )
    _code, report = run_json("--no-cache", "--no-fix", "m.md")
    (block,) = report["documents"][0]["blocks"]
    assert [f["intentional"] for f in block["findings"] if f["stage"] == "types"] == [True]


def test_a_handler_typed_for_its_own_exception_class_is_style_not_broken(
    tmp_path: Path,
) -> None:
    code = (
        "from fastapi import FastAPI, Request\nfrom fastapi.responses import JSONResponse\n\n"
        "app = FastAPI()\n\n\nasync def on_key(request: Request, exc: KeyError) -> JSONResponse:\n"
        "    return JSONResponse({}, status_code=404)\n\n\n"
        "app.add_exception_handler(KeyError, on_key)\nwrong: int = 'x'\n"
        "from starlette.applications import Starlette\n"
        "from starlette.exceptions import HTTPException\n\n\n"
        "async def on_http(request: Request, exc: HTTPException) -> JSONResponse:\n"
        "    return JSONResponse({}, status_code=exc.status_code)\n\n\n"
        "other = Starlette(exception_handlers={404: on_http})\n"
    )
    [block] = _run_types(tmp_path, code)
    found = [(f["rule"], f["category"]) for f in block["findings"] if f["stage"] == "types"]
    # The mapping form (`exception_handlers={...}`) is the same registration.
    assert ("assignment", "broken") in found
    assert {c for r, c in found if r != "assignment"} == {"style"}
    assert {"dict-item", "arg-type"} <= {r for r, _ in found}


def test_calls_pydantic_validates_and_coerces_at_run_time_are_style(tmp_path: Path) -> None:
    code = (
        "from pydantic import validate_call\nfrom pydantic.dataclasses import dataclass\n\n\n"
        "@dataclass\nclass User:\n    id: int\n\n\n@validate_call\n"
        "def repeat(s: str, count: int) -> str:\n    return s * count\n\n\n"
        "u = User(id='42')\nr = repeat('x', '3')\nraw = repeat.raw_function('y', 2)\n"
        "def plain(n: int) -> int:\n    return n\n\n\np = plain('1')\n"
    )
    [block] = _run_types(tmp_path, code)
    found = [(f["rule"], f["category"]) for f in block["findings"] if f["stage"] == "types"]
    assert found == [
        ("arg-type", "style"),
        ("arg-type", "style"),
        ("attr-defined", "style"),
        ("arg-type", "broken"),  # nothing validates `plain`'s arguments
    ]


def test_sqlalchemy_14s_async_sessionmaker_recipe_is_stale(tmp_path: Path) -> None:
    code = (
        "from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine\n"
        "from sqlalchemy.orm import sessionmaker\n\n"
        "engine = create_async_engine('sqlite+aiosqlite://')\n"
        "Session = sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)\n"
    )
    [block] = _run_types(tmp_path, code)
    found = [(f["rule"], f["category"]) for f in block["findings"] if f["stage"] == "types"]
    assert found == [("call-overload", "stale")]


def test_a_validator_shown_without_its_model_is_an_excerpt(tmp_path: Path) -> None:
    """``@field_validator`` over ``@classmethod`` at top level: "add this method to your
    model". It runs; only mypy objects, that a classmethod needs a class."""
    code = (
        "from pydantic import field_validator\n\n\n@field_validator('password')\n@classmethod\n"
        "def strong(cls, v: str) -> str:\n    return v\n"
    )
    [block] = _run_types(tmp_path, code)
    assert block["status"] == "incomplete"
    [finding] = block["findings"]
    assert finding["rule"] == "misc" and "a method shown without its class" in finding["message"]


def test_a_class_on_a_placeholder_base_and_a_pyright_ignored_line_are_no_evidence(
    tmp_path: Path,
) -> None:
    code = (
        "from typing import Generic\n\nfrom pydantic import BaseModel\n\n\n"
        "class Page(BaseModel, Generic[T]):\n    items: list[T]\n\n\n"
        "IntPage = Page[int]\n"
        "n: int = int(object())  # pyright: ignore[reportArgumentType]\n"
        "wrong: int = 'x'\n"
    )
    [block] = _run_types(tmp_path, code)
    found = [
        (f["line"], f["rule"], f["category"]) for f in block["findings"] if f["stage"] == "types"
    ]
    assert ("call-overload", "style") in {(r, c) for _, r, c in found}
    assert [(r, c) for _, r, c in found if c == "broken"] == [("assignment", "broken")]


def test_a_new_projects_mypy_cache_starts_from_the_users_seed(tmp_path: Path) -> None:
    """The libraries' analysis is kept in the user's cache after a first pre-warm; the next
    project's cache starts as a copy of it, and no mypy runs for what it covers. A seed that
    cannot be read is no seed."""
    seeds = tmp_path / "user"
    first = tmp_path / "p1" / "mypy"
    types.prewarm(tmp_path / "w1", first, ["json"], (), seeds)
    types.end_prewarm(first)
    [seed] = seeds.glob("mypy-*")
    assert json.loads((seed / "packages.json").read_text(encoding="utf-8")) == ["json"]
    second = tmp_path / "p2" / "mypy"
    types.prewarm(tmp_path / "w2", second, ["json"], (), seeds)
    assert second.is_dir() and second.resolve() not in types._prewarming  # copied, no mypy
    (seed / "packages.json").write_text("{not json", encoding="utf-8")
    third = tmp_path / "p3" / "mypy"
    types.prewarm(tmp_path / "w3", third, ["json"], (), seeds, start=False)
    assert not third.exists()


def test_a_seeded_project_finds_what_a_cold_one_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from exampletest.cli import main

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user"))
    doc = tmp_path / "d.md"
    doc.write_text("```python\nimport json\n\nx: str = json.dumps(1)\ny: str = 1\n```\n")
    found = []
    for project in ("p1", "p2"):
        monkeypatch.setenv("EXAMPLETEST_CACHE_DIR", str(tmp_path / project))
        report = tmp_path / f"{project}.json"
        main(["run", "--no-fix", "--stages", "types", f"--report=json={report}", str(doc)])
        [block] = json.loads(report.read_text(encoding="utf-8"))["documents"][0]["blocks"]
        found.append([(f["line"], f["rule"]) for f in block["findings"]])
    assert found[0] == found[1] == [(5, "assignment")]
    assert (tmp_path / "p2" / "mypy").is_dir()


def test_columns_count_characters_after_non_ascii_text(tmp_path: Path) -> None:
    """mypy, and ast for a fragment's name, count UTF-8 bytes: the report counts characters."""
    code = 'msg = "ééééé🚀"; y: int = "s"\n'
    [block] = _run_types(tmp_path, code)
    [f] = [f for f in block["findings"] if f["stage"] == "types"]
    assert (f["line"], f["column"]) == (2, code.index('"s"') + 1)
    assert types._character_column("a = 1", 3) == 3


def test_a_form_feed_does_not_shift_mypy_lines(tmp_path: Path) -> None:
    code = "x = 1  # \x0c page\ny: int = 's'\n"
    [block] = _run_types(tmp_path, code)
    assert [f["line"] for f in block["findings"] if f["stage"] == "types"] == [3]


def test_what_pydantic_resolves_at_run_time_and_mypys_object_joins_are_style(
    tmp_path: Path,
) -> None:
    """pydantic-settings validates defaults (a plain model does not); `@validate_call` takes
    a Field's alias; `pydantic.dataclasses.dataclass(A)` takes A's fields; a TypeAdapter
    takes a forward reference by name; a literal of mixed values is mypy's `object`."""
    code = (
        "import dataclasses\nfrom typing import Annotated\n\n"
        "import pydantic\nfrom pydantic import AnyUrl, BaseModel, Field, TypeAdapter, "
        "validate_call\nfrom pydantic_settings import BaseSettings\n\n\n"
        "class Settings(BaseSettings):\n    url: AnyUrl = 'https://example.com/'\n\n\n"
        "class Model(BaseModel):\n    url: AnyUrl = 'https://example.com/'\n\n\n"
        "@validate_call\ndef how_many(num: Annotated[int, Field(gt=10, alias='number')]) -> int:\n"
        "    return num\n\n\nhow_many(number=42)\n\n\n"
        "@dataclasses.dataclass\nclass A:\n    a: int\n\n\n"
        "PydanticA = pydantic.dataclasses.dataclass(A)\nPydanticA(a=1)\n"
        "ta: TypeAdapter[int] = TypeAdapter('MyInt')\n"
        "data = {'id': 1, 'children': [{'id': 2}]}\nfirst = data['children'][0]\n"
    )
    [block] = _run_types(tmp_path, code)
    found = [(f["line"], f["category"]) for f in block["findings"] if f["stage"] == "types"]
    assert (15, "broken") in found  # the plain model keeps the string: a real bug
    assert [c for line, c in found if line != 15] == ["style"] * (len(found) - 1)
    assert len(found) >= 6


def test_a_model_field_defaulting_to_none_is_the_stale_v1_idiom(tmp_path: Path) -> None:
    """`full_name: str = None` runs in v2 (defaults are not validated); v1 made it Optional.
    A plain class's `x: str = None` stays broken."""
    code = (
        "from pydantic import BaseModel\n\n\nclass Base(BaseModel):\n    email: str\n\n\n"
        "class Register(Base):\n    full_name: str = None\n\n\n"
        "class Plain:\n    name: str = None\n"
    )
    [block] = _run_types(tmp_path, code)
    found = [(f["line"], f["category"]) for f in block["findings"] if f["stage"] == "types"]
    assert found == [(10, "stale"), (14, "broken")]


def test_every_none_default_of_a_signature_is_an_implicit_optional(tmp_path: Path) -> None:
    """mypy hints "implicit Optional" once per file; the second `= None` on the same line is
    the same legacy idiom and must not turn broken for lack of the hint."""
    code = (
        "def log(event: str, user_id: str = None,\n"
        "        ip: str = None, agent: str = None) -> None:\n    print(event)\n"
    )
    [block] = _run_types(tmp_path, code)
    found = [(f["line"], f["category"]) for f in block["findings"] if f["stage"] == "types"]
    assert found == [(2, "stale"), (3, "stale"), (3, "stale")]
    assert all("implicit `Optional`" in f["message"] for f in block["findings"])


def test_a_name_a_block_binds_afresh_is_its_own_not_the_earlier_blocks(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """A tutorial reuses ``stmt`` for a new query: Python rebinds it, and mypy must not hold
    the new value to the earlier one's type. A name used before the block binds it again
    (``total = total + 1``) still has the earlier type."""
    write_doc(
        "t.md",
        "```python\nstmt = 1\nfirst = stmt\ntotal = 0\n```\n\n"
        "```python\nstmt = 'a new query'\nprint(stmt, first)\ntotal = total + 'x'\n```\n",
    )
    _code, report = run_json("--no-cache", "--no-fix", "--stages", "types", "t.md")
    found = [(f["line"], f["rule"]) for f in report["documents"][0]["blocks"][1]["findings"]]
    assert found == [(10, "operator")]


def test_what_mypy_infers_from_a_call_given_a_placeholder_is_no_evidence(
    tmp_path: Path,
) -> None:
    """``engine`` is a placeholder (Any): mypy picks sessionmaker's sync overload and then
    says the session has no ``__aenter__``; the reader's real engine would not."""
    code = (
        "from sqlalchemy.ext.asyncio import AsyncSession\n"
        "from sqlalchemy.orm import sessionmaker\n\n"
        "async_session = sessionmaker(engine, expire_on_commit=False, class_=AsyncSession)\n\n\n"
        "async def main() -> None:\n    async with async_session() as session:\n"
        "        await session.commit()\n"
    )
    [block] = _run_types(tmp_path, code)
    assert [f["rule"] for f in block["findings"] if f["stage"] == "types"] == []


def test_a_class_of_the_document_given_a_placeholder_is_still_checked(tmp_path: Path) -> None:
    """``DatabaseConnection(dsn)`` with ``dsn`` a placeholder: the class is the document's own,
    its type does not depend on the argument, and a method it lacks is still an error."""
    code = (
        "class DatabaseConnection:\n    def __init__(self, dsn: str) -> None:\n"
        "        self.dsn = dsn\n\n\ndb = DatabaseConnection(dsn)\nprint(db.execute('x'))\n"
    )
    [block] = _run_types(tmp_path, code)
    assert [f["rule"] for f in block["findings"] if f["stage"] == "types"] == ["attr-defined"]


def test_blocks_that_board_a_shared_run_are_checked_in_it(tmp_path: Path) -> None:
    """The fix engine's trials join the run's mypy: one mypy process, and each side gets the
    findings of its own modules, as separate runs would give them."""
    (tmp_path / "doc.md").write_text(DOC, encoding="utf-8")
    options = pipeline.Options(paths=(str(tmp_path / "doc.md"),), cache_dir=tmp_path / "c")
    documents, _ = pipeline.load_documents(options)
    contexts = analyze_document(documents[0].blocks, pipeline.load_index(options, documents))
    own = [(c, f"own_b{c.block.index}") for c in contexts]
    riding = [(c, f"rider_b{c.block.index}") for c in contexts[:1]]
    shared = types.SharedRun()
    rider = shared.board(riding)
    assert rider is not None and not rider.done.is_set()
    found = types.check(own, tmp_path / "work", tmp_path / "mypy", shared=shared)
    assert rider.done.is_set() and rider.results is not None
    key = (contexts[0].block.doc_path, contexts[0].block.index)
    assert [f.rule for f in rider.results[key]] == [f.rule for f in found[key]] == ["operator"]
    assert set(found) == {(c.block.doc_path, c.block.index) for c in contexts}
    assert shared.board(riding) is None  # the run has started: too late to join


def test_mypy_checks_a_fastapi_stand_in_as_the_app_it_is(tmp_path: Path) -> None:
    """An undefined app a FastAPI block routes on is typed as FastAPI, not Any: a decorator
    argument FastAPI does not take is the block's own error."""
    code = (
        "from fastapi import Depends\n\n\n"
        '@app.get("/items", status=201)\ndef items() -> list[int]:\n    return [1]\n\n\n'
        '@router.post("/u")\ndef add(user: UserIn, db=Depends(get_db)) -> UserIn:\n'
        "    return user\n"
    )
    [block] = _run_types(tmp_path, code)
    found = [(f["line"], f["rule"]) for f in block["findings"] if f["stage"] == "types"]
    assert found == [(5, "call-arg")]


def test_an_attribute_set_on_a_function_is_style_and_one_read_is_not(tmp_path: Path) -> None:
    """Django's admin idiom (``price.short_description = "Price"``) runs; mypy cannot model
    attributes of functions. Reading one that was never set is still mypy's evidence."""
    code = (
        "class ProductAdmin:\n"
        "    def price(self, obj: object) -> str:\n"
        "        return 'x'\n"
        "    price.short_description = 'Price'  # type: ignore[attr-defined]\n"
        "    def stock(self, obj: object) -> str:\n"
        "        return 'y'\n"
        "    stock.short_description = 'Stock'\n\n\n"
        "def helper() -> int:\n    return 1\n\n\n"
        "helper.calls = 0\n"
        "print(helper.missing)\n"
    )
    [block] = _run_types(tmp_path, code)
    found = sorted(
        (f["line"], f["category"]) for f in block["findings"] if f["rule"] == "attr-defined"
    )
    assert found == [(8, "style"), (15, "style"), (16, "broken")]  # document lines
    assert "attributes of functions" in block["findings"][0]["message"]


def test_what_mypy_says_of_a_guessed_import_is_not_evidence_the_code_is_broken(
    tmp_path: Path,
) -> None:
    """A missing ``Session`` in a document importing pytest is guessed to be pytest's; that
    it does not fit says as much about the guess as about the code. So too when a later
    block imports it."""
    code = (
        "import pytest\n\n\n@pytest.fixture\ndef db_session() -> None:\n"
        "    session = Session()\n    session.begin()\n"
    )
    [block] = _run_types(tmp_path, code)
    found = {(f["rule"], f["category"]) for f in block["findings"] if f["stage"] == "types"}
    assert found == {("call-arg", "incomplete"), ("attr-defined", "incomplete")}
    assert all(
        "guess for the missing `Session`" in f["message"]
        for f in block["findings"]
        if f["stage"] == "types"
    )
    assert block["status"] == "incomplete"
    # The document's own import (in a later block) is no guess: the same code is broken...
    first, _ = _run_types(tmp_path, code, then="from pytest import Session\n")
    assert ("call-arg", "broken") in {(f["rule"], f["category"]) for f in first["findings"]}
    # ... unless the class it imports lacks what the block uses: the block may mean another
    # (a skill that imports `sqlalchemy.orm.Session` at its end calls a model `Session` before)
    model = "def active(Session) -> object:\n    return Session.is_active.is_(True)\n"
    first, _ = _run_types(
        tmp_path, model.replace("(Session)", "()"), then="from sqlalchemy.orm import Session\n"
    )
    said = [f for f in first["findings"] if f["rule"] == "attr-defined"]
    assert [f["category"] for f in said] == ["incomplete"], first["findings"]
    assert "the import a later block has for the missing `Session`" in said[0]["message"]


def test_a_guess_mypy_calls_by_another_name_is_known_by_where_it_points(tmp_path: Path) -> None:
    """An ODM's update operator ``Set({...})``, never imported, is guessed to be
    ``collections.abc.Set``, which mypy calls "AbstractSet": its complaint starts at the
    guessed name, so it is said of the guess too."""
    code = "update = dict\nupdate(Set({'price': 3}))\n"
    [block] = _run_types(tmp_path, code)
    found = [(f["rule"], f["category"]) for f in block["findings"] if f["stage"] == "types"]
    assert found == [("abstract", "incomplete")]
    assert "AbstractSet" in block["findings"][-1]["message"]
    assert "guess for the missing `Set`" in block["findings"][-1]["message"]


def test_a_value_from_a_function_whose_body_is_left_out_is_incomplete(tmp_path: Path) -> None:
    """``async def gen(): ...  # yield bytes`` is a coroutine to mypy; the author means a
    generator and leaves its body to the reader. A stub that says what it returns is checked."""
    code = (
        "import httpx\n\n\nasync def upload_bytes():\n    ...  # yield byte content\n\n\n"
        "async def main(client: httpx.AsyncClient) -> None:\n"
        "    await client.post('/', data=upload_bytes())\n\n\n"
        "def count() -> str: ...\n\n\nn: int = count()\n"
    )
    [block] = _run_types(tmp_path, code)
    found = [(f["rule"], f["category"]) for f in block["findings"] if f["stage"] == "types"]
    assert found == [("arg-type", "incomplete"), ("assignment", "broken")]
    assert "`upload_bytes()`, whose body the document leaves out" in block["findings"][0]["message"]


def test_a_dml_results_rowcount_is_style_mypy_sees_a_plain_result(tmp_path: Path) -> None:
    """``Session.execute()`` is typed as returning ``Result``; an UPDATE's is a
    ``CursorResult``, whose ``rowcount`` the code reads. Another missing attribute is not."""
    code = (
        "from sqlalchemy import Column, Integer, MetaData, Table, update\n"
        "from sqlalchemy.orm import Session\n\n"
        "t = Table('t', MetaData(), Column('id', Integer, primary_key=True))\n\n\n"
        "def bump(session: Session) -> int:\n"
        "    result = session.execute(update(t).values(id=1))\n"
        "    print(result.nope)\n"
        "    return result.rowcount\n"
    )
    [block] = _run_types(tmp_path, code)
    found = sorted(
        (f["line"], f["category"]) for f in block["findings"] if f["rule"] == "attr-defined"
    )
    assert found == [(10, "broken"), (11, "style")]


def test_a_dict_unpacked_into_a_call_is_one_style_finding(tmp_path: Path) -> None:
    """``FastAPI(**app_configs)`` with ``{"title": "x"}``: mypy checks ``dict[str, str]``
    against each parameter the dict could fill, nineteen errors for code that runs."""
    code = (
        'from fastapi import FastAPI\n\napp_configs = {"title": "My API"}\n'
        "app = FastAPI(**app_configs)\nlen(1)\n"
    )
    [block] = _run_types(tmp_path, code)
    found = [(f["rule"], f["category"]) for f in block["findings"] if f["stage"] == "types"]
    assert found == [("arg-type", "style"), ("arg-type", "broken")]
    unpacked = block["findings"][0]["message"]
    assert '"**dict[str, str]"' in unpacked and "more parameters" in unpacked


def test_a_type_error_of_a_legacy_column_attribute_is_stale(tmp_path: Path) -> None:
    """``name = Column(String)`` then ``self.name = name``: mypy sees a ``Column[str]``; the
    model's 1.x style is the cause (``Mapped[str]`` types it)."""
    code = (
        "from sqlalchemy import Column, Integer, String\nfrom sqlalchemy.orm import "
        "DeclarativeBase\n\n\nclass Base(DeclarativeBase):\n    pass\n\n\nclass Item(Base):\n"
        "    __tablename__ = 'items'\n    id = Column(Integer, primary_key=True)\n"
        "    name = Column(String)\n\n    def rename(self, name: str) -> None:\n"
        "        self.name = name\n        self.id = 'x' + 1\n\n"
        "    def key(self) -> int:\n        return self.id\n\n\n"
        "def double(n: int) -> int:\n    return n * 2\n\n\ndouble(Item().id)\n"
    )
    [block] = _run_types(tmp_path, code)
    found = [(f["line"], f["category"]) for f in block["findings"] if f["stage"] == "types"]
    assert (16, "stale") in found and any(c == "broken" for line, c in found if line == 17)
    # returned, or passed as an argument: the same `Column[int]`; an int where a float goes
    assert (20, "stale") in found and (27, "stale") in found
    code += "\n\ndef half(x: float) -> float:\n    return x / 2\n\n\nhalf(Item().id)\n"
    [block] = _run_types(tmp_path, code)
    found = [(f["line"], f["category"]) for f in block["findings"] if f["stage"] == "types"]
    assert (34, "stale") in found


def test_an_error_about_an_earlier_blocks_name_points_at_that_definition(tmp_path: Path) -> None:
    """A later fragment means another ``User`` than the one the document defined last (one
    with ``addresses``): mypy checks it against that one, and the message says which, by
    its document line; a name the block binds itself (a parameter too) is not pointed at."""
    code = "class User:\n    name: str = 'a'\n"
    code += "user = User()\n"
    then = (
        "print(User.addresses)\nprint(user.email)\n\n\n"
        "def show(user: User) -> None:\n    print(user.phone)\n"
    )
    blocks = _run_types(tmp_path, code, then=then)
    messages = [f["message"] for f in blocks[1]["findings"] if f["category"] == "broken"]
    assert messages == [
        '"type[User]" has no attribute "addresses" (`User` here is an earlier block\'s: line 2)',
        '"User" has no attribute "email" (`user` here is an earlier block\'s: line 4)',
        '"User" has no attribute "phone"',  # the parameter, not the earlier block's `user`
    ]


def test_a_member_the_document_leaves_out_of_its_class_is_incomplete(tmp_path: Path) -> None:
    """``self._check_db()`` in a class the block shows, where no block of the document
    defines ``_check_db``: the class is shown in part (incomplete, said so), as is a method
    called on its objects (``service.get_user(1)``, in a route of the same name), or on an
    earlier block's class (a later block uses more of it than that one shows), and any member
    of a class whose body is ``...``. A member that is defined somewhere, a value read of a
    class shown whole, a library's attribute, is the reader's error as before (broken)."""
    code = (
        "from sqlalchemy import insert\n\n\n"
        "class Health:\n    def check(self) -> dict[str, bool]:\n"
        "        return {'db': self._check_db(), 'cache': self._check_cache()}\n\n\n"
        "class Shown:\n    pass\n\n\n"
        "ok = insert(Shown).on_duplicate_key_update\n\n\n"
        "class Repo:\n    def get(self) -> object:\n        return self._db.get(1)\n\n\n"
        "class Rotator:\n    def __init__(self, hosts: list[str]) -> None:\n"
        "        self.hosts = hosts\n\n    def size(self) -> int:\n"
        "        return len(self.host_list)\n\n\n"
        "class Typo:\n    def get(self) -> int:\n        return 1\n\n"
        "    def twice(self) -> int:\n        return self.gett() * 2\n\n\n"
        "class Service:\n    def __init__(self, repo: object) -> None:\n"
        "        self.repo = repo\n\n\n"
        "def get_user(service: Service) -> object:\n    return service.get_user(1)\n"
    )
    then = (
        "def _check_cache(self) -> bool:\n    return True\n\n\n"
        "def use(s: Shown) -> int:\n    return s.balance\n\n\n"
        "def listing(service: Service) -> object:\n    return service.list_all()\n\n\n"
        "class Settings:\n    ...\n\n\n"
        "def debug(settings: Settings) -> bool:\n    return settings.debug\n"
    )
    first, second = _run_types(tmp_path, code, then=then)
    found = {
        (f["line"], f["category"], f["message"].split(" (")[0])
        for f in first["findings"] + second["findings"]
        if f["rule"] == "attr-defined"
    }
    assert found == {
        (7, "incomplete", '"Health" has no attribute "_check_db"'),
        (7, "broken", '"Health" has no attribute "_check_cache"'),  # a later block defines it
        (14, "broken", '"Insert" has no attribute "on_duplicate_key_update"'),
        (19, "incomplete", '"Repo" has no attribute "_db"'),  # set in an `__init__` not shown
        (27, "broken", '"Rotator" has no attribute "host_list"'),  # the shown `__init__` does not
        (35, "broken", '"Typo" has no attribute "gett"; maybe "get"?'),  # a typo of a member
        (44, "incomplete", '"Service" has no attribute "get_user"'),  # shown for its wiring
        (53, "broken", '"Shown" has no attribute "balance"'),  # a value of a class shown whole
        (57, "incomplete", '"Service" has no attribute "list_all"'),  # a method, more of it
        (65, "incomplete", '"Settings" has no attribute "debug"'),  # a class left out: `...`
    }
    why = [f["message"] for f in first["findings"] if f["category"] == "incomplete"]
    assert "no block of the document defines `_check_db`: it shows `Health` in part" in why[0]


def test_what_runs_as_written_but_types_otherwise_is_not_broken(tmp_path: Path) -> None:
    """Two idioms mypy cannot follow that run: SQLAlchemy 1.4's async recipe,
    ``sessionmaker(engine, class_=AsyncSession)``, whose sessions mypy types as ``Session``
    (stale: 2.0 has ``async_sessionmaker``); and ``product.price = "2.5"`` on a model that
    validates assignments, which Pydantic coerces (style). Without the setting the string
    stays a string: broken."""
    code = (
        "from pydantic import BaseModel, ConfigDict\n"
        "from sqlalchemy.ext.asyncio import AsyncSession\n"
        "from sqlalchemy.orm import sessionmaker\n\n\n"
        "async def use(engine) -> None:\n"
        "    maker = sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)\n"
        "    async with maker() as session:\n        await session.commit()\n\n\n"
        "class P(BaseModel):\n    model_config = ConfigDict(validate_assignment=True)\n\n"
        "    price: float\n\n\np = P(price=1.0)\np.price = '2.5'\n"
    )
    [block] = _run_types(tmp_path, code)
    found = sorted(
        (f["line"], f["rule"], f["category"]) for f in block["findings"] if f["stage"] == "types"
    )
    assert found == [
        (9, "attr-defined", "stale"),
        (9, "attr-defined", "stale"),
        (20, "assignment", "style"),
    ]
    stale = next(f for f in block["findings"] if f["category"] == "stale")
    assert "async_sessionmaker" in stale["message"] and stale["suggestion"]
    plain = code.replace("    model_config = ConfigDict(validate_assignment=True)\n\n", "")
    [block] = _run_types(tmp_path, plain)
    assert ("assignment", "broken") in {(f["rule"], f["category"]) for f in block["findings"]}
    # another class's object beside such a model: nothing converts it
    other = (
        code + "\n\n@dataclass\nclass Point:\n    x: float\n\n\npt = Point(1.0)\npt.x = 'oops'\n"
    )
    [block] = _run_types(tmp_path, "from dataclasses import dataclass\n" + other)
    found = {(f["line"], f["category"]) for f in block["findings"] if f["rule"] == "assignment"}
    assert found == {(21, "style"), (30, "broken")}


def test_a_missing_return_in_a_function_shown_in_part_is_incomplete(tmp_path: Path) -> None:
    """`# ...` in the body stands for the code left out (the return among it, a lifespan's
    `yield`); a function shown whole that can fall off its end is still broken."""
    code = (
        "class Cycle:\n    pass\n\n\ndef next_cycle(db: object) -> Cycle:\n    # ...\n"
        "    print(db)\n    # ...\n\n\ndef really_missing(x: int) -> int:\n    if x:\n"
        "        return 1\n\n\n@asynccontextmanager\nasync def lifespan(app: object):\n"
        "    print(app)\n    # ... rest of lifespan\n"
    )
    code = "from contextlib import asynccontextmanager\n\n\n" + code
    [block] = _run_types(tmp_path, code)
    found = [(f["rule"], f["line"], f["category"]) for f in block["findings"]]
    assert found == [
        ("return", 9, "incomplete"),
        ("return", 15, "broken"),
        ("arg-type", 20, "incomplete"),  # no `yield` shown: a coroutine, not a generator
    ]
    # a decorator's own argument of the wrong type is no part left out
    retry = (
        "from collections.abc import Callable\n\n\n"
        "def retry(times: int) -> Callable[[Callable[..., str]], Callable[..., str]]:\n"
        "    return lambda f: f\n\n\n@retry(times='3')\ndef fetch(url: str) -> str:\n"
        "    # ... call the API\n    return url\n"
    )
    [other] = _run_types(tmp_path, retry)
    assert [(f["rule"], f["category"]) for f in other["findings"]] == [("arg-type", "broken")]
    assert "shown in part" in block["findings"][0]["message"]


def test_a_method_missing_from_a_class_shown_whole_stays_broken(tmp_path: Path) -> None:
    """`g.salute()` on a class that shows methods of its own and no sign of leaving any out:
    a mistake mypy has no "maybe" for, not a member left out."""
    code = (
        "class Greeter:\n    def greet(self, name: str) -> str:\n        return name\n\n\n"
        "def welcome(g: Greeter) -> str:\n    return g.salute('ada')\n\n\n"
        "class Shown:\n    def greet(self) -> str:\n        return 'hi'\n\n    # ...\n\n\n"
        "def use(s: Shown) -> str:\n    return s.salute()\n"
    )
    [block] = _run_types(tmp_path, code)
    found = [(f["line"], f["category"]) for f in block["findings"] if f["rule"] == "attr-defined"]
    assert found == [(8, "broken"), (19, "incomplete")]


def test_a_pydantic_constrained_type_call_as_an_annotation_is_stale_not_broken(
    tmp_path: Path,
) -> None:
    code = (
        "from pydantic import BaseModel, conlist\n\n\nclass Post(BaseModel):\n"
        '    tags: conlist(str, min_length=1)\n    size: len("ab")\n'
    )
    [block] = _run_types(tmp_path, code)
    found = [(f["line"], f["rule"], f["category"]) for f in block["findings"]]
    assert (6, "valid-type", "stale") in found
    assert (7, "valid-type", "broken") in found  # any other call is no type, and no idiom


def test_a_class_listed_again_for_one_method_reads_what_its_first_listing_set_up(
    tmp_path: Path,
) -> None:
    """A repository shown with its `__init__`, then again (a later block) for `save` alone,
    which uses `self._db`: the class is shown again in part (incomplete, naming the first
    listing). A second listing with an `__init__` that does not set `_db` is the reader's
    error (broken), and so is a typo mypy has a "maybe" for."""
    code = (
        "class Repo:\n    def __init__(self, db: object) -> None:\n        self._db = db\n\n"
        "    def get(self) -> object:\n        return self._db\n\n\n"
        "class Other:\n    def __init__(self) -> None:\n        self._db = 1\n"
    )
    then = (
        "class Repo:\n    def save(self) -> object:\n        return self._db\n\n\n"
        "class Other:\n    def __init__(self) -> None:\n        pass\n\n"
        "    def save(self) -> object:\n        return self._db\n"
    )
    _first, second = _run_types(tmp_path, code, then=then)
    found = [
        (f["line"], f["category"], f["message"].split(" (")[0])
        for f in second["findings"]
        if f["rule"] == "attr-defined"
    ]
    assert found == [
        (18, "incomplete", '"Repo" has no attribute "_db"'),
        (26, "broken", '"Other" has no attribute "_db"'),
    ]
    why = next(f["message"] for f in second["findings"] if f["category"] == "incomplete")
    assert "the `Repo` at line 2 has `_db`: the document lists that class in parts" in why


def test_a_model_listed_in_parts_has_the_members_any_listing_shows(tmp_path: Path) -> None:
    """An agent file lists `Job` once for its columns, then again for a relationship; a query
    below uses both (one reached through `get_job() -> Job`): a member another listing shows
    is a class shown in parts (incomplete, naming that listing), not the reader's error. One
    no listing shows, with mypy's "maybe", stays a typo (broken)."""
    blocks = _types_blocks(
        tmp_path,
        "```python\nclass Job:\n    tool: str = 'a'\n```\n\n"
        "```python\nclass Job:\n    entries: list[int] = []\n\n\n"
        "def get_job() -> Job:\n    return Job()\n```\n\n"
        "```python\nprint(Job.tool, Job.entries)\njob = get_job()\n"
        "print(job.tool, job.entrie)\n```\n",
    )
    found = [(f["line"], f["category"], f["message"].split(" (")[0]) for f in blocks[2]["findings"]]
    assert found == [
        (16, "incomplete", '"type[Job]" has no attribute "tool"'),
        (18, "incomplete", '"Job" has no attribute "tool"'),
        (18, "broken", '"Job" has no attribute "entrie"; maybe "entries"?'),
    ], found
    assert (
        "the `Job` at line 2 has `tool`: the document lists that class in parts"
        in (blocks[2]["findings"][0]["message"])
    )


def test_a_container_made_empty_and_filled_is_typed_by_mypy_from_its_first_fill(
    tmp_path: Path,
) -> None:
    """FastAPI's docs: `response = {}`, then `response.update({"q": q})` and
    `response.update({"skip": 0})`: mypy typed the dict by the first fill and rejects the
    second, but the code runs (style, with the annotation to write, its keys' type read off
    the fills). The same mismatch on a dict the code built with values, or a complaint about
    the value appended rather than the list, is the reader's error."""
    code = (
        "def read(q: str) -> dict:\n    response = {}\n    response.update({'q': q})\n"
        "    response.update({'skip': 0})\n    rows = []\n    rows.append('a')\n"
        "    rows.append(1)\n    return response\n\n\n"
        "built = {'q': 'x'}\nbuilt.update({'skip': 0})\n"
        "labels = {}\nlabels[200] = 'OK'\nlabels[404] = 404\n"
        "found = []\nfor raw in ['1']:\n    found.append(int.bit_length(raw))\n"
    )
    [block] = _run_types(tmp_path, code)
    found = [(f["line"], f["category"]) for f in block["findings"] if f["stage"] == "types"]
    assert found == [(5, "style"), (8, "style"), (13, "broken"), (16, "style"), (19, "broken")]
    messages = [f["message"] for f in block["findings"] if f["category"] == "style"]
    assert "annotate it, `response: dict[str, Any] = {}`" in messages[0]
    assert "annotate it, `rows: list[Any] = []`" in messages[1]
    assert "annotate it, `labels: dict[int, Any] = {}`" in messages[2]


def test_a_member_shown_outside_its_class_is_the_listings_left_out_part(
    tmp_path: Path,
) -> None:
    """A model listed with its columns, then a relationship shown alone at the top level
    ("declare it on both sides": `labels: Mapped[list[Label]] = relationship(...)`), then a
    function using `review.labels`: the listing leaves that member out (incomplete, naming
    the line). A member no block shows (`review.tags`) stays broken."""
    blocks = _types_blocks(
        tmp_path,
        "```python\nfrom sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n\n\n"
        "class Base(DeclarativeBase):\n    pass\n\n\n"
        "class Review(Base):\n    __tablename__ = 'reviews'\n"
        "    id: Mapped[int] = mapped_column(primary_key=True)\n```\n\n"
        "```python\nlabels: Mapped[list[str]] = relationship(back_populates='reviews')\n```\n\n"
        "```python\ndef names(review: Review) -> list[str]:\n"
        "    return [*review.labels, *review.tags]\n```\n",
    )
    found = [
        (f["category"], f["message"]) for f in blocks[2]["findings"] if f["rule"] == "attr-defined"
    ]
    assert [(c, m.split(" (")[0]) for c, m in found] == [
        ("incomplete", '"Review" has no attribute "labels"'),
        ("broken", '"Review" has no attribute "tags"'),
    ]
    assert "shows `labels` at line 15 outside its class" in found[0][1]


def test_a_member_shown_outside_its_class_belongs_to_one_class_only(tmp_path: Path) -> None:
    """`posts: Mapped[list["Post"]] = relationship()` shown alone ("add this to `User`"),
    then `post.posts`: the member is `User`'s (the one class that lacks it and that its line
    does not name; `Base` is every model's base), so `Post` lacking it is the reader's error."""
    blocks = _types_blocks(
        tmp_path,
        "```python\nfrom sqlalchemy import ForeignKey\n"
        "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship\n\n\n"
        "class Base(DeclarativeBase):\n    pass\n\n\n"
        "class User(Base):\n    __tablename__ = 'users'\n"
        "    id: Mapped[int] = mapped_column(primary_key=True)\n\n\n"
        "class Post(Base):\n    __tablename__ = 'posts'\n"
        "    id: Mapped[int] = mapped_column(primary_key=True)\n```\n\n"
        "```python\nposts: Mapped[list['Post']] = relationship()\n```\n\n"
        "```python\ndef count(post: Post, user: User) -> int:\n"
        "    return len(post.posts) + len(user.posts)\n```\n",
    )
    found = [(f["category"], f["message"].split(" (")[0]) for f in blocks[2]["findings"]]
    assert found == [
        ("broken", '"Post" has no attribute "posts"'),
        ("incomplete", '"User" has no attribute "posts"'),
    ]


def test_a_value_from_an_unset_environment_variable_and_a_replaced_method_are_style(
    tmp_path: Path,
) -> None:
    """`DATABASE_URL = os.getenv("DATABASE_URL")` then `create_engine(DATABASE_URL)`: `None`
    only when the reader has not configured it (the run says "needs configuration"), so
    mypy's `str | None` is style. FastAPI's documented `app.openapi = custom_openapi`
    replaces a method: it runs (style). A `str | None` from elsewhere stays broken."""
    code = (
        "import os\n\nfrom fastapi import FastAPI\nfrom sqlalchemy import create_engine\n\n"
        "DATABASE_URL = os.getenv('DATABASE_URL')\nengine = create_engine(DATABASE_URL)\n"
        "app = FastAPI()\n\n\ndef custom_openapi() -> dict[str, object]:\n    return {}\n\n\n"
        "app.openapi = custom_openapi\n\n\ndef pick(x: str | None) -> None:\n"
        "    create_engine(x)\n\n\n"
        "users = {'admin': 'a'}\ncreate_engine(users.get(DATABASE_URL or 'admin'))\n"
    )
    [block] = _run_types(tmp_path, code)
    found = [(f["line"], f["rule"], f["category"]) for f in block["findings"]]
    assert found == [
        (8, "arg-type", "style"),
        (16, "method-assign", "style"),
        (20, "arg-type", "broken"),
        (24, "arg-type", "broken"),  # a getenv name on the line, another value's `None`
    ]


def test_a_name_earlier_blocks_bind_to_different_objects_may_mean_another(
    tmp_path: Path,
) -> None:
    """`with Session(engine) as session`, then `async with AsyncSession(engine) as session`:
    a later block's sync `session.execute(...).scalars()` means the first, so mypy's error
    about the last is incomplete and says which lines bind it. Bound twice by the same
    callable, the error stays broken."""
    models = (
        "from sqlalchemy import create_engine, select\n"
        "from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine\n"
        "from sqlalchemy.orm import Session\n\n"
        "engine = create_engine('sqlite://')\naengine = create_async_engine('sqlite://')\n"
    )
    sessions = (
        "with Session(engine) as session:\n    pass\n\n"
        "async with AsyncSession(aengine) as session:\n    pass\n"
    )
    use = "rows = session.execute(select(1)).scalars().all()\n"
    text = "".join(f"```python\n{c}```\n\n" for c in (models, sessions, use))
    (found,) = _types_blocks(tmp_path, text)[2]["findings"]
    assert (found["rule"], found["category"]) == ("attr-defined", "incomplete")
    assert "bound on lines 11, 14 to different objects" in found["message"]
    # the classes used without an import (exampletest guesses them) count as well
    unimported = models.replace("from sqlalchemy.orm import Session\n", "").replace(
        "AsyncSession, create_async_engine", "create_async_engine"
    )
    text = "".join(f"```python\n{c}```\n\n" for c in (unimported, sessions, use))
    (found,) = _types_blocks(tmp_path, text)[2]["findings"]
    assert (found["rule"], found["category"]) == ("attr-defined", "incomplete")
    # a typo is one whichever class: mypy's near-miss says so
    typo = "rows = session.comit()\n"
    text = "".join(f"```python\n{c}```\n\n" for c in (models, sessions, typo))
    (found,) = _types_blocks(tmp_path, text)[2]["findings"]
    assert (found["rule"], found["category"]) == ("attr-defined", "broken")
    # a factory's product (`SessionLocal()`) is not told apart from a class's
    local = models + "SessionLocal = sessionmaker(engine)\n"
    local = local.replace("import Session\n", "import Session, sessionmaker\n")
    factory = "session = SessionLocal()\n\nwith Session(engine) as session:\n    pass\n"
    text = "".join(f"```python\n{c}```\n\n" for c in (local, factory, use))
    assert _types_blocks(tmp_path, text)[2]["findings"] == []
    # one class spelt two ways, or a decorated function's result, are no different objects
    spelt = (
        "from sqlalchemy import orm\n\nsession = orm.Session(engine)\nsession = Session(engine)\n"
    )
    wrong = "rows: int = session.execute(select(1)).scalars().all()\n"
    text = "".join(f"```python\n{c}```\n\n" for c in (models, spelt, wrong))
    (found,) = _types_blocks(tmp_path, text)[2]["findings"]
    assert (found["rule"], found["category"]) == ("assignment", "broken")
    # two libraries' classes of one name are two classes
    two = "import httpx\nimport requests\n\nreq = requests.Request('GET', 'http://x')\n"
    two += "req = httpx.Request('GET', 'http://x')\n"
    text = "".join(f"```python\n{c}```\n\n" for c in (two, "print(req.hooks)\n"))
    (found,) = _types_blocks(tmp_path, text)[1]["findings"]
    assert (found["rule"], found["category"]) == ("attr-defined", "incomplete")
    # one class by two import paths (FastAPI's `responses.JSONResponse`, Starlette's)
    one = "from fastapi import responses\n\nresponse = responses.JSONResponse({})\n"
    other = "from starlette.responses import JSONResponse\n\nresponse = JSONResponse({})\n"
    text = "".join(f"```python\n{c}```\n\n" for c in (one, other, "print(response.json())\n"))
    (found,) = _types_blocks(tmp_path, text)[2]["findings"]
    assert (found["rule"], found["category"]) == ("attr-defined", "broken")
    same = "async with AsyncSession(aengine) as session:\n    pass\n\n" * 2
    text = "".join(f"```python\n{c}```\n\n" for c in (models, same, use))
    (found,) = _types_blocks(tmp_path, text)[2]["findings"]
    assert (found["rule"], found["category"]) == ("attr-defined", "broken")
