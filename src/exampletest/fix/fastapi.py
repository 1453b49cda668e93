"""FastAPI idioms with a mechanical modern spelling.

ET301: ``@app.on_event("startup")``/``("shutdown")`` handlers -> a ``lifespan`` context manager
that calls them, passed to ``FastAPI(lifespan=...)``; the handlers stay as they were, without
the decorator. Only module-level handlers of the module's one ``FastAPI()`` app that take no
arguments; anything else stays a suggestion.

ET306: ``status.HTTP_422_UNPROCESSABLE_ENTITY`` -> the name the installed Starlette gives it.

ET307: ``templates.TemplateResponse("page.html", {"request": request, "x": x})`` ->
``templates.TemplateResponse(request, "page.html", {"x": x})`` (Starlette puts the request in the
context itself). Only a literal context with a ``"request"`` entry; anything else stays a
suggestion.

ET303: ``db: Session = Depends(get_db)`` -> ``db: Annotated[Session, Depends(get_db)]``, and
``q: str = Query(None, max_length=5)`` -> ``q: Annotated[str, Query(max_length=5)] = None``
(the default moves out of the marker; ``Query(...)`` is required: no default). Only annotated
parameters, and only where the new defaults keep the signature valid (a parameter without a
default may not follow one with a default); anything else stays a suggestion.
"""

from __future__ import annotations

import ast

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import MetadataWrapper

from exampletest.fix.base import (
    Edit,
    Pass,
    PassTransformer,
    Rewrite,
    RewriteContext,
    global_names,
    imported_from,
    module_aliases,
    run_passes,
    source_of,
)
from exampletest.fix.pydantic_v1 import append_kwarg
from exampletest.rules.fastapi import DEPENDS, PARAMS, name_first_calls, renamed_statuses


class _AnnotatedDepends(PassTransformer):
    def __init__(self, edit: Edit, markers: frozenset[str], modules: frozenset[str]) -> None:
        super().__init__(edit)
        self.markers = markers  # the local names that are FastAPI's markers
        self.modules = modules  # the local names of the `fastapi` module

    def leave_Parameters(
        self, original_node: cst.Parameters, updated_node: cst.Parameters
    ) -> cst.Parameters:
        positional = [*updated_node.posonly_params, *updated_node.params]
        new_positional = [self._convert(p) for p in positional]
        new_kwonly = [self._convert(p) for p in updated_node.kwonly_params]
        if new_positional == positional and new_kwonly == list(updated_node.kwonly_params):
            return updated_node
        seen_default = False
        for at, param in enumerate(new_positional):  # no default-less parameter after a default
            if param.default is not None:
                seen_default = True
            elif seen_default:
                return self._keyword_only(original_node, updated_node, new_positional, at)
        self.edit.applied.add("ET303")
        self.edit.imports.append("from typing import Annotated")
        n = len(updated_node.posonly_params)
        return updated_node.with_changes(
            posonly_params=new_positional[:n],
            params=new_positional[n:],
            kwonly_params=new_kwonly,
        )

    def _keyword_only(
        self,
        original: cst.Parameters,
        updated: cst.Parameters,
        converted: list[cst.Param],
        at: int,
    ) -> cst.Parameters:
        """A parameter left without a default after one with a default: FastAPI's own way
        out, a ``*`` first (FastAPI passes every parameter by name; a method's ``self`` or
        ``cls`` stays in front). Where the list has a ``*`` already, they join the parameters
        after it; not where it has ``/`` or ``*args``."""
        keep = 1 if converted and converted[0].name.value in ("self", "cls") else 0
        if (
            updated.posonly_params
            or isinstance(updated.star_arg, cst.Param)
            or any(p.default is not None for p in converted[:keep])
        ):
            self.note(
                "FAST002",
                [*original.posonly_params, *original.params][at],  # the parameter that cannot move
                "moving `Depends(...)` into `Annotated` would put a parameter without a "
                "default after one with a default: reorder the parameters by hand",
            )
            return updated
        self.edit.applied.add("ET303")
        self.edit.imports.append("from typing import Annotated")
        # the `*` is laid out as the parameters are: on a line of its own in a tall list
        between = next(
            (p.comma.whitespace_after for p in converted if isinstance(p.comma, cst.Comma)),
            cst.SimpleWhitespace(" "),
        )
        star = updated.star_arg
        if not isinstance(star, cst.ParamStar):
            star = cst.ParamStar(comma=cst.Comma(whitespace_after=between))
        moved = converted[keep:]
        if moved and updated.kwonly_params and moved[-1].comma == cst.MaybeSentinel.DEFAULT:
            moved[-1] = moved[-1].with_changes(comma=cst.Comma(whitespace_after=between))
        return updated.with_changes(
            params=converted[:keep],
            star_arg=star,
            kwonly_params=[*moved, *(self._convert(p) for p in updated.kwonly_params)],
        )

    def _convert(self, param: cst.Param) -> cst.Param:
        default = param.default
        if param.annotation is None or not isinstance(default, cst.Call):
            return param
        spelled = get_full_name_for_node(default.func) or ""
        owner, _, name = spelled.rpartition(".")
        if name not in DEPENDS and name not in PARAMS:
            return param
        if (owner not in self.modules) if owner else (name not in self.markers):
            return param  # `pathlib.Path("data.json")`: not FastAPI's `Path`
        marker, value = (default, None) if name in DEPENDS else _split_default(default)
        annotated = cst.Subscript(
            cst.Name("Annotated"),
            [
                cst.SubscriptElement(
                    cst.Index(param.annotation.annotation),
                    comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
                ),
                cst.SubscriptElement(cst.Index(marker)),
            ],
        )
        return param.with_changes(
            annotation=param.annotation.with_changes(annotation=annotated),
            default=value,
            equal=cst.MaybeSentinel.DEFAULT,
        )


