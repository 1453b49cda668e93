"""Pydantic v1 idioms rewritten to their v2 equivalents, one pass per rule id.

A method call is renamed only when its receiver is known to be a model (a class of this code or
of ``RewriteContext.known_models``, an instance built from one, a parameter annotated with one):
``.json()`` on a ``requests`` response must stay as it is.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TypeVar

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import (
    Assignment,
    MetadataWrapper,
    Scope,
    ScopeProvider,
)

from exampletest.fix.base import (
    Edit,
    Pass,
    PassTransformer,
    Rewrite,
    RewriteContext,
    global_names,
    imported_from,
    parent_map,
    per_tree,
    run_passes,
)
from exampletest.fix.imports import is_docstring
from exampletest.rules.pydantic import CON_KWARGS

__all__ = ["Rewrite", "RewriteContext", "rewrite"]

_T = TypeVar("_T", bound=cst.CSTNode)
_MODEL_BASES = frozenset({"BaseModel", "GenericModel"})
_SETTINGS_BASE = "BaseSettings"

#: v1 config keys and their v2 names (pydantic's own table, except populate_by_name, which
#: every 2.x release accepts while validate_by_name needs 2.11).
RENAMED_KEYS = {
    "allow_population_by_field_name": "populate_by_name",
    "anystr_lower": "str_to_lower",
    "anystr_strip_whitespace": "str_strip_whitespace",
    "anystr_upper": "str_to_upper",
    "keep_untouched": "ignored_types",
    "max_anystr_length": "str_max_length",
    "min_anystr_length": "str_min_length",
    "orm_mode": "from_attributes",
    "schema_extra": "json_schema_extra",
    "validate_all": "validate_default",
}
#: Removed keys whose v1 value ``True`` is what v2 always does.
NOOP_WHEN_TRUE = frozenset({"smart_union", "underscore_attrs_are_private"})
REMOVED_KEYS = {
    "fields": "declare aliases with Field(alias=...) on the fields instead",
    "copy_on_model_validation": "v2 uses revalidate_instances, with different values",
    "getter_dict": "v2 reads attributes with from_attributes=True",
    "json_loads": "v2 parses JSON itself; pre-process the input instead",
    "json_dumps": "v2 serializes JSON itself; post-process model_dump_json() instead",
    "error_msg_templates": "customize errors in a wrapping validator instead",
    "post_init_call": "v2 always calls model_post_init after validation",
    "smart_union": "v2 unions are smart by default; left_to_right needs Field(union_mode=...)",
    "underscore_attrs_are_private": "v2 treats _names as private attributes",
    "allow_mutation": "use frozen=True",
}
#: Every key a v1 or v2 model or settings config has (v2's from pydantic 2.12 and
#: pydantic-settings 2.11). Anything else in a ``class Config`` is an attribute a library
#: reads from it (fastapi-jsonapi's ``model = "users"``), which ``ConfigDict`` does not take.
CONFIG_KEYS = frozenset(
    {
        *RENAMED_KEYS, *RENAMED_KEYS.values(), *REMOVED_KEYS,
        "alias_generator", "allow_inf_nan", "arbitrary_types_allowed", "cache_strings",
        "coerce_numbers_to_str", "defer_build", "extra", "field_title_generator", "frozen",
        "hide_input_in_errors", "ignored_types", "json_encoders", "json_schema_mode_override",
        "json_schema_serialization_defaults_required", "loc_by_alias", "model_title_generator",
        "plugin_settings", "protected_namespaces", "regex_engine", "revalidate_instances",
        "schema_generator", "ser_json_bytes", "ser_json_inf_nan", "ser_json_temporal",
        "ser_json_timedelta", "serialize_by_alias", "strict", "title", "use_attribute_docstrings",
        "use_enum_values", "val_json_bytes", "validate_assignment", "validate_by_alias",
        "validate_by_name", "validate_return", "validation_error_cause", "val_temporal_unit",
        "url_preserve_empty_path", "polymorphic_serialization",
        "case_sensitive", "env_file", "env_file_encoding", "env_ignore_empty",
        "env_nested_delimiter", "env_parse_enums", "env_parse_none_str", "env_prefix",
        "json_file", "secrets_dir", "toml_file", "yaml_file", "cli_parse_args", "cli_prog_name",
    }
)  # fmt: skip
_FIELD_KWARGS = {"regex": "pattern", "min_items": "min_length", "max_items": "max_length"}
_FIELD_NOTES = {
    "const": "use a Literal[...] annotation",
    "unique_items": "use a set annotation, or an AfterValidator that checks uniqueness",
    "env": "in pydantic-settings use Field(validation_alias=...)",
}
_CONSTRUCTORS = frozenset(
    {"parse_obj", "parse_raw", "from_orm", "model_validate", "model_validate_json"}
    | {"construct", "model_construct"}
)
#: Instance methods: v1 name -> (v2 name, keyword arguments both accept).
_INSTANCE_METHODS = {
    "dict": ("model_dump", frozenset({"include", "exclude", "by_alias"})),
    "json": ("model_dump_json", frozenset({"include", "exclude", "by_alias", "indent"})),
    "copy": ("model_copy", frozenset({"update", "deep"})),
}
_DUMP_FLAGS = frozenset({"exclude_unset", "exclude_defaults", "exclude_none"})
#: Class methods: v1 name -> (v2 name, keyword arguments both accept).
_CLASS_METHODS = {
    "construct": ("model_construct", None),
    "schema": ("model_json_schema", frozenset({"by_alias", "ref_template"})),
    "update_forward_refs": ("model_rebuild", frozenset[str]()),
}
_METHOD_NAMES = (*_INSTANCE_METHODS, *_CLASS_METHODS)


#: Annotations of a collection whose items are all of the one type it names.
_COLLECTIONS = frozenset({"list", "List", "Sequence", "Iterable", "set", "Set", "frozenset"})


def _last_name(expr: cst.BaseExpression) -> str | None:
    full = get_full_name_for_node(expr)
    return full.rsplit(".", 1)[-1] if full else None


def _string_value(expr: cst.BaseExpression) -> str | None:
    if isinstance(expr, cst.SimpleString):
        value = expr.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _is_true(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "True"


def _is_false(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "False"


def _kwarg(name: str, value: cst.BaseExpression, comma: cst.Comma | None = None) -> cst.Arg:
    return cst.Arg(
        value=value,
        keyword=cst.Name(name),
        equal=cst.AssignEqual(
            whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
        ),
        comma=comma or cst.MaybeSentinel.DEFAULT,
    )


def _find_kwarg(call: cst.Call, name: str) -> cst.Arg | None:
    return next((a for a in call.args if a.keyword and a.keyword.value == name), None)


def drop_args(call: cst.Call, drop: Callable[[cst.Arg], bool]) -> cst.Call:
    """``call`` without the arguments ``drop`` selects, keeping the layout of the others."""
    args = list(call.args)
    kept = [a for a in args if not drop(a)]
    if len(kept) == len(args):
        return call
    if kept and kept[-1] is not args[-1]:
        kept[-1] = kept[-1].with_changes(comma=args[-1].comma)
    return call.with_changes(args=kept)


def append_kwarg(call: cst.Call, name: str, value: cst.BaseExpression) -> cst.Call:
    """``call`` with ``name=value`` added last, laid out like the arguments already there."""
    args = list(call.args)
    if not args:
        return call.with_changes(args=[_kwarg(name, value)])
    last = args[-1]
    if len(args) > 1 and isinstance(args[-2].comma, cst.Comma):
        sep = args[-2].comma
    elif isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
        sep = cst.Comma(whitespace_after=call.whitespace_before_args)
    else:
        sep = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    trailing = last.comma if isinstance(last.comma, cst.Comma) else None
    args[-1] = last.with_changes(comma=sep)
    args.append(_kwarg(name, value, trailing))
    return call.with_changes(args=args)


def _rename_kwargs(call: cst.Call, names: dict[str, str]) -> cst.Call:
    return call.with_changes(
        args=[
            a.with_changes(keyword=cst.Name(names[a.keyword.value]))
            if a.keyword and a.keyword.value in names
            else a
            for a in call.args
        ]
    )


class Analysis:
    """What one module binds from pydantic and which of its classes are models."""

    def __init__(self, wrapper: MetadataWrapper, ctx: RewriteContext) -> None:
        self.module = wrapper.module
        self.ctx = ctx
        self._wrapper = wrapper
        self.parents = parent_map(wrapper.module)
        self.globals = global_names(wrapper)
        self.from_pydantic: dict[str, str] = {}  # local name -> pydantic member
        self.pydantic_modules: set[str] = set()  # local names of ``import pydantic``
        self.foreign: set[str] = set()  # names imported from anywhere else
        for imp in self.all(cst.Import):
            for alias in imp.names:
                full = get_full_name_for_node(alias.name) or ""
                local = alias.evaluated_alias or full.split(".")[0]
                (self.pydantic_modules if full == "pydantic" else self.foreign).add(local)
        for node in self.all(cst.ImportFrom):
            if isinstance(node.names, cst.ImportStar):
                continue
            origin = get_full_name_for_node(node.module) if node.module else None
            for alias in node.names:
                name = get_full_name_for_node(alias.name) or ""
                local = alias.evaluated_alias or name
                if not node.relative and origin in ("pydantic", "pydantic_settings"):
                    self.from_pydantic[local] = name
                else:
                    self.foreign.add(local)
        self.classes: dict[str, cst.ClassDef] = {c.name.value: c for c in self.all(cst.ClassDef)}
        self.models = set(ctx.known_models) | set(ctx.settings_classes)
        self.settings = set(ctx.settings_classes)
        changed = True
        while changed:
            changed = False
            for name, cls in self.classes.items():
                bases = [b.value for b in cls.bases]
                is_settings = any(
                    self.member(b) == _SETTINGS_BASE or _last_name(b) in self.settings
                    for b in bases
                )
                is_model = is_settings or any(
                    self.member(b) in _MODEL_BASES or _last_name(b) in self.models for b in bases
                )
                if is_settings and name not in self.settings:
                    self.settings.add(name)
                    changed = True
                if is_model and name not in self.models:
                    self.models.add(name)
                    changed = True

    @functools.cached_property
    def scopes(self) -> Mapping[cst.CSTNode, Scope | None]:
        """libcst's scope analysis, only for the passes that follow names to their values."""
        return self._wrapper.resolve(ScopeProvider)

    def all(self, kind: type[_T]) -> Iterator[_T]:
        """Every node of a kind, statements in source order (the parent map holds them all:
        walking the tree again through libcst's ``children`` would cost more)."""
        return (n for n in self.parents if isinstance(n, kind))

    def member(self, expr: cst.BaseExpression) -> str | None:
        """The pydantic member ``expr`` names: imported from pydantic, or never bound here."""
        if isinstance(expr, cst.Name):
            if expr.value in self.from_pydantic:
                return self.from_pydantic[expr.value]
            if expr.value in self.foreign or expr.value in self.globals:
                return None
            return expr.value
        if (
            isinstance(expr, cst.Attribute)
            and isinstance(expr.value, cst.Name)
            and expr.value.value in self.pydantic_modules
        ):
            return expr.attr.value
        return None

    def model_class(self, expr: cst.BaseExpression) -> str | None:
        if isinstance(expr, cst.Name) and expr.value in self.models:
            return expr.value
        if (  # ``schemas.TaskCreate``: the document's model, through its module
            isinstance(expr, cst.Attribute)
            and isinstance(expr.value, cst.Name)
            and expr.attr.value in self.models
        ):
            return expr.attr.value
        return None

    def class_of(self, node: cst.CSTNode) -> cst.ClassDef | None:
        """The class whose body directly holds ``node`` (a statement or a function)."""
        parent = self.parents.get(node)
        while parent is not None and not isinstance(parent, cst.ClassDef):
            if isinstance(parent, cst.FunctionDef | cst.Lambda):
                return None
            parent = self.parents.get(parent)
        return parent

    def is_model_classdef(self, cls: cst.ClassDef | None) -> bool:
        return cls is not None and cls.name.value in self.models

    def shown_alone(self, func: cst.FunctionDef) -> bool:
        """A model's method shown without its class (a cheat sheet's ``@validator`` under a
        heading of its own): a function at the top level whose first parameter is ``cls``."""
        params = func.params.params
        return (
            isinstance(self.parents.get(func), cst.Module)
            and bool(params)
            and params[0].name.value == "cls"
        )

    def referents(self, name: cst.Name) -> set[Assignment] | None:
        """The assignments a name read may refer to; None when it is not a plain read."""
        scope = self.scopes.get(name)
        if scope is None or name.value not in scope.accesses:
            return None
        found: set[Assignment] = set()
        for access in scope.accesses[name.value]:
            if access.node is name:
                found |= {a for a in access.referents if isinstance(a, Assignment)}
                if len(found) != len(access.referents):
                    return None
        return found or None

    def is_instance(self, expr: cst.BaseExpression, depth: int = 0) -> bool:
        """Whether ``expr`` is known to evaluate to an instance of a pydantic model."""
        if depth > 5:
            return False
        if isinstance(expr, cst.Call):
            func = expr.func
            if self.model_class(func):
                return True
            if isinstance(func, cst.Attribute):
                if func.attr.value in _CONSTRUCTORS and self.model_class(func.value):
                    return True
                if func.attr.value in ("copy", "model_copy"):
                    return self.is_instance(func.value, depth + 1)
            return False
        if isinstance(expr, cst.Name):
            referents = self.referents(expr)
            return bool(referents) and all(
                self._assigns_instance(a, depth) for a in referents or ()
            )
        return False

    def _annotation_is_model(self, annotation: cst.Annotation | None) -> bool:
        if annotation is None:
            return False
        ann = annotation.annotation
        text = _string_value(ann)
        return (text in self.models) if text is not None else bool(self.model_class(ann))

    def _assigns_instance(self, assignment: Assignment, depth: int) -> bool:
        node = assignment.node
        if isinstance(node, cst.Param):
            if self._annotation_is_model(node.annotation):
                return True
            return node.name.value == "self" and self._is_method_self(node)
        parent = self.parents.get(node)
        if isinstance(parent, cst.AssignTarget):
            assign = self.parents.get(parent)
            return isinstance(assign, cst.Assign) and self.is_instance(assign.value, depth + 1)
        if isinstance(parent, cst.AnnAssign) and parent.target is node:
            return self._annotation_is_model(parent.annotation) or (
                parent.value is not None and self.is_instance(parent.value, depth + 1)
            )
        if isinstance(parent, cst.CompFor | cst.For) and parent.target is node:
            return self._holds_models(parent.iter)  # ``for item in items: item.dict()``
        return False

    def _holds_models(self, expr: cst.BaseExpression) -> bool:
        """A name annotated as a collection of models (``items: list[Item]``)."""
        if not isinstance(expr, cst.Name):
            return False
        for assignment in self.referents(expr) or ():
            node = assignment.node
            parent = self.parents.get(node)
            annotation = (
                node.annotation
                if isinstance(node, cst.Param)
                else parent.annotation
                if isinstance(parent, cst.AnnAssign) and parent.target is node
                else None
            )
            ann = annotation.annotation if annotation is not None else None
            if not (
                isinstance(ann, cst.Subscript)
                and _last_name(ann.value) in _COLLECTIONS
                and len(ann.slice) == 1
                and isinstance(ann.slice[0].slice, cst.Index)
                and self.model_class(ann.slice[0].slice.value)
            ):
                return False
        return bool(self.referents(expr))

    def _is_method_self(self, param: cst.Param) -> bool:
        params = self.parents.get(param)
        func = self.parents.get(params) if isinstance(params, cst.Parameters) else None
        if not isinstance(func, cst.FunctionDef) or not isinstance(params, cst.Parameters):
            return False
        if not params.params or params.params[0] is not param:
            return False
        decorators = {_last_name(d.decorator) for d in func.decorators}
        if decorators & {"classmethod", "staticmethod", "validator", "root_validator"}:
            return False
        return self.is_model_classdef(self.class_of(func))


