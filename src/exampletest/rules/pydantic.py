"""Pydantic V1 APIs in a V2 world (ET101-ET115).

Facts checked on pydantic 2.14: ``from pydantic import BaseSettings``, ``__root__`` fields,
``Field(regex=/const=/unique_items=)``, ``conlist(min_items=)``/``constr(regex=)`` and a
``@root_validator`` without ``skip_on_failure=True`` raise; the rest warns
``PydanticDeprecatedSince20`` (renamed config keys: a plain ``UserWarning``) and still runs.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from exampletest.model import Category
from exampletest.rules.base import TEXTUAL_NOTE, Context, Hit, dotted, is_true, keyword, rule

V2 = ">=2.0"
STALE, BROKEN = Category.STALE, Category.BROKEN

_BASE_MODELS = (
    "pydantic.BaseModel",
    "pydantic.main.BaseModel",
    "pydantic.RootModel",
    "pydantic.generics.GenericModel",
    "pydantic_settings.BaseSettings",
    "pydantic.BaseSettings",
    "sqlmodel.SQLModel",
)
_SETTINGS_BASES = ("pydantic_settings.BaseSettings", "pydantic.BaseSettings")


def _models(ctx: Context) -> dict[str, ast.ClassDef]:
    """Classes the block defines that are Pydantic models (directly or via another model)."""
    classes = [n for n in ctx.walk(ast.ClassDef) if isinstance(n, ast.ClassDef)]
    found: dict[str, ast.ClassDef] = {}
    changed = True
    while changed:
        changed = False
        for cls in classes:
            if cls.name not in found and any(
                _base_name(b) in found or ctx.matches(_unsubscript(b), _BASE_MODELS)
                for b in cls.bases
            ):
                found[cls.name] = cls
                changed = True
    return found


def _settings(ctx: Context, models: dict[str, ast.ClassDef]) -> set[str]:
    out: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, cls in models.items():
            if name not in out and any(
                _base_name(b) in out or ctx.matches(b, _SETTINGS_BASES) for b in cls.bases
            ):
                out.add(name)
                changed = True
    return out


def _unsubscript(node: ast.expr) -> ast.expr:
    return node.value if isinstance(node, ast.Subscript) else node


def _base_name(node: ast.expr) -> str | None:
    node = _unsubscript(node)
    return node.id if isinstance(node, ast.Name) else None


def _decorator_call(dec: ast.expr) -> tuple[ast.expr, ast.Call | None]:
    return (dec.func, dec) if isinstance(dec, ast.Call) else (dec, None)


def _note(ctx: Context, node: ast.AST) -> str:
    return TEXTUAL_NOTE if ctx.is_textual(node) else ""


# --- validators ---------------------------------------------------------------------------


@rule(
    "ET101",
    "Pydantic V1 @validator",
    STALE,
    "pydantic",
    V2,
    "@field_validator",
)
def validator(ctx: Context) -> Iterator[Hit]:
    for fn in ctx.walk(ast.FunctionDef, ast.AsyncFunctionDef):
        assert isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
        for dec in fn.decorator_list:
            func, call = _decorator_call(dec)
            if not ctx.matches(func, ("pydantic.validator", "pydantic.class_validators.validator")):
                continue
            advice = ["decorate with @field_validator(<fields>) and @classmethod"]
            unknown = [
                k.arg for k in (call.keywords if call else []) if k.arg not in _VALIDATOR_KWARGS
            ]
            if call is not None:
                if is_true(_kw(call, "pre")):
                    advice.append('pre=True becomes mode="before"')
                if is_true(_kw(call, "always")):
                    advice.append("always=True becomes Field(validate_default=True) on the field")
                if is_true(_kw(call, "each_item")):
                    advice.append(
                        "each_item=True has no equivalent: validate the items with "
                        "Annotated[item_type, AfterValidator(func)] in the field type"
                    )
                if _kw(call, "allow_reuse") is not None:
                    advice.append("drop allow_reuse (not needed in V2)")
            params = [a.arg for a in fn.args.args + fn.args.kwonlyargs]
            if "values" in params:
                advice.append(
                    "the `values` parameter becomes `info: ValidationInfo`: read info.data"
                )
            if "field" in params:
                advice.append("the `field` parameter becomes info.field_name")
            if "config" in params:
                advice.append("the `config` parameter is gone: use cls.model_config")
            message = (
                "`@validator` is the Pydantic V1 API, deprecated in V2: use `@field_validator`"
            )
            broken = bool(unknown) and ctx.at_least("pydantic", "2.0")
            if broken:
                message += (
                    f"; `validator()` has no {', '.join(map(str, unknown))} argument: TypeError"
                )
            yield Hit(
                dec,
                message + _note(ctx, func),
                suggestion="; ".join(advice),
                category=BROKEN if broken else None,
            )


_VALIDATOR_KWARGS = frozenset({"pre", "each_item", "always", "check_fields", "allow_reuse"})


def _kw(call: ast.Call, name: str) -> ast.expr | None:
    k = keyword(call, name)
    return k.value if k else None


@rule(
    "ET102",
    "Pydantic V1 @root_validator",
    STALE,
    "pydantic",
    V2,
    "@model_validator",
)
def root_validator(ctx: Context) -> Iterator[Hit]:
    for fn in ctx.walk(ast.FunctionDef, ast.AsyncFunctionDef):
        assert isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
        for dec in fn.decorator_list:
            func, call = _decorator_call(dec)
            if not ctx.matches(
                func, ("pydantic.root_validator", "pydantic.class_validators.root_validator")
            ):
                continue
            pre = call is not None and is_true(_kw(call, "pre"))
            skip = call is not None and is_true(_kw(call, "skip_on_failure"))
            if pre:
                advice = (
                    '@model_validator(mode="before") on a @classmethod; it receives the raw '
                    "input (not always a dict)"
                )
            else:
                advice = (
                    '@model_validator(mode="after"): an instance method that receives the model '
                    "(self), not a values dict, and returns self"
                )
            broken = not pre and not skip and ctx.at_least("pydantic", "2.0")
            message = (
                "`@root_validator` is the Pydantic V1 API, deprecated in V2: use `@model_validator`"
            )
            if broken:
                message += (
                    "; without pre=True or skip_on_failure=True it raises PydanticUserError "
                    "when the class is created"
                )
            yield Hit(
                dec,
                message + _note(ctx, func),
                suggestion=advice,
                category=BROKEN if broken else None,
            )


# --- config -------------------------------------------------------------------------------

#: V1 config key -> (V2 key or None when removed, advice)
_CONFIG_KEYS: dict[str, tuple[str | None, str]] = {
    "orm_mode": ("from_attributes", ""),
    "allow_population_by_field_name": ("validate_by_name", ""),
    "schema_extra": ("json_schema_extra", ""),
    "anystr_strip_whitespace": ("str_strip_whitespace", ""),
    "anystr_lower": ("str_to_lower", ""),
    "anystr_upper": ("str_to_upper", ""),
    "min_anystr_length": ("str_min_length", ""),
    "max_anystr_length": ("str_max_length", ""),
    "validate_all": ("validate_default", ""),
    "keep_untouched": ("ignored_types", ""),
    "allow_mutation": ("frozen", "with the opposite value (allow_mutation=False -> frozen=True)"),
    "underscore_attrs_are_private": (None, "private attributes are always private in V2"),
    "fields": (None, "set aliases and constraints with Field(...) on each field"),
    "smart_union": (None, "smart union mode is the V2 default"),
    "copy_on_model_validation": (None, "use revalidate_instances"),
    "error_msg_templates": (None, "customise errors by catching ValidationError"),
    "getter_dict": (None, "use from_attributes"),
    "json_loads": (None, "V2 parses JSON in pydantic-core"),
    "json_dumps": (None, "V2 serializes JSON in pydantic-core"),
    "post_init_call": (None, "use model_post_init"),
}
_CONFIG_FACTORIES = (
    "pydantic.ConfigDict",
    "pydantic.config.ConfigDict",
    "pydantic_settings.SettingsConfigDict",
)


def _config_classes(ctx: Context) -> Iterator[tuple[ast.ClassDef, ast.ClassDef]]:
    """(model, its ``class Config``) pairs."""
    for model in _models(ctx).values():
        for stmt in model.body:
            if isinstance(stmt, ast.ClassDef) and stmt.name == "Config":
                yield model, stmt


def _config_keys(ctx: Context) -> Iterator[tuple[str, ast.AST]]:
    """Every config key the block sets on a model, with the node that sets it."""
    for _, config in _config_classes(ctx):
        for stmt in config.body:
            targets: list[ast.expr] = []
            if isinstance(stmt, ast.Assign):
                targets = stmt.targets
            elif isinstance(stmt, ast.AnnAssign):
                targets = [stmt.target]
            for t in targets:
                if isinstance(t, ast.Name):
                    yield t.id, t
    for call in ctx.calls():
        if ctx.matches(call.func, _CONFIG_FACTORIES):
            for k in call.keywords:
                if k.arg:
                    yield k.arg, k
    for model in _models(ctx).values():
        for k in model.keywords:  # class M(BaseModel, orm_mode=True)
            if k.arg:
                yield k.arg, k
        for stmt in model.body:
            if (
                isinstance(stmt, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "model_config" for t in stmt.targets)
                and isinstance(stmt.value, ast.Dict)
            ):
                for key in stmt.value.keys:
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        yield key.value, key


@rule(
    "ET103",
    "class Config inside a Pydantic model",
    STALE,
    "pydantic",
    V2,
    "model_config = ConfigDict(...) / SettingsConfigDict(...)",
)
def config_class(ctx: Context) -> Iterator[Hit]:
    settings = _settings(ctx, _models(ctx))
    for model, config in _config_classes(ctx):
        factory = "SettingsConfigDict" if model.name in settings else "ConfigDict"
        module = "pydantic_settings" if model.name in settings else "pydantic"
        yield Hit(
            config,
            "class-based `Config` is deprecated in Pydantic V2: "
            f"use `model_config = {factory}(...)`",
            suggestion=(
                f"replace `class Config:` with `model_config = {factory}(...)` "
                f"(from {module} import {factory}), renaming V1 keys"
            ),
        )


@rule(
    "ET104",
    "Pydantic config key renamed or removed in V2",
    STALE,
    "pydantic",
    V2,
    "the V2 config key (from_attributes, validate_by_name, json_schema_extra, …)",
)
def config_keys(ctx: Context) -> Iterator[Hit]:
    by_name = "validate_by_name" if ctx.at_least("pydantic", "2.11") else "populate_by_name"
    for key, node in _config_keys(ctx):
        if key not in _CONFIG_KEYS:
            continue
        new, advice = _CONFIG_KEYS[key]
        if key == "allow_population_by_field_name":
            new = by_name
        if new:
            message = f"config key `{key}` was renamed to `{new}` in Pydantic V2"
            suggestion = f"use `{new}`" + (f" {advice}" if advice else "")
        else:
            message = f"config key `{key}` was removed in Pydantic V2"
            suggestion = f"remove `{key}`: {advice}"
        yield Hit(
            node,
            message + "; V2 ignores the old key and warns 'Valid config keys have changed in V2'",
            suggestion=suggestion,
        )


@rule(
    "ET105",
    "json_encoders config",
    STALE,
    "pydantic",
    V2,
    "@field_serializer / PlainSerializer",
)
def json_encoders(ctx: Context) -> Iterator[Hit]:
    for key, node in _config_keys(ctx):
        if key == "json_encoders":
            yield Hit(
                node,
                "`json_encoders` is deprecated in Pydantic V2: use `@field_serializer` or "
                "`Annotated[T, PlainSerializer(func)]`",
                suggestion=(
                    "serialize per field with @field_serializer('field'), or per type with "
                    "Annotated[T, PlainSerializer(func, when_used='json')]"
                ),
            )


# --- imports and classes ------------------------------------------------------------------


@rule(
    "ET106",
    "BaseSettings imported from pydantic",
    BROKEN,
    "pydantic",
    V2,
    "from pydantic_settings import BaseSettings",
)
def base_settings(ctx: Context) -> Iterator[Hit]:
    message = (
        "`BaseSettings` moved to the `pydantic-settings` package in Pydantic V2: importing it "
        "from pydantic raises PydanticImportError"
    )
    suggestion = "pip install pydantic-settings; from pydantic_settings import BaseSettings"
    for node, _ in ctx.references("pydantic", ["BaseSettings"]):
        yield Hit(node, message, suggestion=suggestion)


@rule(
    "ET111",
    "__root__ field",
    BROKEN,
    "pydantic",
    V2,
    "RootModel",
)
def root_field(ctx: Context) -> Iterator[Hit]:
    for model in _models(ctx).values():
        for stmt in model.body:
            if (
                isinstance(stmt, ast.AnnAssign)
                and isinstance(stmt.target, ast.Name)
                and stmt.target.id == "__root__"
            ):
                yield Hit(
                    stmt,
                    "a `__root__` field is Pydantic V1: V2 raises PydanticUserError when the "
                    "class is created; use `RootModel`",
                    suggestion=(
                        f"class {model.name}(RootModel[<type>]): access .root instead of .__root__"
                    ),
                    category=BROKEN if ctx.at_least("pydantic", "2.0") else STALE,
                )


@rule(
    "ET112",
    "GenericModel",
    STALE,
    "pydantic",
    V2,
    "BaseModel + typing.Generic",
)
def generic_model(ctx: Context) -> Iterator[Hit]:
    message = (
        "`pydantic.generics.GenericModel` is deprecated in Pydantic V2: subclass "
        "`BaseModel, Generic[T]` directly"
    )
    suggestion = "class M(BaseModel, Generic[T]): ... (from typing import Generic)"
    for node, _ in ctx.references("pydantic.generics", ["GenericModel"]):
        yield Hit(node, message, suggestion=suggestion)


# --- model methods ------------------------------------------------------------------------

_METHODS = {
    "dict": "model_dump",
    "json": "model_dump_json",
    "copy": "model_copy",
    "construct": "model_construct",
    "schema": "model_json_schema",
    "schema_json": "model_json_schema (and json.dumps)",
    "update_forward_refs": "model_rebuild",
}
_CONSTRUCTORS = (
    "model_validate",
    "model_validate_json",
    "parse_obj",
    "parse_raw",
    "model_construct",
)
_NOT_MODEL_JSON = ("response", "resp", "res", "r", "req", "request", "reply")


def _instances(ctx: Context, models: dict[str, ast.ClassDef]) -> set[str]:
    """Names the block binds to model instances: ``m = Model(...)``, ``m: Model``."""
    out: set[str] = set()
    for name, values in ctx.assigned.items():
        if any(_model_call(v, models) for v in values):
            out.add(name)
    for name, hints in ctx.annotations.items():
        if any(_mentions_model(a, models) for a in hints):
            out.add(name)
    return out


def _model_call(value: ast.expr, models: dict[str, ast.ClassDef]) -> bool:
    if isinstance(value, ast.Await):
        value = value.value
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    if isinstance(func, ast.Name):
        return func.id in models
    return (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id in models
        and func.attr in _CONSTRUCTORS
    )


def _mentions_model(annotation: ast.expr, models: dict[str, ast.ClassDef]) -> bool:
    """``Model``, ``Model | None``, ``Optional[Model]`` (not containers of models)."""
    if isinstance(annotation, ast.Name):
        return annotation.id in models
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        return annotation.value in models
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        return _mentions_model(annotation.left, models) or _mentions_model(annotation.right, models)
    if isinstance(annotation, ast.Subscript) and dotted(annotation.value) in (
        "Optional",
        "typing.Optional",
    ):
        return _mentions_model(annotation.slice, models)
    return False


@rule(
    "ET109",
    "Pydantic V1 model methods",
    STALE,
    "pydantic",
    V2,
    "model_dump / model_dump_json / model_copy / model_construct / model_json_schema / "
    "model_rebuild",
)
def model_methods(ctx: Context) -> Iterator[Hit]:
    models = _models(ctx)
    instances = _instances(ctx, models)
    for call in ctx.calls():
        func = call.func
        if not isinstance(func, ast.Attribute) or func.attr not in _METHODS:
            continue
        receiver = func.value
        name = receiver.id if isinstance(receiver, ast.Name) else None
        new = _METHODS[func.attr]
        if name is not None and (name in models or name in instances):
            textual = ""
        elif _textual_model_call(ctx, call, func.attr, name):
            textual = (
                f" (textual match: `{name}` is not known to be a model here; if it is a dict "
                "or another object, ignore this)"
            )
        else:
            continue
        yield Hit(
            func,
            f"`.{func.attr}()` is the Pydantic V1 API, deprecated in V2: "
            f"use `.{new.split(' ')[0]}()`" + textual,
            suggestion=f"use .{new}",
            name_only=True,
        )


def _textual_model_call(ctx: Context, call: ast.Call, method: str, name: str | None) -> bool:
    """Unknown receiver: only a zero-argument ``.dict()``/``.json()`` on a plain name."""
    if name is None or method not in ("dict", "json") or call.args or call.keywords:
        return False
    if name in ctx.assigned or name in ctx.annotations:
        return False  # bound to something the block shows is not a model
    http_json = (
        name.lower() in _NOT_MODEL_JSON
        or "resp" in name.lower()
        or ctx.imports("requests", "httpx", "aiohttp", "urllib3", "fastapi.testclient")
    )
    return not (method == "json" and http_json)


@rule(
    "ET107",
    "Model.from_orm",
    STALE,
    "pydantic",
    V2,
    "Model.model_validate(obj) with from_attributes=True",
)
def from_orm(ctx: Context) -> Iterator[Hit]:
    for call in ctx.calls():
        if isinstance(call.func, ast.Attribute) and call.func.attr == "from_orm":
            yield Hit(
                call.func,
                "`.from_orm()` is the Pydantic V1 API, deprecated in V2: use "
                "`.model_validate(obj)` with `from_attributes=True` in the model config",
                suggestion=(
                    "Model.model_validate(obj) and model_config = ConfigDict(from_attributes=True) "
                    "(or Model.model_validate(obj, from_attributes=True))"
                ),
                name_only=True,
            )


_PARSERS = {
    "parse_obj": ("model_validate", "Model.model_validate(data)"),
    "parse_raw": ("model_validate_json", "Model.model_validate_json(text)"),
    "parse_file": (
        "model_validate_json",
        "Model.model_validate_json(Path(file).read_text())",
    ),
}


@rule(
    "ET108",
    "Model.parse_obj / parse_raw / parse_file",
    STALE,
    "pydantic",
    V2,
    "model_validate / model_validate_json",
)
def parsers(ctx: Context) -> Iterator[Hit]:
    models = _models(ctx)
    for call in ctx.calls():
        func = call.func
        if not isinstance(func, ast.Attribute) or func.attr not in _PARSERS:
            continue
        receiver = func.value
        if not isinstance(receiver, ast.Name):
            continue
        textual = ""
        if receiver.id not in models:
            if not receiver.id[:1].isupper():
                continue  # only class-like receivers when the block does not define the model
            textual = f" (textual match: `{receiver.id}` is not defined in this block)"
        new, example = _PARSERS[func.attr]
        yield Hit(
            func,
            f"`.{func.attr}()` is the Pydantic V1 API, deprecated in V2: use `.{new}()`" + textual,
            suggestion=example,
            name_only=True,
        )


@rule(
    "ET110",
    "__fields__",
    STALE,
    "pydantic",
    V2,
    "model_fields",
)
def dunder_fields(ctx: Context) -> Iterator[Hit]:
    for node in ctx.walk(ast.Attribute):
        if isinstance(node, ast.Attribute) and node.attr == "__fields__":
            yield Hit(
                node,
                "`__fields__` is the Pydantic V1 API, deprecated in V2: use `model_fields` "
                "(on the class)",
                suggestion="Model.model_fields (a dict of FieldInfo)",
                name_only=True,
            )


# --- types and fields ---------------------------------------------------------------------

_CON_TYPES = (
    "constr",
    "conint",
    "confloat",
    "conlist",
    "conset",
    "confrozenset",
    "condecimal",
    "conbytes",
    "condate",
)
#: the constrained-type functions whose V2 docstring says "discouraged" (pydantic 2.14); the
#: others (conlist, conset, …) are current unless given V1 keyword arguments
_CON_DISCOURAGED = frozenset({"constr", "conint", "confloat", "condecimal"})
#: What each v1 keyword of the constrained types is called in v2 (None: gone).
CON_KWARGS = {
    "min_items": "min_length",
    "max_items": "max_length",
    "regex": "pattern",
    "unique_items": None,
    "curtail_length": None,
}


@rule(
    "ET113",
    "constr/conint/conlist… constrained types",
    STALE,
    "pydantic",
    V2,
    "Annotated[T, Field(...)] / Annotated[str, StringConstraints(...)]",
)
def con_types(ctx: Context) -> Iterator[Hit]:
    qualnames = [f"pydantic.{n}" for n in _CON_TYPES] + [f"pydantic.types.{n}" for n in _CON_TYPES]
    for call in ctx.calls():
        if not ctx.matches(call.func, qualnames):
            continue
        fname = dotted(call.func) or "con"
        short = fname.rsplit(".", 1)[-1]
        removed = [k.arg for k in call.keywords if k.arg in CON_KWARGS]
        if not removed and short not in _CON_DISCOURAGED:
            continue
        target = (
            "Annotated[str, StringConstraints(...)]"
            if short in ("constr", "conbytes")
            else "Annotated[T, Field(...)]"
        )
        message = (
            f"`{short}()` is discouraged in Pydantic V2: use `{target}`"
            if short in _CON_DISCOURAGED
            else f"`{short}()` takes V2 keyword arguments"
        )
        category = None
        if removed:
            renames = ", ".join(
                f"{k} -> {CON_KWARGS[k]}" if CON_KWARGS[k] else f"{k} (removed)"
                for k in removed
                if k
            )
            message += f"; its V1 keyword arguments are gone ({renames}) and raise TypeError"
            category = BROKEN if ctx.at_least("pydantic", "2.0") else None
        yield Hit(
            call,
            message + _note(ctx, call.func),
            suggestion=f"use {target}",
            category=category,
        )


_FIELD_V2 = frozenset(
    [
        "alias",
        "alias_priority",
        "allow_inf_nan",
        "coerce_numbers_to_str",
        "decimal_places",
        "default",
        "default_factory",
        "deprecated",
        "description",
        "discriminator",
        "examples",
        "exclude",
        "exclude_if",
        "extra",
        "fail_fast",
        "field_title_generator",
        "frozen",
        "ge",
        "gt",
        "init",
        "init_var",
        "json_schema_extra",
        "kw_only",
        "le",
        "lt",
        "max_digits",
        "max_length",
        "min_length",
        "multiple_of",
        "pattern",
        "repr",
        "serialization_alias",
        "strict",
        "title",
        "union_mode",
        "validate_default",
        "validation_alias",
    ]
)
_FIELD_RENAMED = {
    "regex": ("pattern", True),
    "const": ("a Literal[...] type", True),
    "unique_items": ("a set type", True),
    "min_items": ("min_length", False),
    "max_items": ("max_length", False),
    "allow_mutation": ("frozen (inverted)", False),
    "example": ("examples=[...]", False),
    "env": ("validation_alias (pydantic-settings)", False),
}


@rule(
    "ET114",
    "Field() V1 keyword arguments",
    STALE,
    "pydantic",
    V2,
    "pattern=, min_length=, max_length=, frozen=, json_schema_extra=",
)
def field_kwargs(ctx: Context) -> Iterator[Hit]:
    removed_ok = ctx.at_least("pydantic", "2.0")
    for call in ctx.calls():
        if ctx.qualname(call.func) not in ("pydantic.Field", "pydantic.fields.Field"):
            continue
        for k in call.keywords:
            if k.arg is None or k.arg in _FIELD_V2:
                continue
            new, raises = _FIELD_RENAMED.get(k.arg, ("json_schema_extra={...}", False))
            if raises:
                message = (
                    f"`Field({k.arg}=...)` was removed in Pydantic V2 and raises "
                    f"PydanticUserError: use {new}"
                )
            elif k.arg in _FIELD_RENAMED:
                message = f"`Field({k.arg}=...)` is deprecated in Pydantic V2: use {new}"
            else:
                message = (
                    f"extra keyword `{k.arg}=` on `Field()` is deprecated in Pydantic V2: "
                    "put it in json_schema_extra"
                )
            yield Hit(
                k,
                message,
                suggestion=f"replace {k.arg}= with {new}",
                category=BROKEN if raises and removed_ok else None,
            )


@rule(
    "ET115",
    "parse_obj_as",
    STALE,
    "pydantic",
    V2,
    "TypeAdapter(T).validate_python / validate_json",
)
def parse_obj_as(ctx: Context) -> Iterator[Hit]:
    methods = {
        "parse_obj_as": "validate_python(data)",
        "parse_raw_as": "validate_json(text)",
        "parse_file_as": "validate_json(Path(file).read_text())",
    }
    for call in ctx.calls():
        for name, method in methods.items():
            if ctx.matches(call.func, (f"pydantic.{name}", f"pydantic.tools.{name}")):
                yield Hit(
                    call.func,
                    f"`{name}()` is deprecated in Pydantic V2: use `TypeAdapter(T).{method}`"
                    + _note(ctx, call.func),
                    suggestion=f"from pydantic import TypeAdapter; TypeAdapter(T).{method}",
                )
