"""Parsing from the stages' threads: one at a time, or CPython's tree builder miscounts."""

from __future__ import annotations

import ast
import gc
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from exampletest.symbols import parse_code

CODE = "\n".join(
    f"def f{i}(a, b=[{{'x': (1, [2, {{3: 4}}])}}]):\n"
    "    return [x for x in range(a) if x > b[0]['x'][0]]\n"
    for i in range(200)
)


class _Churn:
    """Garbage with a finalizer: the collector runs it in the middle of building a tree,
    where another thread may take over."""

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        time.sleep(0)


@contextmanager
def _frequent_collections() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(50, 5, 5)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _system_errors(parse: Callable[[str], ast.Module]) -> list[str]:
    errors: list[str] = []

    def work() -> None:
        for _ in range(15):
            try:
                _junk = [_Churn() for _ in range(50)]
                del _junk
                parse(CODE)
            except SystemError as exc:
                errors.append(str(exc))

    with _frequent_collections():
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return errors


def test_parsing_in_threads_at_once_never_miscounts_the_tree() -> None:
    if not _system_errors(ast.parse):
        pytest.skip("this interpreter's ast.parse does not show the race here")
    assert _system_errors(parse_code) == []
