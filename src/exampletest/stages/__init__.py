"""Checking stages. Each module has one entry point, ``check``, and returns model.Finding lists
keyed by (document path, block index)."""

import re

#: What the compiler (``'return' outside function``) and mypy (``"break" outside loop``) say
#: of a statement that only works inside a function or a loop: the block is an excerpt of
#: one (``return user`` alone), incomplete rather than broken.
EXCERPT = re.compile(
    r"""["'](?:return|yield|yield from)["'] outside function"""
    r"""|["'](?:break|continue)["'] (?:outside loop|not properly in loop)"""
)
#: ruff's rules for the same statements.
EXCERPT_RULES = frozenset({"F701", "F702", "F706"})


class StageError(RuntimeError):
    """The checker itself failed (missing, crashed): reported per stage, never a traceback."""