def _split_default(call: cst.Call) -> tuple[cst.Call, cst.BaseExpression | None]:
    """``Query(None, max_length=5)`` -> (``Query(max_length=5)``, ``None``); the default of
    ``Query(...)`` (required) or ``Query(max_length=5)`` is None: the parameter has none."""
    value: cst.BaseExpression | None = None
    kept: list[cst.Arg] = []
    for at, arg in enumerate(call.args):
        is_default = (at == 0 and arg.keyword is None and not arg.star) or (
            arg.keyword is not None and arg.keyword.value == "default"
        )
        if is_default and value is None:
            value = arg.value
        else:
            kept.append(arg)
    if kept:
        kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    if isinstance(value, cst.Ellipsis):
        value = None
    return call.with_changes(args=kept), value


def _annotated(wrapper: MetadataWrapper, ctx: RewriteContext, edit: Edit) -> cst.Module:
    """FastAPI's markers: imported from it, or not bound in the block at all (a fragment's
    `Depends`; the rule matched it by name); never a name bound otherwise (pathlib's `Path`)."""
    module = wrapper.module
    scope = global_names(wrapper)
    imported = {
        local
        for origin in ("fastapi", "fastapi.params", "fastapi.param_functions")
        for local, name in imported_from(module, origin).items()
        if name in (*DEPENDS, *PARAMS)
    }
    unbound = {name for name in (*DEPENDS, *PARAMS) if name not in scope}
    modules = module_aliases(module, "fastapi") | ({"fastapi"} if "fastapi" not in scope else set())
    return wrapper.visit(_AnnotatedDepends(edit, frozenset(imported | unbound), frozenset(modules)))


_EVENTS = ("startup", "shutdown")


