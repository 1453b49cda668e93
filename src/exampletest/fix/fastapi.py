"""FastAPI idioms with a mechanical modern spelling.

ET303: ``db: Session = Depends(get_db)`` -> ``db: Annotated[Session, Depends(get_db)]``. Only
``Depends``/``Security`` (they carry no default value, so nothing moves), only annotated
parameters, and only where dropping the default keeps the signature valid (a parameter without
a default may not follow one with a default); anything else stays a suggestion.
"""

from __future__ import annotations

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import MetadataWrapper

from exampletest.fix.base import Edit, Pass, PassTransformer, Rewrite, RewriteContext, run_passes

_DEPENDENCY_MARKERS = frozenset({"Depends", "Security"})


class _AnnotatedDepends(PassTransformer):
    def leave_Parameters(
        self, original_node: cst.Parameters, updated_node: cst.Parameters
    ) -> cst.Parameters:
        positional = [*updated_node.posonly_params, *updated_node.params]
        new_positional = [self._convert(p) for p in positional]
        new_kwonly = [self._convert(p) for p in updated_node.kwonly_params]
        if new_positional == positional and new_kwonly == list(updated_node.kwonly_params):
            return updated_node
        seen_default = False
        for param in new_positional:  # Python: no default-less parameter after a default
            if param.default is not None:
                seen_default = True
            elif seen_default:
                self.note(
                    "ET303",
                    original_node,
                    "moving `Depends(...)` into `Annotated` would put a parameter without a "
                    "default after one with a default: reorder the parameters by hand",
                )
                return updated_node
        self.edit.applied.add("ET303")
        self.edit.imports.append("from typing import Annotated")
        n = len(updated_node.posonly_params)
        return updated_node.with_changes(
            posonly_params=new_positional[:n],
            params=new_positional[n:],
            kwonly_params=new_kwonly,
        )

    def _convert(self, param: cst.Param) -> cst.Param:
        default = param.default
        if param.annotation is None or not isinstance(default, cst.Call):
            return param
        name = (get_full_name_for_node(default.func) or "").rsplit(".", 1)[-1]
        if name not in _DEPENDENCY_MARKERS:
            return param
        annotated = cst.Subscript(
            cst.Name("Annotated"),
            [
                cst.SubscriptElement(
                    cst.Index(param.annotation.annotation),
                    comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
                ),
                cst.SubscriptElement(cst.Index(default)),
            ],
        )
        return param.with_changes(
            annotation=param.annotation.with_changes(annotation=annotated),
            default=None,
            equal=cst.MaybeSentinel.DEFAULT,
        )


def _annotated(wrapper: MetadataWrapper, ctx: RewriteContext, edit: Edit) -> cst.Module:
    return wrapper.visit(_AnnotatedDepends(edit))


PASSES: tuple[Pass, ...] = (Pass(("ET303", "FAST002"), _annotated, ("Depends(", "Security(")),)


def rewrite(code: str, ctx: RewriteContext) -> Rewrite:
    return run_passes(code, ctx, PASSES)
