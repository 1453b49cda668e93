"""FastAPI idioms the current release replaced (ET301-ET307).

Facts checked on FastAPI 0.165: ``on_event`` warns DeprecationWarning (lifespan exists since
0.93), ``Query(regex=)`` warns FastAPIDeprecationWarning (``pattern=`` since 0.100),
``ORJSONResponse``/``UJSONResponse`` are ``@deprecated`` since 0.131. ``Annotated`` dependencies
are supported since 0.95. httpx 0.28 (the client FastAPI's async tests use) removed
``AsyncClient(app=...)``: ``transport=ASGITransport(app=app)``. Starlette 0.48 renamed some
status constants after RFC 9110 (the old names warn when read). Starlette 0.29 deprecated
``TemplateResponse(name, {"request": request})`` for ``TemplateResponse(request, name)``; 1.0
removed it.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from exampletest.model import Category
from exampletest.rules.base import TEXTUAL_NOTE, Context, Hit, dotted, keyword, rule
from exampletest.symbols import parse_code

STALE = Category.STALE

#: FastAPI's parameter markers: the first argument (or ``default=``) is the default value.
PARAMS = ("Query", "Path", "Body", "Form", "Header", "Cookie", "File")
#: Its dependency markers: the argument is the dependency, never a default.
DEPENDS = ("Depends", "Security")
#: HTTP-method decorators ruff's FAST002 treats as routes (measured on ruff 0.17)
_ROUTE_METHODS = frozenset({"get", "post", "put", "delete", "patch", "options", "head", "trace"})
_APP_TYPES = ("fastapi.FastAPI", "fastapi.APIRouter")
_APP_NAME = re.compile(r"(?:^|_)(?:app|application|api|router)$", re.I)


def _fastapi_names(names: tuple[str, ...]) -> list[str]:
    return [f"fastapi.{n}" for n in names] + [f"fastapi.param_functions.{n}" for n in names]


@rule(
    "ET301",
    "@app.on_event startup/shutdown handlers",
    STALE,
    "fastapi",
    ">=0.93",
    "a lifespan async context manager: FastAPI(lifespan=lifespan)",
)
def on_event(ctx: Context) -> Iterator[Hit]:
    apps = _apps(ctx)
    for call in ctx.calls():
        func = call.func
        if not isinstance(func, ast.Attribute) or func.attr != "on_event":
            continue
        receiver = dotted(func.value) or ""
        if receiver in apps or _APP_NAME.search(receiver.rsplit(".", 1)[-1]):
            yield Hit(
                call.func,
                "`on_event` is deprecated in FastAPI: use a `lifespan` async context manager",
                suggestion=(
                    "@asynccontextmanager async def lifespan(app): <startup>; yield; <shutdown> "
                    "-- then FastAPI(lifespan=lifespan)"
                ),
                name_only=True,
            )


@rule(
    "ET302",
    "regex= on FastAPI parameters",
    STALE,
    "fastapi",
    ">=0.100",
    "pattern=",
)
def regex_param(ctx: Context) -> Iterator[Hit]:
    params = _fastapi_names(PARAMS)
    for call in ctx.calls():
        kw = keyword(call, "regex")
        if kw is not None and ctx.matches(call.func, params):
            name = ast.unparse(call.func)
            yield Hit(
                kw,
                f"`{name}(regex=...)` is deprecated in FastAPI: use `pattern=`"
                + (TEXTUAL_NOTE if ctx.is_textual(call.func) else ""),
                suggestion=f"{name}(pattern=...)",
            )


@rule(
    "ET303",
    "Depends()/Query()… as a parameter default (outside what ruff FAST002 reports)",
    STALE,
    "fastapi",
    ">=0.95",
    "Annotated[T, Depends(...)]",
)
def non_annotated(ctx: Context) -> Iterator[Hit]:
    wanted = _fastapi_names(DEPENDS + PARAMS)
    apps = _apps(ctx)
    for fn in ctx.walk(ast.FunctionDef, ast.AsyncFunctionDef):
        assert isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
        ruff_route = _is_ruff_route(fn, apps)
        for param, default in _defaults(fn):
            if not isinstance(default, ast.Call) or not ctx.matches(default.func, wanted):
                continue
            if ruff_route and param.annotation is not None and param not in fn.args.posonlyargs:
                continue  # ruff FAST002 reports this one
            kind = ast.unparse(default.func)
            annotation = ast.unparse(param.annotation) if param.annotation else "T"
            marker, value = _split_default(default, kind.rsplit(".", 1)[-1] in DEPENDS)
            yield Hit(
                param,
                f"`{param.arg}` takes `{kind}(...)` as its default: FastAPI recommends "
                f"`Annotated[{annotation}, {kind}(...)]`"
                + (TEXTUAL_NOTE if ctx.is_textual(default.func) else ""),
                suggestion=f"{param.arg}: Annotated[{annotation}, {marker}]{value}",
                end_node=default,
            )


def _split_default(call: ast.Call, is_dependency: bool) -> tuple[str, str]:
    """``Query(None, max_length=5)`` -> (``Query(max_length=5)``, `` = None``).

    Inside ``Annotated`` a parameter's default moves out of ``Query()`` to ``= value``;
    ``Depends(dep)`` keeps its argument (the dependency).
    """
    if is_dependency:
        return ast.unparse(call), ""
    default = call.args[0] if call.args else None
    keywords = [k for k in call.keywords if k.arg != "default"]
    for k in call.keywords:
        if k.arg == "default":
            default = k.value
    marker = ast.Call(func=call.func, args=list(call.args[1:]), keywords=keywords)
    if default is None or (isinstance(default, ast.Constant) and default.value is Ellipsis):
        return ast.unparse(marker), ""  # required parameter
    return ast.unparse(marker), f" = {ast.unparse(default)}"


def _apps(ctx: Context) -> set[str]:
    """Names ruff's FAST002 resolves to a FastAPI/APIRouter: assigned a call, or annotated."""
    out = {
        name
        for name, values in ctx.assigned.items()
        if any(isinstance(v, ast.Call) and ctx.qualname(v.func) in _APP_TYPES for v in values)
    }
    out.update(
        name
        for name, annotations in ctx.annotations.items()
        if any(ctx.qualname(a) in _APP_TYPES for a in annotations)
    )
    return out