def _walk(root: cst.CSTNode, kind: type[_T]) -> Iterator[_T]:
    stack: list[cst.CSTNode] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, kind):
            yield node
        stack.extend(reversed(node.children))


class _Transformer(PassTransformer):
    rule = ""

    def __init__(self, wrapper: MetadataWrapper, ctx: RewriteContext, edit: Edit) -> None:
        super().__init__(edit)
        self.a = per_tree(wrapper, ("pydantic", ctx), lambda: Analysis(wrapper, ctx))
        self.ctx = ctx

    def ref(self, old: cst.BaseExpression, new: str) -> cst.BaseExpression:
        """A reference to pydantic's ``new`` written the way ``old`` was (name or attribute)."""
        if isinstance(old, cst.Attribute):
            return old.with_changes(attr=cst.Name(new))
        if isinstance(old, cst.Name):
            self.edit.unused.append(("pydantic", self.a.from_pydantic.get(old.value, old.value)))
        self.edit.imports.append(f"from pydantic import {new}")
        return cst.Name(new)

    def is_model_body(self, original: cst.ClassDef, updated: cst.ClassDef) -> bool:
        """A Pydantic model class with an indented body: where model rewrites apply."""
        return self.a.is_model_classdef(original) and isinstance(updated.body, cst.IndentedBlock)

    def done(self, rule: str | None = None) -> None:
        self.edit.applied.add(rule or self.rule)


def _pass(rule: str, transformer: type[_Transformer], *triggers: str) -> Pass:
    def run(wrapper: MetadataWrapper, ctx: RewriteContext, edit: Edit) -> cst.Module:
        return wrapper.visit(transformer(wrapper, ctx, edit))

    return Pass((rule,), run, triggers)


# --- ET106: BaseSettings moved to pydantic-settings -----------------------------------------


class _BaseSettingsImport(_Transformer):
    rule = "ET106"

    def leave_ImportFrom(
        self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom
    ) -> cst.ImportFrom | cst.RemovalSentinel:
        if isinstance(updated_node.names, cst.ImportStar) or updated_node.relative:
            return updated_node
        if get_full_name_for_node(updated_node.module or cst.Name("")) != "pydantic":
            return updated_node
        keep = [a for a in updated_node.names if get_full_name_for_node(a.name) != "BaseSettings"]
        moved = [a for a in updated_node.names if a not in keep]
        if not moved:
            return updated_node
        for alias in moved:
            asname = alias.evaluated_alias
            suffix = f" as {asname}" if asname else ""
            self.edit.imports.append(f"from pydantic_settings import BaseSettings{suffix}")
        self.done()
        if not keep:
            return cst.RemoveFromParent()
        last = updated_node.names[-1]
        keep[-1] = keep[-1].with_changes(comma=last.comma)
        return updated_node.with_changes(names=keep)

    def leave_Attribute(
        self, original_node: cst.Attribute, updated_node: cst.Attribute
    ) -> cst.BaseExpression:
        if self.a.member(original_node) == "BaseSettings" and isinstance(
            original_node.value, cst.Name
        ):
            self.edit.imports.append("import pydantic_settings")
            self.done()
            return updated_node.with_changes(value=cst.Name("pydantic_settings"))
        return updated_node


