"""The staleness rule pack: each rule fires on its fixture, stays silent on the modern form and
where the installed version still has the old API; "broken" claims are re-checked for real."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Mapping

import pytest

from exampletest.model import Block, Category, Finding
from exampletest.rules import RULES, check

CURRENT: dict[str, str | None] = {
    "pydantic": "2.14.4",
    "pydantic-settings": "2.16.3",
    "sqlalchemy": "2.1.9",
    "fastapi": "0.165.0",
    "pyjwt": "2.15.1",
    "bcrypt": "5.0.0",
    "httpx": "0.28.1",
    "starlette": "1.10.0",
}


def make_block(code: str, line_offset: int = 10, indent: int = 0) -> Block:
    code = textwrap.dedent(code).lstrip("\n")
    n = len(code.split("\n"))
    return Block(
        doc_path="doc.md",
        index=1,
        fence_line=line_offset,
        start_line=line_offset + 1,
        end_line=line_offset + n,
        language="python",
        info="python",
        heading=None,
        code=code,
        line_map=tuple(range(line_offset + 1, line_offset + 1 + n)),
        col_offsets=(indent,) * n,
    )


def run(code: str, versions: Mapping[str, str | None] | None = None, **kw: int) -> list[Finding]:
    return check(make_block(code, **kw), CURRENT if versions is None else versions)


def rules_of(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings]


# (rule, code that fires, expected category, modern/innocent code that must not fire)
CASES: list[tuple[str, str, Category, str]] = [
    (
        "ET101",
        """
        from pydantic import BaseModel, validator
        class M(BaseModel):
            a: int
            @validator("a")
            def check_a(cls, v):
                return v
        """,
        Category.STALE,
        """
        from pydantic import BaseModel, field_validator
        class M(BaseModel):
            a: int
            @field_validator("a")
            @classmethod
            def check_a(cls, v):
                return v
        """,
    ),
    (
        "ET102",
        """
        from pydantic import BaseModel, root_validator
        class M(BaseModel):
            a: int
            @root_validator(pre=True)
            def check(cls, values):
                return values
        """,
        Category.STALE,
        """
        from pydantic import BaseModel, model_validator
        class M(BaseModel):
            a: int
            @model_validator(mode="before")
            @classmethod
            def check(cls, data):
                return data
        """,
    ),
    (
        "ET102",
        """
        from pydantic import BaseModel, root_validator
        class M(BaseModel):
            a: int
            @root_validator
            def check(cls, values):
                return values
        """,
        Category.BROKEN,
        """
        from pydantic.v1 import BaseModel, root_validator
        class M(BaseModel):
            a: int
            @root_validator
            def check(cls, values):
                return values
        """,
    ),
    (
        "ET103",
        """
        from pydantic import BaseModel
        class M(BaseModel):
            a: int
            class Config:
                frozen = True
        """,
        Category.STALE,
        """
        from pydantic import BaseModel, ConfigDict
        class M(BaseModel):
            model_config = ConfigDict(frozen=True)
            a: int
        class NotAModel:
            class Config:
                frozen = True
        """,
    ),
    (
        "ET104",
        """
        from pydantic import BaseModel, ConfigDict
        class M(BaseModel):
            model_config = ConfigDict(orm_mode=True)
            a: int
        """,
        Category.STALE,
        """
        from pydantic import BaseModel, ConfigDict
        class M(BaseModel):
            model_config = ConfigDict(from_attributes=True)
            a: int
        """,
    ),
    (
        "ET105",
        """
        from datetime import datetime
        from pydantic import BaseModel
        class M(BaseModel):
            t: datetime
            class Config:
                json_encoders = {datetime: lambda v: v.isoformat()}
        """,
        Category.STALE,
        """
        from datetime import datetime
        from pydantic import BaseModel, field_serializer
        class M(BaseModel):
            t: datetime
            @field_serializer("t")
            def ser_t(self, v: datetime) -> str:
                return v.isoformat()
        """,
    ),
    (
        "ET106",
        """
        from pydantic import BaseSettings
        class S(BaseSettings):
            debug: bool = False
        """,
        Category.BROKEN,
        """
        from pydantic_settings import BaseSettings
        class S(BaseSettings):
            debug: bool = False
        """,
    ),
    (
        "ET107",
        """
        from pydantic import BaseModel
        class U(BaseModel):
            id: int
        def to_schema(row):
            return U.from_orm(row)
        """,
        Category.STALE,
        """
        from pydantic import BaseModel
        class U(BaseModel):
            id: int
        def to_schema(row):
            return U.model_validate(row, from_attributes=True)
        """,
    ),
    (
        "ET108",
        """
        from pydantic import BaseModel
        class U(BaseModel):
            id: int
        u = U.parse_raw('{"id": 1}')
        """,
        Category.STALE,
        """
        from pydantic import BaseModel
        class U(BaseModel):
            id: int
        u = U.model_validate_json('{"id": 1}')
        config = parser.parse_raw(text)
        """,
    ),
    (
        "ET109",
        """
        from pydantic import BaseModel
        class U(BaseModel):
            id: int
        def show(u: U) -> dict:
            return u.dict(exclude={"id"})
        """,
        Category.STALE,
        """
        from pydantic import BaseModel
        class U(BaseModel):
            id: int
        def show(u: U, options: dict) -> dict:
            data = options.copy()
            return u.model_dump()
        """,
    ),
    (
        "ET110",
        """
        from pydantic import BaseModel
        class U(BaseModel):
            id: int
        names = list(U.__fields__)
        """,
        Category.STALE,
        """
        from pydantic import BaseModel
        class U(BaseModel):
            id: int
        names = list(U.model_fields)
        """,
    ),
    (
        "ET111",
        """
        from pydantic import BaseModel
        class Ids(BaseModel):
            __root__: list[int]
        """,
        Category.BROKEN,
        """
        from pydantic import RootModel
        class Ids(RootModel[list[int]]):
            pass
        """,
    ),
    (
        "ET112",
        """
        from typing import Generic, TypeVar
        from pydantic.generics import GenericModel
        T = TypeVar("T")
        class Page(GenericModel, Generic[T]):
            items: list[T]
        """,
        Category.STALE,
        """
        from typing import Generic, TypeVar
        from pydantic import BaseModel
        T = TypeVar("T")
        class Page(BaseModel, Generic[T]):
            items: list[T]
        """,
    ),
    (
        "ET113",
        """
        from pydantic import BaseModel, conlist
        class M(BaseModel):
            tags: conlist(str, min_items=1)
        """,
        Category.BROKEN,
        """
        from typing import Annotated
        from pydantic import BaseModel, Field
        class M(BaseModel):
            tags: Annotated[list[str], Field(min_length=1)]
        """,
    ),
    (
        "ET114",
        """
        from pydantic import BaseModel, Field
        class M(BaseModel):
            code: str = Field(..., regex="^[A-Z]{3}$")
        """,
        Category.BROKEN,
        """
        from pydantic import BaseModel, Field
        from sqlmodel import Field as SQLField
        class M(BaseModel):
            code: str = Field(..., pattern="^[A-Z]{3}$")
        class T:
            id: int = SQLField(primary_key=True, regex="x")
        """,
    ),
    (
        "ET115",
        """
        from pydantic import parse_obj_as
        ids = parse_obj_as(list[int], ["1", "2"])
        """,
        Category.STALE,
        """
        from pydantic import TypeAdapter
        ids = TypeAdapter(list[int]).validate_python(["1", "2"])
        """,
    ),
    (
        "ET201",
        """
        from sqlalchemy.ext.declarative import declarative_base
        Base = declarative_base()
        """,
        Category.STALE,
        """
        from sqlalchemy.orm import DeclarativeBase
        class Base(DeclarativeBase):
            pass
        """,
    ),
    (
        "ET202",
        """
        def get_user(db, user_id):
            return db.query(User).filter(User.id == user_id).first()
        """,
        Category.STALE,
        """
        from sqlalchemy import select
        def get_user(db, user_id):
            return db.scalars(select(User).where(User.id == user_id)).first()
        def search(index, text):
            return index.query(text)
        """,
    ),
    (
        "ET203",
        """
        from sqlalchemy import create_engine
        engine = create_engine("sqlite://")
        rows = engine.execute("SELECT 1")
        """,
        Category.BROKEN,
        """
        import sqlite3
        from sqlalchemy import create_engine, text
        engine = create_engine("sqlite://")
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT 1"))
        cursor = sqlite3.connect(":memory:").cursor()
        cursor.execute("SELECT 1")
        """,
    ),
    (
        "ET204",
        """
        from sqlalchemy import Column, Integer, String
        from sqlalchemy.orm import declarative_base
        Base = declarative_base()
        class User(Base):
            __tablename__ = "users"
            id = Column(Integer, primary_key=True)
            name = Column(String)
        """,
        Category.STALE,
        """
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
        class Base(DeclarativeBase):
            pass
        class User(Base):
            __tablename__ = "users"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str]
        """,
    ),
    (
        "ET205",
        """
        from sqlalchemy import select, table, column
        users = table("users", column("id"))
        stmt = select([users.c.id])
        """,
        Category.BROKEN,
        """
        from sqlalchemy import select, table, column
        users = table("users", column("id"))
        stmt = select(users.c.id)
        """,
    ),
    (
        "ET207",
        """
        from sqlalchemy.future import create_engine, select
        engine = create_engine("sqlite://")
        stmt = select(1)
        """,
        Category.STALE,
        """
        from sqlalchemy import create_engine, select
        engine = create_engine("sqlite://")
        stmt = select(1)
        """,
    ),
    (
        "ET206",
        """
        from sqlalchemy.orm import sessionmaker
        SessionLocal = sessionmaker(autocommit=True)
        """,
        Category.BROKEN,
        """
        from sqlalchemy.orm import sessionmaker
        SessionLocal = sessionmaker(autoflush=False)
        """,
    ),
    (
        "ET206",
        """
        from sqlalchemy.orm import sessionmaker
        SessionLocal = sessionmaker(autocommit=False, autoflush=False)
        """,
        Category.STALE,
        """
        from sqlalchemy.orm import sessionmaker
        SessionLocal = sessionmaker(autoflush=False)
        """,
    ),
    (
        "ET301",
        """
        from fastapi import FastAPI
        app = FastAPI()
        @app.on_event("startup")
        async def connect():
            pass
        """,
        Category.STALE,
        """
        from contextlib import asynccontextmanager
        from fastapi import FastAPI
        @asynccontextmanager
        async def lifespan(app):
            yield
        app = FastAPI(lifespan=lifespan)
        bus.on_event("message")
        """,
    ),
    (
        "ET302",
        """
        from fastapi import FastAPI, Query
        app = FastAPI()
        @app.get("/items")
        def items(q: str | None = Query(None, regex="^a")):
            return q
        """,
        Category.STALE,
        """
        from typing import Annotated
        from fastapi import FastAPI, Query
        app = FastAPI()
        @app.get("/items")
        def items(q: Annotated[str | None, Query(pattern="^a")] = None):
            return q
        """,
    ),
    (
        "ET303",
        """
        from fastapi import Depends
        def get_db():
            yield None
        def get_repo(db = Depends(get_db)):
            return db
        """,
        Category.STALE,
        """
        from typing import Annotated
        from fastapi import Depends, FastAPI
        app = FastAPI()
        def get_db():
            yield None
        def get_repo(db: Annotated[object, Depends(get_db)]):
            return db
        @app.get("/")
        def route(db: object = Depends(get_db)):  # ruff FAST002's
            return db
        """,
    ),
    (
        "ET304",
        """
        from fastapi import FastAPI
        from fastapi.responses import ORJSONResponse
        app = FastAPI(default_response_class=ORJSONResponse)
        """,
        Category.STALE,
        """
        from fastapi import FastAPI
        from fastapi.responses import JSONResponse
        app = FastAPI(default_response_class=JSONResponse)
        """,
    ),
    (
        "ET305",
        """
        from httpx import AsyncClient
        async def test_root(app):
            async with AsyncClient(app=app, base_url="http://test") as client:
                return await client.get("/")
        """,
        Category.BROKEN,  # the installed httpx raises TypeError on it
        """
        from httpx import ASGITransport, AsyncClient
        async def test_root(app):
            transport = ASGITransport(app=app)
            async with AsyncClient(transport=transport, base_url="http://test") as client:
                return await client.get("/")
        """,
    ),
    (
        "ET306",
        """
        from fastapi import FastAPI, status
        from fastapi.responses import JSONResponse
        async def handler(request, exc):
            return JSONResponse(status_code=status.HTTP_422_UNPROCESSABLE_ENTITY, content={})
        """,
        Category.STALE,
        """
        from fastapi import status
        async def handler(request, exc):
            return status.HTTP_422_UNPROCESSABLE_CONTENT
        """,
    ),
    (
        "ET307",
        """
        from fastapi.templating import Jinja2Templates
        templates = Jinja2Templates(directory="templates")
        def home(request):
            return templates.TemplateResponse("index.html", {"request": request})
        """,
        Category.BROKEN,  # the installed Starlette (1.x) no longer takes the old order
        """
        from fastapi.templating import Jinja2Templates
        templates = Jinja2Templates(directory="templates")
        def home(request):
            return templates.TemplateResponse(request, "index.html", {"x": 1})
        """,
    ),
    (
        "ET401",
        """
        import jwt
        def claims(token, key):
            return jwt.decode(token, key)
        """,
        Category.BROKEN,
        """
        import jwt
        def claims(token, key):
            return jwt.decode(token, key, algorithms=["HS256"])
        """,
    ),
    (
        "ET402",
        """
        import jwt
        def claims(token):
            return jwt.decode(token, options={"verify_signature": False})
        """,
        Category.SECURITY,
        """
        import jwt
        def claims(token, key):
            return jwt.decode(token, key, algorithms=["HS256"], options={"verify_exp": False})
        """,
    ),
    (
        "ET403",
        """
        from jose import JWTError, jwt
        """,
        Category.STALE,
        """
        import jwt
        from jwt import InvalidTokenError
        """,
    ),
    (
        "ET404",
        """
        from passlib.context import CryptContext
        pwd = CryptContext(schemes=["argon2"])
        """,
        Category.STALE,
        """
        from argon2 import PasswordHasher
        ph = PasswordHasher()
        """,
    ),
    (
        "ET405",
        """
        import bcrypt
        salt = bcrypt.gensalt(rounds=10)
        """,
        Category.SECURITY,
        """
        import bcrypt
        salt = bcrypt.gensalt(rounds=14)
        default = bcrypt.gensalt()
        """,
    ),
    (
        "ET406",
        """
        import hashlib
        def store(password: str) -> str:
            return hashlib.sha256(password.encode()).hexdigest()
        """,
        Category.SECURITY,
        """
        import hashlib
        def etag(body: bytes) -> str:
            return hashlib.sha256(body).hexdigest()
        """,
    ),
    (
        "ET501",
        """
        from datetime import datetime
        from pydantic import BaseModel, Field
        class Event(BaseModel):
            at: datetime = Field(default_factory=datetime.utcnow)
        """,
        Category.STALE,
        """
        from datetime import UTC, datetime
        from pydantic import BaseModel, Field
        class Event(BaseModel):
            at: datetime = Field(default_factory=lambda: datetime.now(UTC))
        now = datetime.utcnow()  # a call: ruff DTZ003 reports it
        """,
    ),
    (
        "ET502",
        """
        import asyncio
        async def main():
            pass
        loop = asyncio.get_event_loop()
        loop.run_until_complete(main())
        """,
        Category.STALE,
        """
        import asyncio
        async def main():
            loop = asyncio.get_event_loop()
            return loop
        asyncio.run(main())
        """,
    ),
]


@pytest.mark.parametrize(
    ("rule", "bad", "category", "good"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES]
)
def test_rule_fires_and_stays_silent(rule: str, bad: str, category: Category, good: str) -> None:
    hits = [f for f in run(bad) if f.rule == rule]
    assert hits, f"{rule} did not fire"
    assert {f.category for f in hits} == {category}
    for f in hits:
        assert f.stage == "rules" and f.tool == "exampletest" and f.message and f.suggestion
    assert rule not in rules_of(run(good))


def test_every_rule_has_a_fixture_and_metadata() -> None:
    assert {c[0] for c in CASES} == set(RULES)
    for rid, meta in RULES.items():
        assert meta.id == rid and meta.title and meta.replacement and meta.library


# --- the version gate ---------------------------------------------------------------------

GATES = [
    ("ET101", "pydantic", "1.10.13"),
    ("ET103", "pydantic", "1.10.13"),
    ("ET106", "pydantic", "1.10.13"),
    ("ET109", "pydantic", "1.10.13"),
    ("ET201", "sqlalchemy", "1.4.52"),
    ("ET202", "sqlalchemy", "1.4.52"),
    ("ET203", "sqlalchemy", "1.4.52"),
    ("ET206", "sqlalchemy", "1.4.52"),
    ("ET207", "sqlalchemy", "1.4.52"),
    ("ET301", "fastapi", "0.92.0"),
    ("ET302", "fastapi", "0.99.1"),
    ("ET303", "fastapi", "0.94.1"),
    ("ET304", "fastapi", "0.130.0"),
    ("ET305", "httpx", "0.27.2"),
]


@pytest.mark.parametrize(("rule", "dist", "old"), GATES)
def test_silent_where_the_old_api_is_current(rule: str, dist: str, old: str) -> None:
    bad = next(c[1] for c in CASES if c[0] == rule)
    assert rule in rules_of(run(bad))
    assert rule not in rules_of(run(bad, {**CURRENT, dist: old}))


def test_not_installed_fires_only_when_imported_and_says_so() -> None:
    versions = {**CURRENT, "pydantic": None}
    bad = next(c[1] for c in CASES if c[0] == "ET106")
    (hit,) = [f for f in run(bad, versions) if f.rule == "ET106"]
    assert "not installed" in hit.message and "not checked" in hit.message
    assert hit.category is Category.STALE  # "broken" needs the installed version as evidence
    fragment = """
    class M(BaseModel):
        @validator("a")
        def v(cls, x):
            return x
    """
    assert "ET101" not in rules_of(run(fragment, versions))
    assert "ET101" in rules_of(run(fragment))  # installed: a textual match is enough


def test_sqlalchemy_1_4_select_list_is_stale_not_broken() -> None:
    bad = next(c[1] for c in CASES if c[0] == "ET205")
    (hit,) = [f for f in run(bad, {**CURRENT, "sqlalchemy": "1.4.52"}) if f.rule == "ET205"]
    assert hit.category is Category.STALE


def test_pyjwt_1_decode_without_algorithms_is_security() -> None:
    bad = next(c[1] for c in CASES if c[0] == "ET401")
    (hit,) = [f for f in run(bad, {**CURRENT, "pyjwt": "1.7.1"}) if f.rule == "ET401"]
    assert hit.category is Category.SECURITY


def test_default_versions_come_from_the_installed_distributions() -> None:
    bad = next(c[1] for c in CASES if c[0] == "ET101")
    assert "ET101" in rules_of(check(make_block(bad)))


# --- aliases, nuances, coordinates --------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        """
        import pydantic as pd
        class M(pd.BaseModel):
            a: int
            @pd.validator("a")
            def v(cls, x):
                return x
        """,
        """
        from pydantic import BaseModel, validator as v
        class M(BaseModel):
            a: int
            @v("a")
            def check(cls, x):
                return x
        """,
    ],
)
def test_aliases(code: str) -> None:
    assert "ET101" in rules_of(run(code))


def test_validator_nuances_in_the_suggestion() -> None:
    code = """
    from pydantic import BaseModel, validator
    class M(BaseModel):
        a: list[int]
        @validator("a", pre=True, always=True, each_item=True)
        def v(cls, x, values):
            return x
    """
    (hit,) = [f for f in run(code) if f.rule == "ET101"]
    assert hit.suggestion is not None
    for part in ('mode="before"', "validate_default", "each_item", "ValidationInfo"):
        assert part in hit.suggestion


def test_constrained_types() -> None:
    code = """
    from pydantic import BaseModel, conint, conlist
    class M(BaseModel):
        a: conint(gt=0)
        b: conlist(int, min_length=1)
    """
    (hit,) = [f for f in run(code) if f.rule == "ET113"]
    assert hit.category is Category.STALE and "conint" in hit.message


def test_validator_with_an_argument_v1_never_had_is_broken() -> None:
    code = """
    from pydantic import BaseModel, validator
    class M(BaseModel):
        a: int
        @validator("a", mode="wrap")
        def v(cls, x, handler):
            return x
    """
    (hit,) = [f for f in run(code) if f.rule == "ET101"]
    assert hit.category is Category.BROKEN and "mode" in hit.message


def test_config_keys_in_class_config_and_settings() -> None:
    code = """
    from pydantic_settings import BaseSettings
    class S(BaseSettings):
        a: int = 1
        class Config:
            allow_population_by_field_name = True
            underscore_attrs_are_private = True
    """
    found = run(code)
    (cfg,) = [f for f in found if f.rule == "ET103"]
    assert "SettingsConfigDict" in cfg.message
    keys = [f.message for f in found if f.rule == "ET104"]
    assert len(keys) == 2 and "validate_by_name" in keys[0] and "removed" in keys[1]
    older = [f.message for f in run(code, {**CURRENT, "pydantic": "2.5.0"}) if f.rule == "ET104"]
    assert "populate_by_name" in older[0]


def test_model_methods_need_a_plausible_model() -> None:
    code = """
    import httpx
    def f(user, response, data: dict):
        a = user.dict()
        b = response.json()
        c = data.copy()
        d = user.json(indent=2)
    """
    hits = [f for f in run(code) if f.rule == "ET109"]
    assert len(hits) == 1 and "textual" in hits[0].message


def test_coordinates_are_document_coordinates() -> None:
    code = """
    from pydantic import BaseModel
    class U(BaseModel):
        id: int
    u = U(id=1)
    print(u.dict())
    """
    (hit,) = [f for f in run(code, line_offset=100, indent=4) if f.rule == "ET109"]
    # code line 5, ".dict" attribute name starts at code column 9 -> doc column 9 + 4
    assert (hit.line, hit.column) == (105, 13)
    assert (hit.end_line, hit.end_column) == (105, 17)


def test_non_ascii_columns() -> None:
    code = 'x = "é"; jwt.decode(t, k)\nimport jwt\n'
    (hit,) = [f for f in run(code, line_offset=0) if f.rule == "ET401"]
    assert hit.column == 10


def test_syntax_error_gives_no_findings() -> None:
    assert run("def broken(:\n    pass\n") == []


# --- ET303 and ruff FAST002 never report the same parameter ------------------------------


def test_et303_complements_ruff_fast002() -> None:
    code = textwrap.dedent(
        """
        from fastapi import APIRouter, Depends, FastAPI, Query
        app = FastAPI()
        router = APIRouter()
        def dep(q: str = Query("x")):
            return q
        def sub(d: str = Depends(dep)):
            return d
        @app.get("/a")
        def a(d: str = Depends(sub), u=Depends(dep)):
            return d
        @router.post("/b")
        async def b(*, d: str = Depends(sub)):
            return d
        @app.websocket("/ws")
        async def ws(d: str = Depends(sub)):
            return d
        @unknown.get("/c")
        def c(d: str = Depends(sub)):
            return d
        """
    ).lstrip()
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--select", "FAST002",
         "--output-format", "json", "--stdin-filename", "x.py", "-"],
        input=code, capture_output=True, text=True, check=False,
    )  # fmt: skip
    ruff = {(d["location"]["row"], d["location"]["column"]) for d in json.loads(proc.stdout)}
    ours = {(f.line, f.column) for f in check(make_block(code, line_offset=0)) if f.rule == "ET303"}
    assert ruff and ours
    assert not ruff & ours
    defaults = {
        (p.lineno, p.col_offset + 1)
        for fn in ast.walk(ast.parse(code))
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
        for p in fn.args.args[len(fn.args.args) - len(fn.args.defaults) :] + fn.args.kwonlyargs
    }
    assert ruff | ours == defaults  # each dependency default reported by exactly one side


# --- "broken" is evidence: the fixtures really fail on the installed libraries ------------


@pytest.mark.parametrize("case", [c for c in CASES if c[2] is Category.BROKEN], ids=lambda c: c[0])
def test_broken_fixtures_really_fail_here(case: tuple[str, str, Category, str]) -> None:
    rule, bad, _, _ = case
    code = textwrap.dedent(bad) + (
        "\nclaims(jwt.encode({'a': 1}, 'k' * 32, algorithm='HS256'), 'k' * 32)\n"
        if rule == "ET401"
        else "\nSessionLocal()\n"
        if rule == "ET206"
        else "\nimport asyncio, fastapi\nasyncio.run(test_root(fastapi.FastAPI()))\n"
        if rule == "ET305"
        else "\nfrom starlette.requests import Request\nhome(Request({'type': 'http'}))\n"
        if rule == "ET307"
        else ""
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception):  # noqa: B017 - any exception is the evidence
            exec(compile(code, f"<{rule}>", "exec", dont_inherit=True), {})


def test_an_import_fallback_for_old_versions_is_not_reported() -> None:
    code = """
    try:
        from pydantic_settings import BaseSettings
    except (ModuleNotFoundError, ValueError):  # Pydantic 1
        from pydantic import BaseSettings
    """
    assert "ET106" not in rules_of(run(code))
    assert "ET106" in rules_of(run(code.replace("ModuleNotFoundError", "KeyError")))


@pytest.mark.parametrize(
    ("templating", "old_order"),
    [
        # before 0.29: the name first
        ("def TemplateResponse(self, name, context, status_code=200): ...", True),
        # 0.29-0.52: overloads for both orders, then `*args` (the old one warns)
        (
            "@typing.overload\ndef TemplateResponse(self, request, name, context=None): ...\n"
            "@typing.overload\ndef TemplateResponse(self, name, context=None): ...\n"
            "def TemplateResponse(self, *args, **kwargs): ...",
            True,
        ),
        # 1.0 and later: the request first, nothing else
        ("def TemplateResponse(self, request, name, context=None): ...", False),
    ],
)
def test_the_installed_starlettes_own_signature_says_if_the_old_order_is_gone(
    templating: str, old_order: bool
) -> None:
    """ET307 is broken only where Starlette's implementation takes the request alone first:
    its ``@overload`` signatures say nothing of what runs."""
    from exampletest.rules.fastapi import accepts_name_first

    assert (
        accepts_name_first(
            ast.parse(f"class Jinja2Templates:\n{textwrap.indent(templating, '    ')}\n")
        )
        is old_order
    )


def test_a_template_response_by_keyword_is_found_and_a_blocks_own_method_is_not() -> None:
    code = """
    from fastapi.templating import Jinja2Templates
    templates = Jinja2Templates(directory="templates")
    def page(request):
        return templates.TemplateResponse(name="a.html", context={"request": request})
    """
    assert "ET307" in rules_of(run(code))
    own = """
    class Renderer:
        def TemplateResponse(self, name, context):
            return name
    print(Renderer().TemplateResponse("x.html", {"request": None}))
    """
    assert "ET307" not in rules_of(run(own))
    inside = """
    class Renderer:
        def TemplateResponse(self, name, context):
            return name
        def page(self):
            return self.TemplateResponse("x.html", {"request": None})
    """
    assert "ET307" not in rules_of(run(inside))
    assert "ET307" not in rules_of(
        run(inside.replace("def TemplateResponse", "async def TemplateResponse"))
    )
    # another library's subclass, with a method of its own (jinja2-fragments)
    blocks = """
    from jinja2_fragments.fastapi import Jinja2Blocks
    templates = Jinja2Blocks(directory="templates")
    def page(request):
        return templates.TemplateResponse("a.html", {"request": request}, block_name="x")
    """
    assert "ET307" not in rules_of(run(blocks))
