"""Runtime stand-ins for names a fragment never defines.

A placeholder absorbs whatever is done to it (attribute access, calls, arithmetic, ``await``,
``async with``, use as a base class or annotation) so the rest of the block still runs. It is
never evidence: an error it causes is not reported as ``broken``.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

MARK = "__exampletest_placeholder__"

#: How many times code has used a placeholder so far in this process: a statement's shown
#: output is no evidence when a placeholder took part in it (``str(settings.KEY)`` is plain
#: text, ``len(settings.HOSTS)`` a plain 0). Read with :func:`uses`.
_uses = [0]


def uses() -> int:
    return _uses[0]


def _used() -> None:
    _uses[0] += 1


class _Absorb:
    """Operations shared by placeholder instances and placeholder classes (via the metaclass)."""

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return Placeholder(f"{_name(self)}.{attr}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return Placeholder(f"{_name(self)}()")

    def __getitem__(self, key: Any) -> Any:
        return Placeholder(f"{_name(self)}[]")

    def __iter__(self) -> Iterator[Any]:
        _used()
        return iter(())

    def __await__(self) -> Generator[Any, None, Any]:
        return Placeholder(f"await {_name(self)}")
        yield  # pragma: no cover - makes this a generator

    async def __aenter__(self) -> Any:
        return Placeholder(f"{_name(self)}")

    async def __aexit__(self, *exc: object) -> None:
        return None

    def __enter__(self) -> Any:
        return Placeholder(f"{_name(self)}")

    def __exit__(self, *exc: object) -> None:
        return None

    def __bool__(self) -> bool:
        _used()
        return True

    def __len__(self) -> int:
        _used()
        return 0

    def __contains__(self, item: object) -> bool:
        _used()
        return False

    def _op(self, *other: Any) -> Any:
        return Placeholder(f"({_name(self)} op)")

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _op
    __truediv__ = __rtruediv__ = __floordiv__ = __mod__ = __pow__ = _op
    __and__ = __rand__ = __or__ = __ror__ = __xor__ = __invert__ = __neg__ = _op
    __lt__ = __le__ = __gt__ = __ge__ = _op


def _name(obj: object) -> str:
    return str(obj.__dict__.get("_name", "?")) if hasattr(obj, "__dict__") else "?"


class PlaceholderMeta(_Absorb, type):
    """Makes placeholder *classes* absorb class-level use (``User.id == 1``)."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return Placeholder(f"{cls.__name__}()")

    def __getattr__(cls, attr: str) -> Any:
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return Placeholder(f"{cls.__name__}.{attr}")

    def __repr__(cls) -> str:
        _used()
        return f"<placeholder class {cls.__name__}>"

    def __hash__(cls) -> int:
        return id(cls)

    def __eq__(cls, other: object) -> Any:
        return Placeholder(f"({cls.__name__} == ...)")


class Placeholder(_Absorb):
    def __init__(self, name: str) -> None:
        _used()  # every use that gives a value makes a new placeholder
        self.__dict__["_name"] = name
        self.__dict__[MARK] = True

    def __repr__(self) -> str:
        _used()
        return f"<placeholder {self.__dict__['_name']}>"

    def __str__(self) -> str:
        _used()
        return f"placeholder-{self.__dict__['_name']}"

    def __eq__(self, other: object) -> Any:
        return Placeholder(f"({self.__dict__['_name']} == ...)")

    def __hash__(self) -> int:
        return id(self)

    def __setattr__(self, attr: str, value: Any) -> None:
        return None


def placeholder(name: str, as_type: bool = False) -> Any:
    """A value, or a class when the fragment uses the name as a type or base class."""
    if as_type:
        return PlaceholderMeta(name, (), {MARK: True, "_name": name})
    return Placeholder(name)


def is_placeholder(obj: object) -> bool:
    try:
        return bool(getattr(type(obj), MARK, False) or getattr(obj, MARK, False) is True)
    except Exception:
        return False