# --- ET104: renamed config keys ------------------------------------------------------------


def _config_class(cls: cst.ClassDef) -> cst.ClassDef | None:
    if not isinstance(cls.body, cst.IndentedBlock):
        return None
    return next(
        (s for s in cls.body.body if isinstance(s, cst.ClassDef) and s.name.value == "Config"),
        None,
    )


def _is_string(small: cst.BaseSmallStatement) -> bool:
    return isinstance(small, cst.Expr) and isinstance(
        small.value, cst.SimpleString | cst.ConcatenatedString
    )


def _config_entries(config: cst.ClassDef) -> list[tuple[str, cst.BaseExpression]] | None:
    """The ``key = value`` lines of a Config class; None when it holds anything else."""
    entries: list[tuple[str, cst.BaseExpression]] = []
    body = config.body
    if isinstance(body, cst.SimpleStatementSuite):  # class Config: env_file = ".env"
        smalls: list[cst.BaseSmallStatement] = list(body.body)
    else:
        lines = body.body
        if not all(isinstance(line, cst.SimpleStatementLine) for line in lines):
            return None
        smalls = [small for line in lines for small in getattr(line, "body", ())]
    for i, small in enumerate(smalls):
        if isinstance(small, cst.Pass) or (i == 0 and _is_string(small)):
            continue  # a docstring: carried over as a comment
        if (
            isinstance(small, cst.Assign)
            and len(small.targets) == 1
            and isinstance(small.targets[0].target, cst.Name)
        ):
            entries.append((small.targets[0].target.value, small.value))
        elif (
            isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value
        ):
            entries.append((small.target.value, small.value))
        else:
            return None
    return entries


class _ConfigKeys(_Transformer):
    """Renames inside ``class Config`` and ``ConfigDict(...)`` of models."""

    rule = "ET104"

    def __init__(self, wrapper: MetadataWrapper, ctx: RewriteContext, edit: Edit) -> None:
        super().__init__(wrapper, ctx, edit)
        self.in_config = 0

    def _is_config(self, node: cst.ClassDef) -> bool:
        owner = self.a.class_of(node)
        return node.name.value == "Config" and self.a.is_model_classdef(owner)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if self._is_config(node):
            self.in_config += 1

    def leave_ClassDef(
        self, original_node: cst.ClassDef, updated_node: cst.ClassDef
    ) -> cst.ClassDef:
        if self._is_config(original_node):
            self.in_config -= 1
        return updated_node

    def _convert(
        self, node: cst.CSTNode, key: str, value: cst.BaseExpression
    ) -> tuple[str, cst.BaseExpression] | None:
        """The v2 (key, value); None to drop the entry; the same pair when it must stay."""
        if key in RENAMED_KEYS:
            return RENAMED_KEYS[key], value
        if (
            key == "extra"
            and isinstance(value, cst.Attribute)
            and self.a.member(value.value) == "Extra"
        ):
            if isinstance(value.value, cst.Name):
                self.edit.unused.append(("pydantic", value.value.value))
            return key, cst.SimpleString(f'"{value.attr.value}"')
        if key == "allow_mutation" and (_is_true(value) or _is_false(value)):
            return ("frozen", cst.Name("True")) if _is_false(value) else None
        if key in NOOP_WHEN_TRUE and _is_true(value):
            return None
        if key in REMOVED_KEYS:
            self.note(
                self.rule, node, f"config key {key!r} has no v2 equivalent: {REMOVED_KEYS[key]}"
            )
        return key, value

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine | cst.RemovalSentinel:
        if not self.in_config or len(updated_node.body) != 1:
            return updated_node
        small = updated_node.body[0]
        if not (
            isinstance(small, cst.Assign)
            and len(small.targets) == 1
            and isinstance(small.targets[0].target, cst.Name)
        ):
            return updated_node
        key = small.targets[0].target.value
        new = self._convert(original_node, key, small.value)
        if new == (key, small.value):
            return updated_node
        self.done()
        if new is None:
            return cst.RemoveFromParent()
        target = small.targets[0].with_changes(target=cst.Name(new[0]))
        return updated_node.with_changes(body=[small.with_changes(targets=[target], value=new[1])])

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if self.a.member(original_node.func) not in ("ConfigDict", "SettingsConfigDict"):
            return updated_node
        args: list[cst.Arg] = []
        dropped: set[int] = set()
        for arg in updated_node.args:
            new = (
                self._convert(original_node, arg.keyword.value, arg.value) if arg.keyword else None
            )
            if arg.keyword is None or new == (arg.keyword.value, arg.value):
                args.append(arg)
            elif new is None:
                args.append(arg)
                dropped.add(id(arg))
            else:
                args.append(arg.with_changes(keyword=cst.Name(new[0]), value=new[1]))
        if all(a is b for a, b in zip(args, updated_node.args, strict=True)) and not dropped:
            return updated_node
        self.done()
        return drop_args(updated_node.with_changes(args=args), lambda a: id(a) in dropped)


# --- ET105: json_encoders -> field_serializer ----------------------------------------------


def _field_annotations(cls: cst.ClassDef) -> dict[str, cst.BaseExpression]:
    assert isinstance(cls.body, cst.IndentedBlock)
    found: dict[str, cst.BaseExpression] = {}
    for stmt in cls.body.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                    found[small.target.value] = small.annotation.annotation
    return found


def _encoder_body(func: cst.BaseExpression, module: cst.Module) -> tuple[str, str] | None:
    """(parameter, returned expression) of a one-argument encoder; None when not that simple."""
    if isinstance(func, cst.Lambda):
        params = func.params
        if len(params.params) != 1 or params.star_arg != cst.MaybeSentinel.DEFAULT:
            return None
        if params.kwonly_params or params.star_kwarg or params.posonly_params:
            return None
        return params.params[0].name.value, module.code_for_node(func.body)
    if isinstance(func, cst.Name | cst.Attribute):
        return "v", f"{module.code_for_node(func)}(v)"
    return None


def _returns(expr: str) -> str:
    return " -> str" if re.fullmatch(r"(str\(.*\)|f[\"'].*|\w+\.isoformat\(\))", expr) else ""


class _JsonEncoders(_Transformer):
    rule = "ET105"

    def leave_ClassDef(
        self, original_node: cst.ClassDef, updated_node: cst.ClassDef
    ) -> cst.ClassDef:
        if not self.is_model_body(original_node, updated_node):
            return updated_node
        assert isinstance(updated_node.body, cst.IndentedBlock)
        body = list(updated_node.body.body)
        for i, stmt in enumerate(body):
            found = self._encoders_in(stmt)
            if found is None:
                continue
            encoders, without = found
            assert isinstance(original_node.body, cst.IndentedBlock)
            where = original_node.body.body[i]
            methods = self._serializers(original_node, where, encoders)
            if methods is None:
                return updated_node
            self.done()
            block = list(cst.parse_module("".join(methods)).body)
            lines = list(getattr(stmt, "leading_lines", ()))
            first = block[0].with_changes(leading_lines=lines)  # where the Config stood
            if without is None:
                body[i : i + 1] = [first, *block[1:]]
            else:  # the rest of the Config follows, spaced as the class spaces its members
                blank = (
                    [cst.EmptyLine(indent=False)] if any(ln.comment is None for ln in lines) else []
                )
                body[i : i + 1] = [first, *block[1:], without.with_changes(leading_lines=blank)]
            return updated_node.with_changes(body=updated_node.body.with_changes(body=body))
        return updated_node

    def _encoders_in(
        self, stmt: cst.BaseStatement
    ) -> tuple[cst.Dict, cst.BaseStatement | None] | None:
        """The json_encoders dict of a Config class or model_config, and the rest of it."""
        if isinstance(stmt, cst.ClassDef) and stmt.name.value == "Config":
            assert isinstance(stmt.body, cst.IndentedBlock)
            lines = list(stmt.body.body)
            for j, line in enumerate(lines):
                if (
                    isinstance(line, cst.SimpleStatementLine)
                    and isinstance(line.body[0], cst.Assign)
                    and isinstance(line.body[0].targets[0].target, cst.Name)
                    and line.body[0].targets[0].target.value == "json_encoders"
                    and isinstance(line.body[0].value, cst.Dict)
                ):
                    rest = lines[:j] + lines[j + 1 :]
                    meaningful = [
                        s
                        for s in rest
                        if not (
                            isinstance(s, cst.SimpleStatementLine)
                            and isinstance(s.body[0], cst.Pass)
                        )
                    ]
                    without = (
                        stmt.with_changes(body=stmt.body.with_changes(body=rest))
                        if meaningful
                        else None
                    )
                    return line.body[0].value, without
        if isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.Assign):
            assign = stmt.body[0]
            call = assign.value
            target = assign.targets[0].target
            if (
                isinstance(target, cst.Name)
                and target.value == "model_config"
                and isinstance(call, cst.Call)
            ):
                arg = _find_kwarg(call, "json_encoders")
                if arg is not None and isinstance(arg.value, cst.Dict):
                    kept = drop_args(call, lambda a: a is arg)
                    return arg.value, stmt.with_changes(body=[assign.with_changes(value=kept)])
        return None

    def _serializers(
        self, cls: cst.ClassDef, where: cst.CSTNode, encoders: cst.Dict
    ) -> list[str] | None:
        fields = _field_annotations(cls)
        taken = set(fields) | {
            s.name.value for s in _statements(cls) if isinstance(s, cst.FunctionDef | cst.ClassDef)
        }
        methods: list[str] = []
        module = self.a.module
        for element in encoders.elements:
            if not isinstance(element, cst.DictElement) or not isinstance(element.key, cst.Name):
                self.note(
                    self.rule, where, "json_encoders keys must be plain type names to rewrite"
                )
                return None
            typename = element.key.value
            body = _encoder_body(element.value, module)
            exact = [f for f, ann in fields.items() if module.code_for_node(ann) == typename]
            nested = [
                f
                for f, ann in fields.items()
                if f not in exact
                and re.search(rf"\b{re.escape(typename)}\b", module.code_for_node(ann))
            ]
            if body is None or nested or not exact:
                why = (
                    "the encoder is not a one-argument lambda or function"
                    if body is None
                    else f"fields {', '.join(nested)} hold {typename} inside another type"
                    if nested
                    else f"no field of this class is annotated {typename}"
                )
                self.note(
                    self.rule,
                    where,
                    f"json_encoders kept (deprecated but still works): {why}; "
                    "write a @field_serializer(..., when_used='json') by hand",
                )
                return None
            param, expr = body
            name = f"serialize_{typename.lower()}"
            if name in taken:
                self.note(self.rule, where, f"json_encoders kept: the class already has {name}")
                return None
            taken.add(name)
            names = ", ".join(f'"{f}"' for f in exact)
            methods.append(
                f'@field_serializer({names}, when_used="json")\n'
                f"def {name}(self, {param}: {typename}){_returns(expr)}:\n"
                f"    return {expr}\n"
            )
        self.edit.imports.append("from pydantic import field_serializer")
        return methods


