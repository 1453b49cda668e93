"""Deep smoke on real libraries: run a block, then exercise what it defined."""

from __future__ import annotations

import textwrap
import time
import warnings
from typing import Any

from exampletest.deepsmoke import exercise


def run_block(code: str, **kw: float) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Exec the block as the smoke child would (warnings of the run itself are not ours)."""
    code = textwrap.dedent(code).lstrip("\n")
    namespace: dict[str, Any] = {"__name__": "__block__"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(code, "<block>", "exec", dont_inherit=True), namespace)
    return namespace, exercise(namespace, code, **kw)


def test_fastapi_app_with_a_dependency_is_exercised_cleanly() -> None:
    namespace, events = run_block(
        """
        from typing import Annotated
        from fastapi import Depends, FastAPI
        from pydantic import BaseModel

        class Item(BaseModel):
            name: str

        def get_db():
            yield {"items": []}

        def get_repo(db: Annotated[dict, Depends(get_db)]) -> dict:
            return db

        app = FastAPI()

        @app.get("/items")
        def items(repo: Annotated[dict, Depends(get_repo)]) -> list[Item]:
            return []
        """
    )
    assert events == []
    schema = namespace["app"].openapi_schema
    assert schema is not None and "/items" in schema["paths"]


def test_openapi_warning_points_at_the_app() -> None:
    _, events = run_block(
        """
        from fastapi import FastAPI

        app = FastAPI()

        def read():
            return 1

        app.get("/a")(read)
        app.get("/a")(read)
        """
    )
    (event,) = events
    assert event["kind"] == "warning" and "Duplicate Operation ID" in event["message"]
    assert event["line"] == 3 and event["what"] == "building the OpenAPI schema of app"


def test_a_model_problem_is_reported_once_at_the_model() -> None:
    _, events = run_block(
        """
        from fastapi import FastAPI
        from pydantic import BaseModel, ConfigDict

        class Opaque:
            pass

        class Out(BaseModel):
            model_config = ConfigDict(arbitrary_types_allowed=True)
            thing: Opaque

        app = FastAPI()

        @app.get("/thing", response_model=Out)
        def thing():
            return None
        """
    )
    # The model alone needs no JSON schema; the app's OpenAPI document does, once.
    (event,) = events
    assert event["kind"] == "exception" and event["type"] == "PydanticInvalidForJsonSchema"
    assert "OpenAPI" in event["what"]


def test_router_defined_by_the_block_is_mounted_and_exercised() -> None:
    _, events = run_block(
        """
        from fastapi import APIRouter
        from pydantic import BaseModel, ConfigDict

        class Out(BaseModel):
            model_config = ConfigDict(arbitrary_types_allowed=True)
            thing: object.__class__

        router = APIRouter()

        @router.get("/q", response_model=Out)
        def q():
            return None
        """
    )
    (event,) = events  # the model's problem, seen where the router's OpenAPI needs its schema
    assert event["what"] == "building the OpenAPI schema of router"


def test_v1_style_model_warnings_are_reported_with_a_stale_hint() -> None:
    _, events = run_block(
        """
        from pydantic import BaseModel

        class User(BaseModel):
            name: str = "x"

            class Config:
                orm_mode = True
                json_encoders = {str: str}
        """
    )
    hints = [e for e in events if e.get("stale_hint")]
    assert hints and hints[0]["type"] == "UserWarning" and not hints[0]["deprecation"]
    assert hints[0]["line"] == 3
    deprecations = [e for e in events if e["deprecation"]]
    assert deprecations and deprecations[0]["type"] == "PydanticDeprecatedSince20"
    assert all(e["kind"] == "warning" for e in events)


def test_model_with_an_unresolved_forward_reference_is_an_exception() -> None:
    _, events = run_block(
        """
        from typing import Optional
        from pydantic import BaseModel

        class Node(BaseModel):
            child: Optional["Missing"] = None
        """
    )
    (event,) = events
    assert event["kind"] == "exception" and event["type"] == "PydanticUserError"
    assert event["line"] == 4 and "JSON schema" in event["what"]


def test_required_fields_are_not_instantiated() -> None:
    _, events = run_block(
        """
        from pydantic import BaseModel
        class Needs(BaseModel):
            x: int
        """
    )
    assert events == []


def test_defaults_a_validator_rejects_and_settings_are_not_instantiated() -> None:
    # A validator showing a constraint rejects the defaults on purpose; settings read the
    # environment and the command line, which the block may have set up to fail.
    _, events = run_block(
        """
        from pydantic import BaseModel, model_validator
        from pydantic_settings import BaseSettings

        class Range(BaseModel):
            lo: int = 5
            hi: int = 1

            @model_validator(mode="after")
            def ordered(self):
                if self.lo >= self.hi:
                    raise ValueError("lo must be below hi")
                return self

        class Settings(BaseSettings):
            workers: int = 0

            @model_validator(mode="after")
            def positive(self):
                if self.workers < 1:
                    raise ValueError("set WORKERS")
                return self
        """
    )
    assert events == []


def test_broken_sqlalchemy_relationship_names_the_class() -> None:
    _, events = run_block(
        """
        from sqlalchemy import ForeignKey
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

        class Base(DeclarativeBase):
            pass

        class Address(Base):
            __tablename__ = "addresses"
            id: Mapped[int] = mapped_column(primary_key=True)
            user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

        class User(Base):
            __tablename__ = "users"
            id: Mapped[int] = mapped_column(primary_key=True)
            addresses: Mapped[list["Address"]] = relationship("Adress")
        """
    )
    errors = [e for e in events if e["kind"] == "exception"]
    assert errors and "mappers" in errors[0]["what"]
    assert errors[0]["line"] == 12  # class User, whose relationship is broken
    assert "Adress" in errors[0]["message"]


def test_objects_from_outside_the_block_are_left_alone() -> None:
    from pydantic import BaseModel

    class Elsewhere(BaseModel):
        child: Missing = None  # type: ignore[name-defined]  # noqa: F821

    namespace = {"Elsewhere": Elsewhere}
    assert exercise(namespace, "x = 1\n") == []


def test_deadline_bounds_the_work() -> None:
    namespace, _ = run_block(
        """
        from pydantic import BaseModel
        class A(BaseModel):
            a: int = 1
        class B(BaseModel):
            b: int = 1
        """
    )
    start = time.monotonic()
    assert exercise(namespace, "class A: pass\nclass B: pass\n", deadline_s=0.0) == []
    assert time.monotonic() - start < 1.0


def test_a_model_of_arbitrary_types_has_no_json_schema_by_design() -> None:
    _, events = run_block(
        """
        from pydantic import BaseModel, ConfigDict


        class Thing:
            pass


        class Model(BaseModel):
            model_config = ConfigDict(arbitrary_types_allowed=True)
            thing: Thing
        """
    )
    assert events == []
