"""A pool of warm smoke workers (``exampletest.worker``), one contained job at a time each.

Workers start when the pool is created and import the heavy stack in the background, so the
caller can run ruff/mypy meanwhile. Every job gets a result: a worker that dies or stops
answering is killed and replaced, and its job reported as an ``internal`` failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from exampletest.sandbox import SAFE_PATH, Contained, Limits, safe_environ

#: Modules a warm worker imports once, so that each forked block starts with them loaded.
STACK_MODULES: tuple[str, ...] = (
    "pydantic",
    "pydantic.v1",  # FastAPI imports it lazily, for every route, to tell v1 models apart
    "pydantic_settings",
    "fastapi",
    "fastapi.testclient",
    "sqlalchemy",
    "sqlalchemy.orm",
    "sqlalchemy.ext.asyncio",
    "starlette",
    "jwt",
    "argon2",
    "exampletest.harness",
    "exampletest.deepsmoke",
)
#: Modules that import more of the stack later, on their own (FastAPI imports
#: ``pydantic.v1`` for every route it builds).
_LOADS_LATER = {"fastapi": ("pydantic.v1",)}
STARTUP_TIMEOUT_S = 120.0
ANSWER_GRACE_S = 10.0  # beyond a job's own timeout, before its worker counts as stuck
_MAX_START_FAILURES = 3


@dataclass(frozen=True)
class Job:
    id: str
    target: str  # "package.module:function", called with the payload in the contained child
    payload: dict[str, Any]
    limits: Limits = field(default_factory=Limits)


class _Worker:
    def __init__(self, slot: int, argv: list[str], env: dict[str, str]) -> None:
        self.slot = slot
        self.stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [*argv, "--slot", str(slot)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            env=env,
            start_new_session=True,
        )
        assert self.proc.stdout is not None
        self.fd = self.proc.stdout.fileno()
        self.buffer = b""
        self.tail = ""  # of its stderr, once stopped
        self.ready = False
        self.job: Job | None = None
        self.deadline = time.monotonic() + STARTUP_TIMEOUT_S

    def send(self, job: Job) -> bool:
        line = {"id": job.id, "target": job.target, "payload": job.payload}
        line["limits"] = asdict(job.limits)
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps(line) + "\n").encode())
            self.proc.stdin.flush()
        except OSError:
            return False
        self.job = job
        self.deadline = time.monotonic() + job.limits.timeout_s + ANSWER_GRACE_S
        return True

    def read(self) -> list[dict[str, Any]] | None:
        """Messages now available; None once the worker has gone."""
        chunk = os.read(self.fd, 1 << 20)
        if not chunk:
            return None
        *lines, self.buffer = (self.buffer + chunk).split(b"\n")
        return [json.loads(line) for line in lines if line.strip()]

    def stop(self, kill: bool) -> str:
        """End the worker; returns the tail of its stderr for diagnostics (once: a worker
        found dead, then closed with the pool, is stopped twice)."""
        if self.stderr.closed:
            return self.tail
        with contextlib.suppress(OSError):
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        if kill:
            self.proc.kill()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.stderr.seek(0)
        self.tail = self.stderr.read()[-2000:].decode("utf-8", "replace").strip()
        self.stderr.close()
        return self.tail


class WorkerPool:
    """``jobs`` warm workers; use as a context manager and feed it with :meth:`run`."""

    def __init__(
        self,
        jobs: int,
        preload: Sequence[str] = STACK_MODULES,
        env: Mapping[str, str] | None = None,
        first_slot: int = 0,
    ) -> None:
        src = str(Path(__file__).resolve().parent.parent)
        python_path = os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p)
        extra = {**(env or {}), "PYTHONPATH": python_path, "PYTHONDONTWRITEBYTECODE": "1"}
        self._env = safe_environ(extra, home=tempfile.gettempdir())
        self._argv = [sys.executable, *SAFE_PATH, "-m", "exampletest.worker"]
        self._argv += [arg for name in (env or {}) for arg in ("--pass-env", name)]
        self._argv += list(preload)
        slots = range(first_slot, first_slot + max(jobs, 1))  # a slot is a uid: see sandbox
        self._workers = [_Worker(slot, self._argv, self._env) for slot in slots]
        self._start_failures = 0

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def worker_pids(self) -> list[int]:
        return [w.proc.pid for w in self._workers]

    def close(self) -> None:
        for worker in self._workers:
            worker.stop(kill=worker.job is not None)
        self._workers = []

    def _replace(self, worker: _Worker, kill: bool) -> str:
        tail = worker.stop(kill)
        if not worker.ready:
            self._start_failures += 1
        index = self._workers.index(worker)
        self._workers[index] = _Worker(worker.slot, self._argv, self._env)
        return tail

    def _lost(self, worker: _Worker, why: str) -> tuple[str, Contained] | None:
        """Replace a dead or stuck worker; its job, if any, becomes an internal failure."""
        job = worker.job
        tail = self._replace(worker, kill=True)
        if job is None:
            return None
        message = f"smoke worker {why} (exit status {worker.proc.returncode}): {tail[-500:]}"
        return job.id, Contained.failure(message.strip(), job.limits)

    def run(self, jobs: Sequence[Job] | deque[Job]) -> Iterator[tuple[str, Contained]]:
        """Yield ``(job id, Contained)`` for every job, in the order results arrive. A deque
        is the queue itself: what the caller appends to it between results runs too."""
        pending = jobs if isinstance(jobs, deque) else deque(jobs)
        try:
            while pending or any(w.job for w in self._workers):
                if self._start_failures >= _MAX_START_FAILURES:
                    tail = self._workers[0].stop(kill=True) if self._workers else ""
                    while pending:
                        job = pending.popleft()
                        message = f"smoke workers cannot start: {tail[-500:]}"
                        yield job.id, Contained.failure(message, job.limits)
                    return
                for worker in self._workers:
                    if worker.ready and worker.job is None and pending:
                        job = pending.popleft()
                        if not worker.send(job):
                            pending.appendleft(job)
                            self._replace(worker, kill=True)
                yield from self._pump()
        finally:
            for worker in list(self._workers):
                if worker.job is not None:  # the caller stopped early: drop stale answers
                    worker.job = None
                    self._replace(worker, kill=True)

    def wait_ready(self, timeout_s: float = STARTUP_TIMEOUT_S) -> bool:
        """Block until every worker has imported its preload (useful before timing)."""
        deadline = time.monotonic() + timeout_s
        while not all(w.ready for w in self._workers) and time.monotonic() < deadline:
            for _ in self._pump(deadline - time.monotonic()):
                pass
        return all(w.ready for w in self._workers)

    def _pump(self, wait_s: float = 1.0) -> Iterator[tuple[str, Contained]]:
        """Wait for worker output once; yield the results it carries."""
        now = time.monotonic()
        waiting = [w.deadline - now for w in self._workers if w.job or not w.ready]
        timeout = max(0.0, min([wait_s, *waiting]))
        readable, _, _ = select.select([w.fd for w in self._workers], [], [], timeout)
        for worker in list(self._workers):
            if worker.fd in readable:
                messages = worker.read()
                if messages is None:
                    lost = self._lost(worker, "died")
                    if lost:
                        yield lost
                    continue
                for message in messages:
                    if message.get("ready"):
                        worker.ready = True
                        self._start_failures = 0
                    elif worker.job is not None and message.get("id") == worker.job.id:
                        worker.job = None
                        yield message["id"], Contained.from_dict(message["contained"])
            elif worker.deadline <= time.monotonic() and (worker.job or not worker.ready):
                lost = self._lost(worker, "stopped answering")
                if lost:
                    yield lost


class Workers:
    """The warm workers of one run: started once (early, in the background) and shared by the
    run and the fix engine's re-checks, closed at the end of the run. Lives here, not with the
    smoke stage, so that starting them early imports nothing but the pool."""

    def __init__(
        self,
        jobs: int,
        env: dict[str, str],
        imported: Iterable[str] = (),
        whole_stack: bool = True,
    ) -> None:
        """``imported``: the installed modules the documents import (each package is
        preloaded). ``whole_stack``: False for a small run, which preloads only the modules of
        :data:`STACK_MODULES` the documents import (or whose package they import, for a
        top-level one): a document about Django does not wait a second for FastAPI and
        SQLAlchemy to load before its first block runs, nor one about FastAPI for its test
        client. A large run loads them all, once per worker, for its blocks that use their
        names without importing them."""
        self._jobs = max(1, jobs)
        self._env = env
        named = set(imported)
        named |= {later for m in named for later in _LOADS_LATER.get(m.partition(".")[0], ())}
        tops = {m.partition(".")[0] for m in named}
        stack = [
            m
            for m in STACK_MODULES
            if whole_stack or m.startswith("exampletest.") or m in named or m in tops
        ]
        self._preload = tuple(dict.fromkeys([*stack, *sorted(tops)]))
        self._pool: WorkerPool | None = None

    def start(self) -> WorkerPool:
        if self._pool is None:
            self._pool = WorkerPool(self._jobs, self._preload, self._env)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
