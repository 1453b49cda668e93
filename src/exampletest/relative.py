"""Where a block's relative imports point: a package the block pretends to live in, so that
``from .models import X`` resolves to a stand-in module (smoke) or a missing one (mypy)
instead of failing outright. Its own module because the smoke worker needs it and must stay
lean (no analysis code loaded in every worker)."""

from __future__ import annotations

RELATIVE_PACKAGE = ("_exampletest_rel", "a", "b", "c")


def relative_module(level: int, module: str) -> str:
    """The stand-in module ``from <level dots><module> import ...`` names."""
    parent = RELATIVE_PACKAGE[: max(1, len(RELATIVE_PACKAGE) - (level - 1))]
    return ".".join([*parent, module] if module else parent)