def _lifespan(wrapper: MetadataWrapper, ctx: RewriteContext, edit: Edit) -> cst.Module:
    module = wrapper.module
    body = list(module.body)
    apps = [i for i, stmt in enumerate(body) if _app_name(stmt)]
    handlers: dict[str, list[tuple[str, bool]]] = {event: [] for event in _EVENTS}
    changed: dict[int, cst.FunctionDef] = {}

    def refuse(why: str) -> cst.Module:
        edit.notes.append(f"ET301: {why}; write the lifespan by hand")
        return module

    code = source_of(module)
    if len(apps) != 1 or "lifespan" in code:
        return refuse("not one FastAPI() app without a lifespan")
    app = _app_name(body[apps[0]])
    for i, stmt in enumerate(body):
        if not isinstance(stmt, cst.FunctionDef):
            continue
        kept: list[cst.Decorator] = []
        for dec in stmt.decorators:
            event = _event_of(dec, app)
            if event is None:
                kept.append(dec)
                continue
            params = stmt.params
            star = not isinstance(params.star_arg, cst.MaybeSentinel)
            if i < apps[0] or event not in _EVENTS or params.params or star:
                return refuse(f"an `on_event({event!r})` handler this rewrite does not move")
            handlers[event].append((stmt.name.value, stmt.asynchronous is not None))
        if len(kept) != len(stmt.decorators):
            changed[i] = stmt.with_changes(decorators=kept)
    if not changed or ".on_event(" in "".join(
        module.code_for_node(s) for i, s in enumerate(body) if i not in changed
    ):
        return module if not changed else refuse("an `on_event` this rewrite does not move")

    def calls(event: str) -> str:
        return "".join(
            f"    {'await ' if is_async else ''}{name}()\n" for name, is_async in handlers[event]
        )

    assign = body[apps[0]]
    assert isinstance(assign, cst.SimpleStatementLine) and isinstance(assign.body[0], cst.Assign)
    call = assign.body[0].value
    assert isinstance(call, cst.Call)
    lifespan = cst.parse_statement(
        f"@asynccontextmanager\nasync def lifespan(app: {module.code_for_node(call.func)}):\n"
        f"{calls('startup')}    yield\n{calls('shutdown')}"
    )
    made = assign.with_changes(
        body=[
            assign.body[0].with_changes(value=append_kwarg(call, "lifespan", cst.Name("lifespan")))
        ]
    )
    out: list[cst.BaseStatement] = []
    for i, stmt in enumerate(body):
        if i == apps[0]:
            spacing = [cst.EmptyLine(), cst.EmptyLine()]
            lead = list(assign.leading_lines)
            blank = sum(1 for line in lead if line.comment is None)
            if i and blank < 2:  # a function after other code: two blank lines, as PEP 8 has
                lead = [cst.EmptyLine()] * (2 - blank) + lead
            out.append(lifespan.with_changes(leading_lines=lead))
            out.append(made.with_changes(leading_lines=spacing))
        else:
            out.append(changed.get(i, stmt))
    edit.applied.add("ET301")
    edit.imports.append("from contextlib import asynccontextmanager")
    return module.with_changes(body=out)


def _app_name(stmt: cst.BaseStatement) -> str | None:
    """``app = FastAPI(...)`` -> ``"app"``."""
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return None
    small = stmt.body[0]
    if (
        isinstance(small, cst.Assign)
        and len(small.targets) == 1
        and isinstance(small.targets[0].target, cst.Name)
        and isinstance(small.value, cst.Call)
        and (get_full_name_for_node(small.value.func) or "").rsplit(".", 1)[-1] == "FastAPI"
    ):
        return small.targets[0].target.value
    return None


def _event_of(dec: cst.Decorator, app: str | None) -> str | None:
    """``@app.on_event("startup")`` -> ``"startup"``; ``"?"`` for another receiver's or a
    non-literal event; None for any other decorator."""
    call = dec.decorator
    if not (
        isinstance(call, cst.Call)
        and isinstance(call.func, cst.Attribute)
        and call.func.attr.value == "on_event"
    ):
        return None
    literal = call.args[0].value if len(call.args) == 1 else None
    if not (isinstance(call.func.value, cst.Name) and call.func.value.value == app):
        return "?"
    if not isinstance(literal, cst.SimpleString):
        return "?"
    return literal.raw_value


class _RenamedStatus(PassTransformer):
    def leave_Attribute(
        self, original_node: cst.Attribute, updated_node: cst.Attribute
    ) -> cst.Attribute:
        new = renamed_statuses().get(updated_node.attr.value)
        receiver = get_full_name_for_node(updated_node.value) or ""
        if new is None or receiver.rsplit(".", 1)[-1] != "status":
            return updated_node
        self.edit.applied.add("ET306")
        return updated_node.with_changes(attr=cst.Name(new))


def _status(wrapper: MetadataWrapper, ctx: RewriteContext, edit: Edit) -> cst.Module:
    return wrapper.visit(_RenamedStatus(edit))


