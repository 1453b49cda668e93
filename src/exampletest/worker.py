"""A warm smoke worker: import the heavy stack once, then run contained jobs forked from it.

``python -m exampletest.worker [--slot N] [--pass-env NAME ...] [MODULE ...]`` imports the
modules (and those named in ``EXAMPLETEST_PRELOAD``, comma-separated; failures are skipped),
prints ``{"ready": true, ...}``, then reads one job per stdin line
``{"id", "target": "package.module:function", "payload", "limits"}`` and answers each with
``{"id", "contained": Contained.to_dict()}`` on stdout. Forking from this warm process makes a
job cost a fork instead of a cold interpreter start.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any, TextIO

from exampletest.sandbox import (
    Contained,
    Limits,
    Target,
    collapse_heap,
    prepare_worker,
    run_contained,
)

PRELOAD_ENV = "EXAMPLETEST_PRELOAD"


def _preload(modules: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """Import what the blocks will import. A module whose import warns (``import cgi``, a
    deprecated package) is taken out again: preloaded, its warning would never reach the
    block that imports it, and that warning is the evidence the block is stale."""
    loaded: list[str] = []
    failed: dict[str, str] = {}
    for name in modules:
        before = set(sys.modules)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                importlib.import_module(name)
        except BaseException as exc:
            failed[name] = f"{type(exc).__name__}: {exc}"
            continue
        if caught:
            for added in set(sys.modules) - before:
                del sys.modules[added]
            failed[name] = f"not preloaded: its import warns ({caught[0].category.__name__})"
        else:
            loaded.append(name)
    return loaded, failed


def resolve(spec: str) -> Target:
    """``"package.module:function"`` -> the function."""
    module, _, name = spec.partition(":")
    target: Target = getattr(importlib.import_module(module), name)
    return target


def _answer(out: TextIO, job_id: object, contained: Contained) -> None:
    out.write(json.dumps({"id": job_id, "contained": contained.to_dict()}, default=repr) + "\n")
    out.flush()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m exampletest.worker")
    parser.add_argument("--slot", type=int, default=0)
    parser.add_argument("--pass-env", action="append", default=[])
    parser.add_argument("modules", nargs="*")
    args = parser.parse_args(argv)
    # The protocol gets a private copy of stdout; stray prints (from imports) go to stderr.
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    env_modules = [m for m in os.environ.get(PRELOAD_ENV, "").split(",") if m]
    direct = prepare_worker()  # before the imports: no thread may exist yet
    loaded, failed = _preload([*args.modules, *env_modules])
    passed = {name: os.environ[name] for name in args.pass_env if name in os.environ}
    # Every job is a fork of this process: objects the preload made are frozen out of the
    # collector, so a child's collections do not touch (and copy) the whole inherited heap.
    gc.collect()
    gc.freeze()
    huge = collapse_heap()
    ready = {
        "ready": True,
        "slot": args.slot,
        "preloaded": loaded,
        "failed": failed,
        "one_fork_per_job": direct,
        "huge_pages_bytes": huge,
    }
    out.write(json.dumps(ready) + "\n")
    out.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        job: dict[str, Any] = json.loads(line)
        limits = Limits(**job.get("limits", {}))
        try:
            target = resolve(job["target"])
        except Exception as exc:
            _answer(out, job.get("id"), Contained.failure(f"cannot load target: {exc!r}", limits))
            continue
        contained = run_contained(target, job["payload"], limits, slot=args.slot, env=passed)
        _answer(out, job.get("id"), contained)
    return 0


if __name__ == "__main__":
    sys.exit(main())
