"""Checking stages. Each module has one entry point, ``check``, and returns model.Finding lists
keyed by (document path, block index). What several stages must agree on lives here: the
stage error, and how an excerpt or a newer Python's name shows in what each checker says."""

import re
import sys

#: What the compiler (``'return' outside function``) and mypy (``"break" outside loop``) say
#: of a statement that only works inside a function or a loop, and mypy of a ``@classmethod``
#: at top level: the block is an excerpt of one (``return user`` alone, a validator shown
#: without its model), incomplete rather than broken.
EXCERPT = re.compile(
    r"""["'](?:return|yield|yield from)["'] outside function"""
    r"""|["'](?:break|continue)["'] (?:outside loop|not properly in loop)"""
    r"""|"(?:classmethod|staticmethod)" used with a non-method"""  # a method without its class
)
#: ruff's rules for the same statements.
EXCERPT_RULES = frozenset({"F701", "F702", "F706"})


class StageError(RuntimeError):
    """The checker itself failed (missing, crashed): reported per stage, never a traceback."""


#: Rule of a finding about what a newer Python added: syntax (``type X = ...``, ``class A[T]``,
#: ruff's word) or a standard-library name (the run's and mypy's). The block is valid there, so
#: it is the environment's problem, not the document's.
NEWER_PYTHON = "newer-python"
#: Said of a finding that comes of an import exampletest guessed for a missing name: the
#: author may mean another (a fix that writes the guess in, and still fails there, is refused).
GUESS = "exampletest's guess"
_GUESS_NOTE = re.compile(rf" \([^()]*{re.escape(GUESS)}[^()]*\)")


def without_guess(message: str) -> str:
    """The message without its note on exampletest's guess: the same failure, once a fix
    writes the guess in, is told by what it says (the fix that leaves it is no resolution)."""
    return _GUESS_NOTE.sub("", message)


#: Standard-library names by the Python version that added them (3.11 and later): an example
#: written for a newer Python fails to import them here (the run's ImportError, mypy's
#: "Module has no attribute").
_STDLIB_ADDED = {
    "warnings.deprecated": "3.13", "typing.TypeIs": "3.13", "typing.ReadOnly": "3.13",
    "typing.NoDefault": "3.13", "copy.replace": "3.13", "typing.override": "3.12",
    "typing.TypeAliasType": "3.12", "itertools.batched": "3.12", "collections.abc.Buffer": "3.12",
    "calendar.Month": "3.12", "calendar.Day": "3.12", "pathlib.UnsupportedOperation": "3.13",
    "asyncio.Runner": "3.11", "asyncio.TaskGroup": "3.11", "asyncio.timeout": "3.11",
    "typing.Self": "3.11", "typing.Never": "3.11", "typing.LiteralString": "3.11",
    "datetime.UTC": "3.11", "enum.StrEnum": "3.11",
}  # fmt: skip


def newer_stdlib(module: str, name: str) -> str | None:
    """The Python version that added ``module.name``, when it is newer than this one."""
    added = _STDLIB_ADDED.get(f"{module}.{name}")
    if added is None or tuple(map(int, added.split("."))) <= sys.version_info[:2]:
        return None
    return added