# --- ET103: class Config -> model_config -----------------------------------------------------


class _ConfigClass(_Transformer):
    rule = "ET103"

    def leave_ClassDef(
        self, original_node: cst.ClassDef, updated_node: cst.ClassDef
    ) -> cst.ClassDef:
        if not self.is_model_body(original_node, updated_node):
            return updated_node
        assert isinstance(updated_node.body, cst.IndentedBlock)
        config = _config_class(original_node)
        if config is None:
            return updated_node
        if any(
            isinstance(s, cst.SimpleStatementLine)
            and any(
                isinstance(t, cst.Assign)
                and any(get_full_name_for_node(x.target) == "model_config" for x in t.targets)
                for t in s.body
            )
            for s in updated_node.body.body
        ):
            self.note(
                self.rule, config, "the class has both Config and model_config; merge by hand"
            )
            return updated_node
        entries = _config_entries(config)
        if entries is None:
            self.note(
                self.rule,
                config,
                "class Config holds more than key = value lines; move them into "
                "model_config = ConfigDict(...) by hand",
            )
            return updated_node
        foreign = [k for k, _ in entries if k not in CONFIG_KEYS]
        if foreign:
            self.note(
                self.rule,
                config,
                f"class Config keeps {', '.join(f'`{k}`' for k in foreign)}, not a Pydantic "
                "setting (a library's own?), which ConfigDict does not take: migrate by hand",
            )
            return updated_node
        settings = original_node.name.value in self.a.settings
        factory = "SettingsConfigDict" if settings else "ConfigDict"
        self.edit.imports.append(
            "from pydantic_settings import SettingsConfigDict"
            if settings
            else "from pydantic import ConfigDict"
        )
        module = self.a.module
        pos = self.position(config).start.column
        values = [(k, module.code_for_node(_as_argument(v))) for k, v in entries]
        one_line = f"model_config = {factory}({', '.join(f'{k}={v}' for k, v in values)})"
        if all("\n" not in v for _, v in values) and pos + len(one_line) <= 88:
            text = one_line
        else:
            # Inner lines are relative to the statement's indentation, one level deeper now.
            args = "".join(f"\n    {k}={v.replace(chr(10), chr(10) + '    ')}," for k, v in values)
            text = f"model_config = {factory}({args}\n)"
        docstring = config.get_docstring() or ""
        comments = [
            cst.EmptyLine(comment=cst.Comment(f"# {line}".rstrip()))
            for line in docstring.splitlines()
        ]
        comments += [
            line
            for s in _statements(config)
            for line in getattr(s, "leading_lines", ())
            if line.comment is not None
        ]
        # A comment at the end of a line (or of ``class Config: ...``) is not lost either.
        ends = [getattr(s, "trailing_whitespace", None) for s in _statements(config)]
        if isinstance(config.body, cst.SimpleStatementSuite):
            ends = [config.body.trailing_whitespace]
        comments += [cst.EmptyLine(comment=end.comment) for end in ends if end and end.comment]
        stmt = cst.parse_statement(text + "\n").with_changes(
            leading_lines=[*config.leading_lines, *comments]
        )
        self.done()
        body = [stmt if s is _config_class(updated_node) else s for s in updated_node.body.body]
        body, defaulted = _v1_optional_defaults(body, module)
        if defaulted:
            self.note(
                self.rule,
                config,
                f"`= None` added to {', '.join(defaulted)}: Pydantic v1 gave an Optional field "
                "a None default, v2 makes it required",
            )
        return updated_node.with_changes(body=updated_node.body.with_changes(body=body))


def _as_argument(value: cst.BaseExpression) -> cst.BaseExpression:
    """A Config value as a keyword argument: ``env_file = ".env", ".env.prod"`` is a tuple
    without parentheses, which an argument list would split."""
    if isinstance(value, cst.Tuple) and not value.lpar:
        return value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return value


def _v1_optional_defaults(
    body: Sequence[cst.BaseStatement], module: cst.Module, only: set[str] | None = None
) -> tuple[list[cst.BaseStatement], list[str]]:
    """A v1 model's ``x: Optional[T]`` with no value defaulted to None; in v2 it is required.
    The migration keeps v1's behaviour: ``= None`` (on the fields in ``only``, when given)."""
    out: list[cst.BaseStatement] = []
    names: list[str] = []
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
            small = stmt.body[0]
            if (
                isinstance(small, cst.AnnAssign)
                and small.value is None
                and isinstance(small.target, cst.Name)
                and (only is None or small.target.value in only)
                and _optional(module.code_for_node(small.annotation.annotation))
            ):
                names.append(small.target.value)
                stmt = stmt.with_changes(
                    body=[
                        small.with_changes(
                            value=cst.Name("None"),
                            equal=cst.AssignEqual(
                                whitespace_before=cst.SimpleWhitespace(" "),
                                whitespace_after=cst.SimpleWhitespace(" "),
                            ),
                        )
                    ]
                )
        out.append(stmt)
    return out, names


def _optional(annotation: str) -> bool:
    text = " ".join(annotation.split())
    return bool(
        re.match(r"(?:typing\.)?Optional\[", text)
        or re.search(r"\|\s*None$|^None\s*\|", text)
        or re.match(r"(?:typing\.)?Union\[.*\bNone\]$", text)
    )


def _statements(cls: cst.ClassDef) -> Sequence[cst.BaseStatement]:
    return cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ()


# --- ET101: @validator -> @field_validator ----------------------------------------------------


def _decorator_call(dec: cst.Decorator) -> tuple[cst.BaseExpression, cst.Call | None]:
    d = dec.decorator
    return (d.func, d) if isinstance(d, cst.Call) else (d, None)


def _commas(args: Sequence[cst.Arg]) -> list[cst.Arg]:
    """Arguments separated by their own commas, or ", " where they had none; none after the last."""
    sep = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    last = len(args) - 1
    return [
        a.with_changes(
            comma=cst.MaybeSentinel.DEFAULT
            if i == last
            else a.comma
            if isinstance(a.comma, cst.Comma)
            else sep
        )
        for i, a in enumerate(args)
    ]


def _has_classmethod(func: cst.FunctionDef) -> bool:
    return any(_last_name(d.decorator) == "classmethod" for d in func.decorators)


def _with_classmethod(func: cst.FunctionDef, at: int, new: cst.Decorator) -> cst.FunctionDef:
    """``func`` with decorator ``at`` replaced by ``new`` and ``@classmethod`` right below it."""
    decorators = list(func.decorators)
    decorators[at] = new
    if not _has_classmethod(func):
        decorators.insert(at + 1, cst.Decorator(decorator=cst.Name("classmethod")))
    return func.with_changes(decorators=decorators)


