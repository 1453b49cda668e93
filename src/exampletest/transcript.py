"""Whether a console transcript's shown output is what its statement really gives.

Read the way a reader reads a transcript, not as strictly as doctest: whitespace and blank
lines are layout, ``...`` stands for any text, an object's address (``at 0x7f3a...``) is
different every run, and a dict or set shown in another order is the same value. What is
left that differs is a claim the code does not keep.
"""

from __future__ import annotations

import ast
import doctest
import re

#: doctest's own matching: ``...`` elides, runs of whitespace are equal.
_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{4,}\b")
#: Calls whose result differs run to run or machine to machine, and values of the machine:
#: a shown value that comes from one is an illustration, and a mismatch is no evidence.
_VARYING = re.compile(
    r"\b(?:now|utcnow|today|time|time_ns|monotonic|perf_counter|process_time|random|randint|"
    r"randrange|choice|choices|sample|shuffle|uniform|uuid1|uuid4|token_hex|token_urlsafe|"
    r"token_bytes|urandom|getpid|getcwd|cwd|home|id|hash|hashpw|gensalt|hash_password|mkdtemp|"
    r"mkstemp|gettempdir|getenv|gethostname|getsizeof|system|node|cpu_count)\s*\("
    r"|\b(?:environ|version|version_info|VERSION|__version__|platform|maxsize|path)\b"
)


def matches(want: str, got: str) -> bool:
    """Whether ``got`` (what the statement printed and displayed) is what ``want`` shows."""
    want = want.replace("<BLANKLINE>", "")
    if doctest.OutputChecker().check_output(want + "\n", got, _FLAGS):
        return True
    if _ADDRESS.sub("0x0", want).split() == _ADDRESS.sub("0x0", got).split():
        return True
    return _same_literal(want, got)


def _same_literal(want: str, got: str) -> bool:
    """``{'b': 1, 'a': 2}`` shown for ``{'a': 2, 'b': 1}``: equal values, another order."""
    try:
        return bool(ast.literal_eval(want.strip()) == ast.literal_eval(got.strip()))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False


def varies(source: str) -> bool:
    """Whether the code (a statement and the session before it) uses something whose result
    differs from run to run or machine to machine."""
    return _VARYING.search(source) is not None


def excerpt(text: str, limit: int = 120) -> str:
    """The text on one line for a message: newlines shown as ``\\n``, cut at ``limit``."""
    flat = text.strip().replace("\n", "\\n")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
