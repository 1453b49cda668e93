"""Standard-library idioms with a modern replacement that ruff does not already report.

``datetime.utcnow()`` *calls* are ruff's DTZ003/DTZ004; this pack reports the references
(``default_factory=datetime.utcnow``) that ruff misses. ``typing.List``/``Optional`` are ruff's
UP006/UP035/UP045.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from exampletest.model import Category
from exampletest.rules.base import STDLIB, TEXTUAL_NOTE, Context, Hit, rule

STALE = Category.STALE

_UTC = {
    "utcnow": ("lambda: datetime.now(UTC)", "datetime.now(UTC)"),
    "utcfromtimestamp": (
        "lambda ts: datetime.fromtimestamp(ts, UTC)",
        "datetime.fromtimestamp(ts, UTC)",
    ),
}


@rule(
    "ET501",
    "datetime.utcnow / utcfromtimestamp passed as a function",
    STALE,
    STDLIB,
    "",
    "lambda: datetime.now(UTC) (timezone-aware)",
    modules=("datetime",),
)
def utcnow_reference(ctx: Context) -> Iterator[Hit]:
    for node in ctx.walk(ast.Attribute):
        assert isinstance(node, ast.Attribute)
        if node.attr not in _UTC:
            continue
        parent = ctx.parent(node)
        if isinstance(parent, ast.Call) and parent.func is node:
            continue  # a call: ruff DTZ003/DTZ004 reports it
        if not ctx.matches(node, (f"datetime.datetime.{node.attr}",)):
            continue
        replacement, call = _UTC[node.attr]
        yield Hit(
            node,
            f"`datetime.{node.attr}` returns naive datetimes and is deprecated since Python 3.12: "
            f"pass `{replacement}`" + (TEXTUAL_NOTE if ctx.is_textual(node) else ""),
            suggestion=f"{replacement} (from datetime import UTC); aware {call}",
        )


@rule(
    "ET502",
    "asyncio.get_event_loop() outside a coroutine",
    STALE,
    STDLIB,
    "",
    "asyncio.run(main()) / asyncio.get_running_loop()",
    modules=("asyncio",),
)
def get_event_loop(ctx: Context) -> Iterator[Hit]:
    for call in ctx.calls():
        if not ctx.matches(call.func, ("asyncio.get_event_loop", "asyncio.events.get_event_loop")):
            continue
        if isinstance(ctx.enclosing_function(call), ast.AsyncFunctionDef):
            continue
        yield Hit(
            call,
            "`asyncio.get_event_loop()` outside a coroutine is deprecated since Python 3.10 "
            "(Python 3.12 warns where it has to make a loop, 3.14 raises RuntimeError there): "
            "run the program with `asyncio.run(main())`"
            + (TEXTUAL_NOTE if ctx.is_textual(call.func) else ""),
            suggestion="asyncio.run(main()); inside a coroutine use asyncio.get_running_loop()",
        )