class _Validator(_Transformer):
    rule = "ET101"

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        cls = self.a.class_of(original_node)
        alone = self.a.shown_alone(original_node)
        if not alone and not self.a.is_model_classdef(cls) and not self._pydantic_dataclass(cls):
            return updated_node
        for at, dec in enumerate(original_node.decorators):
            func, call = _decorator_call(dec)
            if self.a.member(func) != "validator" or call is None:
                continue
            self.where: cst.CSTNode = dec
            return self._convert(cls, original_node, updated_node, at, func, call)
        return updated_node

    def _convert(
        self,
        cls: cst.ClassDef | None,
        original: cst.FunctionDef,
        updated: cst.FunctionDef,
        at: int,
        func: cst.BaseExpression,
        call: cst.Call,
    ) -> cst.FunctionDef:
        fields = [_string_value(a.value) for a in call.args if a.keyword is None]
        flags = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
        if flags.get("each_item") is not None and not _is_false(flags["each_item"]):
            self.note(
                self.rule,
                self.where,
                "each_item=True validates the items of a container; in v2 put the check on the "
                "item type (list[Annotated[T, AfterValidator(f)]]) by hand",
            )
            return updated
        unknown = set(flags) - {"pre", "always", "allow_reuse", "check_fields", "each_item"}
        if unknown:
            self.note(
                self.rule, self.where, f"@validator arguments {sorted(unknown)} not rewritten"
            )
            return updated
        signature = self._signature(original)
        if signature is None:
            return updated
        params, replace = signature
        new_cls = None
        if "always" in flags and not _is_false(flags["always"]):
            if cls is None:
                self.note(
                    self.rule,
                    self.where,
                    "always=True: add Field(validate_default=True) to the validated fields by "
                    "hand (the model's class is not shown)",
                )
                return updated
            new_cls = self._validate_default(cls, fields)
            if new_cls is None:
                return updated
        mode = flags.get("pre")
        args = [a for a in call.args if a.keyword is None or a.keyword.value == "check_fields"]
        if mode is not None and _is_true(mode):
            args.append(_kwarg("mode", cst.SimpleString('"before"')))
        elif mode is not None and not _is_false(mode):
            self.note(self.rule, self.where, "pre= is not a literal True/False; not rewritten")
            return updated
        new_call = call.with_changes(func=self.ref(func, "field_validator"), args=_commas(args))
        new_dec = updated.decorators[at].with_changes(decorator=new_call)
        # Names are found by identity in the original tree: rewrite the original body.
        body = original.body.visit(_ReplaceNames(replace))
        result = _with_classmethod(updated, at, new_dec).with_changes(params=params, body=body)
        if new_cls is not None:
            self.pending_fields |= new_cls
        self.done()
        return result

    def __init__(self, wrapper: MetadataWrapper, ctx: RewriteContext, edit: Edit) -> None:
        super().__init__(wrapper, ctx, edit)
        self.pending_fields: set[str] = set()  # fields whose default must now be validated
        self.pending_class: set[str] = set()

    def _pydantic_dataclass(self, cls: cst.ClassDef | None) -> bool:
        """A class under pydantic's ``@dataclass``, which takes ``field_validator`` too."""
        if cls is None:
            return False
        own = {
            local
            for local, name in imported_from(self.a.module, "pydantic.dataclasses").items()
            if name == "dataclass"
        }
        for dec in cls.decorators:
            spelled = get_full_name_for_node(_decorator_call(dec)[0]) or ""
            if spelled in own or spelled == "pydantic.dataclasses.dataclass":
                return True
        return False

    def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign) -> cst.Assign:
        """v1's reused validator, ``_norm = validator("name", allow_reuse=True)(normalize)``
        in a model's body -> ``field_validator("name")(normalize)``: v2 needs no
        ``allow_reuse`` and takes the same function."""
        outer = original_node.value
        inner = outer.func if isinstance(outer, cst.Call) else None
        if (
            not isinstance(outer, cst.Call)
            or not isinstance(inner, cst.Call)
            or self.a.member(inner.func) != "validator"
            or len(outer.args) != 1
            or outer.args[0].keyword is not None
            or not self.a.is_model_classdef(self.a.class_of(original_node))
        ):
            return updated_node
        self.where = original_node
        flags = {a.keyword.value: a.value for a in inner.args if a.keyword is not None}
        if set(flags) - {"allow_reuse", "pre", "check_fields"}:
            unknown = sorted(set(flags) - {"allow_reuse", "pre", "check_fields"})
            self.note(self.rule, self.where, f"reused validator's {unknown} not rewritten")
            return updated_node
        args = [a for a in inner.args if a.keyword is None or a.keyword.value == "check_fields"]
        pre = flags.get("pre")
        if pre is not None and _is_true(pre):
            args.append(_kwarg("mode", cst.SimpleString('"before"')))
        elif pre is not None and not _is_false(pre):
            self.note(self.rule, self.where, "pre= is not a literal True/False; not rewritten")
            return updated_node
        new_inner = inner.with_changes(
            func=self.ref(inner.func, "field_validator"), args=_commas(args)
        )
        self.done()
        return updated_node.with_changes(value=outer.with_changes(func=new_inner))

    def _signature(
        self, func: cst.FunctionDef
    ) -> tuple[cst.Parameters, dict[cst.Name, cst.BaseExpression]] | None:
        """New parameters, and the names to replace in the body; None when not rewritable."""
        params = func.params
        plain = list(params.params)
        if (
            params.posonly_params
            or params.kwonly_params
            or not isinstance(params.star_arg, cst.MaybeSentinel)
        ):
            self.note(self.rule, self.where, "unusual validator signature; rewrite by hand")
            return None
        if params.star_kwarg is not None:
            kwargs = params.star_kwarg.name.value
            if any(n.value == kwargs for n in _walk(func.body, cst.Name)):
                why = "**kwargs in a v1 validator has no v2 equivalent; use info"
                self.note(self.rule, self.where, why)
                return None
            # v1's ``(cls, v, values, **kwargs)``, kwargs unused: v2 passes nothing there.
            params = params.with_changes(star_kwarg=None)
            if plain:
                plain[-1] = plain[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                params = params.with_changes(params=plain)
        extra = [p for p in plain[2:]]
        if not extra:
            return params, {}
        names = [p.name.value for p in extra]
        if "config" in names or any(n not in ("values", "field") for n in names):
            self.note(
                self.rule, self.where, "validator takes config (use info.config); rewrite by hand"
            )
            return None
        scope = self.a.scopes.get(func.body.body[0]) if func.body.body else None
        if (
            scope is None
            or "info" in scope
            or any(n.value == "info" for n in _walk(func.body, cst.Name))
        ):
            self.note(self.rule, self.where, "the name info is taken in this validator")
            return None
        replace: dict[cst.Name, cst.BaseExpression] = {}
        for param in extra:
            assignments = list(scope.assignments[param.name.value])
            if len(assignments) != 1:
                self.note(
                    self.rule, self.where, f"{param.name.value} is reassigned in the validator"
                )
                return None
            for access in assignments[0].references:
                name = access.node
                if not isinstance(name, cst.Name):
                    return None
                if param.name.value == "values":
                    replace[name] = cst.parse_expression("info.data")
                    continue
                parent = self.a.parents.get(name)
                if isinstance(parent, cst.Attribute) and parent.attr.value == "name":
                    replace[parent] = cst.parse_expression("info.field_name")  # type: ignore[index]
                else:
                    self.note(
                        self.rule, self.where, "field is used beyond field.name; use info by hand"
                    )
                    return None
        self.edit.imports.append("from pydantic import ValidationInfo")
        info = extra[0].with_changes(
            name=cst.Name("info"),
            annotation=cst.Annotation(cst.Name("ValidationInfo")),
            comma=extra[-1].comma,
        )
        return params.with_changes(params=[*plain[:2], info]), replace

    def _validate_default(self, cls: cst.ClassDef, fields: Sequence[str | None]) -> set[str] | None:
        """always=True: the fields with a default, whose Field(...) gains validate_default."""
        values = _field_values(cls)
        found: set[str] = set()
        for name in fields:
            if name is None or name == "*" or name not in _field_annotations(cls):
                self.note(
                    self.rule,
                    self.where,
                    "always=True: add Field(validate_default=True) to the validated fields by "
                    "hand (a field is not declared in this class)",
                )
                return None
            value = values.get(name)
            if value is not None:
                found.add(name)
        self.pending_class.add(cls.name.value)
        return found

    def leave_ClassDef(
        self, original_node: cst.ClassDef, updated_node: cst.ClassDef
    ) -> cst.ClassDef:
        if original_node.name.value not in self.pending_class or not self.pending_fields:
            return updated_node
        assert isinstance(updated_node.body, cst.IndentedBlock)
        dataclass = self._pydantic_dataclass(original_node)
        body = []
        for stmt in updated_node.body.body:
            if isinstance(stmt, cst.SimpleStatementLine) and isinstance(
                stmt.body[0], cst.AnnAssign
            ):
                ann = stmt.body[0]
                name = get_full_name_for_node(ann.target)
                if name in self.pending_fields and ann.value is not None:
                    value = ann.value
                    if isinstance(value, cst.Call) and self.a.member(value.func) == "Field":
                        value = append_kwarg(value, "validate_default", cst.Name("True"))
                    else:
                        self.edit.imports.append("from pydantic import Field")
                        comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
                        # a dataclass's field takes its default by keyword (what type
                        # checkers read of a field specifier); a model's plugin reads either
                        first = (
                            _kwarg("default", value, comma)
                            if dataclass
                            else cst.Arg(value, comma=comma)
                        )
                        value = cst.Call(
                            func=cst.Name("Field"),
                            args=[first, _kwarg("validate_default", cst.Name("True"))],
                        )
                    stmt = stmt.with_changes(body=[ann.with_changes(value=value)])
            body.append(stmt)
        self.pending_class.discard(original_node.name.value)
        return updated_node.with_changes(body=updated_node.body.with_changes(body=body))


def _field_values(cls: cst.ClassDef) -> dict[str, cst.BaseExpression | None]:
    out: dict[str, cst.BaseExpression | None] = {}
    for stmt in _statements(cls):
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                    out[small.target.value] = small.value
    return out


class _ReplaceNames(cst.CSTTransformer):
    """Replace given nodes (found by identity in the original tree) by new expressions."""

    def __init__(self, replace: dict[cst.Name, cst.BaseExpression]) -> None:
        super().__init__()
        self.replace: dict[int, cst.BaseExpression] = {id(k): v for k, v in replace.items()}

    def on_leave(
        self, original_node: cst.CSTNodeT, updated_node: cst.CSTNodeT
    ) -> cst.CSTNodeT | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNodeT]:
        new = self.replace.get(id(original_node))
        return new if new is not None else updated_node  # type: ignore[return-value]


