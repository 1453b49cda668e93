"""Commands and exit codes of the contract, on small documents."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from exampletest.cli import main

BROKEN = "# Title\n\n```python\nfrom pydantic import BaseSettings\n```\n"
STALE = "```python\nfrom typing import List\n\nx: List[int] = []\n```\n"
OK = "```python\nx = [1, 2]\nprint(sum(x))\n```\n"

V1_DOC = """# Models

Intro text that must survive.

- A list item with a block:

  ```python
  from pydantic import BaseModel, validator

  class Item(BaseModel):
      name: str

      @validator("name")
      def strip(cls, v):
          return v.strip()

      class Config:
          orm_mode = True
  ```

Trailing text.\r
"""


def test_exit_codes(write_doc: Callable[[str, str], Path], run_json: Any) -> None:
    write_doc("broken.md", BROKEN)
    write_doc("stale.md", STALE)
    write_doc("ok.md", OK)
    assert run_json("ok.md")[0] == 0
    assert run_json("stale.md")[0] == 0
    assert run_json("stale.md", "--fail-on", "stale")[0] == 1
    code, report = run_json("broken.md")
    assert code == 1
    assert report["documents"][0]["blocks"][0]["status"] == "broken"
    assert run_json("broken.md", "--fail-on", "never")[0] == 0


def test_bad_input_exits_2_with_one_line(
    write_doc: Callable[[str, str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "missing.md"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) >= 1 and "missing.md" in err[0]
    assert main(["run", "--report", "nonsense", "x.md"]) == 2
    write_doc("ok.md", OK)
    assert main(["run", "--stages", "lint,bogus", "ok.md"]) == 2
    assert "bogus" in capsys.readouterr().err


def test_a_folder_without_documents_exits_2_and_says_so(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (in_tmp / "empty").mkdir()
    assert main(["run", "empty"]) == 2
    assert capsys.readouterr().err.strip() == (
        "exampletest: empty: no Markdown files (*.md, *.markdown, *.mdx, *.mdc) in this folder"
    )


def test_hidden_agent_folders_are_searched_and_tool_folders_are_not(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    write_doc("docs/.claude/agents/python-pro.md", OK)
    write_doc("docs/.agents/skills/fastapi/SKILL.md", OK)
    write_doc("docs/.cursor/rules/python.mdc", "---\nglobs: *.py\n---\n" + OK)
    write_doc("docs/.git/README.md", OK)
    write_doc("docs/.venv/lib/README.md", OK)
    write_doc("docs/env/pyvenv.cfg", "home = /usr/bin\n")
    write_doc("docs/env/lib/python3.11/README.md", OK)
    code, report = run_json("docs")
    assert code == 0
    assert sorted(d["path"] for d in report["documents"]) == [
        os.path.join("docs", ".agents", "skills", "fastapi", "SKILL.md"),
        os.path.join("docs", ".claude", "agents", "python-pro.md"),
        os.path.join("docs", ".cursor", "rules", "python.mdc"),
    ]


def test_bad_config_exits_2(
    write_doc: Callable[[str, str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    write_doc("pyproject.toml", "[tool.exampletest]\npaths = ['.']\nfail_on = 'sometimes'\n")
    write_doc("ok.md", OK)
    assert main(["run"]) == 2
    assert "fail-on" in capsys.readouterr().err
    write_doc("pyproject.toml", "[tool.exampletest]\nunknown_key = 1\n")
    assert main(["run", "ok.md"]) == 2
    assert "unknown key" in capsys.readouterr().err


def test_config_paths_and_overrides(write_doc: Callable[[str, str], Path], run_json: Any) -> None:
    write_doc(
        "pyproject.toml",
        "[tool.exampletest]\npaths = ['docs']\nstages = ['lint']\n"
        "[[tool.exampletest.overrides]]\npaths = ['docs/legacy/*']\nfail-on = 'never'\n",
    )
    write_doc("docs/legacy/old.md", BROKEN)
    write_doc("docs/new.md", OK)
    code, report = run_json()
    assert code == 0
    assert sorted(d["path"] for d in report["documents"]) == ["docs/legacy/old.md", "docs/new.md"]
    assert report["documents"][0]["blocks"][0]["stages"]["types"] == "skipped"


def test_report_files_in_several_formats(
    write_doc: Callable[[str, str], Path], in_tmp: Path
) -> None:
    write_doc("stale.md", STALE)
    code = main(
        [
            "run",
            "--stages",
            "lint",
            "--report",
            "json=out.json",
            "--report",
            "junit=out.xml",
            "--report",
            "sarif=out.sarif",
            "stale.md",
        ]
    )
    assert code == 0
    assert json.loads((in_tmp / "out.json").read_text())["summary"]["blocks"] == 1
    assert (in_tmp / "out.xml").read_text().startswith("<?xml")
    assert json.loads((in_tmp / "out.sarif").read_text())["version"] == "2.1.0"


def test_extract_writes_modules_and_check_detects_drift(
    write_doc: Callable[[str, str], Path], in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_doc("docs/My Guide.md", "## Set up\n\n```python\nx = 1\n```\n")
    assert main(["extract", "docs"]) == 0
    module = in_tmp / "extracted" / "my_guide" / "b01_set_up.py"
    assert (
        module.read_text()
        .splitlines()[0]
        .startswith("# Extracted by exampletest from docs/My Guide.md:4")
    )
    assert main(["extract", "--check", "docs"]) == 0
    write_doc("docs/My Guide.md", "## Set up\n\n```python\nx = 2\n```\n")
    assert main(["extract", "--check", "docs"]) == 1
    assert "out of date" in capsys.readouterr().out


def test_fix_write_is_verified_byte_exact_and_idempotent(
    write_doc: Callable[[str, str], Path], run_json: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_doc("models.md", V1_DOC)
    before = path.read_bytes()
    _, report = run_json("models.md")
    fix = report["documents"][0]["blocks"][0]["fix"]
    assert fix["verified"] and {"ET101", "ET103"} & set(fix["resolves"])
    assert main(["fix", "--diff", "models.md"]) == 1
    diff = capsys.readouterr().out
    assert diff.startswith("--- models.md\n+++ models.md\n@@ -")
    assert main(["fix", "--write", "models.md"]) == 0
    capsys.readouterr()
    after = path.read_bytes()
    assert b"@field_validator" in after and b"from_attributes=True" in after
    # Every byte outside the block's code lines is unchanged (CRLF on the last line included).
    assert after.startswith(before[: before.index(b"  from pydantic")])
    assert after.endswith(before[before.index(b"  ```\n\nTrailing") :])
    _code, report = run_json("models.md")
    block = report["documents"][0]["blocks"][0]
    assert block["status"] == "ok", block["findings"]
    assert main(["fix", "--write", "models.md"]) == 0
    assert path.read_bytes() == after


def test_stubs_round_trip_checks_deeper(
    write_doc: Callable[[str, str], Path],
    run_json: Any,
    in_tmp: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_doc("guide.md", "```python\nprint(UserOut.from_orm(row))\n```\n")

    def from_orm_evidence() -> set[str]:
        findings = run_json("guide.md")[1]["documents"][0]["blocks"][0]["findings"]
        (f,) = [f for f in findings if "from_orm" in f["message"]]
        return {f["tool"]} | {c.split(":")[0] for c in f.get("corroboration", [])}

    _code, report = run_json("guide.md")
    rules = sorted(f["rule"] for f in report["documents"][0]["blocks"][0]["findings"])
    assert rules == ["ET002", "ET002", "ET107"]
    assert from_orm_evidence() == {"exampletest"}  # only the textual rule: the receiver is unknown
    assert main(["stubs", "guide.md"]) == 0
    assert "2 names added: UserOut, row" in capsys.readouterr().out
    stub = in_tmp / "stubs" / "guide.py"
    text = stub.read_text()
    assert "UserOut = placeholder('UserOut', as_type=True)" in text and "row: Any" in text
    rules = [f["rule"] for f in run_json("guide.md")[1]["documents"][0]["blocks"][0]["findings"]]
    assert rules == ["ET107"]  # placeholders end the fragment findings, but prove nothing
    stub.write_text(
        "from pydantic import BaseModel, ConfigDict\n\n"
        "class UserOut(BaseModel):\n"
        "    model_config = ConfigDict(from_attributes=True)\n    id: int\n\n"
        "class Row:\n    id = 1\n\nrow = Row()\n"
    )
    # A refined stub lets mypy and the smoke run see the deprecation for real.
    assert {"python", "mypy"} <= from_orm_evidence()


def test_directives_and_foreign_markers_take_effect(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    write_doc(
        "d.md",
        "<!-- exampletest: skip -->\n```python\nfrom pydantic import BaseSettings\n```\n\n"
        "<!-- exampletest: skip=smoke,types -->\n```python\nx: List[int] = []\n```\n\n"
        "<!-- exampletest: expect=broken -->\n```python\nfrom pydantic import BaseSettings\n```\n\n"
        '```py {test="skip"}\nimport os\nos.getcwd()\n```\n\n'
        "<!--- skip doccmd[all]: next -->\n```python\nraise SystemExit(1)\n```\n\n"
        "<!-- exampletest: frobnicate -->\n```python\ny = 1\n```\n",
    )
    code, report = run_json("d.md")
    blocks = report["documents"][0]["blocks"]
    assert [b["status"] for b in blocks] == ["skipped", "incomplete", "ok", "ok", "skipped", "ok"]
    assert blocks[1]["stages"] == {"lint": "ran", "types": "skipped", "smoke": "skipped"}
    assert all(f["intentional"] for f in blocks[2]["findings"]) and blocks[2]["findings"]
    assert blocks[3]["stages"]["smoke"] == "skipped"
    assert code == 2  # every block is checked, but the misspelt directive fails CI
    assert any(
        e.startswith("d.md:") and "unknown exampletest directive 'frobnicate'" in e
        for e in report["errors"]
    )


def test_documents_with_the_same_name_get_their_own_modules_and_stubs(
    write_doc: Callable[[str, str], Path], in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_doc("a/SKILL.md", "```python\nx = one\n```\n")
    write_doc("b/SKILL.md", "```python\ny = two\n```\n")
    assert main(["extract", "a", "b"]) == 0
    assert sorted(p.parent.name for p in (in_tmp / "extracted").glob("*/*.py")) == [
        "a_skill",
        "b_skill",
    ]
    assert main(["stubs", "a", "b"]) == 0
    assert (in_tmp / "stubs" / "a_skill.py").read_text().count("placeholder('one')") == 1
    assert "placeholder('two')" in (in_tmp / "stubs" / "b_skill.py").read_text()


def test_a_skipped_block_carries_no_findings(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    write_doc("d.md", "```python\n{!./docs_src/app.py[ln:1-4]!}\n\n# Code below omitted\n```\n")
    code, report = run_json("d.md")
    [block] = report["documents"][0]["blocks"]
    assert (code, block["status"], block["findings"]) == (0, "skipped", [])


def test_a_behaviour_changing_upgrade_is_style_and_never_applied(
    write_doc: Callable[[str, str], Path], run_json: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    code = (
        "from enum import Enum\nfrom typing import List\n\n\n"
        'class Role(str, Enum):\n    ADMIN = "admin"\n\n\n'
        "roles: List[Role] = [Role.ADMIN]\nprint(roles)\n"
    )
    write_doc("e.md", f"```python\n{code}```\n")
    _code, report = run_json("--no-fix", "e.md")
    found = {f["rule"]: f["category"] for f in report["documents"][0]["blocks"][0]["findings"]}
    assert found["UP042"] == "style" and found["UP006"] == "stale"
    assert main(["fix", "--diff", "e.md"]) == 1  # a patch to apply: exit 1, as ruff --diff
    diff = capsys.readouterr().out
    assert "+roles: list[Role]" in diff and "StrEnum" not in diff


def test_a_transcripts_echoed_value_is_not_a_useless_expression(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    write_doc(
        "d.md",
        "```pycon\n>>> x = [1, 2]\n>>> x\n[1, 2]\n>>> x == [1, 2]\nTrue\n```\n\n"
        "```python\nx = 1\nx\nx == 1\n```\n",
    )
    _code, report = run_json("--no-fix", "d.md")
    rules = [[f["rule"] for f in b["findings"]] for b in report["documents"][0]["blocks"]]
    assert rules == [[], ["B018", "B015"]]


def test_a_console_session_gets_a_verified_fix_written_around_its_outputs(
    write_doc: Callable[[str, str], Path], run_json: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    session = (
        ">>> from pydantic import BaseModel\n>>> class User(BaseModel):\n...     joined: datetime\n"
        ">>> u = User(joined=datetime(2020, 1, 1))\n>>> u.dict()\n"
        "{'joined': datetime.datetime(2020, 1, 1, 0, 0)}\n"
    )
    indented = "".join(f"  {line}\n" for line in session.splitlines())
    path = write_doc("s.md", f"- A model:\n\n  ```pycon\n{indented}  ```\n")
    _code, report = run_json("--no-cache", "s.md")
    [block] = report["documents"][0]["blocks"]
    assert block["fix"]["verified"] and {"ET001", "deprecated"} <= set(block["fix"]["resolves"])
    assert main(["fix", "--write", "--no-cache", "s.md"]) == 0
    capsys.readouterr()
    text = path.read_text(encoding="utf-8")
    assert "  >>> from datetime import datetime\n" in text
    assert "  >>> u.model_dump()\n  {'joined': datetime.datetime(2020, 1, 1, 0, 0)}\n" in text
    _code, after = run_json("--no-cache", "--no-fix", "s.md")
    assert after["documents"][0]["blocks"][0]["status"] == "ok"


#: A 1.x model whose nullable `name` the models rewrite types as `Mapped[str | None]`.
_USER_MODEL = (
    "from sqlalchemy.orm import Session, declarative_base\n\nBase = declarative_base()\n\n\n"
    "class User(Base):\n    __tablename__ = 'users'\n"
    "    id = Column(Integer, primary_key=True)\n    name = Column(String(50))\n"
)


def _left_out(fix: dict[str, Any]) -> str:
    """The fix's one note on what it left out, and why."""
    [why] = [n for n in fix["notes"] if n.startswith("left out:")]
    return str(why)