def _is_ruff_route(fn: ast.FunctionDef | ast.AsyncFunctionDef, apps: set[str]) -> bool:
    for dec in fn.decorator_list:
        if (
            isinstance(dec, ast.Call)
            and isinstance(dec.func, ast.Attribute)
            and dec.func.attr in _ROUTE_METHODS
            and isinstance(dec.func.value, ast.Name)
            and dec.func.value.id in apps
        ):
            return True
    return False


def _defaults(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[tuple[ast.arg, ast.expr]]:
    positional = fn.args.posonlyargs + fn.args.args
    yield from zip(
        positional[len(positional) - len(fn.args.defaults) :], fn.args.defaults, strict=True
    )
    for param, kw_default in zip(fn.args.kwonlyargs, fn.args.kw_defaults, strict=True):
        if kw_default is not None:
            yield param, kw_default


@rule(
    "ET304",
    "ORJSONResponse / UJSONResponse",
    STALE,
    "fastapi",
    ">=0.131",
    "a response_model / return type (Pydantic serializes to JSON bytes), or JSONResponse",
)
def custom_json_responses(ctx: Context) -> Iterator[Hit]:
    names = ("ORJSONResponse", "UJSONResponse")
    message = (
        "`{}` is deprecated in FastAPI: declare a return type or response_model and FastAPI "
        "serializes with Pydantic, faster, without a custom response class"
    )
    suggestion = "drop the response class; annotate the return type (or use JSONResponse)"
    for node, name in ctx.references("fastapi.responses", names):
        yield Hit(node, message.format(name), suggestion=suggestion)


@rule(
    "ET305",
    "httpx AsyncClient(app=...) in an app's tests",
    STALE,
    "httpx",
    ">=0.28",
    "AsyncClient(transport=ASGITransport(app=app), base_url=...)",
)
def httpx_app_argument(ctx: Context) -> Iterator[Hit]:
    clients = ("httpx.AsyncClient", "httpx.Client")
    for call in ctx.calls():
        app = keyword(call, "app")
        if app is None or not ctx.matches(call.func, clients):
            continue
        message = (
            "`app=` was removed from httpx's clients in 0.28 (it raises TypeError there): "
            "pass `transport=ASGITransport(app=...)`"
        )
        if ctx.is_textual(call.func):
            message += TEXTUAL_NOTE
        yield Hit(
            app,
            message,
            suggestion='AsyncClient(transport=ASGITransport(app=app), base_url="http://test")',
            # the installed httpx (0.28 or later: the gate) raises on it: it fails as written
            category=Category.BROKEN if ctx.version("httpx") is not None else None,
        )


@rule(
    "ET306",
    "HTTP status names Starlette renamed (RFC 9110)",
    STALE,
    "starlette",
    ">=0.48",
    "the new name (HTTP_422_UNPROCESSABLE_CONTENT, HTTP_413_CONTENT_TOO_LARGE, ...)",
)
def renamed_status(ctx: Context) -> Iterator[Hit]:
    """``status.HTTP_422_UNPROCESSABLE_ENTITY`` warns StarletteDeprecationWarning when read,
    which a run sees only where it runs (not in a handler's body). The old and new names are
    read from the installed ``starlette/status.py`` itself (parsed, not imported)."""
    renamed = renamed_statuses()
    for module in ("starlette.status", "fastapi.status"):
        for node, name in ctx.references(module, renamed):
            yield Hit(
                node,
                f"`{name}` is deprecated in Starlette (StarletteDeprecationWarning when read): "
                f"use `{renamed[name]}`",
                suggestion=renamed[name],
                name_only=isinstance(node, ast.Attribute),
            )


@functools.cache
def renamed_statuses() -> dict[str, str]:
    """Old name -> new, from the ``deprecation_changes`` table of the installed
    ``starlette.status``'s ``__getattr__``; empty when there is none to read."""
    spec = importlib.util.find_spec("starlette")  # finds, never imports, a top-level package
    folders = spec.submodule_search_locations if spec is not None else None
    try:
        tree = parse_code(Path(next(iter(folders or ())), "status.py").read_text("utf-8"))
    except (OSError, StopIteration, SyntaxError, ValueError):
        return {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "deprecation_changes" for t in node.targets)
            and isinstance(node.value, ast.Dict)
        ):
            pairs = zip(node.value.keys, node.value.values, strict=True)
            return {
                k.value: v.value
                for k, v in pairs
                if isinstance(k, ast.Constant)
                and isinstance(v, ast.Constant)
                and isinstance(k.value, str)
                and isinstance(v.value, str)
            }
    return {}


