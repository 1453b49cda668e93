"""The warm worker pool, with real worker processes and the real heavy stack preloaded."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from exampletest.pool import STACK_MODULES, Job, WorkerPool
from exampletest.sandbox import UID_BASE, Limits

EXEC = "exampletest.sandbox:exec_code"
LIMITS = Limits(timeout_s=5.0)
AVAILABLE = [m for m in STACK_MODULES if importlib.util.find_spec(m.split(".")[0]) is not None]


def job(job_id: str, code: str, limits: Limits = LIMITS) -> Job:
    return Job(job_id, EXEC, {"code": code, "filename": f"<exampletest-{job_id}>"}, limits)


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    with WorkerPool(2, preload=STACK_MODULES) as warm:
        assert warm.wait_ready()
        yield warm


def test_every_job_gets_a_result(pool: WorkerPool) -> None:
    jobs = [job(f"j{i}", f"print({i})") for i in range(6)]
    jobs.append(job("boom", "raise ValueError('x')"))
    results = dict(pool.run(jobs))
    assert set(results) == {j.id for j in jobs}
    assert all(results[f"j{i}"].stdout == f"{i}\n" for i in range(6))
    assert results["boom"].value == {
        "exception": "ValueError",
        "message": "x",
        "filename": "<exampletest-boom>",
        "line": 1,
    }


def test_preloaded_modules_are_already_imported_in_the_child(pool: WorkerPool) -> None:
    code = f"import sys\nmissing = [m for m in {AVAILABLE!r} if m not in sys.modules]\n"
    code += "assert not missing, missing"
    [(_, result)] = pool.run([job("preloaded", code)])
    assert result.value == {"ok": True}, result.value


def test_environment_passed_to_the_pool_reaches_blocks_and_secrets_do_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret_value_1234")
    code = "import os\nassert 'GITHUB_TOKEN' not in os.environ\nprint(os.environ['APP_MODE'])"
    with WorkerPool(1, preload=(), env={"APP_MODE": "docs"}) as small:
        [(_, result)] = small.run([job("env", code)])
    assert result.value == {"ok": True}, result.value
    assert result.stdout == "docs\n"


def test_unknown_target_is_an_internal_failure(pool: WorkerPool) -> None:
    [(_, result)] = pool.run([Job("bad", "exampletest.nowhere:nothing", {}, LIMITS)])
    assert [c["kind"] for c in result.containments()] == ["internal"]


def test_a_worker_killed_mid_run_is_replaced() -> None:
    with WorkerPool(1, preload=()) as small:
        assert small.wait_ready()
        [victim] = small.worker_pids()
        killer = threading.Timer(0.5, os.kill, (victim, signal.SIGKILL))
        killer.start()
        jobs = [job("slow", "import time\ntime.sleep(3)"), job("after1", "x = 1")]
        jobs.append(job("after2", "x = 2"))
        results = dict(small.run(jobs))
        killer.join()
        assert small.worker_pids() != [victim]
    assert [c["kind"] for c in results["slow"].containments()] == ["internal"]
    assert "died" in results["slow"].events[0]["message"]
    assert results["after1"].value == results["after2"].value == {"ok": True}


def test_a_warm_job_is_faster_than_a_cold_interpreter(pool: WorkerPool) -> None:
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "import fastapi"], check=True)
    cold = time.monotonic() - started
    jobs = [job(f"t{i}", "from fastapi import FastAPI\napp = FastAPI()") for i in range(10)]
    started = time.monotonic()
    results = dict(pool.run(jobs))
    warm = (time.monotonic() - started) / len(jobs)
    single = max(r.duration_s for r in results.values())
    print(
        f"cold `import fastapi`: {cold:.3f} s; pool: {warm:.3f} s/job, slowest job {single:.3f} s"
    )
    assert all(r.value == {"ok": True} for r in results.values())
    assert single < cold


def _processes_of(uid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError):
            if f"\nUid:\t{uid}\t" in status.read_text():
                found.append(int(status.parent.name))
    return found


@pytest.mark.skipif(os.geteuid() != 0, reason="a job's own uid (to find its processes) needs root")
def test_a_killed_worker_takes_its_running_job_and_its_processes_with_it() -> None:
    slot = 40 + int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    code = (
        "import subprocess, sys, time\n"
        "subprocess.Popen([sys.executable, '-c', 'import os, time; os.setsid(); time.sleep(60)'])\n"
        "time.sleep(60)\n"
    )
    with WorkerPool(1, preload=(), first_slot=slot) as small:
        assert small.wait_ready()
        [victim] = small.worker_pids()
        killer = threading.Timer(1.0, os.kill, (victim, signal.SIGKILL))
        killer.start()
        results = dict(small.run([job("sleeper", code, Limits(timeout_s=30))]))
        killer.join()
    assert "died" in results["sleeper"].events[0]["message"]
    deadline = time.monotonic() + 5
    while _processes_of(UID_BASE + slot) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_of(UID_BASE + slot) == []


def test_a_worker_supervises_its_jobs_itself_when_it_may_make_namespaces() -> None:
    """One fork per job instead of two, where the privileges allow (root with CAP_SYS_ADMIN,
    as on CI); elsewhere the two-fork layout, with the same guarantees."""
    ready = subprocess.run(
        [sys.executable, "-m", "exampletest.worker"],
        input="",
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()[0]
    may = os.geteuid() == 0 and bool(_capability_mask() & (1 << 21))  # CAP_SYS_ADMIN
    assert json.loads(ready)["one_fork_per_job"] is may


def _capability_mask() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return int(line.split()[1], 16)
    return 0


def test_job_directories_live_on_the_workers_own_tmpfs(pool: WorkerPool) -> None:
    """Where the worker may mount (root, as on CI): each job's directory is on a tmpfs of the
    worker's own over /dev/shm, so a file a block leaves there (even from C, past the audit
    hook) never reaches the machine's /dev/shm, and creating the directory costs no disk
    inode. Elsewhere the directory stays in the temp dir."""
    may = os.geteuid() == 0 and bool(_capability_mask() & (1 << 21))
    name = f"exampletest-probe-{os.getpid()}"
    code = (
        "import ctypes, os\n"
        f"fd = ctypes.CDLL(None).open(b'/dev/shm/{name}', 0o101, 0o644)\n"  # O_WRONLY|O_CREAT
        "print(os.getcwd())\n"
        "print(fd >= 0)\n"
    )
    [(_, result)] = pool.run([job("shm", code)])
    cwd, created = result.stdout.split()
    assert cwd.startswith("/dev/shm/") is may
    if may:
        assert created == "True"
        assert not Path(f"/dev/shm/{name}").exists()
    Path(f"/dev/shm/{name}").unlink(missing_ok=True)


def _huge_pages_possible() -> bool:
    thp = Path("/sys/kernel/mm/transparent_hugepage/enabled")
    release = tuple(int(x) for x in os.uname().release.split(".")[:2] if x.isdigit())
    return (
        sys.platform.startswith("linux")
        and thp.exists()
        and "[never]" not in (thp.read_text())
        and release >= (6, 1)
    )


@pytest.mark.skipif(not _huge_pages_possible(), reason="needs Linux 6.1+ with THP not 'never'")
def test_a_workers_heap_is_collapsed_into_huge_pages() -> None:
    code = (
        "from exampletest.sandbox import collapse_heap\n"
        "heap = [str(i) * 8 for i in range(400_000)]\n"  # tens of MiB of small objects
        "done = collapse_heap()\n"
        "rollup = open('/proc/self/smaps_rollup').read()\n"
        "huge = int(rollup.split('AnonHugePages:')[1].split()[0])\n"
        "print(done, huge)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    done, huge_kib = map(int, out.stdout.split())
    assert done >= 2 << 20
    assert huge_kib * 1024 >= 2 << 20  # the kernel really maps them as huge pages now