# --- ET102: @root_validator -> @model_validator ---------------------------------------------


def _reads_attributes(cls: cst.ClassDef) -> bool:
    """Whether the model validates from attributes (orm_mode / from_attributes)."""
    for stmt in _statements(cls):
        if isinstance(stmt, cst.ClassDef) and stmt.name.value == "Config":
            entries = _config_entries(stmt) or []
            if any(k in ("orm_mode", "from_attributes") and _is_true(v) for k, v in entries):
                return True
        small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) else None
        if isinstance(small, cst.Assign) and isinstance(small.value, cst.Call):
            arg = _find_kwarg(small.value, "from_attributes")
            if arg is not None and _is_true(arg.value):
                return True
    return False


def _returns_of(func: cst.FunctionDef) -> Iterator[cst.Return]:
    """The return statements of ``func`` itself, not of functions nested in it."""
    stack: list[cst.CSTNode] = [func.body]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Return):
            yield node
        elif not isinstance(node, cst.FunctionDef | cst.Lambda | cst.ClassDef):
            stack.extend(node.children)


class _RootValidator(_Transformer):
    rule = "ET102"

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        cls = self.a.class_of(original_node)
        if not self.a.is_model_classdef(cls) and not self.a.shown_alone(original_node):
            return updated_node
        for at, dec in enumerate(original_node.decorators):
            func, call = _decorator_call(dec)
            if self.a.member(func) != "root_validator":
                continue
            self.where = dec
            flags = {a.keyword.value: a.value for a in call.args if a.keyword} if call else {}
            if call and (
                set(flags) - {"pre", "skip_on_failure", "allow_reuse"}
                or any(a.keyword is None for a in call.args)
            ):
                self.note(self.rule, self.where, "unexpected @root_validator arguments")
                return updated_node
            pre = flags.get("pre")
            if pre is not None and _is_true(pre) and cls is not None and _reads_attributes(cls):
                self.note(
                    self.rule,
                    self.where,
                    "with from_attributes, a mode='before' model validator receives the object "
                    "itself, not a dict as in v1; rewrite by hand",
                )
                return updated_node
            if pre is not None and _is_true(pre):
                new = cst.Call(
                    func=self.ref(func, "model_validator"),
                    args=[_kwarg("mode", cst.SimpleString('"before"'))],
                )
                self.done()
                return _with_classmethod(updated_node, at, dec.with_changes(decorator=new))
            if pre is not None and not _is_false(pre):
                self.note(self.rule, self.where, "pre= is not a literal True/False")
                return updated_node
            why = self._after_blocker(cls, original_node)
            if why is not None:
                self.note(
                    self.rule,
                    self.where,
                    "@model_validator(mode='after') receives the model (self), not a dict of "
                    f"values; rewrite by hand ({why})",
                )
                return updated_node
            return self._to_after(cls, original_node, updated_node, at, func)
        return updated_node

    def _after_blocker(self, cls: cst.ClassDef | None, func: cst.FunctionDef) -> str | None:
        """Why the body cannot be moved to ``self`` mechanically; None when it can. (A method
        shown without its class: any ``values['key']`` is taken for one of its fields.)"""
        params = func.params
        if (
            len(params.params) != 2
            or params.posonly_params
            or params.kwonly_params
            or params.star_kwarg
            or not isinstance(params.star_arg, cst.MaybeSentinel)
        ):
            return "the signature is not (cls, values)"
        if any(n.value == "self" for n in _walk(func.body, cst.Name)):
            return "the body already uses the name self"
        body = func.body.body
        scope = self.a.scopes.get(body[0]) if body else None
        if scope is None:
            return "no body"
        cls_param, values_param = (p.name.value for p in params.params)
        if any(a.references for a in scope.assignments[cls_param]):
            return f"the body uses {cls_param}"
        assignments = list(scope.assignments[values_param])
        if len(assignments) != 1:
            return f"{values_param} is reassigned"
        fields = _field_annotations(cls) if cls is not None else None
        last = body[-1]
        if not (
            isinstance(last, cst.SimpleStatementLine)
            and isinstance(last.body[0], cst.Return)
            and get_full_name_for_node(last.body[0].value or cst.Name("None")) == values_param
        ):
            return f"it does not end with return {values_param}"
        if any(
            get_full_name_for_node(r.value or cst.Name("None")) != values_param
            for r in _returns_of(func)
        ):
            return f"it returns something other than {values_param}"
        self._replace: dict[cst.Name, cst.BaseExpression] = {}
        for access in assignments[0].references:
            name = access.node
            parent = self.a.parents.get(name)
            grand = self.a.parents.get(parent) if parent is not None else None
            key = None
            target: cst.CSTNode | None = None
            if isinstance(parent, cst.Return):
                self._replace[name] = cst.Name("self")  # type: ignore[index]
                continue
            if (
                isinstance(parent, cst.Subscript)
                and len(parent.slice) == 1
                and isinstance(parent.slice[0].slice, cst.Index)
                and not isinstance(grand, cst.AssignTarget | cst.AugAssign | cst.Del)
            ):
                key, target = _string_value(parent.slice[0].slice.value), parent
            elif (
                isinstance(parent, cst.Attribute)
                and parent.attr.value == "get"
                and isinstance(grand, cst.Call)
                and grand.func is parent
                and 1 <= len(grand.args) <= 2
                and all(a.keyword is None for a in grand.args)
            ):
                key, target = _string_value(grand.args[0].value), grand
            if key is None or target is None or (fields is not None and key not in fields):
                return f"{values_param} is used other than as {values_param}['field'] of this class"
            self._replace[target] = cst.Attribute(cst.Name("self"), cst.Name(key))  # type: ignore[index]
        return None

    def _to_after(
        self,
        cls: cst.ClassDef | None,
        original: cst.FunctionDef,
        updated: cst.FunctionDef,
        at: int,
        func: cst.BaseExpression,
    ) -> cst.FunctionDef:
        new = cst.Call(
            func=self.ref(func, "model_validator"),
            args=[_kwarg("mode", cst.SimpleString('"after"'))],
        )
        decorators = [
            updated.decorators[i].with_changes(decorator=new) if i == at else d
            for i, d in enumerate(updated.decorators)
            if _last_name(d.decorator) != "classmethod"
        ]
        returns = updated.returns
        if returns is not None and cls is not None:
            returns = returns.with_changes(annotation=cst.SimpleString(f'"{cls.name.value}"'))
        elif returns is not None:  # (the class is not shown: its name is not known)
            returns = None
        self.done()
        return updated.with_changes(
            decorators=decorators,
            params=updated.params.with_changes(params=[cst.Param(cst.Name("self"))]),
            body=original.body.visit(_ReplaceNames(self._replace)),
            returns=returns,
        )


# --- ET114: Field() arguments ----------------------------------------------------------------


