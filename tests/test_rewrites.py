"""The modernization rewrites: each on small fixtures, run for real against pydantic 2."""

from __future__ import annotations

import asyncio
import difflib
import itertools
import json
import sys
import textwrap
import types
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from exampletest.fix import pydantic_v1, sqlalchemy, stdlib
from exampletest.fix.base import Rewrite, RewriteContext
from exampletest.fix.imports import add_imports, remove_unused_imports

ALL = RewriteContext()
_COUNTER = itertools.count()
Rewriter = Callable[[str, RewriteContext], Rewrite]

# The block as a real agent doc has it: Pydantic v1 validator, Config, json_encoders, utcnow.
TRANSACTION = """\
from pydantic import BaseModel, Field, validator
from decimal import Decimal
from datetime import datetime

class TransactionCreate(BaseModel):
    amount: Decimal = Field(gt=0, decimal_places=2)
    currency: str = Field(min_length=3, max_length=3)
    description: str = Field(max_length=500)
    timestamp: datetime = Field(default_factory=datetime.utcnow)

    @validator('currency')
    def validate_currency(cls, v):
        if v not in ['USD', 'EUR', 'BRL']:
            raise ValueError(f'Unsupported currency: {v}')
        return v.upper()

    class Config:
        json_encoders = {
            Decimal: lambda v: str(v),
        }
"""

USERS = """\
from pydantic import BaseModel, BaseSettings, Field, validator, root_validator


class Settings(BaseSettings):
    database_url: str

    class Config:
        env_prefix = "APP_"


class UserIn(BaseModel):
    # the name shown in the UI
    name: str = Field(..., regex="^[a-z]+$", min_items=1)
    password: str
    password2: str

    class Config:
        orm_mode = True
        allow_population_by_field_name = True
        anystr_strip_whitespace = True

    @validator("password2")
    def passwords_match(cls, v, values):
        if "password" in values and v != values["password"]:
            raise ValueError("passwords do not match")
        return v

    @validator("name", pre=True)
    def lower(cls, v):
        return v.lower()

    @root_validator(skip_on_failure=True)
    def not_name(cls, values):
        if values["password"] == values.get("name"):
            raise ValueError("password equals name")
        return values


class Patch(BaseModel):
    name: str = "unchanged"

    @root_validator(pre=True)
    def drop_nulls(cls, values):
        return {k: v for k, v in values.items() if v is not None}


def load(row, payload: dict, user: UserIn):
    first = UserIn.from_orm(row)
    second = UserIn.parse_obj(payload)
    third = UserIn.parse_raw('{"name": "c", "password": "p", "password2": "p"}')
    return first.dict(), second.json(), third.copy(update={"name": "d"}), user.dict(
        exclude_unset=True
    )
"""


def run(code: str, **env: Any) -> dict[str, Any]:
    """Execute code as a module, failing on any warning (deprecations included)."""
    # Registered, so that pydantic can resolve the annotations of the module's models.
    module = types.ModuleType(f"snippet_{next(_COUNTER)}")
    sys.modules[module.__name__] = module
    module.__dict__.update(env)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exec(compile(code, "snippet.py", "exec"), module.__dict__)
    return module.__dict__


def changed_lines(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="")
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def rewrite_all(code: str, ctx: RewriteContext = ALL) -> Rewrite:
    """Every module's rewrites in turn, as the fix engine combines them."""
    applied: list[str] = []
    notes: list[str] = []
    for module in (pydantic_v1, stdlib, sqlalchemy):
        result = module.rewrite(code, ctx)
        code = result.code
        applied += result.applied
        notes += result.notes
    return Rewrite(code, tuple(applied), tuple(notes))


# --- the real doc's block ------------------------------------------------------------------


def test_transaction_block_fails_as_v1_and_works_after_rewrite() -> None:
    with pytest.raises(DeprecationWarning):
        run(TRANSACTION)
    result = rewrite_all(TRANSACTION)
    assert set(result.applied) == {"ET101", "ET105", "ET501"}
    assert result.notes == ()
    assert "@field_validator('currency')\n    @classmethod\n" in result.code
    assert "default_factory=lambda: datetime.now(UTC)" in result.code
    assert "from datetime import UTC, datetime" in result.code
    ns = run(result.code)
    tx = ns["TransactionCreate"](amount="10.50", currency="USD", description="coffee")
    assert tx.timestamp.tzinfo is not None
    dumped = json.loads(tx.model_dump_json())
    assert dumped["amount"] == "10.50"
    assert tx.model_dump()["amount"] == tx.amount  # the encoder applies to JSON only, as in v1
    with pytest.raises(ValueError, match="Unsupported currency"):
        ns["TransactionCreate"](amount=1, currency="XYZ", description="")


def test_transaction_rewrite_keeps_everything_else() -> None:
    result = pydantic_v1.rewrite(TRANSACTION, ALL)
    assert changed_lines(TRANSACTION, result.code) == [
        "-from pydantic import BaseModel, Field, validator",
        "+from pydantic import BaseModel, Field, field_serializer, field_validator",
        "-    @validator('currency')",
        "+    @field_validator('currency')",
        "+    @classmethod",
        "-    class Config:",
        "-        json_encoders = {",
        "-            Decimal: lambda v: str(v),",
        "-        }",
        '+    @field_serializer("amount", when_used="json")',
        "+    def serialize_decimal(self, v: Decimal) -> str:",
        "+        return str(v)",
    ]


def test_v1_user_module_runs_on_pydantic_2_after_rewrite(monkeypatch: pytest.MonkeyPatch) -> None:
    result = pydantic_v1.rewrite(USERS, ALL)
    assert set(result.applied) == {
        "ET101",
        "ET102",
        "ET103",
        "ET104",
        "ET106",
        "ET107",
        "ET108",
        "ET109",
        "ET114",
    }
    assert result.notes == ()
    code = result.code
    assert "from pydantic_settings import BaseSettings, SettingsConfigDict" in code
    assert 'model_config = SettingsConfigDict(env_prefix="APP_")' in code
    assert "# the name shown in the UI" in code
    assert "def not_name(self):" in code and "self.password == self.name" in code
    monkeypatch.setenv("APP_DATABASE_URL", "sqlite://")
    ns = run(code)
    assert ns["Settings"]().database_url == "sqlite://"
    user_in = ns["UserIn"]
    row = types.SimpleNamespace(name="Ann", password="x", password2="x")
    first, second, third, fourth = ns["load"](
        row,
        {"name": "bob", "password": "p", "password2": "p"},
        user_in(name="e", password="q", password2="q"),
    )
    assert first == {"name": "ann", "password": "x", "password2": "x"}
    assert json.loads(second)["name"] == "bob"
    assert third.name == "d"
    assert fourth["name"] == "e"
    with pytest.raises(ValueError, match="passwords do not match"):
        user_in(name="a", password="x", password2="y")
    with pytest.raises(ValueError, match="password equals name"):
        user_in(name="same", password="same", password2="same")
    with pytest.raises(ValueError, match="pattern"):
        user_in(name="a1", password="x", password2="x")
    assert user_in(name="  abc ", password="x", password2="x").name == "abc"
    assert ns["Patch"](name=None).name == "unchanged"


@pytest.mark.parametrize("code", [TRANSACTION, USERS])
def test_rewrites_are_idempotent(code: str) -> None:
    once = rewrite_all(code)
    twice = rewrite_all(once.code)
    assert twice.code == once.code
    assert twice.applied == ()


def test_each_rule_applies_on_its_own() -> None:
    everything = pydantic_v1.rewrite(USERS, ALL)
    for rule in everything.applied:
        alone = pydantic_v1.rewrite(USERS, RewriteContext(enabled=frozenset({rule})))
        assert alone.applied == (rule,), rule
        compile(alone.code, "snippet.py", "exec")
    assert pydantic_v1.rewrite(USERS, RewriteContext(enabled=frozenset())).code == USERS


# --- one rule at a time --------------------------------------------------------------------


def fix(rewriter: Rewriter, code: str, **ctx: Any) -> Rewrite:
    return rewriter(textwrap.dedent(code), RewriteContext(**ctx))


def test_known_receiver_only() -> None:
    code = """\
    import requests

    def handler(user: User, other, resp):
        made = User(name="a")
        copied = made.copy()
        return (
            user.dict(), other.dict(), made.json(), copied.dict(),
            resp.json(), requests.get("u").json(), User.schema(),
        )
    """
    result = fix(pydantic_v1.rewrite, code, known_models=frozenset({"User"}))
    assert result.applied == ("ET109",)
    assert (
        "user.model_dump(), other.dict(), made.model_dump_json(), copied.model_dump()"
        in result.code
    )
    assert "made.model_copy()" in result.code
    assert 'resp.json(), requests.get("u").json(), User.model_json_schema()' in result.code
    unknown = fix(pydantic_v1.rewrite, code)
    assert unknown.code == textwrap.dedent(code) and unknown.applied == ()


def test_self_is_a_known_receiver_in_model_methods() -> None:
    code = """\
    from pydantic import BaseModel

    class Item(BaseModel):
        name: str

        def as_row(self):
            return self.dict(), self.__fields__, Item.__fields__
    """
    result = fix(pydantic_v1.rewrite, code)
    assert set(result.applied) == {"ET109", "ET110"}
    assert "self.model_dump(), type(self).model_fields, Item.model_fields" in result.code
    ns = run(result.code)
    assert ns["Item"](name="a").as_row()[0] == {"name": "a"}


def test_schema_json_and_arguments_without_v2_equivalent() -> None:
    code = """\
    from pydantic import BaseModel

    class Item(BaseModel):
        name: str

    schema = Item.schema_json(indent=2)
    item = Item(name="a")
    data = item.json(models_as_dict=False)
    loaded = Item.parse_file("item.json")
    """
    result = fix(pydantic_v1.rewrite, code)
    assert "schema = json.dumps(Item.model_json_schema(), indent=2)" in result.code
    assert "import json\n" in result.code
    assert "item.json(models_as_dict=False)" in result.code
    assert 'Item.parse_file("item.json")' in result.code
    assert any("models_as_dict" in n for n in result.notes)
    assert any("parse_file" in n for n in result.notes)


def test_validator_always_gets_validate_default() -> None:
    code = """\
    from pydantic import BaseModel, Field, validator

    class Job(BaseModel):
        retries: int = 3
        label: str = Field("x", max_length=5)

        @validator("retries", "label", always=True)
        def check(cls, v):
            if v in (3, "x"):
                raise ValueError("default seen")
            return v
    """
    result = fix(pydantic_v1.rewrite, code)
    assert result.applied == ("ET101",)
    assert "retries: int = Field(3, validate_default=True)" in result.code
    assert 'label: str = Field("x", max_length=5, validate_default=True)' in result.code
    ns = run(result.code)
    with pytest.raises(ValueError, match="default seen"):
        ns["Job"]()


def test_unsafe_validators_are_left_with_a_note() -> None:
    code = """\
    from pydantic import BaseModel, validator, root_validator

    class Order(BaseModel):
        items: list[int]
        total: int

        @validator("items", each_item=True)
        def positive(cls, v):
            return v

        @validator("total")
        def check_total(cls, v, values, config):
            return v

        @root_validator(skip_on_failure=True)
        def totals(cls, values):
            values["total"] = sum(values["items"])
            return values
    """
    result = fix(pydantic_v1.rewrite, code)
    assert result.applied == ()
    assert result.code == textwrap.dedent(code)
    assert len(result.notes) == 3
    assert any("each_item" in n for n in result.notes)
    assert any("config" in n for n in result.notes)
    assert any("mode='after'" in n and "line 15" in n for n in result.notes)


