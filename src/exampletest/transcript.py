"""Whether the output a document shows for a statement is what the statement really gives.

Two ways documents show output: a console session (``>>>`` statements, each followed by what
it displays and prints, as doctest reads them) and pytest-examples' ``#>`` comments or string
under a ``print()`` (what that call prints). Both are read the way a reader reads them, not as
strictly as doctest: whitespace, blank lines and a last comma are layout, ``...`` stands for
any text, an object's address (``at 0x7f3a...``) and the version in a documentation URL
differ from run to run or release to release, and a dict or set shown in another order is the
same value. What is left that differs is a claim the code does not keep."""

from __future__ import annotations

import ast
import datetime
import doctest
import re

#: doctest's own matching: ``...`` elides, runs of whitespace are equal.
_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{4,}\b")
_URL = re.compile(r"https?://\S+")
#: Calls whose result differs run to run or machine to machine, and values of the machine:
#: a shown value that comes from one is an illustration, and a mismatch is no evidence.
_VARYING = re.compile(
    r"\b(?:now|utcnow|today|time|time_ns|monotonic|perf_counter|process_time|random|randint|"
    r"randrange|choice|choices|sample|shuffle|uniform|uuid1|uuid4|token_hex|token_urlsafe|"
    r"token_bytes|urandom|getpid|getcwd|cwd|home|id|hash|hashpw|gensalt|hash_password|mkdtemp|"
    r"mkstemp|gettempdir|getenv|gethostname|getsizeof|system|node|cpu_count|help)\s*\("
    r"|\bsys\.(?:path|version|version_info|platform|maxsize|executable|prefix|argv)\b"
    r"|\b(?:environ|VERSION|__version__)\b|\bplatform\.\w"
)


#: A module's file on this machine (``<module 'random' from '/usr/lib/...'>``).
_MACHINE_PATH = re.compile(r"""from '(?:/|[A-Za-z]:\\)""")

#: The line Pydantic ends each error of a ValidationError with; its own docs leave it out
#: (they are tested with ``PYDANTIC_ERRORS_INCLUDE_URL=0``), and so do many others.
_ERROR_URL = re.compile(r"(?m)^[ \t]*For further information visit https?://\S+[ \t]*\n?")


def matches(want: str, got: str) -> bool:
    """Whether ``got`` (what the statement printed and displayed) is what ``want`` shows,
    as it stands or once the author's notes on it are taken off (see :func:`_annotated`)."""
    want, got = _unmentioned(want, got)
    plain = _annotated(want)
    return _same(want, got) or (plain != want and _same(plain, got))


def _same(want: str, got: str) -> bool:
    if doctest.OutputChecker().check_output(want + "\n", got, _FLAGS):
        return True
    if _same_literal(want, got):
        return True
    # Layout: pytest-examples wraps a long value over lines, with a comma after the last item.
    return doctest.OutputChecker().check_output(
        _squeezed(want) + "\n", _squeezed(got) + "\n", doctest.ELLIPSIS
    )


def _annotated(want: str) -> str:
    """The shown output without what its author wrote around it for the reader: output
    written as comments (``# red`` under ``>>> print(color)``), a note after it on its line
    (``3.14   # two decimals``), and the next prompt glued to text printed without a newline
    (``hi>>>``)."""
    lines = want.splitlines()
    shown = [ln for ln in lines if ln.strip()]
    if shown and all(ln.lstrip().startswith("#") for ln in shown):
        lines = [re.sub(r"^(\s*)#\s?", r"\1", ln) for ln in lines]
    lines = [re.sub(r"\s+#\s.*$", "", ln) for ln in lines]
    return re.sub(r">>>\s*$", "", "\n".join(lines))


def _unmentioned(want: str, got: str) -> tuple[str, str]:
    """Both outputs without what the shown one leaves out as a matter of course: Pydantic's
    error URL line, and the ``__main__.`` of the block's own classes (a doctest runner or a
    docs build names them otherwise, or not at all: ``<class 'A'>``)."""
    want = want.replace("<BLANKLINE>", "")
    if not _ERROR_URL.search(want):
        got = _ERROR_URL.sub("", got)
    if "__main__." not in want:
        got = got.replace("__main__.", "")
    return want, got


def _squeezed(text: str) -> str:
    """The text without what varies but says nothing: whitespace outside quotes, a comma
    before a closing bracket, an object's address, the version in a URL
    (``errors.pydantic.dev/2.14/``)."""
    text = _ADDRESS.sub("0x0", text)
    text = _URL.sub(lambda m: re.sub(r"\d+(?:\.\d+)*", "0", m.group()), text)
    out: list[str] = []
    quote, escaped = "", False
    for ch in text:  # whitespace inside a quoted string is the value's own: kept
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch.isspace():
            continue
        out.append(ch)
    return re.sub(r",(?=[)\]}])", "", "".join(out))


def _same_literal(want: str, got: str) -> bool:
    """``{'b': 1, 'a': 2}`` shown for ``{'a': 2, 'b': 1}``: equal values, another order."""
    try:
        return bool(ast.literal_eval(want.strip()) == ast.literal_eval(got.strip()))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False


def varies(source: str, got: str = "") -> bool:
    """Whether the code (a statement and the session before it) uses something whose result
    differs from run to run or machine to machine, or its output shows the day it ran (a
    logger's timestamp, from a library's own clock call)."""
    if _VARYING.search(source) is not None or _MACHINE_PATH.search(got):
        return True
    now = datetime.datetime.now(datetime.UTC)
    day = datetime.timedelta(days=1)
    days = {now.date(), now.astimezone().date(), (now - day).date(), (now + day).date()}
    return any(day.isoformat() in got for day in days)


def difference(want: str, got: str, limit: int = 120) -> tuple[str, str]:
    """Where the shown output and the real one part, each on one line (cut at ``limit``): the
    first line that differs, or, when one is laid out over more lines than the other, the
    text around the first character that differs."""
    want = want.replace("<BLANKLINE>", "")
    if not _ERROR_URL.search(want):
        got = _ERROR_URL.sub("", got)
    shown, real = want.strip().splitlines(), got.strip().splitlines()
    if len(shown) == len(real):
        pairs = zip(shown, real, strict=True)
        a, b = next(((a, b) for a, b in pairs if a.split() != b.split()), (want, got))
        return _cut(a.strip(), limit), _cut(b.strip(), limit)
    a, b = _flat(want), _flat(got)
    at = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    start = max(at - 30, 0)
    lead = "…" if start else ""
    return _cut(lead + a[start:], limit), _cut(lead + b[start:], limit)


def _flat(text: str) -> str:
    """The text on one line, as ``repr`` would lay a value out: single spaces, none inside
    brackets, no comma before a closing one."""
    flat = " ".join(text.split())
    flat = re.sub(r"([\[{(]) ", r"\1", flat)
    return re.sub(r",? ?([\]})])", r"\1", flat)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