class _FieldArgs(_Transformer):
    rule = "ET114"

    def __init__(self, wrapper: MetadataWrapper, ctx: RewriteContext, edit: Edit) -> None:
        super().__init__(wrapper, ctx, edit)
        self._classes: list[str] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._classes.append(node.name.value)

    def leave_ClassDef(
        self, original_node: cst.ClassDef, updated_node: cst.ClassDef
    ) -> cst.ClassDef:
        self._classes.pop()
        return updated_node

    @staticmethod
    def _literal_default(call: cst.Call) -> cst.BaseExpression | None:
        """The field's default when it is a literal (``Literal[...]`` can name it)."""
        positional = [a for a in call.args if a.keyword is None]
        default = positional[0] if positional else _find_kwarg(call, "default")
        value = default.value if default is not None else None
        if isinstance(value, cst.Name) and value.value in ("True", "False"):
            return value
        if isinstance(value, cst.SimpleString | cst.ConcatenatedString | cst.Integer):
            return value
        return None

    def leave_AnnAssign(
        self, original_node: cst.AnnAssign, updated_node: cst.AnnAssign
    ) -> cst.AnnAssign:
        """``kind: str = Field("fixed", const=True)`` -> ``kind: Literal["fixed"] = "fixed"``:
        v2's spelling of a field that only takes its default."""
        call = updated_node.value
        if not isinstance(call, cst.Call) or self.a.member(call.func) != "Field":
            return updated_node
        const = _find_kwarg(call, "const")
        default = self._literal_default(call)
        if const is None or not _is_true(const.value) or default is None:
            return updated_node
        self.edit.imports.append("from typing import Literal")
        annotation = cst.Annotation(
            cst.Subscript(cst.Name("Literal"), [cst.SubscriptElement(cst.Index(default))])
        )
        rest = drop_args(call, lambda a: a is const)
        value: cst.BaseExpression = default if len(rest.args) == 1 else rest
        self.done()
        return updated_node.with_changes(annotation=annotation, value=value)

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if self.a.member(original_node.func) != "Field":
            return updated_node
        in_settings = bool(self._classes) and self._classes[-1] in self.a.settings
        before = updated_node
        for arg in original_node.args:
            if (
                in_settings
                and arg.keyword
                and arg.keyword.value == "env"
                and isinstance(arg.value, cst.SimpleString | cst.ConcatenatedString)
            ):  # pydantic-settings reads the variable named by the validation alias
                updated_node = _rename_kwargs(updated_node, {"env": "validation_alias"})
            elif (
                arg.keyword
                and arg.keyword.value in _FIELD_NOTES
                and not (
                    arg.keyword.value == "const"
                    and self._literal_default(original_node) is not None
                )
            ):
                self.note(
                    self.rule,
                    original_node,
                    f"Field({arg.keyword.value}=...) has no v2 equivalent: "
                    f"{_FIELD_NOTES[arg.keyword.value]}",
                )
        new = _rename_kwargs(updated_node, _FIELD_KWARGS)
        example = _find_kwarg(new, "example")
        if example is not None and _find_kwarg(new, "examples") is None:
            # v1 passed unknown keywords into the JSON schema; v2 has a list of examples.
            listed = cst.List([cst.Element(example.value)])
            new = new.with_changes(
                args=[
                    a.with_changes(keyword=cst.Name("examples"), value=listed)
                    if a is example
                    else a
                    for a in new.args
                ]
            )
        mutation = _find_kwarg(new, "allow_mutation")
        if mutation is not None and _is_false(mutation.value):
            new = _rename_kwargs(new, {"allow_mutation": "frozen"})
            new = new.with_changes(
                args=[
                    a.with_changes(value=cst.Name("True"))
                    if a.keyword and a.keyword.value == "frozen"
                    else a
                    for a in new.args
                ]
            )
        elif mutation is not None and _is_true(mutation.value):
            new = drop_args(new, lambda a: a is mutation)
        if new is not before and not new.deep_equals(before):
            self.done()
        return new


# --- ET113: constrained types ------------------------------------------------------------

#: The discouraged constrained types: the type they constrain, what carries the constraints.
_CON_TYPES = {
    "constr": ("str", "StringConstraints"),
    "conint": ("int", "Field"),
    "confloat": ("float", "Field"),
    "condecimal": ("Decimal", "Field"),
}


class _ConTypes(_Transformer):
    """``constr(regex="^a")`` -> ``Annotated[str, StringConstraints(pattern="^a")]`` (and
    ``conint(gt=0)`` -> ``Annotated[int, Field(gt=0)]``): v2's spelling, with v1's keywords
    renamed; ``conlist(int, min_items=1)`` keeps its function, with ``min_length``."""

    rule = "ET113"

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        name = self.a.member(original_node.func)
        if name is None or not (name in _CON_TYPES or name.startswith("con")):
            return updated_node
        gone = [
            a.keyword.value
            for a in updated_node.args
            if a.keyword and a.keyword.value in CON_KWARGS and CON_KWARGS[a.keyword.value] is None
        ]
        if gone:
            self.note(self.rule, original_node, f"{name}({gone[0]}=...) has no v2 equivalent")
            return updated_node
        renamed = _rename_kwargs(
            updated_node, {k: v for k, v in CON_KWARGS.items() if v is not None}
        )
        if name not in _CON_TYPES:
            if not renamed.deep_equals(updated_node):
                self.done()
            return renamed
        if any(a.keyword is None or a.star for a in renamed.args):
            return updated_node  # positional or unpacked arguments: not a plain constraint
        base, carrier = _CON_TYPES[name]
        if base == "Decimal":
            self.edit.imports.append("from decimal import Decimal")
        self.edit.imports.append("from typing import Annotated")
        constraints = renamed.with_changes(func=self.ref(original_node.func, carrier))
        self.done()
        return cst.Subscript(
            cst.Name("Annotated"),
            [
                cst.SubscriptElement(
                    cst.Index(cst.Name(base)),
                    comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
                ),
                cst.SubscriptElement(cst.Index(constraints)),
            ],
        )


# --- ET107 / ET108 / ET109 / ET110 / ET115: methods and functions --------------------------


class _FromOrm(_Transformer):
    """``X.from_orm(y)`` -> ``X.model_validate(y)``, with from_attributes on X when it is here."""

    rule = "ET107"

    def __init__(self, wrapper: MetadataWrapper, ctx: RewriteContext, edit: Edit) -> None:
        super().__init__(wrapper, ctx, edit)
        self.needs_config = {
            name
            for call in self.a.all(cst.Call)
            if isinstance(call.func, cst.Attribute)
            and call.func.attr.value == "from_orm"
            and (name := self.a.model_class(call.func.value))
            and name in self.a.classes
        }

    def leave_Attribute(
        self, original_node: cst.Attribute, updated_node: cst.Attribute
    ) -> cst.BaseExpression:
        parent = self.a.parents.get(original_node)
        if (
            original_node.attr.value == "from_orm"
            and self.a.model_class(original_node.value)
            and isinstance(parent, cst.Call)
            and parent.func is original_node
        ):
            self.done()
            return updated_node.with_changes(attr=cst.Name("model_validate"))
        return updated_node

    def leave_ClassDef(
        self, original_node: cst.ClassDef, updated_node: cst.ClassDef
    ) -> cst.ClassDef:
        if original_node.name.value not in self.needs_config or not isinstance(
            updated_node.body, cst.IndentedBlock
        ):
            return updated_node
        body = list(updated_node.body.body)
        for i, stmt in enumerate(body):
            if isinstance(stmt, cst.ClassDef) and stmt.name.value == "Config":
                entries = _config_entries(stmt) or []
                if any(k in ("orm_mode", "from_attributes") for k, _ in entries):
                    return updated_node
                assert isinstance(stmt.body, cst.IndentedBlock)
                line = cst.parse_statement("from_attributes = True\n")
                body[i] = stmt.with_changes(
                    body=stmt.body.with_changes(body=[*stmt.body.body, line])
                )
                break
            small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) else None
            if (
                isinstance(small, cst.Assign)
                and get_full_name_for_node(small.targets[0].target) == "model_config"
            ):
                call = small.value
                if not isinstance(call, cst.Call):
                    self.note(self.rule, original_node, "add from_attributes=True to model_config")
                    return updated_node
                if _find_kwarg(call, "from_attributes") or _find_kwarg(call, "orm_mode"):
                    return updated_node
                new_call = append_kwarg(call, "from_attributes", cst.Name("True"))
                body[i] = stmt.with_changes(body=[small.with_changes(value=new_call)])
                break
        else:
            self.edit.imports.append("from pydantic import ConfigDict")
            at = 1 if body and is_docstring(body[0]) else 0
            body.insert(
                at, cst.parse_statement("model_config = ConfigDict(from_attributes=True)\n")
            )
        self.done()
        return updated_node.with_changes(body=updated_node.body.with_changes(body=body))


class _MethodCalls(_Transformer):
    """Renames of model methods, on receivers known to be model classes or instances."""

    rule = "ET109"

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        func = original_node.func
        if not isinstance(func, cst.Attribute) or not isinstance(updated_node.func, cst.Attribute):
            return updated_node
        method = func.attr.value
        keywords = {a.keyword.value for a in original_node.args if a.keyword}
        positional = any(a.keyword is None for a in original_node.args)
        if self.rule == "ET108":
            return self._parse(original_node, updated_node, method, keywords, positional)
        if method in _INSTANCE_METHODS and self.a.is_instance(func.value):
            new, accepted = _INSTANCE_METHODS[method]
            allowed = set(accepted) | (_DUMP_FLAGS if method in ("dict", "json") else set())
        elif method in _CLASS_METHODS and self.a.model_class(func.value):
            new, maybe = _CLASS_METHODS[method]
            allowed = set(keywords if maybe is None else maybe)
            positional = positional and maybe is not None
        elif method == "schema_json" and self.a.model_class(func.value):
            return self._schema_json(original_node, updated_node, keywords, positional)
        else:
            return updated_node
        if positional or keywords - allowed:
            self.note(
                self.rule,
                original_node,
                f".{method}() with arguments {sorted(keywords - allowed) or 'positional'} has no "
                f"direct v2 equivalent; rewrite to .{new}() by hand",
            )
            return updated_node
        self.done()
        return updated_node.with_changes(func=updated_node.func.with_changes(attr=cst.Name(new)))

    def _parse(
        self,
        original: cst.Call,
        updated: cst.Call,
        method: str,
        keywords: set[str],
        positional: bool,
    ) -> cst.Call:
        func = original.func
        assert isinstance(func, cst.Attribute) and isinstance(updated.func, cst.Attribute)
        if method not in ("parse_obj", "parse_raw", "parse_file") or not self.a.model_class(
            func.value
        ):
            return updated
        if method == "parse_file" or keywords or len(original.args) != 1:
            self.note(
                self.rule,
                original,
                f".{method}() with these arguments has no direct v2 equivalent: read the data and "
                "call model_validate_json() / model_validate() by hand",
            )
            return updated
        new = "model_validate" if method == "parse_obj" else "model_validate_json"
        self.done()
        return updated.with_changes(func=updated.func.with_changes(attr=cst.Name(new)))

    def _schema_json(
        self, original: cst.Call, updated: cst.Call, keywords: set[str], positional: bool
    ) -> cst.BaseExpression:
        assert isinstance(updated.func, cst.Attribute)
        if positional or keywords - {"by_alias", "ref_template", "indent"}:
            self.note(self.rule, original, "schema_json(): use json.dumps(X.model_json_schema())")
            return updated
        schema_args = [a for a in updated.args if a.keyword and a.keyword.value != "indent"]
        dump_args = [a for a in updated.args if a.keyword and a.keyword.value == "indent"]
        schema = cst.Call(
            func=updated.func.with_changes(attr=cst.Name("model_json_schema")),
            args=_commas(schema_args),
        )
        self.edit.imports.append("import json")
        self.done()
        return cst.Call(
            func=cst.Attribute(cst.Name("json"), cst.Name("dumps")),
            args=_commas([cst.Arg(schema), *dump_args]),
        )