def test_pre_root_validator_on_orm_model_is_noted() -> None:
    code = """\
    from pydantic import BaseModel, root_validator

    class A(BaseModel):
        x: int = 0

        class Config:
            orm_mode = True

        @root_validator(pre=True)
        def fill(cls, values):
            return values
    """
    result = fix(pydantic_v1.rewrite, code, enabled=frozenset({"ET102"}))
    assert result.applied == ()
    assert any("from_attributes" in n and "line 9" in n for n in result.notes)


def test_validator_field_name() -> None:
    code = """\
    from pydantic import BaseModel, validator

    class A(BaseModel):
        x: int

        @validator("x")
        def check(cls, v, field):
            if v < 0:
                raise ValueError(f"{field.name} must be positive")
            return v
    """
    result = fix(pydantic_v1.rewrite, code)
    assert "def check(cls, v, info: ValidationInfo):" in result.code
    assert "{info.field_name} must be positive" in result.code
    ns = run(result.code)
    with pytest.raises(ValueError, match="x must be positive"):
        ns["A"](x=-1)


def test_config_keys_without_v2_equivalent_are_noted() -> None:
    code = """\
    from pydantic import BaseModel, Extra

    class A(BaseModel):
        x: int

        class Config:
            extra = Extra.forbid
            allow_mutation = False
            underscore_attrs_are_private = True
            fields = {"x": {"alias": "X"}}
    """
    result = fix(pydantic_v1.rewrite, code)
    assert set(result.applied) == {"ET103", "ET104"}
    assert (
        'model_config = ConfigDict(extra="forbid", frozen=True, fields={"x": {"alias": "X"}})'
        in result.code
    )
    assert "Extra" not in result.code.splitlines()[0]
    assert any("'fields'" in n for n in result.notes)


def test_config_with_methods_is_left_alone() -> None:
    code = """\
    from pydantic import BaseModel

    class A(BaseModel):
        class Config:
            @staticmethod
            def schema_extra(schema, model):
                schema["x"] = 1
    """
    result = fix(pydantic_v1.rewrite, code, enabled=frozenset({"ET103"}))
    assert result.applied == () and result.code == textwrap.dedent(code)
    assert any("by hand" in n for n in result.notes)


def test_multiline_config_values_are_reindented() -> None:
    code = """\
    from pydantic import BaseModel

    class A(BaseModel):
        x: int

        class Config:
            schema_extra = {
                "example": {"x": 1},
            }
            validate_assignment = True
    """
    result = fix(pydantic_v1.rewrite, code)
    assert textwrap.dedent("""\
        model_config = ConfigDict(
            json_schema_extra={
                "example": {"x": 1},
            },
            validate_assignment=True,
        )
    """) in textwrap.dedent("\n".join(result.code.splitlines()[5:]) + "\n")
    ns = run(result.code)
    assert ns["A"].model_json_schema()["example"] == {"x": 1}


def test_json_encoders_on_nested_types_stay_with_a_note() -> None:
    code = """\
    from datetime import datetime
    from pydantic import BaseModel

    class A(BaseModel):
        when: datetime
        history: list[datetime]

        class Config:
            json_encoders = {datetime: lambda d: d.isoformat()}
    """
    result = fix(pydantic_v1.rewrite, code, enabled=frozenset({"ET105"}))
    assert result.applied == ()
    assert any("history" in n for n in result.notes)


def test_serializers_take_the_configs_place_and_its_spacing() -> None:
    code = """\
    from datetime import datetime
    from pydantic import BaseModel

    class A(BaseModel):
        when: datetime

        def label(self) -> str:
            return "x"

        class Config:
            orm_mode = True
            json_encoders = {datetime: lambda d: d.isoformat()}
    """
    result = fix(pydantic_v1.rewrite, code)
    assert '        return "x"\n\n    @field_serializer("when"' in result.code
    assert "        return d.isoformat()\n\n    model_config = " in result.code
    ns = run(result.code)
    assert ns["A"](when=ns["datetime"](2020, 1, 2)).model_dump_json() == (
        '{"when":"2020-01-02T00:00:00"}'
    )


def test_constrained_types_become_annotated_with_v2_keywords() -> None:
    code = """\
    from decimal import Decimal
    from pydantic import BaseModel, conint, conlist, constr
    import pydantic

    class User(BaseModel):
        name: constr(regex="^[a-z]+$", min_length=2)
        age: conint(gt=0, le=150)
        tags: conlist(str, min_items=1)
        code: pydantic.constr(to_upper=True)
        short: constr(curtail_length=3)
    """
    result = fix(pydantic_v1.rewrite, code)
    assert 'name: Annotated[str, StringConstraints(pattern="^[a-z]+$", min_length=2)]' in (
        result.code
    )
    assert "age: Annotated[int, Field(gt=0, le=150)]" in result.code
    assert "tags: conlist(str, min_length=1)" in result.code
    assert "code: Annotated[str, pydantic.StringConstraints(to_upper=True)]" in result.code
    assert "short: constr(curtail_length=3)" in result.code  # no v2 spelling: a note
    assert any("curtail_length" in n for n in result.notes)
    model = run(result.code.replace("curtail_length=3", ""))["User"]
    user = model(name="ab", age=3, tags=["x"], code="q", short="s")
    assert (user.name, user.code) == ("ab", "Q")


def test_a_model_field_whose_field_default_is_none_becomes_optional() -> None:
    code = """\
    from pydantic import BaseModel, Field

    class U(BaseModel):
        age: int = Field(ge=18, default=None)
        nick: str = Field(None, max_length=3)
        name: str = Field("x")
    """
    result = fix(pydantic_v1.rewrite, code)
    assert "age: int | None = Field(ge=18, default=None)" in result.code
    assert "nick: str | None = Field(None, max_length=3)" in result.code
    assert 'name: str = Field("x")' in result.code
    assert run(result.code)["U"]().model_dump() == {"age": None, "nick": None, "name": "x"}


def test_a_v1_models_optional_fields_keep_their_none_default() -> None:
    code = """\
    from typing import Optional
    from pydantic import BaseModel

    class Update(BaseModel):
        email: Optional[str]
        nick: str | None
        name: str
        age: Optional[int] = 3

        class Config:
            orm_mode = True
    """
    result = fix(pydantic_v1.rewrite, code)
    assert "email: Optional[str] = None" in result.code and "nick: str | None = None" in result.code
    assert "    name: str\n" in result.code and "age: Optional[int] = 3" in result.code
    assert any("= None` added to email, nick" in n for n in result.notes)
    model = run(result.code)["Update"]  # `name` stays required
    assert model(name="x").model_dump() == {"email": None, "nick": None, "name": "x", "age": 3}


def test_from_orm_adds_from_attributes_when_the_model_is_here() -> None:
    code = """\
    from pydantic import BaseModel

    class Out(BaseModel):
        \"\"\"What the API returns.\"\"\"

        id: int

    out = Out.from_orm(row)
    """
    result = fix(pydantic_v1.rewrite, code)
    assert result.applied == ("ET107",)
    assert '"""What the API returns."""\n    model_config = ConfigDict(from_attributes=True)\n' in (
        result.code
    )
    ns = run(result.code, row=types.SimpleNamespace(id=7))
    assert ns["out"].id == 7


def test_parse_obj_as_and_field_kwargs() -> None:
    code = """\
    from pydantic import BaseModel, Field, parse_obj_as

    class Tag(BaseModel):
        names: list[str] = Field(default_factory=list, max_items=2, allow_mutation=False)

    tags = parse_obj_as(list[Tag], [{"names": ["a"]}])
    """
    result = fix(pydantic_v1.rewrite, code)
    assert set(result.applied) == {"ET114", "ET115"}
    assert "from pydantic import BaseModel, Field, TypeAdapter\n" in result.code
    assert "TypeAdapter(list[Tag]).validate_python([" in result.code
    ns = run(result.code)
    assert ns["tags"][0].names == ["a"]
    with pytest.raises(ValueError, match="at most 2"):
        ns["Tag"](names=["a", "b", "c"])


def test_pydantic_v1_compat_layer_is_not_touched() -> None:
    code = """\
    from pydantic.v1 import BaseModel, validator

    class A(BaseModel):
        x: int

        @validator("x")
        def check(cls, v):
            return v

        class Config:
            orm_mode = True
    """
    result = fix(pydantic_v1.rewrite, code)
    assert result.applied == () and result.code == textwrap.dedent(code)


def test_code_that_does_not_parse_is_returned_with_a_note() -> None:
    # Each module has something to look for here (a pass would run), but nothing parses.
    code = "class A(BaseModel:\n    x = datetime.utcnow(select(A).query(1))\n    class Config:\n"
    for module in (pydantic_v1, stdlib, sqlalchemy):
        result = module.rewrite(code, ALL)
        assert result.code == code and result.applied == ()
        assert result.notes and "does not parse" in result.notes[0]


def test_code_with_nothing_a_pass_looks_for_is_not_even_parsed() -> None:
    code = "class A(BaseModel:\n    x: int\n"
    for module in (pydantic_v1, stdlib, sqlalchemy):
        assert module.rewrite(code, ALL) == Rewrite(code)


# --- stdlib --------------------------------------------------------------------------------


def test_utcnow_forms() -> None:
    code = """\
    import datetime as dt
    from datetime import datetime

    a = datetime.utcnow()
    b = dt.datetime.utcnow()
    c = datetime.utcfromtimestamp(0)
    factory = datetime.utcnow
    """
    result = fix(stdlib.rewrite, code)
    assert set(result.applied) == {"ET501", "DTZ003", "DTZ004"}
    assert "a = datetime.now(UTC)" in result.code
    assert "b = dt.datetime.now(dt.UTC)" in result.code
    assert "c = datetime.fromtimestamp(0, UTC)" in result.code
    assert "factory = lambda: datetime.now(UTC)" in result.code
    ns = run(result.code)
    assert all(t.tzinfo is not None for t in (ns["a"], ns["b"], ns["c"], ns["factory"]()))


def test_utcnow_before_python_3_11_becomes_timezone_utc() -> None:
    """A block for an older Python (a "Python 3.8+" tab, a project targeting py39) gets
    ``timezone.utc``: ``datetime.UTC`` is 3.11's."""
    code = """\
    import datetime as dt
    from datetime import datetime

    a = datetime.utcnow()
    b = dt.datetime.utcnow()
    c = datetime.utcfromtimestamp(0)
    """
    result = fix(stdlib.rewrite, code, utc_alias=False)
    assert "from datetime import datetime, timezone\n" in result.code
    assert "a = datetime.now(timezone.utc)" in result.code
    assert "b = dt.datetime.now(dt.timezone.utc)" in result.code
    assert "c = datetime.fromtimestamp(0, timezone.utc)" in result.code
    assert "UTC" not in result.code
    ns = run(result.code)
    assert all(t.tzinfo is not None for t in (ns["a"], ns["b"], ns["c"]))
    taken = "from datetime import datetime\ntimezone = 'Europe/Paris'\nnow = datetime.utcnow()\n"
    kept = stdlib.rewrite(taken, RewriteContext(utc_alias=False))
    assert kept.code == taken and any("timezone" in n for n in kept.notes)
    # a function's own `timezone` (a parameter) is not the class the rewrite would import
    param = "from datetime import datetime\n\n\ndef stamp(timezone):\n"
    param += "    return f'{datetime.utcnow()} {timezone}'\n"
    kept = stdlib.rewrite(param, RewriteContext(utc_alias=False))
    assert kept.code == param and any("datetime.timezone.utc by hand" in n for n in kept.notes)