class _RequestFirst(PassTransformer):
    def __init__(self, edit: Edit, lines: frozenset[int]) -> None:
        super().__init__(edit)
        self.lines = lines  # where ET307 finds such calls (`name_first_calls`)

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        func = updated_node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "TemplateResponse"):
            return updated_node
        if self.position(original_node).start.line not in self.lines:
            return updated_node
        args = list(updated_node.args)
        named = {a.keyword.value: i for i, a in enumerate(args) if a.keyword is not None}
        first = 0 if args and args[0].keyword is None else named.get("name")
        if first is None or "request" in named:
            return updated_node
        if not isinstance(args[first].value, cst.SimpleString | cst.FormattedString):
            return updated_node
        positional = first == 0 and len(args) > 1 and args[1].keyword is None
        at = named.get("context", 1 if positional else None)
        context = args[at].value if at is not None else None
        entry = next(
            (
                e
                for e in (context.elements if isinstance(context, cst.Dict) else ())
                if isinstance(e, cst.DictElement)
                and isinstance(e.key, cst.SimpleString)
                and e.key.raw_value == "request"
            ),
            None,
        )
        if at is None or entry is None or not isinstance(context, cst.Dict):
            self.note("ET307", original_node, "no literal context with a `request` entry")
            return updated_node
        # each argument keeps the place (and the commas, the line breaks, the comments) it had
        rest = [e for e in context.elements if e is not entry]
        closing = context.rbrace
        if rest and context.elements[-1] is entry:  # its comment is the closing brace's
            mine = rest[-1].comma
            rest[-1] = rest[-1].with_changes(comma=entry.comma)
            before = closing.whitespace_before
            own = getattr(mine, "whitespace_after", None)
            if isinstance(own, cst.ParenthesizedWhitespace) and isinstance(
                before, cst.ParenthesizedWhitespace
            ):
                closing = closing.with_changes(
                    whitespace_before=before.with_changes(first_line=own.first_line)
                )
        request = args[first].with_changes(value=entry.value, comma=_bare(args[first].comma))
        if args[first].keyword is not None:  # `name="page.html"`: `request=request` before it
            request = request.with_changes(keyword=cst.Name("request"))
        keep = bool(rest) or any(a.keyword is None for a in args[at + 1 :])  # a status code
        out = []
        for i, arg in enumerate(args):
            if i == first:
                out.append(request)
            if i != at:
                out.append(arg)
            elif keep:
                kept = context.with_changes(elements=rest, rbrace=closing)
                out.append(arg.with_changes(value=kept))
        if not keep and at == len(args) - 1:  # the context went: the new last takes its end
            gone = args[at]
            if isinstance(gone.comma, cst.Comma):
                out[-1] = out[-1].with_changes(comma=_joined(out[-1].comma, gone.comma))
            else:  # no trailing comma: its line break before `)`, and the new last's comment
                end = gone.whitespace_after_arg
                own = getattr(out[-1].comma, "whitespace_after", None)
                if isinstance(end, cst.ParenthesizedWhitespace):
                    own_line = (
                        own.first_line if isinstance(own, cst.ParenthesizedWhitespace) else None
                    )
                    end = end.with_changes(first_line=own_line or cst.TrailingWhitespace())
                out[-1] = out[-1].with_changes(
                    comma=cst.MaybeSentinel.DEFAULT, whitespace_after_arg=end
                )
        self.edit.applied.add("ET307")
        return updated_node.with_changes(args=out)


def _bare(comma: cst.Comma | cst.MaybeSentinel) -> cst.Comma | cst.MaybeSentinel:
    """A copy of an argument's comma for a new argument: its line break, not its comment."""
    if isinstance(comma, cst.Comma) and isinstance(
        comma.whitespace_after, cst.ParenthesizedWhitespace
    ):
        after = comma.whitespace_after.with_changes(first_line=cst.TrailingWhitespace())
        return comma.with_changes(whitespace_after=after)
    return comma


def _joined(own: cst.Comma | cst.MaybeSentinel, gone: cst.Comma) -> cst.Comma:
    """The comma of what is last once the item after it is gone: its own comment, and the
    removed item's end (a trailing comma or none, the closing bracket's line)."""
    mine, theirs = getattr(own, "whitespace_after", None), gone.whitespace_after
    if isinstance(mine, cst.ParenthesizedWhitespace) and isinstance(
        theirs, cst.ParenthesizedWhitespace
    ):
        end = mine.with_changes(indent=theirs.indent, last_line=theirs.last_line)
        return gone.with_changes(whitespace_after=end)
    return gone


def _request_first(wrapper: MetadataWrapper, ctx: RewriteContext, edit: Edit) -> cst.Module:
    tree = ast.parse(wrapper.module.code)
    lines = frozenset(call.lineno for call in name_first_calls(list(ast.walk(tree))))
    return wrapper.visit(_RequestFirst(edit, lines))


PASSES: tuple[Pass, ...] = (
    Pass(("ET301",), _lifespan, (".on_event(",)),
    Pass(("ET303", "FAST002"), _annotated, tuple(f"{name}(" for name in (*DEPENDS, *PARAMS))),
    Pass(("ET306", "StarletteDeprecationWarning"), _status, ("status.HTTP_",)),
    Pass(("ET307",), _request_first, (".TemplateResponse(",)),
)


def rewrite(code: str, ctx: RewriteContext) -> Rewrite:
    return run_passes(code, ctx, PASSES)