def test_a_column_model_gets_a_verified_fix_and_a_block_that_trips_on_none_keeps_it_out(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """ET204 in a document: the model block's fix is verified by every stage (its table is
    created and used by the next block), its base now a class mypy follows. Where
    ``str | None`` makes mypy reject a later block's use, the model's rewrites stay out and
    the other rewrites stay in."""
    model = "from sqlalchemy import Column, Integer, String, create_engine\n" + (
        _USER_MODEL.replace("Column(String(50))", "Column(String(50), nullable=False)")
    )
    use = (
        "engine = create_engine('sqlite://')\nBase.metadata.create_all(engine)\n"
        "with Session(engine) as session:\n    session.add(User(name='ada'))\n"
        "    session.commit()\n    print(session.query(User).first().name.upper())\n"
    )
    write_doc("m.md", f"```python\n{model}```\n\n```python\n{use}```\n")
    _code, report = run_json("--no-cache", "m.md")
    first, second = report["documents"][0]["blocks"]
    fix = first["fix"]
    assert fix["verified"] and {"ET204", "valid-type"} <= set(fix["resolves"])
    assert "class Base(DeclarativeBase):\n    pass\n" in fix["replacement"]
    annotated = "    name: Mapped[str] = mapped_column(String(50), nullable=False)\n"
    assert annotated in fix["replacement"]
    assert second["fix"]["verified"] and "ET202" in second["fix"]["resolves"]
    # `name` may be NULL here: `Mapped[str | None]`, and `.name.upper()` no longer types
    write_doc("n.md", f"```python\n{model.replace(', nullable=False', '')}{use}```\n")
    _code, report = run_json("--no-cache", "n.md")
    [block] = report["documents"][0]["blocks"]
    fix = block["fix"]
    assert fix["verified"] and "ET202" in fix["resolves"] and "ET204" not in fix["resolves"]
    assert "mapped_column" not in fix["replacement"]
    # and the fix says what it left out, and why
    assert _left_out(fix).startswith(
        "left out: the models rewrites; with them, the block had a new mypy:"
    )


def test_a_block_made_worse_only_by_a_later_blocks_rewrite_keeps_its_whole_fix(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """The later block's own models rewrite makes its ``.name.upper()`` untyped; the earlier
    block, whose names it uses, waits while the later one leaves that group out, then keeps
    all of its own fix, with no note blaming a group it never had."""
    first = (
        "from typing import List\n\nfrom sqlalchemy import create_engine\n\n"
        "engine = create_engine('sqlite://')\n\n\n"
        "def shout(names: List[str]) -> List[str]:\n    return [n.upper() for n in names]\n"
    )
    second = (
        "from sqlalchemy import Column, Integer, String\n" + _USER_MODEL + "\n\n"
        "Base.metadata.create_all(engine)\n"
        "with Session(engine) as session:\n    session.add(User(name='ada'))\n"
        "    session.commit()\n    print(session.query(User).first().name.upper())\n"
        "    print(shout(['ada']))\n"
    )
    write_doc("w.md", f"```python\n{first}```\n\n```python\n{second}```\n")
    _code, report = run_json("--no-cache", "w.md")
    earlier, later = (b["fix"] for b in report["documents"][0]["blocks"])
    assert earlier["verified"] and "UP006" in earlier["resolves"]
    assert "def shout(names: list[str]) -> list[str]:" in earlier["replacement"]
    assert not [n for n in earlier.get("notes", []) if n.startswith("left out:")]
    assert (
        later["verified"]
        and "ET202" in later["resolves"]
        and "mapped_column" not in later["replacement"]
    )
    assert _left_out(later).startswith(
        "left out: the models rewrites; with them, the block had a new mypy:"
    )


def test_indexing_a_guessed_class_is_said_of_the_guess_not_the_code(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """`conv["id"]` (a row the document never shows): the missing name is guessed as
    SQLAlchemy's `conv` class, which mypy says is not indexable. That is the guess's mismatch:
    incomplete, like the missing import itself, into which the run's NameError folds."""
    write_doc(
        "c.md", '```python\nfrom sqlalchemy import select\n\nprint(select, conv["id"])\n```\n'
    )
    _code, report = run_json("--no-cache", "--no-fix", "c.md")
    [block] = report["documents"][0]["blocks"]
    assert block["status"] == "incomplete"
    by_rule = {f["rule"]: f for f in block["findings"]}
    assert by_rule["ET001"]["category"] == "incomplete"
    assert "python:NameError" in by_rule["ET001"]["corroboration"]
    assert by_rule["misc"]["category"] == "incomplete"
    assert "exampletest's guess for the missing `conv`" in by_rule["misc"]["message"]


def test_a_later_block_keeps_its_fix_when_the_earlier_ones_rewrite_is_what_fails(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """The earlier block's models rewrite types `name` as `str | None`, so the later block's
    `u.name.upper()` no longer types. The earlier block ends without that rewrite; the later
    one, tried again beside the earlier block as it ends, keeps its own `utcnow()` fix."""
    model = "from sqlalchemy import Column, Integer, String, create_engine\n" + _USER_MODEL
    use = (
        "from datetime import datetime\n\nengine = create_engine('sqlite://')\n"
        "Base.metadata.create_all(engine)\nu = User(name='ada')\n"
        "print(u.name.upper(), datetime.utcnow())\n"
    )
    write_doc("l.md", f"```python\n{model}```\n\n```python\n{use}```\n")
    _code, report = run_json("--no-cache", "l.md")
    first, second = (b["fix"] for b in report["documents"][0]["blocks"])
    assert not first["verified"] and "nothing applied" in first["notes"][-1]
    assert second["verified"] and "DTZ003" in second["resolves"]
    assert "datetime.now(UTC)" in second["replacement"]


def test_a_fix_keeps_an_example_marked_as_the_wrong_way_and_modernises_the_rest(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """A "# Before (slow)" function beside its twin in one block: the twin gets `select()`,
    the marked one keeps its `db.query()` (its finding stays intentional), and the fix is
    verified and says what it left."""
    code = (
        "from sqlalchemy import Integer, create_engine\n"
        "from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column\n\n\n"
        "class Base(DeclarativeBase):\n    pass\n\n\n"
        "class User(Base):\n    __tablename__ = 'users'\n"
        "    id: Mapped[int] = mapped_column(Integer, primary_key=True)\n\n\n"
        "engine = create_engine('sqlite://')\nBase.metadata.create_all(engine)\n\n"
        "# Before (slow)\ndef count_slow(db: Session) -> int:\n"
        "    return len(db.query(User).all())\n\n"
        "# After\ndef first_user(db: Session) -> User | None:\n"
        "    return db.query(User).first()\n\n\n"
        "with Session(engine) as db:\n    print(count_slow(db), first_user(db))\n"
    )
    write_doc("marked.md", f"```python\n{code}```\n")
    _code, report = run_json("--no-cache", "marked.md")
    [block] = report["documents"][0]["blocks"]
    kept = [f for f in block["findings"] if f["rule"] == "ET202" and f["intentional"]]
    assert [f["line"] for f in kept] == [20]
    fix = block["fix"]
    assert fix["verified"] and "ET202" in fix["resolves"]
    assert "    return len(db.query(User).all())\n" in fix["replacement"]
    assert "    return db.scalars(select(User)).first()\n" in fix["replacement"]
    assert "left as written: the example marked as the wrong way (line 20)" in fix["notes"]
    # the import only the marked example still uses stays (ruff's fix had dropped `List`)
    typing = (
        "from typing import List, Optional\n\n# Before (old typing)\n"
        "def old(xs: List[int]) -> List[int]:\n    return xs\n\n# After\n"
        "def new(x: Optional[int] = None) -> list[int]:\n    return [x or 0]\n\n"
        "print(old([1]), new())\n"
    )
    write_doc("typing.md", f"```python\n{typing}```\n")
    _code, report = run_json("--no-cache", "typing.md")
    fix = report["documents"][0]["blocks"][0]["fix"]
    assert fix["verified"] and "UP045" in fix["resolves"]
    assert "def old(xs: List[int]) -> List[int]:" in fix["replacement"]
    assert "def new(x: int | None = None) -> list[int]:" in fix["replacement"]
    assert fix["replacement"].startswith("from typing import List")


def test_fastapis_old_auth_recipe_gets_a_verified_fix_that_runs_for_real(
    write_doc: Callable[[str, str], Path], run_json: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """python-jose and passlib are not installed here, so the block ran against stand-ins
    (env); its fix moves it to PyJWT and pwdlib, which are, and is verified by really
    running: a password hashed and checked, a token made and read. The next block, which used
    the stand-ins too, is env no longer once the fix is written."""
    auth = (
        "from jose import JWTError, jwt\nfrom passlib.context import CryptContext\n\n"
        "KEY = 'k' * 32\npwd_context = CryptContext(schemes=['bcrypt'], deprecated='auto')\n"
        "assert pwd_context.verify('secret', pwd_context.hash('secret'))\n\n\n"
        "def subject(token: str) -> str | None:\n    try:\n"
        "        return jwt.decode(token, KEY, algorithms=['HS256'])['sub']\n"
        "    except JWTError:\n        return None\n"
    )
    use = (
        "token = jwt.encode({'sub': 'ada'}, KEY, algorithm='HS256')\n"
        "assert subject(token) == 'ada'\n"
    )
    write_doc("a.md", f"```python\n{auth}```\n\n```python\n{use}```\n")
    _code, report = run_json("--no-cache", "a.md")
    first, second = report["documents"][0]["blocks"]
    assert first["status"] == "stale" and second["status"] == "env"
    assert first["fix"]["verified"]
    assert {"ET403", "ET404", "ET003"} <= set(first["fix"]["resolves"])
    assert main(["fix", "--write", "--no-cache", "a.md"]) == 0
    capsys.readouterr()
    _code, after = run_json("--no-cache", "--no-fix", "a.md")
    assert [b["status"] for b in after["documents"][0]["blocks"]] == ["ok", "ok"]


def test_a_wrong_case_import_gets_a_verified_fix(
    write_doc: Callable[[str, str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    write_doc(
        "w.md", "```python\nfrom SQLAlchemy import Column, Integer\n\nprint(Column, Integer)\n```\n"
    )
    assert main(["fix", "--diff", "w.md"]) == 1
    assert "+from sqlalchemy import Column, Integer" in capsys.readouterr().out


def test_a_fix_never_rewrites_an_example_marked_as_the_wrong_way(
    write_doc: Callable[[str, str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    model = "```python\nfrom pydantic import BaseModel\n\n\nclass User(BaseModel):\n"
    model += "    a: int\n```\n\n"
    # The missing import's message names pydantic: that is no reason to rewrite `.dict()`.
    marked = "# ❌ dict() is v1\nd = User(a=1).dict()\n"
    write_doc("a.md", model + f"```python\n{marked}\nprint(Field)\n```\n")
    main(["fix", "--diff", "a.md"])
    out = capsys.readouterr().out
    assert "+from pydantic import Field" in out and "model_dump" not in out
    # A group the block does need rewrites the other line and leaves the marked one.
    write_doc("b.md", model + f"```python\nold = User(a=1).dict()\n\n{marked}```\n")
    main(["fix", "--diff", "b.md"])
    out = capsys.readouterr().out
    assert "+old = User(a=1).model_dump()" in out and "-d = User(a=1).dict()" not in out


def test_fix_notes_name_document_lines(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    write_doc(
        "n.md",
        "# Config\n\nIntro.\n\n```python\nfrom pydantic import BaseModel, validator\n\n\n"
        "class C(BaseModel):\n    methods: list[str] = ['GET']\n\n"
        "    @validator('methods', each_item=True)\n    def upper(cls, v):\n"
        "        return v\n```\n",
    )
    _code, report = run_json("--no-cache", "n.md")
    [block] = report["documents"][0]["blocks"]
    notes = [n for n in block["fix"]["notes"] if n.startswith("ET101")]
    assert notes and all(n.startswith("ET101 (line 12):") for n in notes)  # the decorator's line


def test_a_fix_importing_a_module_not_installed_says_it_was_checked_against_a_stand_in(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    write_doc(
        "s.md",
        "```python\npath = Path('x')\nnot_installed_gen.set_path(path)\n```\n\n"
        "```python\nprint(Path('y'))\n```\n\n```python\nimport not_installed_gen\n```\n",
    )
    _code, report = run_json("--no-cache", "s.md")
    fixed, plain, _ = report["documents"][0]["blocks"]
    assert fixed["fix"]["verified"] and "import not_installed_gen" in fixed["fix"]["replacement"]
    assert [n for n in fixed["fix"]["notes"] if "stand-in" in n] == [
        "module `not_installed_gen` is not installed here: the import this fix adds was "
        "checked against a stand-in"
    ]
    assert plain["fix"]["verified"] and not plain["fix"]["notes"]  # pathlib is installed


def test_a_block_with_top_level_await_gets_its_fix(
    write_doc: Callable[[str, str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    first = "```python\nfrom sqlalchemy.ext.asyncio import AsyncSession\n```\n\n"
    write_doc("t.md", first + "```python\nresult = await session.execute(select(User))\n```\n")
    assert main(["fix", "--diff", "t.md"]) == 1
    assert "+from sqlalchemy import select" in capsys.readouterr().out


def test_modules_in_the_working_directory_never_run_outside_the_sandbox(
    write_doc: Callable[[str, str], Path], run_json: Any, in_tmp: Path
) -> None:
    """A ``copy.py`` (or ``typing.py``, ``ruff.py``) next to the documents must not shadow the
    module a trusted process (smoke worker, mypy, ruff) imports: it would run unconfined. A
    document module of that name is written for the checkers, too."""
    marker = in_tmp / "escaped.txt"
    payload = f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"
    for name in ("copy", "typing", "ruff", "mypy", "json"):
        (in_tmp / f"{name}.py").write_text(payload, encoding="utf-8")
    write_doc(
        "doc.md",
        '```python title="copy.py"\nVALUE = 1\n```\n\n'
        "```python\nimport dataclasses\nfrom pydantic import BaseModel\n\n"
        "class M(BaseModel):\n    x: int = 1\n\n"
        "print(M().model_dump(), dataclasses.replace)\n```\n",
    )
    code, report = run_json("--no-cache", "doc.md")
    assert not marker.exists(), marker.read_text()
    assert code == 0, report["documents"]


def test_a_fix_that_resolves_only_some_findings_of_a_rule_says_how_many_are_left(
    write_doc: Callable[[str, str], Path], run_json: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    code = "class Page:\n    @classmethod\n    def as_depends(cls, size=Query(20, le=100)):\n"
    code += "        return cls()\n\n\n@router.get('/items')\n"
    code += "async def items(page: Page = Depends(Page.as_depends)):\n    return []\n"
    write_doc("p.md", f"```python\n{code}```\n")
    _code, report = run_json("--no-cache", "p.md")
    [block] = report["documents"][0]["blocks"]
    # A rule with a finding left is not claimed; the note says how many are left.
    assert "ET303" not in block["fix"]["resolves"]
    assert "ET303: 1 of 2 still reported after the fix" in block["fix"]["notes"]
    assert block["fix"]["verified"] == bool(block["fix"]["resolves"])  # reducing is not enough
    # `fix --diff` says it too, on stderr: the patch on stdout stays a patch.
    capsys.readouterr()
    assert main(["fix", "--diff", "--no-cache", "p.md"]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("--- ") and "note:" not in out
    assert "p.md:1: note: ET303: 1 of 2 still reported after the fix" in err


def test_a_fix_whose_run_gets_further_is_verified_and_says_where_it_stops(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """``regex=`` raised before ``unique_items=`` (no v2 spelling) could: once the first is
    fixed the run stops at the second, which the original never reached. That is no new
    failure of the fix's making, and the fix says the block is still broken."""
    code = "from pydantic import BaseModel, Field\n\n\nclass M(BaseModel):\n"
    code += "    code: str = Field(..., regex='^a')\n"
    code += "    tags: list[str] = Field(..., unique_items=True)\n"
    write_doc("m.md", f"```python\n{code}```\n")
    _code, report = run_json("--no-cache", "m.md")
    [block] = report["documents"][0]["blocks"]
    fix = block["fix"]
    assert "pattern='^a'" in fix["replacement"] and fix["verified"]
    assert any("stops at another python:PydanticUserError" in n for n in fix["notes"])
    assert any(n.startswith("the fixed block is still broken") for n in fix["notes"])
    # a failure of another kind past the line where the original stopped: the v1 output of a
    # model the original could not even make
    code = "from pydantic import BaseModel, root_validator\n\n\nclass M(BaseModel):\n"
    code += "    a: int\n\n    @root_validator\n    def check(cls, values):\n"
    code += "        return values\n\n\nprint(M(a=1).dict())\n#> {'a': 2}\n"
    write_doc("r.md", f"```python\n{code}```\n")
    _code, report = run_json("--no-cache", "r.md")
    [block] = report["documents"][0]["blocks"]
    fix = block["fix"]
    assert fix["verified"] and "PydanticUserError" in fix["resolves"]
    assert any("stops at another python:wrong-output" in n for n in fix["notes"])


def test_an_unused_import_of_a_deprecated_typing_alias_goes_with_the_fix(
    write_doc: Callable[[str, str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code = "from typing import Any, Dict, List\n\n\ndef f(data: Dict[str, Any]) -> None:\n"
    write_doc("t.md", f"```python\n{code}    print(data)\n```\n")
    main(["fix", "--diff", "t.md"])
    assert "+from typing import Any\n" in capsys.readouterr().out


def test_a_block_contrasting_a_typing_alias_with_its_builtin_keeps_both(
    write_doc: Callable[[str, str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    write_doc("c.md", "```python\nOld = Type[str]\n\nNew = type[str]\n```\n")
    main(["fix", "--diff", "c.md"])
    assert "-Old = Type[str]" not in capsys.readouterr().out
    write_doc("m.md", "```python\nx: List[int] = []\n```\n")  # nothing to contrast: modernised
    main(["fix", "--diff", "m.md"])
    assert "+x: list[int] = []" in capsys.readouterr().out


def test_a_continuation_block_is_linted_with_the_imports_it_takes_from_earlier_blocks(
    write_doc: Callable[[str, str], Path], run_json: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    first = "```python\nfrom datetime import datetime\nfrom typing import Optional\n```\n\n"
    later = "```python\ndef now(tag: Optional[str] = None) -> str:\n"
    later += "    return str(datetime.utcnow()) + (tag or '')\n```\n"
    write_doc("c.md", first + later)
    _code, report = run_json("--no-cache", "--no-fix", "c.md")
    one, two = report["documents"][0]["blocks"]
    assert not any(f["rule"] == "F401" for f in one["findings"])  # the later block uses them
    assert "UP045" in {f["rule"] for f in two["findings"]}
    assert any("utcnow" in f["message"] and f["category"] == "stale" for f in two["findings"])
    assert all(f["line"] >= 7 for f in two["findings"])  # the block's lines, not the header's
    main(["fix", "--diff", "c.md"])
    out = capsys.readouterr().out
    assert "+def now(tag: str | None = None) -> str:" in out
    assert "-from typing import Optional" not in out  # the earlier import stays for the later block


def test_what_an_added_import_reveals_is_modernised_in_the_same_fix(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """With `datetime` imported, ruff sees the `utcnow()` it could not before: the fix
    rewrites that too, rather than leaving the import out for the new finding it brings."""
    code = "def stamp() -> dict:\n    return {'at': datetime.utcnow()}\n\n\nprint(stamp())\n"
    write_doc("u.md", f"```python\n{code}```\n")
    _code, report = run_json("--no-cache", "u.md")
    [block] = report["documents"][0]["blocks"]
    assert not any(f["rule"] == "DTZ003" for f in block["findings"])  # unseen before the fix
    fix = block["fix"]
    assert fix["verified"] and "ET001" in fix["resolves"] and not fix["notes"]
    assert "from datetime import UTC, datetime\n" in fix["replacement"]
    assert "return {'at': datetime.now(UTC)}" in fix["replacement"]


def test_a_fix_in_a_tab_for_an_older_python_keeps_that_pythons_syntax(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """In `=== "Python 3.8+"` the `Optional[int]` and `List[int]` are on purpose: the fix
    modernises `utcnow()` and leaves them (ruff's own fixes skip the kept rules), with the
    `timezone.utc` that Python has."""
    code = "from datetime import datetime\nfrom typing import List, Optional\n\n\n"
    code += "def f(x: Optional[int] = None) -> List[int]:\n    return [x or 0]\n\n\n"
    code += "print(f(), datetime.utcnow())\n"
    body = "".join(f"    {line}\n" if line else "\n" for line in code.splitlines())
    write_doc("tab.md", f'=== "Python 3.8+"\n\n    ```python\n{body}    ```\n')
    _code, report = run_json("--no-cache", "tab.md")
    [block] = report["documents"][0]["blocks"]
    kept = {f["rule"] for f in block["findings"] if f["intentional"]}
    assert {"UP006", "UP035", "UP045"} <= kept
    fix = block["fix"]
    assert fix["verified"] and "DTZ003" in fix["resolves"] and not fix["notes"]
    assert "def f(x: Optional[int] = None) -> List[int]:" in fix["replacement"]
    assert "print(f(), datetime.now(timezone.utc))" in fix["replacement"]
    assert "from datetime import datetime, timezone\n" in fix["replacement"]
    # a project that targets Python 3.9 gets the same, in any block
    write_doc("pyproject.toml", '[tool.exampletest]\ntarget-version = "py39"\n')
    write_doc(
        "old.md", "```python\nfrom datetime import datetime\n\nprint(datetime.utcnow())\n```\n"
    )
    _code, report = run_json("--no-cache", "old.md")
    [block] = report["documents"][0]["blocks"]
    assert "print(datetime.now(timezone.utc))" in block["fix"]["replacement"]
    (Path.cwd() / "pyproject.toml").unlink()
    # a tab that keeps exampletest's own rules (ET303: no code ruff knows) beside a block
    # ruff's fixes modernise, in one run: ruff still fixes the other block
    route = "from typing import List\n\nfrom fastapi import Depends, FastAPI\n\n"
    route += "app = FastAPI()\n\n\ndef dep() -> List[int]:\n    return [1]\n\n\n"
    route += "@app.get('/')\ndef read(n: List[int] = Depends(dep)) -> int:\n    return len(n)\n"
    body = "".join(f"    {line}\n" if line else "\n" for line in route.splitlines())
    typed = "from typing import List\n\n\ndef g(x: List[int]) -> int:\n    return len(x)\n"
    write_doc(
        "two.md",
        f'=== "Python 3.10+ non-Annotated"\n\n    ```python\n{body}    ```\n\n'
        f"```python\n{typed}```\n",
    )
    _code, report = run_json("--no-cache", "two.md")
    tab, other = report["documents"][0]["blocks"]
    assert tab["fix"]["verified"] and other["fix"]["verified"]
    assert "def read(n: list[int] = Depends(dep)) -> int:" in tab["fix"]["replacement"]
    assert "def g(x: list[int]) -> int:" in other["fix"]["replacement"]


def test_a_missing_import_the_fix_adds_is_resolved_though_it_makes_another_guessable(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """Once `import sqlalchemy` is in, `NoResultFound` can be guessed from it: a new finding
    of the same rule, not one of the block's own left unresolved."""
    code = "def fetch(session):\n    try:\n"
    code += "        return session.execute(sqlalchemy.text('select 1')).scalar_one()\n"
    code += "    except NoResultFound:\n        return None\n"
    write_doc("t.md", f"```python\n{code}```\n")
    _code, report = run_json("--no-cache", "t.md")
    [block] = report["documents"][0]["blocks"]
    assert block["fix"]["replacement"].startswith("import sqlalchemy\n")
    assert "ET001" in block["fix"]["resolves"] and block["fix"]["verified"]


def test_an_import_later_blocks_take_stays_and_the_fix_says_so(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    first = "from typing import Dict, Optional\n\nx: Optional[Dict[str, int]] = None\n"
    second = "y: Dict[str, int] = {}\n"
    write_doc("t.md", f"```python\n{first}```\n\n```python\n{second}```\n")
    _code, report = run_json("--no-cache", "t.md")
    fix = report["documents"][0]["blocks"][0]["fix"]
    assert "x: dict[str, int] | None = None" in fix["replacement"]
    assert "Dict" in fix["replacement"].split("\n")[0]  # the second block still takes it
    assert "`Dict` stays imported: later blocks use it" in fix["notes"]


def test_a_refusal_note_another_rewrite_made_moot_is_dropped(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """Moving only `Depends(...)` would put `token` after `file = File(...)`: the Annotated
    rewrite refuses ("by hand"), but ruff's FAST002 fix moves both; the note would contradict
    the diff."""
    code = "from fastapi import Depends, FastAPI, File, UploadFile\n\napp = FastAPI()\n\n\n"
    code += "def get_token() -> str:\n    return 't'\n\n\n@app.post('/upload/')\n"
    code += "async def upload(file: UploadFile = File(...), token: str = Depends(get_token)):\n"
    code += "    return {'name': file.filename, 'token': token}\n"
    write_doc("u.md", f"```python\n{code}```\n")
    _code, report = run_json("--no-cache", "u.md")
    fix = report["documents"][0]["blocks"][0]["fix"]
    assert "token: Annotated[str, Depends(get_token)]" in fix["replacement"]
    assert "FAST002" in fix["resolves"]
    assert not any("by hand" in n for n in fix["notes"]), fix["notes"]


def test_an_import_ruff_adds_beside_an_earlier_blocks_comes_with_the_fix(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """UP017's `UTC` joins the earlier block's `from datetime import ...` when the later
    block's stale `Optional` is fixed; the fix must bring the import itself, or the reader's
    copy raises NameError."""
    first = "from datetime import datetime, timedelta, timezone\nfrom typing import Optional\n"
    second = "def expires_at(minutes: Optional[int] = None) -> datetime:\n"
    second += "    delta = timedelta(minutes=minutes or 30)\n"
    second += "    return datetime.now(timezone.utc) + delta\n\n\nexpires_at()\n"
    write_doc("t.md", f"```python\n{first}```\n\nLater:\n\n```python\n{second}```\n")
    _code, report = run_json("--no-cache", "t.md")
    fix = report["documents"][0]["blocks"][1]["fix"]
    assert fix["verified"] and "UP017" in fix["resolves"]
    assert fix["replacement"].startswith("from datetime import UTC\n")
    assert "datetime.now(UTC)" in fix["replacement"]


def test_a_fix_is_verified_only_by_every_stage(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """A block whose run the document skips gets its fix checked by lint and types only:
    that is not "verified" (the contract: run through every stage again), and says why."""
    model = (
        "from pydantic import BaseModel, validator\n\nclass A(BaseModel):\n    x: int\n\n"
        '    @validator("x")\n    def check(cls, v):\n        return v\n'
    )
    write_doc("v.md", f'```py {{test="skip"}}\n{model}```\n\n```python\n{model}```\n')
    _, report = run_json("v.md")
    skipped, ran = (b["fix"] for b in report["documents"][0]["blocks"])
    assert "ET101" in skipped["resolves"] and "ET101" in ran["resolves"]
    assert ran["verified"] and not skipped["verified"]
    assert any("smoke (skipped)" in n for n in skipped["notes"])


def test_stubs_refresh_keeps_a_refined_file_runnable(
    write_doc: Callable[[str, str], Path], in_tmp: Path
) -> None:
    """The user's refined stubs file dropped the header's imports; a refresh that appends new
    placeholders brings back what they use, so the file still runs."""
    write_doc("g.md", "```python\nprint(user.name)\n```\n")
    stubs = in_tmp / "stubs" / "g.py"
    stubs.parent.mkdir()
    stubs.write_text('"""Mine."""\n\n\nclass User:\n    name = "alice"\n\n\nuser = User()\n')
    write_doc("g.md", "```python\nprint(user.name)\n```\n\n```python\nprint(session.get(1))\n```\n")
    assert main(["stubs", "g.md"]) == 0
    text = stubs.read_text()
    assert text.startswith('"""Mine."""') and "session: Any = placeholder('session')" in text
    ran = subprocess.run(
        [sys.executable, str(stubs)], capture_output=True, text=True, check=False, cwd=in_tmp
    )
    assert ran.returncode == 0, ran.stderr


def test_an_expectation_that_no_longer_holds_is_stale(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    write_doc(
        "e.md",
        "<!-- exampletest: expect=broken -->\n```python\nx = 1\nprint(x)\n```\n\n"
        "<!-- exampletest: expect=broken -->\n```python\nimport json\n\njson.loads('{')\n```\n\n"
        '<!-- exampletest: expect=broken -->\n```py {test="skip"}\ny = 2\nprint(y)\n```\n',
    )
    _code, report = run_json("e.md")
    found = [[f["rule"] for f in b["findings"]] for b in report["documents"][0]["blocks"]]
    statuses = [b["status"] for b in report["documents"][0]["blocks"]]
    assert found[0] == ["expect-unmet"] and statuses[0] == "stale"
    assert "expect-unmet" not in found[1] and statuses[1] == "ok"  # broken, as it says
    assert "expect-unmet" not in found[2]  # its run is skipped: nothing to say it works


def test_stubs_leave_a_fastapi_stand_in_to_the_run(
    write_doc: Callable[[str, str], Path], in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A placeholder stub for the app would swallow its routes again: the run's real
    ``FastAPI()`` stays, and the command says so."""
    write_doc(
        "api.md",
        "```python\nfrom fastapi import Depends\n\n\n"
        '@app.get("/me")\ndef me(db=Depends(get_db)):\n    return db\n```\n',
    )
    assert main(["stubs", "api.md"]) == 0
    out = capsys.readouterr().out
    assert "1 names added: get_db; left to a real FastAPI stand-in: app" in out
    text = (in_tmp / "stubs" / "api.py").read_text()
    assert "placeholder('get_db')" in text and "placeholder('app')" not in text


def test_a_spelling_preference_is_style_and_a_deprecated_alias_is_stale(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """`timezone.utc` is as current as its alias `UTC` (UP017): style, the block is ok.
    `typing.List` is deprecated (UP006): stale. ruff reports both as pyupgrade rules."""
    current = "from datetime import datetime, timezone\n\nnow = datetime.now(timezone.utc)\n"
    legacy = "from typing import List\n\nnames: List[str] = []\n"
    write_doc("d.md", f"```python\n{current}```\n\n```python\n{legacy}```\n")
    _code, report = run_json("--no-cache", "--no-fix", "--stages", "lint", "d.md")
    first, second = report["documents"][0]["blocks"]
    assert [(f["rule"], f["category"]) for f in first["findings"]] == [("UP017", "style")]
    assert first["status"] == "ok"
    assert ("UP006", "stale") in [(f["rule"], f["category"]) for f in second["findings"]]
    assert second["status"] == "stale"


def test_mypy_rejecting_a_discouraged_constrained_type_is_that_stale_finding(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """`name: constr(max_length=63)` runs; mypy's "Invalid type" is the reason Pydantic
    discourages it: one stale finding, mypy's as corroboration, not a broken block."""
    code = (
        "from pydantic import BaseModel, constr\n\n\nclass Company(BaseModel):\n"
        "    name: constr(max_length=63)\n\n\nCompany(name='x')\n"
    )
    write_doc("c.md", f"```python\n{code}```\n")
    _code, report = run_json("--no-cache", "--no-fix", "c.md")
    [block] = report["documents"][0]["blocks"]
    assert block["status"] == "stale"
    assert [(f["rule"], f["corroboration"]) for f in block["findings"]] == [
        ("ET113", ["mypy:valid-type"])
    ]


def test_an_excerpt_of_a_functions_body_gets_its_missing_import(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """``return`` at the top level (a function's body shown alone) does not compile before
    the rewrite either: the import is added and checked, not refused as a broken rewrite."""
    code = (
        "try:\n    task = create(name='x')\n    return task\nexcept Exception as e:\n"
        "    raise HTTPException(status_code=500, detail=str(e)) from e\n"
    )
    write_doc("e.md", f"```python\n{code}```\n")
    _code, report = run_json("--no-cache", "e.md")
    fix = report["documents"][0]["blocks"][0]["fix"]
    assert fix["verified"] and fix["resolves"] == ["ET001"] and not fix["notes"]
    assert fix["replacement"].startswith("from fastapi import HTTPException\n\ntry:\n")


def test_what_a_repaired_block_lets_a_later_block_show_is_not_held_against_its_fix(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """Pydantic v1's README model (`name = 'John Doe'`) fails in v2; once fixed, the later
    block's `user.dict()` runs on a real model and warns. That deprecation is the later
    block's own (it has its own fix), revealed by the repair, not brought by it."""
    model = "from pydantic import BaseModel\n\n\nclass User(BaseModel):\n    id: int\n"
    model += "    name = 'John Doe'\n\n\nuser = User(id=1)\n"
    write_doc("p.md", f"```python\n{model}```\n\n```python\nprint(user.dict())\n```\n")
    _code, report = run_json("--no-cache", "p.md")
    first, _later = report["documents"][0]["blocks"]
    assert first["status"] == "broken"
    assert first["fix"]["verified"], first["fix"]
    assert "    name: str = 'John Doe'\n" in first["fix"]["replacement"]
    assert "PydanticUserError" in first["fix"]["resolves"]


def test_a_later_block_that_sees_an_import_the_fix_adds_is_checked_with_it(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """The fix adds `from pydantic import BaseModel` to the first block (the guess for its
    missing name); the later block uses `BaseModel` as the document's own base, which it now
    gets from that import. It must be checked again with it (before, only the names the
    block bound as written counted), and what breaks there refuses the fix."""
    first = "class User(BaseModel):\n    id: int\n"
    later = "BaseModel.set_session(None)\n"
    write_doc("b.md", f"```python\n{first}```\n\n```python\n{later}```\n")
    _code, report = run_json("--no-cache", "b.md")
    fix = report["documents"][0]["blocks"][0]["fix"]
    assert fix is None or not fix["verified"] or "import" not in fix["replacement"], fix


def test_what_a_later_block_shows_past_where_it_stopped_before_does_not_refuse_a_fix(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """The first block misses `from dataclasses import dataclass`, and so does the session
    after it, which stopped at that NameError. With the import, the session runs on and
    shows `'Python'` where the document shows `Python`: its own mistake, past where it
    stopped, not the first block's fix's doing."""
    first = ">>> @dataclass\n... class Number:\n...     val: int\n...\n>>> Number(2).val\n2\n"
    session = (
        ">>> @dataclass\n... class Product:\n...     name: str\n...\n"
        '>>> obj = Product("Python")\n>>> obj.name\nPython\n'
    )
    write_doc("s.md", f"```python\n{first}```\n\n```python\n{session}```\n")
    _code, report = run_json("--no-cache", "s.md")
    fix = report["documents"][0]["blocks"][0]["fix"]
    assert fix["verified"] and "from dataclasses import dataclass" in fix["replacement"], fix
    assert "runs further" in report["documents"][0]["blocks"][1]["fix"]["notes"][0]


def test_what_a_later_block_reaches_once_the_block_it_uses_is_repaired_is_its_own(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """Pydantic v1's docs: `name = 'Jane Doe'` unannotated makes the model itself fail on v2,
    so the block below never got past `User(...)` (a NameError left to the model's block).
    Once the model is fixed, that block runs and `User(id='123.45')` fails on its own: v2 no
    longer truncates floats. The model's fix is verified all the same, and says so."""
    first = (
        "from pydantic import BaseModel\n\nclass User(BaseModel):\n"
        "    id: int\n    name = 'Jane Doe'\n"
    )
    later = "user = User(id='123')\nuser_x = User(id='123.45')\n"
    write_doc("m.md", f"# Models\n\n```py\n{first}```\n\nText.\n\n```py\n{later}```\n")
    _code, report = run_json("--no-cache", "m.md")
    blocks = report["documents"][0]["blocks"]
    fix = blocks[0]["fix"]
    assert fix["verified"] and "name: str = 'Jane Doe'" in fix["replacement"], fix
    assert any("line 13" in n and "ValidationError" in n for n in fix["notes"]), fix["notes"]


def test_what_a_fix_changes_otherwise_is_not_a_later_blocks_own_failure(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    """The model's repair lets the later block run on, but the same fix also turns
    `utcnow()` aware, and the later block's comparison with a naive date then fails: that is
    the fix's doing, not the later block's own failure past where it stopped."""
    first = (
        "from datetime import datetime\nfrom pydantic import BaseModel, Field\n\n"
        "class Event(BaseModel):\n    name: str = Field(..., regex='^[a-z]+$')\n\n"
        "def current_time():\n    return datetime.utcnow()\n"
    )
    later = (
        "event = Event(name='launch')\ndeadline = datetime(2000, 1, 1)\n"
        "if current_time() > deadline:\n    print('late:', event.name)\n"
    )
    write_doc("e.md", f"```python\n{first}```\n\n```python\n{later}```\n")
    _code, report = run_json("--no-cache", "e.md")
    fix = report["documents"][0]["blocks"][0]["fix"]
    both = "pattern=" in fix["replacement"] and "utcnow" not in fix["replacement"]
    assert not (both and fix["verified"]), fix
