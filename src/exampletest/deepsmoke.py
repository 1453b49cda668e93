"""Deep smoke: after a block ran, exercise what it defined and report what that raises or warns.

Running a block's top level only creates classes and apps; many problems show when they are
used: an OpenAPI schema that cannot be built, a model whose forward reference never resolves,
a relationship naming a class that does not exist. This runs in the sandboxed child, after the
block was exec'd into ``namespace``; it imports no library the block did not already import.
Events are raw dicts in *code* coordinates; the caller turns them into findings.
"""

from __future__ import annotations

import ast
import functools
import inspect
import re
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

#: Pydantic's UserWarning for V1 config keys: not a DeprecationWarning, but a staleness sign.
STALE_WARNING_MARKERS = ("Valid config keys have changed in V2",)
_ROUTE_DECORATORS = frozenset(
    {"get", "post", "put", "delete", "patch", "options", "head", "trace", "api_route", "websocket"}
)


def exercise(
    namespace: dict[str, Any], code: str, *, deadline_s: float = 2.0
) -> list[dict[str, Any]]:
    """Exercise the apps, models and mappers ``code`` defined in ``namespace``.

    Returns events ``{"kind": "warning"|"exception", "type", "deprecation", "message",
    "line", "what"}`` (plus ``"stale_hint": True`` for Pydantic's renamed-config warning).
    An event already reported (same kind, type and message) is not repeated for a later
    object. Stops starting new steps once ``deadline_s`` has passed.
    """
    stop_at = time.monotonic() + deadline_s
    lines = _definition_lines(code)
    events: list[dict[str, Any]] = []
    seen: set[tuple[object, ...]] = set()
    for what, line, step, named in _steps(namespace, lines):
        if time.monotonic() >= stop_at:
            break
        for event in _run(step, what, line, named):
            key = (event["kind"], event["type"], event["message"])
            if key not in seen and _of_this_block(event, code):
                seen.add(key)
                events.append(event)
    return events