def test_utcnow_stays_naive_utc_where_sqlalchemy_columns_store_naive_datetimes() -> None:
    code = """\
    from datetime import datetime

    from sqlalchemy import Column, DateTime

    created = Column(DateTime, default=datetime.utcnow)
    deleted = datetime.utcnow()
    """
    result = fix(stdlib.rewrite, code)
    assert "default=lambda: datetime.now(UTC).replace(tzinfo=None))" in result.code
    assert "deleted = datetime.now(UTC).replace(tzinfo=None)" in result.code
    assert any("naive" in n for n in result.notes)
    ns = run(result.code)
    assert ns["deleted"].tzinfo is None and ns["created"].default.arg(None).tzinfo is None
    # A column that asks for time zones takes the aware value.
    aware = fix(stdlib.rewrite, code.replace("Column(DateTime,", "Column(DateTime(timezone=True),"))
    assert "deleted = datetime.now(UTC)\n" in aware.code


def test_utc_name_taken_is_noted() -> None:
    code = "from datetime import datetime\nfrom pytz import UTC\nnow = datetime.utcnow()\n"
    result = stdlib.rewrite(code, ALL)
    assert result.code == code and result.applied == ()
    assert any("UTC" in n for n in result.notes)


def test_jwt_decode_gets_the_encode_algorithm() -> None:
    code = """\
    import jwt

    SECRET_KEY = "secret-" * 5
    ALGORITHM = "HS256"

    def create(data):
        return jwt.encode(data, SECRET_KEY, algorithm=ALGORITHM)

    def read(token):
        return jwt.decode(token, SECRET_KEY)
    """
    result = fix(stdlib.rewrite, code)
    assert result.applied == ("ET401",)
    assert "jwt.decode(token, SECRET_KEY, algorithms=[ALGORITHM])" in result.code
    ns = run(result.code)
    assert ns["read"](ns["create"]({"sub": "1"})) == {"sub": "1"}


def test_jwt_decode_without_evidence_is_noted() -> None:
    code = """\
    import jwt

    def create(data, alg):
        return jwt.encode(data, "k", algorithm=alg)

    def read(token):
        return jwt.decode(token, "k")
    """
    result = fix(stdlib.rewrite, code)
    assert result.applied == ()
    assert any("algorithms" in n for n in result.notes)


@pytest.mark.parametrize(
    ("encode", "applied"),
    [
        # The constant is the module's where the encode reads it: decode can name it.
        ("def create(data):\n    return jwt.encode(data, 'k', algorithm=ALG)\n", True),
        (
            "class T:\n    ALG = 'HS512'\n\n    def create(self, d):\n"
            "        return jwt.encode(d, 'k', algorithm=ALG)\n",
            True,
        ),
        (
            "def create(data):\n    global ALG\n    ALG = 'HS256'\n"
            "    return jwt.encode(data, 'k', algorithm=ALG)\n",
            True,
        ),
        # A local of the same name, a parameter, a class body's name, a comprehension's
        # variable: not the module's constant.
        (
            "def create(data):\n    ALG = 'HS512'\n"
            "    return jwt.encode(data, 'k', algorithm=ALG)\n",
            False,
        ),
        (
            "def create(data, ALG='HS512'):\n    return jwt.encode(data, 'k', algorithm=ALG)\n",
            False,
        ),
        ("class T:\n    ALG = 'HS512'\n    token = jwt.encode({}, 'k', algorithm=ALG)\n", False),
        (
            "def outer():\n    ALG = 'HS512'\n\n    def create(d):\n"
            "        return jwt.encode(d, 'k', algorithm=ALG)\n",
            False,
        ),
        ("tokens = [jwt.encode({}, 'k', algorithm=ALG) for ALG in ['HS256']]\n", False),
    ],
)
def test_jwt_algorithm_names_are_read_where_the_encode_reads_them(
    encode: str, applied: bool
) -> None:
    code = (
        f"import jwt\n\nALG = 'HS256'\n\n{encode}\n\ndef read(t):\n    return jwt.decode(t, 'k')\n"
    )
    result = stdlib.rewrite(code, ALL)
    assert (result.applied == ("ET401",)) is applied, result.code


# --- SQLAlchemy ----------------------------------------------------------------------------


def test_sqlalchemy_rewrites_run_on_2_0() -> None:
    code = """\
    from sqlalchemy import Column, Integer, String, create_engine, select
    from sqlalchemy.ext.declarative import declarative_base
    from sqlalchemy.orm import sessionmaker

    engine = create_engine("sqlite://")
    Base = declarative_base()

    class User(Base):
        __tablename__ = "users"
        id = Column(Integer, primary_key=True)
        name = Column(String)

    Base.metadata.create_all(engine)
    SessionLocal = sessionmaker(
        autocommit=False,
        autoflush=False,
        bind=engine,
    )
    with SessionLocal() as session:
        session.add(User(name="a"))
        session.commit()
        rows = session.execute(select([User.id, User.name])).all()
    """
    with pytest.raises(Exception, match="declarative_base"):
        run(textwrap.dedent(code))
    result = fix(sqlalchemy.rewrite, code)
    assert result.applied == ("ET201", "ET205", "ET206")
    assert "from sqlalchemy.orm import declarative_base, sessionmaker\n" in result.code
    assert "sessionmaker(\n    autoflush=False,\n    bind=engine,\n)" in result.code
    assert "select(User.id, User.name)" in result.code
    assert run(result.code)["rows"] == [(1, "a")]


def test_sqlalchemy_unsafe_cases_are_noted() -> None:
    code = """\
    Session = sessionmaker(autocommit=True, bind=engine)
    q = select([users], users.c.id == 1)
    """
    result = fix(sqlalchemy.rewrite, code)
    assert result.applied == () and result.code == textwrap.dedent(code)
    assert len(result.notes) == 2


# --- imports -------------------------------------------------------------------------------


def test_add_imports_sorted_like_isort_when_the_block_was_sorted() -> None:
    code = (
        '"""Doc."""\n\nfrom datetime import datetime\n\nfrom pydantic import BaseModel\n\n'
        "x = 1  # keep\n"
    )
    result = add_imports(
        code, ["from datetime import UTC", "import json", "from sqlalchemy import select"]
    )
    assert result == (
        '"""Doc."""\n\nimport json\nfrom datetime import UTC, datetime\n\n'
        "from pydantic import BaseModel\nfrom sqlalchemy import select\n\nx = 1  # keep\n"
    )
    assert add_imports(result, ["import json", "from datetime import UTC"]) == result


def test_add_imports_keeps_a_file_title_comment_on_the_first_line() -> None:
    code = "# app/main.py\np = Path('x')\n"
    assert add_imports(code, ["from pathlib import Path"]).startswith(
        "# app/main.py\nfrom pathlib import Path\n\np = "
    )
    # Any other comment introduces the code under it: the import goes above.
    assert add_imports("# Make a path\np = Path('x')\n", ["from pathlib import Path"]).startswith(
        "from pathlib import Path\n\n# Make a path\n"
    )


def test_add_imports_leaves_unsorted_blocks_in_the_authors_order() -> None:
    code = "from pydantic import BaseModel\nimport os\n\nx = os.sep\n"
    result = add_imports(code, ["from pydantic import field_validator", "import argon2"])
    assert result == (
        "from pydantic import BaseModel, field_validator\nimport os\nimport argon2\n\nx = os.sep\n"
    )


def test_add_imports_to_code_without_imports() -> None:
    assert add_imports("x = 1\n", ["import argon2"]) == "import argon2\n\nx = 1\n"
    # Two names from one module: one new line.
    wanted = ["from fastapi import FastAPI", "from fastapi import Depends"]
    assert add_imports("app = FastAPI(dependencies=[Depends(f)])\n", wanted) == (
        "from fastapi import Depends, FastAPI\n\napp = FastAPI(dependencies=[Depends(f)])\n"
    )


def test_imports_go_above_a_marker_comment_that_stands_above_blank_lines() -> None:
    code = "# DO NOT DO THIS: old style.\n\n\n@app.command()\ndef main(): ...\n"
    assert add_imports(code, ["import typer"]) == "import typer\n\n" + code
    # A file-name comment stays first.
    code = "# app/main.py\n\napp = FastAPI()\n"
    assert add_imports(code, ["from fastapi import FastAPI"]) == (
        "# app/main.py\n\nfrom fastapi import FastAPI\n\napp = FastAPI()\n"
    )


def test_remove_unused_imports_keeps_comments() -> None:
    code = "from pydantic import (\n    BaseModel,  # base\n    validator,\n)\n\nx = BaseModel\n"
    assert remove_unused_imports(code, [("pydantic", "validator")]) == (
        "from pydantic import (\n    BaseModel,  # base\n)\n\nx = BaseModel\n"
    )