@rule(
    "ET307",
    "TemplateResponse with the template's name first",
    STALE,
    "starlette",
    ">=0.29",
    'templates.TemplateResponse(request, "page.html", {...})',
    modules=("starlette", "fastapi"),
)
def template_response(ctx: Context) -> Iterator[Hit]:
    """``templates.TemplateResponse("index.html", {"request": request})``: the request goes
    first since Starlette 0.29 (the old order warned); the installed Starlette's own
    signature says whether it still takes the old one at all."""
    imported = ctx.imports("fastapi.templating", "starlette.templating")
    for call in name_first_calls(ctx.nodes):
        removed = not _takes_name_first()
        message = (
            "`TemplateResponse(name, context)` "
            + ("no longer exists in the installed Starlette (removed in 1.0)" if removed
               else "is deprecated in Starlette (DeprecationWarning since 0.29)")
            + ": pass the request first, `TemplateResponse(request, name, context)`"
        )  # fmt: skip
        named = keyword(call, "name")
        yield Hit(
            call.args[0] if call.args else named.value if named else call,  # where mypy points
            message + ("" if imported else TEXTUAL_NOTE),
            suggestion='templates.TemplateResponse(request, "page.html", {...})',
            category=Category.BROKEN if removed else None,
        )


def name_first_calls(nodes: Sequence[ast.AST]) -> list[ast.Call]:
    """The ``.TemplateResponse(...)`` calls with the template's name first (a string), on an
    object that can be Starlette's ``Jinja2Templates``: not one the code makes of another
    class (jinja2-fragments' ``Jinja2Blocks``, the block's own ``Renderer``), whose method
    may take its own arguments. The rewrite changes these calls only."""
    made = {  # what the code makes its objects with
        t.id: dotted(n.value.func) or ""
        for n in nodes
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    own = any(
        isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == "TemplateResponse"
        for n in nodes
    )
    out = []
    for call in nodes:
        if not isinstance(call, ast.Call):
            continue
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr == "TemplateResponse"):
            continue
        if own and isinstance(func.value, ast.Name) and func.value.id in ("self", "cls"):
            continue  # the code's own class's method of that name
        receiver = func.value.func if isinstance(func.value, ast.Call) else None
        maker = dotted(receiver) if receiver else made.get(dotted(func.value) or "")
        if (maker or "Jinja2Templates").rpartition(".")[2] != "Jinja2Templates":
            continue
        named = keyword(call, "name")
        first = call.args[0] if call.args else named.value if named is not None else None
        if (
            isinstance(first, ast.Constant | ast.JoinedStr)
            and (not isinstance(first, ast.Constant) or isinstance(first.value, str))
            and keyword(call, "request") is None
        ):
            out.append(call)
    return out


@functools.cache
def _takes_name_first() -> bool:
    """Whether the installed ``Jinja2Templates.TemplateResponse`` still accepts the old
    argument order (``*args``, as 0.29-0.52 had), read from its source (parsed, not
    imported); True when there is none to read."""
    spec = importlib.util.find_spec("starlette")
    folders = spec.submodule_search_locations if spec is not None else None
    try:
        tree = parse_code(Path(next(iter(folders or ())), "templating.py").read_text("utf-8"))
    except (OSError, StopIteration, SyntaxError, ValueError):
        return True
    return accepts_name_first(tree)


def accepts_name_first(templating: ast.Module) -> bool:
    """Whether a ``starlette/templating.py`` takes ``TemplateResponse(name, context)``: its
    implementation (not its ``@overload`` signatures) takes ``*args`` (0.29-0.52) or only
    ``name`` first (before 0.29)."""
    defs = [
        node
        for node in ast.walk(templating)
        if isinstance(node, ast.FunctionDef)
        and node.name == "TemplateResponse"
        and not any((dotted(d) or "").endswith("overload") for d in node.decorator_list)
    ]
    return not defs or any(
        d.args.vararg is not None or (len(d.args.args) > 1 and d.args.args[1].arg != "request")
        for d in defs
    )