def _definition_lines(code: str) -> dict[str, int]:
    """Name -> code line where the block defines it (class, def, assignment) or, for an app
    defined earlier, first decorates a route on it."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return {}
    lines: dict[str, int] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            lines.setdefault(stmt.name, stmt.lineno)
        elif isinstance(stmt, ast.Assign | ast.AnnAssign):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                for node in ast.walk(target):
                    if isinstance(node, ast.Name):
                        lines.setdefault(node.id, stmt.lineno)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and (node.func.attr in _ROUTE_DECORATORS or node.func.attr == "include_router")
        ):
            lines.setdefault(node.func.value.id, node.lineno)
    return lines


#: (what, line, action, {class name: line} an error message may name instead)
Step = tuple[str, int, Callable[[], object], dict[str, int]]


def _steps(namespace: dict[str, Any], lines: dict[str, int]) -> Iterator[Step]:
    """What to exercise: models before apps, so that a problem an app only inherits from a
    model is reported once, at the model."""
    ours = [(name, namespace[name]) for name in lines if name in namespace]
    pydantic = sys.modules.get("pydantic")
    if pydantic is not None:
        for name, obj in ours:
            if _is_model(pydantic, obj) and lines.get(obj.__name__) == lines[name]:
                yield from _model_steps(name, obj, lines[name])
    fastapi = sys.modules.get("fastapi")
    if fastapi is not None:
        for name, obj in ours:
            if isinstance(obj, fastapi.FastAPI | fastapi.APIRouter):
                yield from _app_steps(fastapi, name, obj, lines[name])
    orm = sys.modules.get("sqlalchemy.orm")
    if orm is not None:
        mapped = {n: lines[n] for n, o in ours if isinstance(o, type) and hasattr(o, "__mapper__")}
        if mapped:
            what = "configuring the SQLAlchemy mappers"
            yield what, min(mapped.values()), orm.configure_mappers, mapped


def _app_steps(fastapi: Any, name: str, obj: Any, line: int) -> Iterator[Step]:
    app = obj
    if isinstance(obj, fastapi.APIRouter):

        def mount() -> object:
            nonlocal app
            app = fastapi.FastAPI()
            app.include_router(obj)
            return app

        yield f"including router {name} in an app", line, mount, {}
    for route in list(getattr(obj, "routes", ())):
        dependant = getattr(route, "dependant", None)
        if dependant is not None:
            methods = ",".join(sorted(getattr(route, "methods", None) or ())) or "WS"
            yield (
                f"resolving the dependencies of {methods} {getattr(route, 'path', '?')}",
                line,
                functools.partial(_resolve, dependant),
                {},
            )
    yield f"building the OpenAPI schema of {name}", line, lambda: app.openapi(), {}


def _resolve(dependant: Any) -> int:
    """Walk a route's dependency graph, reading each dependency's signature as FastAPI does."""
    seen: set[int] = set()
    todo = [dependant]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.call is not None:
            inspect.signature(node.call)
        todo.extend(node.dependencies)
    return len(seen)


def _is_model(pydantic: Any, obj: object) -> bool:
    return (
        isinstance(obj, type)
        and issubclass(obj, pydantic.BaseModel)
        and obj is not pydantic.BaseModel
        and not getattr(obj, "__pydantic_generic_metadata__", {}).get("parameters")
    )


def _model_steps(name: str, model: Any, line: int) -> Iterator[Step]:
    yield f"building the JSON schema of model {name}", line, lambda: _schema(model), {}
    fields = getattr(model, "model_fields", {})
    settings = any(c.__name__ == "BaseSettings" for c in model.__mro__)
    if all(not f.is_required() for f in fields.values()) and not settings:
        # (Settings read the environment and the command line, not only their defaults.)
        yield (
            f"creating {name}() with its defaults and dumping it to JSON",
            line,
            lambda: _dump_defaults(model),
            {},
        )


def _schema(model: Any) -> object:
    """A model of arbitrary types (``InstanceOf[...]``, ``arbitrary_types_allowed``) has no
    JSON schema by design: pydantic saying so is not a finding, unless the block asks for one."""
    try:
        return model.model_json_schema()
    except Exception as exc:
        if type(exc).__name__ == "PydanticInvalidForJsonSchema":
            return None
        raise


def _dump_defaults(model: Any) -> object:
    """A model whose validators reject its defaults (to show a constraint) is not broken: only
    what goes wrong once it is built counts (pydantic's ValidationError is a ValueError)."""
    try:
        instance = model()
    except ValueError:
        return None
    return instance.model_dump_json()


def _run(
    step: Callable[[], object], what: str, line: int, named: dict[str, int]
) -> list[dict[str, Any]]:
    error: BaseException | None = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            step()
        except Exception as exc:  # the block's own objects fail: that is the finding
            error = exc
    events = [_event("warning", w.category, str(w.message), line, what) for w in caught]
    if error is not None:
        message = str(error)
        events.append(_event("exception", type(error), message, _named(message, named, line), what))
    return events


_CONFIG_KEY = re.compile(r"'(\w+)' has been (?:renamed|removed)")


def _of_this_block(event: dict[str, Any], code: str) -> bool:
    """Pydantic's renamed-config warning names the v1 keys (``'orm_mode' has been renamed``)
    and may come again while a route's schema is built. When the block never writes one of
    them, it comes from a model an earlier block defined, whose own check reports it."""
    keys = _CONFIG_KEY.findall(event["message"]) if event.get("stale_hint") else []
    return not keys or any(re.search(rf"\b{re.escape(k)}\b", code) for k in keys)


def _named(message: str, lines: dict[str, int], default: int) -> int:
    """Line of the first of ``lines``' classes that an error message mentions.

    Mapper errors name the mapped class (``Mapper[User(users)]``), which is more useful than
    the line of whichever class happened to be configured first.
    """
    for match in re.finditer(r"[A-Za-z_]\w*", message):
        if match.group() in lines:
            return lines[match.group()]
    return default


def _event(kind: str, cls: type, message: str, line: int, what: str) -> dict[str, Any]:
    event: dict[str, Any] = {
        "kind": kind,
        "type": cls.__name__,
        "deprecation": issubclass(cls, DeprecationWarning) or "Deprecat" in cls.__name__,
        "message": message.strip(),
        "line": line,
        "what": what,
    }
    if kind == "warning" and any(m in message for m in STALE_WARNING_MARKERS):
        event["stale_hint"] = True
    return event