def _ran(old: str, new: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The namespaces the code before a rewrite and after it leave, each run for real (the
    old code's deprecation warnings are what the rewrite is for: not shown)."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(old, "<before>", "exec", dont_inherit=True), before)
    exec(compile(new, "<after>", "exec", dont_inherit=True), after)
    return before, after


def test_legacy_query_chain_becomes_select_and_returns_the_same_rows() -> None:
    """ET202: the rewrite is checked against a real in-memory database, before and after."""
    from exampletest.fix import sqlalchemy as sa_fix
    from exampletest.fix.base import RewriteContext

    setup = (
        "from sqlalchemy import create_engine, func, String\n"
        "from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column\n"
        "class Base(DeclarativeBase):\n    pass\n"
        "class User(Base):\n    __tablename__ = 'u'\n"
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        "    name: Mapped[str] = mapped_column(String(9))\n"
        "engine = create_engine('sqlite://')\nBase.metadata.create_all(engine)\n"
        "session = Session(engine)\n"
        "session.add_all([User(id=1, name='a'), User(id=2, name='b')])\nsession.commit()\n"
    )
    legacy = (
        "one = session.query(User).filter(User.id == 2).first()\n"
        "many = session.query(User).filter(User.id > 0, User.name != 'z').all()\n"
        "n = session.query(User).count()\n"
        "some = session.query(User).filter(User.name != 'a').count()\n"
        "pairs = session.query(User.id, User.name).order_by(User.id).all()\n"
        "names = session.query(User.name).order_by(User.name).all()\n"
        "row = session.query(User.name, User.id).filter(User.id == 2).first()\n"
        "got = session.query(User).get(2)\n"
        "total = session.query(func.count(User.id)).scalar()\n"
        "by = session.query(User).filter_by(name='a').order_by(User.id.desc()).limit(1).all()\n"
    )
    result = sa_fix.rewrite(legacy, RewriteContext())
    assert result.applied == ("ET202",)
    assert "session.scalars(select(User).where(User.id == 2)).first()" in result.code
    assert "n = session.scalar(select(func.count()).select_from(select(User).subquery()))" in (
        result.code
    )
    before, after = _ran(setup + legacy, setup + result.code)
    assert [u.id for u in after["many"]] == [u.id for u in before["many"]] == [1, 2]
    assert after["one"].name == before["one"].name == "b"
    assert "session.get(User, 2)" in result.code and after["got"].name == before["got"].name
    assert "select(User).filter_by(name='a').order_by(User.id.desc()).limit(1)" in result.code
    assert [u.id for u in after["by"]] == [u.id for u in before["by"]] == [1]
    assert "total = session.scalar(select(func.count(User.id)))" in result.code
    assert after["total"] == before["total"] == 2
    assert (after["n"], after["some"]) == (before["n"], before["some"]) == (2, 1)
    # columns, or several entities: rows, as the Query gave them (1-tuples for one column)
    assert "pairs = session.execute(select(User.id, User.name).order_by(User.id)).all()" in (
        result.code
    )
    for rows in ("pairs", "names"):
        assert [tuple(r) for r in after[rows]] == [tuple(r) for r in before[rows]]
    assert [tuple(r) for r in before["names"]] == [("a",), ("b",)]
    assert tuple(after["row"]) == tuple(before["row"]) == ("b", 2)
    # a `func` of the block's own: `count()` is left as it is (the rest is rewritten)
    own = sa_fix.rewrite("func = len\nn = session.query(User).count()\n", RewriteContext())
    assert own.code == "func = len\nn = session.query(User).count()\n"


QUERY_SETUP = (
    "from sqlalchemy import create_engine, String\n"
    "from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column\n"
    "class Base(DeclarativeBase):\n    pass\n"
    "class User(Base):\n    __tablename__ = 'u'\n"
    "    id: Mapped[int] = mapped_column(primary_key=True)\n"
    "    name: Mapped[str] = mapped_column(String(9))\n"
    "engine = create_engine('sqlite://')\nBase.metadata.create_all(engine)\n"
    "session = Session(engine)\n"
    "session.add_all([User(id=i, name=n) for i, n in enumerate('abcab', 1)])\n"
    "session.commit()\n"
)


def test_a_query_kept_in_a_variable_becomes_a_select_with_the_same_results() -> None:
    """ET202: a Query built up in a variable (``q = q.filter(...)`` under an ``if``), then
    counted, run and iterated, becomes a ``select()`` run by the session; ``.all()``
    returned where the function says ``list`` stays a list. Checked on a real database."""
    legacy = (
        "from typing import List, Optional\n"
        "def find(db: Session, name: Optional[str] = None, skip: int = 0) -> List[User]:\n"
        "    query = db.query(User)\n"
        "    if name:\n"
        "        query = query.filter(User.name == name)\n"
        "    return query.order_by(User.id).offset(skip).all()\n"
        "def page(db: Session, name: str) -> dict:\n"
        "    q = db.query(User.id, User.name).filter_by(name=name)\n"
        "    total = q.count()\n"
        "    seen = [row for row in q.order_by(User.id)]\n"
        "    ids = []\n"
        "    for row in q:\n"
        "        ids.append(row.id)\n"
        "    return {'total': total, 'seen': seen, 'ids': ids, 'first': q.first()}\n"
        "everyone = find(session)\nbs = find(session, 'b')\nlater = find(session, skip=3)\n"
        "paged = page(session, 'a')\n"
    )
    result = sqlalchemy.rewrite(legacy, RewriteContext())
    assert result.applied == ("ET202", "return-value")  # `-> List[User]` keeps a list
    assert ".query(" not in result.code
    for line in (
        "    query = select(User)",
        "        query = query.where(User.name == name)",
        "    return list(db.scalars(query.order_by(User.id).offset(skip)).all())",
        "    q = select(User.id, User.name).filter_by(name=name)",
        "    total = db.scalar(select(func.count()).select_from(q.subquery()))",
        "    seen = [row for row in db.execute(q.order_by(User.id))]",
        "    for row in db.execute(q):",
    ):
        assert line in result.code.splitlines(), line
    before, after = _ran(QUERY_SETUP + legacy, QUERY_SETUP + result.code)
    for name in ("everyone", "bs", "later"):
        assert type(after[name]) is list
        assert [u.id for u in after[name]] == [u.id for u in before[name]]
    assert [u.id for u in before["bs"]] == [2, 5]
    was, now = before["paged"], after["paged"]
    assert now["total"] == was["total"] == 2
    assert now["ids"] == was["ids"] == [1, 4]
    assert [tuple(r) for r in now["seen"]] == [tuple(r) for r in was["seen"]]
    assert tuple(now["first"]) == tuple(was["first"]) == (1, "a")
    for returns in ("Optional[List[User]]", "list[User] | None", "'List[User]'"):
        code = f"def f(db) -> {returns}:\n    return db.query(User).all()\n"
        assert (
            "return list(db.scalars(select(User)).all())"
            in sqlalchemy.rewrite(code, RewriteContext()).code
        )
    # not a list: as 2.0 gives it
    code = "def f(db) -> Sequence[User]:\n    return db.query(User).all()\n"
    assert (
        "    return db.scalars(select(User)).all()\n"
        in sqlalchemy.rewrite(code, RewriteContext()).code
    )


def test_a_result_returned_where_the_function_says_list_is_wrapped_in_list() -> None:
    """mypy's return-value error for ``return s.scalars(q).all()`` under ``-> list[User]``:
    ``list(...)`` keeps the list the code returns at run time and types as one. Not for a
    function that says ``Sequence``, nor for another object's ``.all()``."""
    code = (
        "def a(s: Session) -> list[User]:\n    return s.scalars(select(User)).all()\n\n\n"
        "async def b(s: AsyncSession) -> List[User]:\n"
        "    return (await s.execute(select(User))).scalars().all()\n\n\n"
        "def c(s: Session) -> Sequence[User]:\n    return s.scalars(select(User)).all()\n\n\n"
        "def d(q: Queue) -> list[int]:\n    return q.items().all()\n"
    )
    result = sqlalchemy.rewrite(code, RewriteContext())
    assert result.applied == ("return-value",)
    assert "    return list(s.scalars(select(User)).all())\n" in result.code
    assert "    return list((await s.execute(select(User))).scalars().all())\n" in result.code
    assert "def c(s: Session) -> Sequence[User]:\n    return s.scalars(select(User)).all()\n" in (
        result.code
    )
    assert "    return q.items().all()\n" in result.code


def test_a_query_variable_with_a_use_not_understood_stays_as_it_is() -> None:
    """One use of the variable the rewrite does not know (passed on, returned, used in a
    closure, a name rebound elsewhere, a second session) and the variable is left alone."""
    kept = (
        "def a(db):\n    q = db.query(User)\n    helper(q)\n    return q.all()\n",
        "def b(db):\n    q = db.query(User)\n    return q\n",
        "def c(db):\n    q = db.query(User)\n    return lambda: q.all()\n",
        "def d(db, s):\n    q = db.query(User)\n    q = s.query(User)\n    return q.all()\n",
        "def e(db):\n    q = db.query(User)\n    q += 1\n    return q.all()\n",
        "def f(db):\n    q = db.query(User)\n    p = q.filter(User.id > 1)\n    return p.all()\n",
        "q = session.query(User)\ndef g():\n    global q\n    q = None\nrows = q.all()\n",
        "def h(db):\n    q = db.query(User)\n    q.delete()\n",
        # a session that is made anew, or picked, each time it is spelled
        "def i():\n    q = get_session().query(User)\n    return q.all()\n",
        "def j(sessions):\n    q = sessions[0].query(User)\n    return q.all()\n",
        # the session's name bound again after the Query was made: it runs on the first one
        "def k(db, other):\n    q = db.query(User)\n    db = other\n    return q.all()\n",
        # a default runs in the enclosing scope, where `q` is another (legacy) Query
        "q = db.query(User)\ndef m(db, x=q.all()):\n    q = db.query(User)\n    return q.first()\n",
    )
    for code in kept:
        assert sqlalchemy.rewrite(code, RewriteContext()).code == code, code
    # a session opened by `with` before the Query is made is the one it runs on
    code = "def n(engine):\n    with Session(engine) as db:\n        q = db.query(User)\n"
    code += "        return q.all()\n"
    assert "        return db.scalars(q).all()\n" in sqlalchemy.rewrite(code, RewriteContext()).code


COLUMN_MODELS = """\
import datetime as dt
import enum
import sqlalchemy as sa
from decimal import Decimal

from sqlalchemy import Boolean, Column, DateTime, Enum, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


class Role(enum.Enum):
    admin = "admin"
    user = "user"


class User(Base):
    __tablename__ = "users"

    id = Column(Integer, primary_key=True, index=True)
    email = Column(String(255), unique=True, nullable=False)
    name = Column("full_name", String)
    is_active = Column(Boolean, default=True)
    role = Column(Enum(Role), nullable=False, default=Role.user)
    joined = Column(DateTime, nullable=True)
    balance = Column(Numeric(10, 2))
    score = Column(sa.Float, nullable=False)
    items = relationship("Item", back_populates="owner")


class Item(Base):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True)
    owner_id = Column(Integer, ForeignKey("users.id"))
    owner = relationship("User", back_populates="items")
"""


def _tables(code: str) -> dict[str, list[tuple[object, ...]]]:
    """Each table of the models' metadata: every column's DDL-relevant settings."""
    ns: dict[str, Any] = {}
    exec(compile(code, "<models>", "exec", dont_inherit=True), ns)

    def settings(c: Any) -> tuple[object, ...]:
        keys = sorted(fk.target_fullname for fk in c.foreign_keys)
        default = repr(getattr(c.default, "arg", None))
        return (c.name, repr(c.type), c.nullable, c.primary_key, c.unique, c.index, default, keys)

    tables = ns["Base"].metadata.tables
    return {name: [settings(c) for c in table.columns] for name, table in tables.items()}


def test_column_models_become_mapped_columns_with_the_same_tables() -> None:
    """ET204: every ``Column()`` of a model becomes ``name: Mapped[T] = mapped_column(...)``
    with its arguments as they were: SQLAlchemy builds the same tables (names, types,
    NULL-ability, keys, indexes, defaults) from the rewritten code; ``T | None`` where the
    column may be NULL; the Python types spelled as the block imports them."""
    result = sqlalchemy.rewrite_models(COLUMN_MODELS, RewriteContext())
    assert result.applied == ("valid-type", "ET204")
    assert "class Base(DeclarativeBase):\n    pass\n" in result.code  # what mypy follows
    for line in (
        "    id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)",
        "    email: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)",
        '    name: Mapped[str | None] = mapped_column("full_name", String)',
        "    is_active: Mapped[bool | None] = mapped_column(Boolean, default=True)",
        "    role: Mapped[Role] = mapped_column(Enum(Role), nullable=False, default=Role.user)",
        "    joined: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)",
        "    balance: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))",
        "    score: Mapped[float] = mapped_column(sa.Float, nullable=False)",
        '    items = relationship("Item", back_populates="owner")',
        '    owner_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("users.id"))',
    ):
        assert line + "\n" in result.code
    assert "Column," not in result.code  # no longer used: its import goes
    assert "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship\n" in (
        result.code
    )
    assert _tables(result.code) == _tables(COLUMN_MODELS)


def test_declarative_base_becomes_a_declarative_base_class_with_the_same_metadata() -> None:
    """``Base = declarative_base()`` -> ``class Base(DeclarativeBase)``; ``metadata=`` stays
    the base's metadata (a naming convention, a schema); other arguments leave a note."""
    code = (
        "from sqlalchemy import Column, Integer, MetaData\nfrom sqlalchemy.orm import "
        "declarative_base\n\nmeta = MetaData(schema='app')\n"
        "Base = declarative_base(metadata=meta)\n\n\nclass A(Base):\n"
        "    __tablename__ = 'a'\n    id = Column(Integer, primary_key=True)\n"
    )
    result = sqlalchemy.rewrite_models(code, RewriteContext())
    assert "class Base(DeclarativeBase):\n    metadata = meta\n" in result.code
    assert "declarative_base" not in result.code
    ns: dict[str, Any] = {}
    exec(compile(result.code, "<after>", "exec", dont_inherit=True), ns)
    assert ns["Base"].metadata is ns["meta"] and list(ns["meta"].tables) == ["app.a"]
    other = "from sqlalchemy.orm import declarative_base\n\nBase = declarative_base(name='B')\n"
    left = sqlalchemy.rewrite_models(other, RewriteContext())
    assert left.code == other and left.notes and "by hand" in left.notes[0]


def test_a_model_with_a_column_type_of_no_one_python_type_is_left_with_a_note() -> None:
    code = (
        "from sqlalchemy import JSON, Column, Integer\nfrom sqlalchemy.orm import "
        "declarative_base\n\nBase = declarative_base()\n\n\nclass Event(Base):\n"
        "    __tablename__ = 'events'\n    id = Column(Integer, primary_key=True)\n"
        "    data = Column(JSON)\n"
    )
    result = sqlalchemy.rewrite_models(code, RewriteContext())
    assert result.applied == ("valid-type",)  # the base class, not the model's columns
    assert "    id = Column(Integer, primary_key=True)\n    data = Column(JSON)\n" in result.code
    assert result.notes == (
        "ET204 (line 7): `Event.data`'s column type has no one Python type to annotate it "
        "with: write its `Mapped[...]` by hand",
    )


JOSE = """\
from jose import JWTError, jwt
from jose.exceptions import ExpiredSignatureError

KEY = "k" * 32


def make(claims: dict) -> str:
    return jwt.encode(claims, KEY, algorithm="HS256")


def read(token: str) -> str:
    try:
        return jwt.decode(token, KEY, algorithms=["HS256"], audience="app")["sub"]
    except ExpiredSignatureError:
        return "expired"
    except jwt.JWTError:
        return "claims or token"
    except JWTError:
        return "never"


peek = jwt.get_unverified_claims(make({"sub": "x"}))
"""


def test_python_jose_becomes_pyjwt_and_tokens_read_as_they_did() -> None:
    """ET403: PyJWT's ``encode``/``decode`` take python-jose's arguments; its errors get
    their PyJWT names under the block's own, so each ``except`` catches what it caught.
    (python-jose is not installed here: the rewritten block runs against PyJWT, which is.)"""
    result = stdlib.rewrite(JOSE, RewriteContext())
    assert result.applied == ("ET403",)
    assert "jose" not in result.code
    for line in (
        "import jwt\n",
        "from jwt import ExpiredSignatureError\nfrom jwt import PyJWTError as JWTError\n",
        "    except jwt.PyJWTError:\n",
        'peek = jwt.decode(make({"sub": "x"}), options={"verify_signature": False})\n',
    ):
        assert line in result.code
    ns: dict[str, Any] = {}
    exec(compile(result.code, "<after>", "exec", dont_inherit=True), ns)
    make, read = ns["make"], ns["read"]
    assert ns["peek"] == {"sub": "x"}
    assert read(make({"sub": "ada", "aud": "app"})) == "ada"
    assert read(make({"sub": "ada", "aud": "app", "exp": 1})) == "expired"
    assert read(make({"sub": "ada", "aud": "other"})) == "claims or token"
    assert read("not.a.token") == "claims or token"


def test_python_jose_beyond_jwt_is_left_with_a_note() -> None:
    """``jwk``, and ``JWTClaimsError``, which PyJWT splits into a class per claim under the
    base its decode errors share: no faithful spelling, so nothing is rewritten."""
    code = "from jose import jwk, jwt\n\nkey = jwk.construct('k')\nprint(jwt.JWTClaimsError)\n"
    result = stdlib.rewrite(code, RewriteContext())
    assert result.code == code and result.applied == ()
    assert result.notes == (
        "ET403: the block uses `jose.jwk`, `jwt.JWTClaimsError` of python-jose, which has no "
        "PyJWT spelling exampletest knows: move it to PyJWT by hand",
    )


PASSLIB = """\
from passlib.context import CryptContext

pwd_context = CryptContext(schemes=["bcrypt"], deprecated="auto")


def verify_password(plain: str, hashed: str) -> bool:
    return pwd_context.verify(plain, hashed)


hashed = pwd_context.hash("secret")
checks = (verify_password("secret", hashed), verify_password("wrong", hashed))
valid, renewed = pwd_context.verify_and_update("secret", hashed)
"""


def test_passlib_becomes_pwdlib_with_the_same_calls_and_results() -> None:
    """ET404: ``PasswordHash.recommended()`` takes the context's place; ``hash``, ``verify``
    and ``verify_and_update`` are called as before and answer as passlib did (passlib is not
    installed here: the rewritten block runs against pwdlib, which is)."""
    result = stdlib.rewrite(PASSLIB, RewriteContext())
    assert result.applied == ("ET404",)
    assert "from pwdlib import PasswordHash\n\npwd_context = PasswordHash.recommended()\n" in (
        result.code
    )
    assert "passlib" not in result.code and "CryptContext" not in result.code
    assert result.notes and "bcrypt" in result.notes[0]  # stored bcrypt hashes: how to keep them
    ns: dict[str, Any] = {}
    exec(compile(result.code, "<after>", "exec", dont_inherit=True), ns)
    assert ns["checks"] == (True, False)
    assert ns["valid"] is True and ns["renewed"] is None


@pytest.mark.parametrize(
    ("code", "what"),
    [
        ("from passlib.hash import bcrypt\n\nprint(bcrypt.hash('x'))\n", "`from passlib.hash"),
        (
            "from passlib.context import CryptContext\n\n"
            "c = CryptContext(schemes=['bcrypt'], bcrypt__rounds=12)\nprint(c.hash('x'))\n",
            "`CryptContext(bcrypt__rounds=12)`",
        ),
        (
            "from passlib.context import CryptContext\n\n"
            "c = CryptContext(schemes=['bcrypt'])\nprint(c.needs_update('x'))\n",
            "the context's `needs_update`",
        ),
    ],
)
def test_passlib_used_for_more_is_left_with_a_note(code: str, what: str) -> None:
    result = stdlib.rewrite(code, RewriteContext())
    assert result.code == code and result.applied == ()
    assert len(result.notes) == 1 and what in result.notes[0] and "by hand" in result.notes[0]


def test_depends_default_becomes_annotated_with_the_same_dependency_graph() -> None:
    """ET303: FastAPI sees the same dependencies before and after the rewrite."""
    from exampletest.fix import fastapi as fastapi_fix
    from exampletest.fix.base import RewriteContext

    code = (
        "from fastapi import Depends, FastAPI\n\napp = FastAPI()\n\n"
        "def get_db() -> str:\n    return 'db'\n\n"
        "@app.get('/items/{item_id}')\n"
        "def read(item_id: int, db: str = Depends(get_db), q: str | None = None) -> dict:\n"
        "    return {'db': db}\n\n"
        "def later(\n    a: int = 1,\n    b: str = Depends(get_db),\n) -> None:\n    pass\n\n"
        "def stuck(\n    a: int = 1,\n    /,\n    b: str = Depends(get_db),\n) -> None:\n"
        "    pass\n\n"
        "@app.get('/search')\n"
        "def search(q: str | None = None, db: str = Depends(get_db)) -> dict:\n"
        "    return {'q': q, 'db': db}\n"
    )
    result = fastapi_fix.rewrite(code, RewriteContext())
    assert result.applied == ("ET303",)
    assert "db: Annotated[str, Depends(get_db)], q: str | None = None" in result.code
    # `b` without its default after `a = 1`: FastAPI's way out, keyword-only parameters
    assert "def later(\n    *,\n    a: int = 1,\n    b: Annotated[str, Depends(get_db)],\n)" in (
        result.code
    )
    assert "    /,\n    b: str = Depends(get_db),\n" in result.code  # after a `/`: left alone
    # The note names the parameter's line (21), not the parameter list's (18).
    assert any(
        n.startswith("FAST002 (line 21)") and "reorder the parameters" in n for n in result.notes
    )

    def graph(source: str) -> list[tuple[str | None, object]]:
        ns: dict[str, object] = {}
        exec(compile(source, "<app>", "exec", dont_inherit=True), ns)
        route = next(r for r in ns["app"].routes if getattr(r, "path", "") == "/items/{item_id}")  # type: ignore[attr-defined]
        return [(d.name, d.call) for d in route.dependant.dependencies]

    assert [name for name, _ in graph(result.code)] == [name for name, _ in graph(code)] == ["db"]
    assert "def search(*, q: str | None = None, db: Annotated[str, Depends(get_db)])" in (
        result.code
    )

    assert _answers(result.code, ["/search?q=x"]) == _answers(code, ["/search?q=x"])
    assert _answers(code, ["/search?q=x"]) == [(200, {"q": "x", "db": "db"})]
    # a `*` there already: the parameters that cannot stay join those after it
    starred = code.replace(
        "def search(q: str | None = None, db: str = Depends(get_db))",
        "def search(q: str | None = None, db: str = Depends(get_db), *, n: int = 1)",
    ).replace("return {'q': q, 'db': db}", "return {'q': q, 'db': db, 'n': n}")
    fixed = fastapi_fix.rewrite(starred, RewriteContext()).code
    moved = "def search(*, q: str | None = None, db: Annotated[str, Depends(get_db)], n: int = 1)"
    assert moved in fixed
    urls = ["/search?q=x&n=3", "/search"]
    assert _answers(fixed, urls) == _answers(starred, urls)
    assert _answers(starred, urls)[0] == (200, {"q": "x", "db": "db", "n": 3})


def test_parameter_markers_move_into_annotated_and_their_defaults_out() -> None:
    """ET303 for ``Query``/``Body``/...: the default leaves the marker (``Query(...)`` is
    required); the route answers the same requests the same way before and after."""
    from exampletest.fix import fastapi as fastapi_fix
    from exampletest.fix.base import RewriteContext

    code = (
        "from fastapi import Depends, FastAPI, Query\n\napp = FastAPI()\n\n"
        "def dep() -> str:\n    return 'd'\n\n"
        "@app.get('/')\ndef read(\n    domain: str = Query(...),\n"
        "    d: str = Depends(dep),\n    q: str | None = Query(None, max_length=3),\n"
        "    n: int = Query(default=2, alias='count', ge=1),\n) -> dict:\n"
        "    return {'domain': domain, 'd': d, 'q': q, 'n': n}\n"
    )
    result = fastapi_fix.rewrite(code, RewriteContext())
    assert result.applied == ("ET303",)
    assert "domain: Annotated[str, Query()]," in result.code
    assert "q: Annotated[str | None, Query(max_length=3)] = None," in result.code
    assert "n: Annotated[int, Query(alias='count', ge=1)] = 2," in result.code

    urls = ["/?domain=x", "/", "/?domain=x&q=abcd", "/?domain=x&count=5&q=ab", "/?domain=x&count=0"]
    assert _answers(result.code, urls) == _answers(code, urls)
    assert [status for status, _ in _answers(code, urls)] == [200, 422, 422, 200, 422]
    # pathlib's `Path` is no FastAPI marker, in a block that has FastAPI's `Query`
    both = "from pathlib import Path\n" + code.replace(
        "def dep() -> str:",
        "def load(p: Path = Path('x.json')) -> str:\n    return str(p)\n\n\ndef dep() -> str:",
    )
    assert (
        "def load(p: Path = Path('x.json')) -> str:"
        in fastapi_fix.rewrite(both, RewriteContext()).code
    )
    # a route with markers and no `Depends` at all gets the same rewrite
    alone = code.replace("    d: str = Depends(dep),\n", "").replace("'d': d, ", "")
    fixed = fastapi_fix.rewrite(alone, RewriteContext())
    assert fixed.applied == ("ET303",) and "domain: Annotated[str, Query()]," in fixed.code
    assert _answers(fixed.code, urls) == _answers(alone, urls)


def _answers(source: str, urls: list[str]) -> list[tuple[int, object]]:
    """What the module's ``app`` answers to a GET of each URL (FastAPI's real TestClient)."""
    from fastapi.testclient import TestClient

    ns: dict[str, Any] = {}
    exec(compile(source, "<app>", "exec", dont_inherit=True), ns)
    client = TestClient(ns["app"])
    return [(r.status_code, r.json()) for r in map(client.get, urls)]


def test_moving_the_first_import_leaves_no_blank_line_at_the_top() -> None:
    from exampletest.fix import pydantic_v1
    from exampletest.fix.base import RewriteContext, keep_start

    code = 'from pydantic import BaseSettings\n\nclass S(BaseSettings):\n    name: str = "x"\n'
    out = pydantic_v1.rewrite(code, RewriteContext(frozenset({"S"}), frozenset({"S"}))).code
    assert out.startswith("from pydantic_settings import BaseSettings\n")
    assert keep_start("import os\n", "\n\nx = 1\n") == "x = 1\n"
    assert keep_start("\nimport os\n", "\nx = 1\n") == "\nx = 1\n"  # the author's own blank
    assert keep_start("\nx: Dict = {}\n", "\n\nx: dict = {}\n") == "\nx: dict = {}\n"  # not two


def test_field_env_becomes_the_validation_alias_pydantic_settings_reads() -> None:
    from exampletest.fix import pydantic_v1
    from exampletest.fix.base import RewriteContext

    code = (
        "from pydantic import BaseModel, BaseSettings, Field\n\n\n"
        "class Settings(BaseSettings):\n"
        '    api_key: str = Field(..., env="MY_API_KEY")\n\n\n'
        "class Payload(BaseModel):\n"
        '    token: str = Field(..., env="TOKEN")\n'
    )
    out = pydantic_v1.rewrite(code, RewriteContext())
    assert 'api_key: str = Field(..., validation_alias="MY_API_KEY")' in out.code
    assert 'token: str = Field(..., env="TOKEN")' in out.code  # a model reads no environment
    assert any("env" in note for note in out.notes)
    namespace: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Payload keeps its v1 `env=`: a warning, by design
        exec(out.code, namespace)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MY_API_KEY", "secret")
        assert namespace["Settings"]().api_key == "secret"


def test_a_wrong_case_import_is_respelt_keeping_the_names_the_code_uses() -> None:
    from exampletest.fix.engine import _respell

    code = "from SQLAlchemy import Column\nimport SQLAlchemy\nimport SQLAlchemy as sa\n"
    assert _respell(code, {"SQLAlchemy": "sqlalchemy"}) == (
        "from sqlalchemy import Column\nimport sqlalchemy as SQLAlchemy\nimport sqlalchemy as sa\n"
    )


def test_a_block_gets_ruffs_fixes_for_its_own_rules_whatever_else_is_in_the_batch() -> None:
    from exampletest.fix.engine import _ruff_batch

    code = "import os\nimport os\nfrom typing import List\n\nx: List[str] = [os.sep]\n"
    fixed = _ruff_batch(
        {("a.md", 1): (code, ("F811", "UP")), ("b.md", 1): (code, ("UP", "UP006"))},
        None,
    )
    assert fixed[("a.md", 1)].code == "import os\n\nx: list[str] = [os.sep]\n"
    # b's findings do not call for F811: the duplicate import stays, as it would alone.
    assert fixed[("b.md", 1)].code == "import os\nimport os\n\nx: list[str] = [os.sep]\n"
    alone = _ruff_batch({("b.md", 1): (code, ("UP", "UP006"))}, None)
    assert alone[("b.md", 1)].code == fixed[("b.md", 1)].code


def test_imports_a_fix_leaves_unused_go_and_those_unused_before_stay_on_the_same_line() -> None:
    from exampletest.fix.engine import _ruff_batch

    code = "from typing import List, Optional, Dict\n\nx: Dict[str, List[int]] = {}\n"
    fixed = _ruff_batch({("a.md", 1): (code, ("UP006", "UP035", "F401"))}, None)
    assert (
        fixed[("a.md", 1)].code == "from typing import Optional\n\nx: dict[str, list[int]] = {}\n"
    )


def test_a_one_line_config_and_several_keys_on_a_line_convert_keeping_comments() -> None:
    code = """\
    from pydantic import BaseModel

    class A(BaseModel):
        x: int = 0

        class Config: frozen = True  # immutable


    class B(BaseModel):
        y: int = 0

        class Config:
            frozen = True; extra = "forbid"  # strict
    """
    result = fix(pydantic_v1.rewrite, code)
    assert "    # immutable\n    model_config = ConfigDict(frozen=True)\n" in result.code
    assert (
        '    # strict\n    model_config = ConfigDict(frozen=True, extra="forbid")\n' in result.code
    )
    ns = run(result.code)
    assert ns["A"].model_config["frozen"] and ns["B"].model_config["extra"] == "forbid"


def test_a_query_is_rewritten_only_in_a_document_that_uses_sqlalchemy() -> None:
    from exampletest.fix.base import RewriteContext

    code = "user = db.query(User).filter(User.id == 1).first()\n"
    other = sqlalchemy.rewrite(code, RewriteContext(packages=frozenset({"fastapi"})))
    assert other.code == code and any("never imports SQLAlchemy" in n for n in other.notes)
    orm = sqlalchemy.rewrite(code, RewriteContext(packages=frozenset({"sqlalchemy"})))
    assert "select(User)" in orm.code


def test_config_with_a_docstring_migrates_and_a_librarys_own_key_stays() -> None:
    """A docstring is no reason to keep ``class Config`` (it becomes a comment); a key no
    Pydantic version knows (``model = "users"``, read by a library) is, with a note; and
    ``from_orm`` then finds the renamed ``from_attributes`` and adds no second one."""
    code = """\
    from pydantic import BaseModel

    class A(BaseModel):
        class Config:
            \"\"\"Pydantic model config.\"\"\"
            orm_mode = True

        id: int

    class B(BaseModel):
        class Config:
            orm_mode = True
            model = "users"

        id: int

    b = B.from_orm(row)
    """
    result = fix(pydantic_v1.rewrite, code)
    migrated = "    # Pydantic model config.\n    model_config = ConfigDict(from_attributes=True)\n"
    assert migrated in result.code
    assert result.code.count("from_attributes = True") == 1
    assert any("keeps `model`, not a Pydantic setting" in n for n in result.notes)
    with pytest.raises(DeprecationWarning, match="class-based `config`"):  # B keeps its Config
        run(result.code, row=types.SimpleNamespace(id=7))


def test_field_const_becomes_a_literal_and_example_a_list_of_examples() -> None:
    code = """\
    from pydantic import BaseModel, Field

    class M(BaseModel):
        kind: str = Field("fixed", const=True)
        code: str = Field("x", const=True, description="the code")
        title: str = Field(None, example="buy milk")
    """
    result = fix(pydantic_v1.rewrite, code)
    assert '    kind: Literal["fixed"] = "fixed"\n' in result.code
    assert '    code: Literal["x"] = Field("x", description="the code")\n' in result.code
    assert 'Field(None, examples=["buy milk"])' in result.code
    assert not result.notes  # const had a v2 spelling after all
    model = run(result.code)["M"]
    assert model().kind == "fixed"
    with pytest.raises(ValueError, match="Input should be 'fixed'"):
        model(kind="other")
    assert model.model_json_schema()["properties"]["title"]["examples"] == ["buy milk"]


def test_an_optional_field_the_block_leaves_out_gets_v1s_none_default() -> None:
    """Only on evidence: mypy's "Missing named argument" for that model and field."""
    code = """\
    from typing import Optional
    from pydantic import BaseModel

    class Customer(BaseModel):
        first_name: str
        bio: Optional[str]
        nick: Optional[str]

    Customer(first_name="Andrew", nick=None)
    """
    ctx = RewriteContext(unpassed=frozenset({("Customer", "bio")}))
    result = pydantic_v1.rewrite(textwrap.dedent(code), ctx)
    assert "    bio: Optional[str] = None\n    nick: Optional[str]\n" in result.code
    assert any("`= None` added to bio" in n for n in result.notes)
    run(result.code)
    assert pydantic_v1.rewrite(textwrap.dedent(code), RewriteContext()).code == (
        textwrap.dedent(code)
    )


def test_a_v1_validator_with_unused_kwargs_is_rewritten() -> None:
    """``(cls, v, values, **kwargs)`` is v1's documented signature; unused, v2 has nothing to
    pass there. Used (``kwargs["field"]``), it stays with a note."""
    code = """\
    from pydantic import BaseModel, validator

    class UserModel(BaseModel):
        password1: str
        password2: str

        @validator("password2")
        def passwords_match(cls, v, values, **kwargs):
            if "password1" in values and v != values["password1"]:
                raise ValueError("passwords do not match")
            return v
    """
    result = fix(pydantic_v1.rewrite, code)
    assert "    def passwords_match(cls, v, info: ValidationInfo):\n" in result.code
    model = run(result.code)["UserModel"]
    assert model(password1="a", password2="a").password2 == "a"
    with pytest.raises(ValueError, match="passwords do not match"):
        model(password1="a", password2="b")
    used = code.replace("return v\n", "return kwargs['field'] and v\n")
    kept = fix(pydantic_v1.rewrite, used)
    assert "**kwargs" in kept.code and any("**kwargs" in n for n in kept.notes)


def test_dict_on_a_model_through_its_module_or_from_a_list_of_models() -> None:
    code = """\
    from pydantic import BaseModel

    class Task(BaseModel):
        title: str

    def create(body: schemas.Task):
        return body.dict()

    def dump_all(items: list[Task], rows: list[dict]):
        for item in items:
            item.json()
        return [i.dict() for i in items], [r.dict() for r in rows]
    """
    result = fix(pydantic_v1.rewrite, code)
    assert "return body.model_dump()" in result.code
    assert "item.model_dump_json()" in result.code
    assert "[i.model_dump() for i in items], [r.dict() for r in rows]" in result.code


def test_on_event_handlers_become_a_lifespan_that_calls_them() -> None:
    """ET301: the same handlers run, in order, at startup and at shutdown."""
    from exampletest.fix import fastapi as fastapi_fix

    code = """\
    import fastapi

    app = fastapi.FastAPI(title="x")
    calls = []


    @app.on_event("startup")
    async def connect():
        calls.append("connect")


    @app.on_event("startup")
    def warm():
        calls.append("warm")


    @app.on_event("shutdown")
    async def close():
        calls.append("close")
    """
    result = fix(fastapi_fix.rewrite, code)
    assert result.applied == ("ET301",)
    assert "async def lifespan(app: fastapi.FastAPI):\n    await connect()\n    warm()\n" in (
        result.code
    )
    assert 'app = fastapi.FastAPI(title="x", lifespan=lifespan)' in result.code
    ns = run(result.code)

    async def serve() -> None:  # what a server does with the app's lifespan
        async with ns["app"].router.lifespan_context(ns["app"]):
            assert ns["calls"] == ["connect", "warm"]

    asyncio.run(serve())
    assert ns["calls"] == ["connect", "warm", "close"]
    # A router's handler, or one that takes arguments, is left with a note.
    kept = fix(
        fastapi_fix.rewrite,
        code.replace('@app.on_event("shutdown")', '@router.on_event("shutdown")'),
    )
    assert "@router.on_event" in kept.code and any("lifespan by hand" in n for n in kept.notes)


def test_a_renamed_status_constant_gets_the_installed_starlettes_name() -> None:
    """ET306: the new name is the same number, read without a warning."""
    from exampletest.fix import fastapi as fastapi_fix

    code = """\
    from fastapi import status


    def code() -> int:
        return status.HTTP_422_UNPROCESSABLE_ENTITY
    """
    result = fix(fastapi_fix.rewrite, code)
    assert result.applied == ("ET306",)
    assert "status.HTTP_422_UNPROCESSABLE_CONTENT" in result.code
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert run(result.code)["code"]() == 422


def test_a_template_response_gets_the_request_first(tmp_path: Path) -> None:
    """ET307: the request moves out of the context to the front, each argument keeping its
    line; the page renders with the installed Starlette (which dropped the old order)."""
    from fastapi.testclient import TestClient

    from exampletest.fix import fastapi as fastapi_fix

    code = """\
    from fastapi import FastAPI, Request
    from fastapi.templating import Jinja2Templates

    app = FastAPI()
    templates = Jinja2Templates(directory=TEMPLATES)


    @app.get("/")
    def home(request: Request):
        return templates.TemplateResponse(
            "index.html",
            {
                "request": request,
                "title": "Home",
            },
            status_code=201,
        )


    @app.get("/about")
    def about(request: Request):
        return templates.TemplateResponse("index.html", {"request": request})
    """
    result = fix(fastapi_fix.rewrite, code)
    assert result.applied == ("ET307",)
    assert changed_lines(textwrap.dedent(code), result.code) == [
        "+        request,",
        '-            "request": request,',
        '-    return templates.TemplateResponse("index.html", {"request": request})',
        '+    return templates.TemplateResponse(request, "index.html")',
    ]
    (tmp_path / "index.html").write_text("<h1>{{ title }}</h1>{{ request.url.path }}")
    client = TestClient(run(result.code, TEMPLATES=str(tmp_path))["app"])
    home = client.get("/")
    assert (home.status_code, home.text) == (201, "<h1>Home</h1>/")
    assert client.get("/about").text == "<h1></h1>/about"
    # keyword arguments, and comments: each stays with what it is about
    code = """\
    a = templates.TemplateResponse(name="a.html", context={"request": request, "y": 2})
    b = templates.TemplateResponse(
        "b.html",  # the page
        {
            "title": "B",  # its title
            "request": request,  # Starlette needs it
        },
    )
    """
    assert changed_lines(textwrap.dedent(code), fix(fastapi_fix.rewrite, code).code) == [
        '-a = templates.TemplateResponse(name="a.html", context={"request": request, "y": 2})',
        '+a = templates.TemplateResponse(request=request, name="a.html", context={"y": 2})',
        "+    request,",
        '-        "request": request,  # Starlette needs it',
    ]
    # the context last, without a trailing comma: `)` stays on its own line
    code = """\
    c = templates.TemplateResponse(
        "c.html",  # the page
        {"request": request}
    )
    d = emails.TemplateResponse("d.html", {"request": request})
    """
    result = fix(fastapi_fix.rewrite, f"emails = Mailer()\n{textwrap.dedent(code)}")
    assert result.code.endswith(
        'c = templates.TemplateResponse(\n    request,\n    "c.html"  # the page\n)\n'
        'd = emails.TemplateResponse("d.html", {"request": request})\n'
    )  # (another class's method of that name is left alone)
    # a context the rewrite cannot read stays as it is, with a note
    kept = fix(
        fastapi_fix.rewrite, 'def page(t, ctx):\n    return t.TemplateResponse("a.html", ctx)\n'
    )
    assert kept.applied == () and any("no literal context" in n for n in kept.notes)


@pytest.mark.parametrize(
    "code",
    [
        "import os\nfrom typing import Dict, List  # types\n\nx: dict = {}\n",
        "import os\n\n\nfrom typing import List\n\nx = 1\n",
        "import os\n\n# helpers\nfrom typing import List\nx = 1\n",
        "from typing import List\nx = 1\n",
        "x = 1\nfrom typing import List\n",
        "import os\nfrom typing import List as L, List, Dict\nx: L = []\n",
        "import os\r\nfrom typing import Dict, List\r\nx = 1\r\n",
        "import os\nfrom typing import (Dict,\n    List)\nx = 1\n",
        "import os\nfrom typing import Dict, List; y = 2\nx = 1\n",
        "import os\nfrom typing import List\nfrom typing import Dict\n\nx = 1\n",
    ],
)
def test_dropping_imports_by_lines_is_what_libcst_does(code: str) -> None:
    """The quick path (line edits) must give libcst's result byte for byte, or step aside."""
    import libcst as cst

    from exampletest.fix.imports import _drop_imports, drop_imports

    pairs = [("typing", "List"), ("typing", "Dict")]
    assert drop_imports(code, pairs) == _drop_imports(cst.parse_module(code), set(pairs)).code


def test_the_common_import_drops_take_the_quick_path() -> None:
    from exampletest.fix.imports import _drop_plain_lines

    pairs = {("typing", "List"), ("typing", "Dict")}
    assert _drop_plain_lines("import os\nfrom typing import Dict, List, Any\nx = 1\n", pairs) == (
        "import os\nfrom typing import Any\nx = 1\n"
    )
    assert _drop_plain_lines("import os\n\nfrom typing import List\n\nx = 1\n", pairs) == (
        "import os\n\nx = 1\n"
    )
    assert _drop_plain_lines("import os\n# why\nfrom typing import List\nx = 1\n", pairs) is None


def test_a_model_field_defaulting_to_none_says_it_is_optional() -> None:
    code = """\
    from typing import Any
    from pydantic import BaseModel


    class User(BaseModel):
        name: str = None
        bio: str | None = None
        extra: Any = None
        age: int = 0
    """
    result = fix(pydantic_v1.rewrite, code)
    assert result.applied == ("assignment",)
    assert "name: str | None = None" in result.code and "extra: Any = None" in result.code
    assert run(result.code)["User"]().name is None


def test_imports_from_sqlalchemy_future_come_from_sqlalchemy() -> None:
    code = """\
    from sqlalchemy.future import create_engine, select

    print(select(1), create_engine)
    """
    result = fix(sqlalchemy.rewrite, code)
    assert result.code.startswith("from sqlalchemy import create_engine, select\n")
    assert result.applied == ("ET207",) or "ET207" in result.applied
    run(result.code)


def test_utcnow_meeting_a_value_a_function_gets_stays_naive() -> None:
    """``issued_at`` comes from elsewhere (a naive column): aware ``now(UTC)`` minus it raises
    TypeError where no run reaches; the rewrite keeps naive UTC there, and says why."""
    code = """\
    from datetime import datetime, timedelta

    def is_expired(issued_at):
        return datetime.utcnow() - issued_at > timedelta(hours=1)

    def later():
        return datetime.utcnow() + timedelta(hours=1)
    """
    result = fix(stdlib.rewrite, code)
    assert "datetime.now(UTC).replace(tzinfo=None) - issued_at" in result.code
    assert "return datetime.now(UTC) + timedelta(hours=1)" in result.code
    assert any("meets `issued_at`" in n for n in result.notes)
    ns = run(result.code)
    naive = ns["datetime"].now(ns["UTC"]).replace(tzinfo=None) - ns["timedelta"](hours=2)
    assert ns["is_expired"](naive) is True


def test_a_config_tuple_without_parentheses_stays_one_argument() -> None:
    code = """\
    from pydantic import BaseSettings

    class Settings(BaseSettings):
        debug: bool = False

        class Config:
            env_file = '.env', '.env.prod'
    """
    result = fix(pydantic_v1.rewrite, code)
    assert "model_config = SettingsConfigDict(env_file=('.env', '.env.prod'))" in result.code
    compile(result.code, "<fixed>", "exec")


def test_the_parent_map_is_libcsts_own() -> None:
    """``parent_map`` stands in for libcst's ParentNodeProvider (ten times slower): the same
    parent for every node, and statements met in the same order."""
    import libcst as cst
    from libcst.metadata import MetadataWrapper, ParentNodeProvider

    from exampletest.fix.base import parent_map

    code = textwrap.dedent("""\
        import os
        from pydantic import BaseModel, validator


        @decorate(arg=[x for x in range(3)])
        class A(BaseModel):
            x: int = 1  # comment

            class Config:
                orm_mode = True

            @validator("x")
            def check(cls, v):
                from math import floor
                return lambda y=v: (y, {**{}}, f"{v!r}")[0]


        if os.environ:
            class B(A): ...
        else:
            B = A
    """)
    tree = cst.parse_module(code)
    theirs = dict(MetadataWrapper(tree, unsafe_skip_copy=True).resolve(ParentNodeProvider))
    ours = parent_map(tree)
    assert ours == theirs
    for kind in (cst.Import, cst.ImportFrom, cst.ClassDef, cst.FunctionDef, cst.Assign):
        assert [n for n in ours if isinstance(n, kind)] == [
            n for n in theirs if isinstance(n, kind)
        ]


def test_jwt_decode_takes_the_algorithm_an_earlier_blocks_encode_shows() -> None:
    import ast

    from exampletest.fix.engine import _jwt_algorithm

    encode = "jwt.encode(payload, SECRET_KEY, algorithm=ALGORITHM)"
    assert _jwt_algorithm(ast.parse(encode).body[0].value) == "ALGORITHM"  # type: ignore[attr-defined]
    assert _jwt_algorithm(ast.parse("jwt.encode(p, k, alg())").body[0].value) is None  # type: ignore[attr-defined]
    ctx = RewriteContext(jwt_encodes=((1, "ALGORITHM"),))
    code = "claims = jwt.decode(token, SECRET_KEY)\n"
    assert stdlib.rewrite(code, ctx.for_block(2)).code == (
        "claims = jwt.decode(token, SECRET_KEY, algorithms=[ALGORITHM])\n"
    )
    assert stdlib.rewrite(code, ctx.for_block(1)).code == code  # not from a later block
    two = RewriteContext(jwt_encodes=((1, "'HS256'"), (2, "'RS256'"))).for_block(3)
    assert stdlib.rewrite(code, two).code == code  # several algorithms: not guessed


def test_a_reused_v1_validator_becomes_a_field_validator_that_validates_the_same() -> None:
    """``_n = validator("name", allow_reuse=True)(normalize)`` in a model's body: v2's
    ``field_validator("name")(normalize)`` takes the same function (``pre=True`` becomes
    ``mode="before"``); both models normalise the same names before and after."""
    code = (
        "from pydantic import BaseModel, validator\n\n\n"
        "def normalize(name: str) -> str:\n    return name.strip().title()\n\n\n"
        "class A(BaseModel):\n    name: str\n\n"
        "    _n = validator('name', allow_reuse=True)(normalize)\n\n\n"
        "class B(BaseModel):\n    name: str\n\n"
        "    _n = validator('name', pre=True, allow_reuse=True)(normalize)\n\n\n"
        "class C(BaseModel):\n    name: str\n\n"
        "    _n = validator('name', each_item=True)(normalize)\n"
    )
    result = pydantic_v1.rewrite(code, RewriteContext(frozenset({"A", "B", "C"})))
    assert result.applied == ("ET101",)
    assert "    _n = field_validator('name')(normalize)\n" in result.code
    assert "    _n = field_validator('name', mode=\"before\")(normalize)\n" in result.code
    assert "    _n = validator('name', each_item=True)(normalize)\n" in result.code  # a note
    assert any("each_item" in n for n in result.notes)
    before, after = _ran(code.split("class C")[0], result.code.split("class C")[0])
    for model in ("A", "B"):
        assert after[model](name="  jane DOE ").name == before[model](name="  jane DOE ").name
    assert after["A"](name="  jane DOE ").name == "Jane Doe"


def test_a_v1_validator_of_a_pydantic_dataclass_becomes_a_field_validator() -> None:
    """Pydantic's ``@dataclass`` takes ``field_validator`` too; ``always=True`` gives the
    field ``Field(default=..., validate_default=True)``, the default by keyword, as type
    checkers read a dataclass's field. The objects come out the same."""
    code = (
        "from pydantic import validator\nfrom pydantic.dataclasses import dataclass\n\n\n"
        "@dataclass\nclass D:\n    n: int = None\n\n"
        "    @validator('n', pre=True, always=True)\n    def fill(cls, v):\n"
        "        return 7 if v is None else v\n"
    )
    result = pydantic_v1.rewrite(code, RewriteContext())
    assert result.applied == ("ET101",)
    assert "    n: int = Field(default=None, validate_default=True)\n" in result.code
    assert "    @field_validator('n', mode=\"before\")\n    @classmethod\n" in result.code
    before, after = _ran(code, result.code)
    assert after["D"]().n == before["D"]().n == 7
    assert after["D"](n="3").n == before["D"](n="3").n == 3


def test_a_marked_example_stays_as_written_while_its_twin_is_modernised() -> None:
    """Only the changes that touch the marked statement (all its lines) are undone; what is
    left is the rest of the rewrite. A rewrite that only touched the marked example leaves
    nothing but an import: the block stays as it was."""
    from exampletest.fix.marked import marked_lines, spare

    before = textwrap.dedent(
        """\
        # Before (slow)
        def slow(db):
            return db.query(User)\\
                .all()

        # After (fast)
        def fast(db):
            return db.query(User).options(selectinload(User.posts)).all()
        """
    )
    after = sqlalchemy.rewrite(before, ALL).code
    assert after.count("select(User)") == 2
    marked = marked_lines(before, [3])
    assert marked == {3, 4}  # the whole statement
    spared = spare(before, after, marked)
    assert "    return db.query(User)\\\n        .all()\n" in spared
    assert "db.scalars(select(User).options(selectinload(User.posts))).all()" in spared
    assert "from sqlalchemy import select\n" in spared
    only_marked = before.split("# After")[0]
    rewritten = sqlalchemy.rewrite(only_marked, ALL).code
    assert rewritten != only_marked
    assert spare(only_marked, rewritten, marked_lines(only_marked, [3])) == only_marked
    assert spare(before, after, set()) == after


def test_a_loop_from_get_event_loop_at_the_top_level_becomes_asyncio_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    chained = """\
    import asyncio

    async def waffle(i):
        print("running", i)

    asyncio.get_event_loop().run_until_complete(
        asyncio.gather(
            waffle(2),
            waffle(3)
        )
    )
    """
    result = fix(stdlib.rewrite, chained)
    assert result.applied == ("ET502",)
    assert "get_event_loop" not in result.code
    # a gather is no coroutine: it is awaited in a coroutine the rewrite adds
    assert "async def main():\n    await asyncio.gather(\n        waffle(2),\n" in result.code
    assert result.code.endswith("    )\n\n\nasyncio.run(main())\n")
    run(result.code)
    assert capsys.readouterr().out == "running 2\nrunning 3\n"

    variable = """\
    import asyncio

    async def main():
        return 1

    if __name__ == "__main__":
        # run it
        loop = asyncio.get_event_loop()
        result = loop.run_until_complete(main())
        loop.close()
        print(result)
    """
    result = fix(stdlib.rewrite, variable)
    assert result.code.endswith(
        '\nif __name__ == "__main__":\n    # run it\n    result = asyncio.run(main())\n'
        "    print(result)\n"
    )


@pytest.mark.parametrize(
    "code",
    [
        # a loop the implicit-loop job shares
        "import asyncio\nloop = asyncio.get_event_loop()\nasyncio.ensure_future(job())\n"
        "loop.run_forever()\n",
        # a job queued on the implicit loop before it runs: one loop is shared
        "import asyncio\nasyncio.gather(job(7))\n"
        "asyncio.get_event_loop().run_until_complete(asyncio.gather())\n",
        # the implicit loop goes on after the run: `asyncio.run` would close its loop
        "import asyncio\nasyncio.get_event_loop().run_until_complete(start())\n"
        "asyncio.get_event_loop().run_forever()\n",
        # in a function: not the program's entry point
        "import asyncio\ndef f():\n    loop = asyncio.get_event_loop()\n"
        "    loop.run_until_complete(main())\n",
    ],
)
def test_a_loop_used_for_more_than_one_run_is_left_alone(code: str) -> None:
    assert fix(stdlib.rewrite, code).code == code


def test_a_models_unannotated_default_gets_the_type_v1_gave_it() -> None:
    code = """\
    from pydantic import BaseModel

    class User(BaseModel):
        id: int
        name = 'John Doe'
        count = -1
        ratio = 0.5
        active = True
        tags = []
        _private = 3
        made = object()
        model_config = {"extra": "forbid"}
    """
    result = fix(pydantic_v1.rewrite, code)
    assert result.applied == ("PydanticUserError",)
    for line in (
        "name: str = 'John Doe'", "count: int = -1", "ratio: float = 0.5",
        "active: bool = True", "tags: list = []", "_private = 3", "made = object()",
        'model_config = {"extra": "forbid"}',
    ):  # fmt: skip
        assert f"    {line}\n" in result.code
    user = run(result.code.replace("    made = object()\n", ""))["User"](id=1)
    assert (user.name, user.count, user.tags) == ("John Doe", -1, [])


def test_a_loop_the_program_drives_itself_is_a_new_loop(capsys: pytest.CaptureFixture[str]) -> None:
    """Python's docs' `call_soon` example: the loop goes on being used (`run_forever`), so it
    is no `asyncio.run()`; `new_event_loop()` is how those docs write it now."""
    code = """\
    import asyncio

    def hello_world(loop):
        print("Hello World")
        loop.stop()

    loop = asyncio.get_event_loop()
    loop.call_soon(hello_world, loop)
    try:
        loop.run_forever()
    finally:
        loop.close()
    """
    result = fix(stdlib.rewrite, code)
    assert result.applied == ("ET502",)
    assert result.code == textwrap.dedent(code).replace("get_event_loop", "new_event_loop")
    run(result.code)
    assert capsys.readouterr().out == "Hello World\n"


def test_a_generator_based_coroutine_becomes_async_def(capsys: pytest.CaptureFixture[str]) -> None:
    code = """\
    import asyncio
    from asyncio import coroutine

    @asyncio.coroutine
    def say_after(delay, what):
        yield from asyncio.sleep(delay)
        print(what)

    @coroutine
    def main():
        result = yield from say_after(0, "hello")
        return result

    @asyncio.coroutine
    def values():
        yield 1
        yield from other()
    """
    result = fix(stdlib.rewrite, code)
    assert result.applied == ("AttributeError",)
    assert "async def say_after(delay, what):\n    await asyncio.sleep(delay)\n" in result.code
    assert 'async def main():\n    result = await say_after(0, "hello")\n' in result.code
    assert "from asyncio import coroutine" not in result.code
    # a generator that yields values itself is one still
    assert "@asyncio.coroutine\ndef values():\n    yield 1\n" in result.code
    ns = run(result.code.split("@asyncio.coroutine\ndef values")[0])
    asyncio.run(ns["main"]())
    assert capsys.readouterr().out == "hello\n"


def test_the_coroutine_a_gather_is_awaited_in_takes_a_name_nothing_uses() -> None:
    """`main` is an earlier block's coroutine that the gather runs: the added coroutine
    must not shadow it (it would await itself forever)."""
    code = (
        "import asyncio\nloop = asyncio.get_event_loop()\n"
        "results = loop.run_until_complete(asyncio.gather(main(), other()))\nloop.close()\n"
    )
    result = fix(stdlib.rewrite, code)
    assert "async def _main():\n    return await asyncio.gather(main(), other())\n" in result.code
    assert result.code.endswith("results = asyncio.run(_main())\n")


def test_a_coroutine_decorator_over_a_function_that_returns_a_future_stays() -> None:
    """The decorator awaited what such a function returns; `async def` would hand back the
    future unawaited. A comment between the decorators stays where it was."""
    code = """\
    import asyncio

    @asyncio.coroutine
    def delayed(value):
        return asyncio.sleep(0, result=value)

    @app.route("/")
    # served by aiohttp
    @asyncio.coroutine
    def handler(request):
        data = yield from request.json()
        return data
    """
    result = fix(stdlib.rewrite, code)
    assert "@asyncio.coroutine\ndef delayed(value):\n" in result.code
    assert '@app.route("/")\n# served by aiohttp\nasync def handler(request):\n' in result.code


def test_validators_shown_without_their_model_are_rewritten_too() -> None:
    """A cheat sheet's `@validator('username')` and `@root_validator` under headings of their
    own, no class around them (their first parameter is `cls`): the same v2 decorators, and
    the root validator's `values['field']` on `self`. A model placed around them validates as
    the v1 ones did. A function that is no method (no `cls`) is left alone."""
    code = """\
    from pydantic import root_validator, validator


    @validator("username")
    def no_spaces(cls, value):
        if " " in value:
            raise ValueError("Username must not contain spaces")
        return value


    @root_validator
    def passwords_match(cls, values):
        if values.get("password") != values.get("confirm"):
            raise ValueError("Passwords do not match")
        return values


    @validator("other")
    def not_a_method(value):
        return value
    """
    result = fix(pydantic_v1.rewrite, code)
    assert '@field_validator("username")\n@classmethod\ndef no_spaces(cls, value):' in result.code
    assert '@model_validator(mode="after")\ndef passwords_match(self):' in result.code
    assert "if self.password != self.confirm:" in result.code
    assert '@validator("other")\ndef not_a_method(value):' in result.code
    methods = result.code.split("\n\n\n@validator")[0]  # the model's: the last one is no method
    body = textwrap.indent(methods.split("\n", 1)[1], "    ")
    model = f"{methods.split(chr(10), 1)[0]}\nfrom pydantic import BaseModel\n\n\n"
    model += (
        f"class Signup(BaseModel):\n    username: str\n    password: str\n    confirm: str\n{body}"
    )
    ns = run(model)
    assert ns["Signup"](username="a", password="x", confirm="x").username == "a"
    with pytest.raises(ValueError, match="must not contain spaces"):
        ns["Signup"](username="a b", password="x", confirm="x")
    with pytest.raises(ValueError, match="do not match"):
        ns["Signup"](username="a", password="x", confirm="y")


def test_a_generator_annotated_with_what_it_yields_gets_its_iterator_type() -> None:
    """FastAPI's dependency idiom, `async def get_session() -> AsyncSession:` then `yield
    session`, which mypy rejects: the annotation becomes `AsyncIterator[AsyncSession]`
    (`Iterator[...]` for a plain generator). One already an iterator, a function that does
    not yield, and a nested function's yield are left alone."""
    code = """\
    async def get_session() -> str:
        yield "session"


    def numbers() -> int:
        yield 1


    def fine() -> Iterator[int]:
        yield 1


    def outer() -> int:
        def inner():
            yield 1
        return 1


    async def get_db() -> Generator[str, None, None]:
        yield "db"
    """
    result = fix(stdlib.rewrite, code)
    assert "async def get_db() -> AsyncIterator[str]:" in result.code
    assert "async def get_session() -> AsyncIterator[str]:" in result.code
    assert "def numbers() -> Iterator[int]:" in result.code
    assert "def fine() -> Iterator[int]:" in result.code
    assert "def outer() -> int:" in result.code
    assert "from collections.abc import AsyncIterator, Iterator" in result.code
    ns = run(result.code.replace("def fine", "def _fine"))
    assert list(ns["numbers"]()) == [1]


def test_add_imports_puts_each_import_in_the_file_of_a_fence_that_uses_it() -> None:
    """A block showing `# app/models.py` then `# app/service.py`: an import goes into the
    file whose code uses the name (at the top of the block, the service would still fail
    as a module of its own); one no file uses goes into the first."""
    code = (
        "# app/models.py\nclass User:\n    pass\n\n\n"
        "# app/service.py\nfrom app.models import User\n\n\n"
        "def stamp() -> User:\n    return User(at=datetime.now())\n"
    )
    assert add_imports(code, ["from datetime import datetime", "import os"]) == (
        "# app/models.py\nimport os\n\n\nclass User:\n    pass\n\n\n"
        "# app/service.py\nfrom datetime import datetime\n\nfrom app.models import User\n\n\n"
        "def stamp() -> User:\n    return User(at=datetime.now())\n"
    )


def test_an_import_dropped_under_a_fences_file_comment_keeps_the_comment_in_place() -> None:
    """`# app/service.py` above `from typing import List`, which a rewrite made unused: the
    comment keeps the blank lines above it and sits right over the next statement."""
    from exampletest.fix.imports import drop_imports

    code = (
        "# app/models.py\nclass User:\n    pass\n\n\n"
        "# app/service.py\nfrom typing import List\n\nfrom app.models import User\n\n"
        "users: list[User] = []\n"
    )
    assert drop_imports(code, [("typing", "List")]) == (
        "# app/models.py\nclass User:\n    pass\n\n\n"
        "# app/service.py\nfrom app.models import User\n\nusers: list[User] = []\n"
    )
