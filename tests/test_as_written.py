"""The run as written, read off the full-context run: the same record a real run gives, and a
real run wherever the block could have handled its NameError. Real workers, real forks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from exampletest.pool import Job, WorkerPool
from exampletest.sandbox import Limits

TARGET = "exampletest.harness:run_job"
LIMITS = Limits(timeout_s=10.0)


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    with WorkerPool(2, preload=("exampletest.harness",)) as warm:
        assert warm.wait_ready()
        yield warm


def _run(pool: WorkerPool, code: str, how: str) -> dict[str, Any]:
    payload = {
        "code": code,
        "filename": "<exampletest:d.md:1>",
        "missing": ["Decimal"],
        "imports": {"Decimal": "from decimal import Decimal"},
        "as_written": how,
        "pass_timeout_s": 4.0,
    }
    [(_, contained)] = pool.run([Job(how, TARGET, payload, LIMITS)])
    assert contained.value is not None, contained
    return contained.value


@pytest.mark.parametrize(
    "code",
    [
        # at top level, after a warning the block raised: the warning is part of pass 1
        "import warnings\nwarnings.warn('old', DeprecationWarning)\nx = [1, Decimal('1')]\n",
        # in a function the top level calls, and in a class body
        "def price():\n    return 2 * Decimal('1')\n\nprice()\n",
        "class Money:\n    unit = Decimal('0.01')\n",
        # in a comprehension, its own frame
        "prices = [Decimal(p) for p in ('1', '2')]\n",
    ],
)
def test_pass1_read_off_pass2_is_the_record_a_real_run_gives(pool: WorkerPool, code: str) -> None:
    real = _run(pool, code, "fork")
    read = _run(pool, code, "infer")
    assert "pass1_unsure" not in read
    assert read["pass1"] == real["pass1"]
    assert read["pass1"]["exception"]["type"] == "NameError"
    assert read["pass1"]["exception"]["col"] >= 1  # the lookup's own columns
    assert read["pass2"] == real["pass2"]


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("try:\n    x = Decimal('1')\nexcept NameError:\n    x = 0\n", "try or with"),
        ("import contextlib\nwith contextlib.suppress(NameError):\n    Decimal('1')\n", "with"),
        # a pure-Python library calls the block's code back
        ("import textwrap\ntextwrap.indent('a', '> ', lambda line: Decimal(1))\n", "other"),
        ("import asyncio\nawait asyncio.sleep(0)\nDecimal('1')\n", "awaits"),
    ],
)
def test_where_the_block_could_handle_the_name_error_pass1_is_really_run(
    pool: WorkerPool, code: str, why: str
) -> None:
    read = _run(pool, code, "infer")
    assert why in read["pass1_unsure"]
    assert read["pass1"] is None
    real = _run(pool, code, "only")
    assert set(real) == {"pass1"}
    handled = why in ("try or with", "with")
    assert (real["pass1"]["exception"] is None) is handled


def test_a_block_that_looks_nothing_up_is_its_own_pass1(pool: WorkerPool) -> None:
    read = _run(pool, "x = 1\nraise ValueError(x)\nDecimal('1')\n", "infer")
    assert read["pass1"]["exception"]["type"] == "ValueError"
    assert (
        read["pass1"] == _run(pool, "x = 1\nraise ValueError(x)\nDecimal('1')\n", "fork")["pass1"]
    )


def test_the_stage_reruns_an_unsure_block_as_written(write_doc: Any, run_json: Any) -> None:
    # As written the NameError is handled: the block runs; the name is still needed.
    write_doc(
        "d.md",
        "# T\n\n```python\ntry:\n    value = Decimal('1')\nexcept NameError:\n"
        "    value = 0\nprint(value)\n```\n",
    )
    _code, report = run_json("--stages", "smoke", "--no-cache", "d.md")
    [block] = report["documents"][0]["blocks"]
    [finding] = block["findings"]
    assert finding["rule"] == "ET001"
    assert "stops" not in finding["message"]
    assert "its top level needs this name" in finding["message"]