class _ParseMethods(_MethodCalls):
    rule = "ET108"


class _Fields(_Transformer):
    rule = "ET110"

    def leave_Attribute(
        self, original_node: cst.Attribute, updated_node: cst.Attribute
    ) -> cst.BaseExpression:
        if original_node.attr.value != "__fields__":
            return updated_node
        if self.a.model_class(original_node.value):
            self.done()
            return updated_node.with_changes(attr=cst.Name("model_fields"))
        if self.a.is_instance(original_node.value):
            self.done()
            owner = cst.Call(func=cst.Name("type"), args=[cst.Arg(updated_node.value)])
            return cst.Attribute(owner, cst.Name("model_fields"))
        return updated_node


class _ParseObjAs(_Transformer):
    rule = "ET115"

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if self.a.member(original_node.func) != "parse_obj_as":
            return updated_node
        args = updated_node.args
        if len(args) != 2 or any(a.keyword or a.star for a in args):
            self.note(
                self.rule, original_node, "parse_obj_as with these arguments: use TypeAdapter"
            )
            return updated_node
        adapter = cst.Call(
            func=self.ref(original_node.func, "TypeAdapter"),
            args=[args[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)],
        )
        self.done()
        return cst.Call(
            func=cst.Attribute(adapter, cst.Name("validate_python")),
            args=[args[1].with_changes(comma=cst.MaybeSentinel.DEFAULT)],
        )


class _UnpassedOptional(_Transformer):
    """``bio: Optional[str]`` with no value, left out where the block makes the model and
    mypy says it is required: the block was written for v1, where it defaulted to None."""

    rule = "call-arg"  # the mypy finding it answers; no rule of the pack reports it

    def leave_ClassDef(
        self, original_node: cst.ClassDef, updated_node: cst.ClassDef
    ) -> cst.ClassDef:
        name = original_node.name.value
        wanted = {field for cls, field in self.ctx.unpassed if cls == name}
        if not wanted or not self.is_model_body(original_node, updated_node):
            return updated_node
        assert isinstance(updated_node.body, cst.IndentedBlock)
        body, defaulted = _v1_optional_defaults(updated_node.body.body, self.a.module, wanted)
        if not defaulted:
            return updated_node
        self.note(
            self.rule,
            original_node,
            f"`= None` added to {', '.join(defaulted)}: the block leaves "
            f"{'it' if len(defaulted) == 1 else 'them'} out, as Pydantic v1 allowed for an "
            "Optional field (its default was None); v2 makes it required",
        )
        self.done()
        return updated_node.with_changes(body=updated_node.body.with_changes(body=body))


class _FieldLines(_Transformer):
    """A rewrite of a model's field lines, one at a time: ``field`` gives a line's new
    statement, or None to keep it."""

    def field(self, small: cst.BaseSmallStatement) -> cst.BaseSmallStatement | None:
        raise NotImplementedError

    def leave_ClassDef(
        self, original_node: cst.ClassDef, updated_node: cst.ClassDef
    ) -> cst.ClassDef:
        if not self.is_model_body(original_node, updated_node):
            return updated_node
        assert isinstance(updated_node.body, cst.IndentedBlock)
        body = []
        for stmt in updated_node.body.body:
            if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
                new = self.field(stmt.body[0])
                if new is not None:
                    stmt = stmt.with_changes(body=[new])
                    self.done()
            body.append(stmt)
        return updated_node.with_changes(body=updated_node.body.with_changes(body=body))


class _NoneDefault(_FieldLines):
    """``full_name: str = None`` in a model: v1 made the field Optional; v2 keeps ``str`` and
    never validates the default (mypy: an incompatible assignment). ``str | None = None``
    says what the field holds, in both."""

    rule = "assignment"  # the mypy finding it answers

    def field(self, small: cst.BaseSmallStatement) -> cst.BaseSmallStatement | None:
        if not (isinstance(small, cst.AnnAssign) and _none_default(small)):
            return None
        annotation = cst.BinaryOperation(small.annotation.annotation, cst.BitOr(), cst.Name("None"))
        return small.with_changes(annotation=cst.Annotation(annotation))


def _none_default(node: cst.AnnAssign) -> bool:
    """``x: T = None`` (or ``= Field(None, ...)``, ``= Field(default=None)``) where ``T``
    admits no None (not Optional, a union with None, Any)."""
    value = node.value
    if isinstance(value, cst.Call) and _last_name(value.func) == "Field":
        given = [a for a in value.args if a.keyword is None][:1] or [
            a for a in value.args if a.keyword and a.keyword.value == "default"
        ]
        value = given[0].value if given else None
    if not (isinstance(value, cst.Name) and value.value == "None"):
        return False
    text = cst.Module([]).code_for_node(node.annotation.annotation)
    return not re.search(r"\bNone\b|Optional\[|\bAny\b|^ClassVar|^[\"']", text)


class _Unannotated(_FieldLines):
    """``name = 'John Doe'`` in a model (v1 took the default's type; v2 raises "A
    non-annotated attribute was detected") -> ``name: str = 'John Doe'``: the type v1 gave
    it, for a literal default (a string, number, bool, bytes, list, dict, set, tuple)."""

    rule = "PydanticUserError"  # the run's finding it answers

    def field(self, small: cst.BaseSmallStatement) -> cst.BaseSmallStatement | None:
        kind = _literal_type(small.value) if isinstance(small, cst.Assign) else None
        if (
            not isinstance(small, cst.Assign)
            or kind is None
            or len(small.targets) != 1
            or not isinstance(target := small.targets[0].target, cst.Name)
            or target.value.startswith(("_", "model_"))  # `model_config = {...}`
        ):
            return None
        return cst.AnnAssign(
            target=target,
            annotation=cst.Annotation(cst.Name(kind)),
            value=small.value,
            equal=cst.AssignEqual(),
        )


def _literal_type(value: cst.BaseExpression) -> str | None:
    """The type v1 inferred from a literal default; None for anything else."""
    if isinstance(value, cst.UnaryOperation) and isinstance(value.operator, cst.Minus):
        value = value.expression
    if isinstance(value, cst.SimpleString | cst.ConcatenatedString | cst.FormattedString):
        text = cst.Module([]).code_for_node(value).lstrip("rRuUfF")
        return "bytes" if text[:1] in ("b", "B") else "str"
    if isinstance(value, cst.Name) and value.value in ("True", "False"):
        return "bool"
    kinds: dict[type[cst.CSTNode], str] = {
        cst.Integer: "int",
        cst.Float: "float",
        cst.List: "list",
        cst.Dict: "dict",
        cst.Set: "set",
        cst.Tuple: "tuple",
    }
    return kinds.get(type(value))


def rewrite(code: str, ctx: RewriteContext) -> Rewrite:
    """Every enabled Pydantic v1 -> v2 rewrite, in an order where later ones see earlier ones."""
    return run_passes(code, ctx, PASSES)


PASSES: tuple[Pass, ...] = (
    _pass("ET106", _BaseSettingsImport, "BaseSettings"),
    _pass("ET104", _ConfigKeys, "Config"),
    _pass("ET105", _JsonEncoders, "json_encoders"),
    _pass("ET103", _ConfigClass, "class Config"),
    _pass("ET101", _Validator, "validator"),
    _pass("ET102", _RootValidator, "root_validator"),
    _pass("ET114", _FieldArgs, "Field"),
    _pass("ET113", _ConTypes, "con"),
    _pass("ET107", _FromOrm, ".from_orm"),
    _pass("ET108", _ParseMethods, ".parse_"),
    _pass("ET109", _MethodCalls, ".schema_json(", *(f".{m}(" for m in _METHOD_NAMES)),
    _pass("ET110", _Fields, "__fields__"),
    _pass("ET115", _ParseObjAs, "parse_obj_as"),
    _pass("call-arg", _UnpassedOptional, "Optional", "None"),
    _pass("assignment", _NoneDefault, "= None", "default=None", "Field(None"),
    _pass("PydanticUserError", _Unannotated, "="),
)
