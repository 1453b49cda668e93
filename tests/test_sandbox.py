"""Hostile example code, run for real in the sandbox: each case is contained and reported."""

from __future__ import annotations

import os
import socket
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from exampletest.pool import Job, WorkerPool
from exampletest.sandbox import (
    UID_BASE,
    Contained,
    Limits,
    exec_code,
    process_bound_enforced,
    run_contained,
)

# A uid of its own per xdist worker, away from the pool's slots: concurrent tests never share it.
SLOT = 10 + int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
LIMITS = Limits(timeout_s=2.0)
ROOT = os.geteuid() == 0


_worker: list[WorkerPool] = []  # set while the tests run in the worker layout


@pytest.fixture(scope="module", autouse=True, params=["supervisor", "worker"])
def layout(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every case runs in both layouts: in-process (a supervisor fork, then the child) and in
    a real pool worker (itself the supervisor: one fork per job, when it may make namespaces)."""
    if request.param == "supervisor":
        yield request.param
        return
    with WorkerPool(1, preload=(), first_slot=SLOT) as pool:
        assert pool.wait_ready()
        _worker.append(pool)
        try:
            yield request.param
        finally:
            _worker.clear()


def run(code: str, limits: Limits = LIMITS) -> Contained:
    started = time.monotonic()
    payload = {"code": textwrap.dedent(code).lstrip("\n")}
    if _worker:
        [(_, result)] = _worker[0].run([Job("t", "exampletest.sandbox:exec_code", payload, limits)])
    else:
        result = run_contained(exec_code, payload, limits, slot=SLOT)
    elapsed = time.monotonic() - started
    kinds = [c["kind"] for c in result.containments()]
    print(f"{elapsed:6.3f} s  value={result.value}  containments={kinds}")
    assert elapsed < limits.timeout_s + 3
    return result


def kinds(result: Contained) -> list[str]:
    return [c["kind"] for c in result.containments()]


def processes_of(uid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            if f"\nUid:\t{uid}\t" in status.read_text():
                found.append(int(status.parent.name))
        except OSError:
            continue
    return found


def test_clean_block_runs_in_its_own_empty_directory() -> None:
    result = run("import os\nprint(os.getcwd(), sorted(os.listdir('.')))\nopen('ok.txt', 'w')")
    assert result.value == {"ok": True}
    assert result.containments() == []
    workdir = result.stdout.split()[0]
    assert result.stdout.strip().endswith("[]")
    assert not Path(workdir).exists()  # removed afterwards


def test_infinite_loop_is_killed_at_the_wall_clock_timeout() -> None:
    result = run("while True:\n    pass")
    assert result.timed_out and result.value is None
    assert kinds(result) == ["timeout"]
    assert result.containments()[0]["message"] == "killed after 2 s wall-clock timeout"
    assert result.duration_s < 2 + 1.5


def test_cpu_limit_stops_a_busy_loop_before_the_wall_clock() -> None:
    result = run("while True:\n    pass", Limits(timeout_s=5.0, cpu_s=1))
    assert not result.timed_out
    [cpu] = result.containments()
    assert cpu["kind"] == "timeout" and cpu["message"] == "killed after 1 s of CPU time"
    assert result.duration_s < 3


def test_background_sleeper_dies_with_the_timeout() -> None:
    result = run(
        """
        import os, subprocess, sys, time
        subprocess.Popen([sys.executable, "-c", "import os, time; os.setsid(); time.sleep(60)"])
        time.sleep(60)
        """
    )
    assert result.timed_out
    if process_bound_enforced()[0] and ROOT:
        assert processes_of(UID_BASE + SLOT) == []


def test_fork_loop_hits_the_process_bound() -> None:
    enforced, reason = process_bound_enforced()
    if not enforced:
        pytest.skip(reason)
    result = run(
        """
        import os, time
        for _ in range(5000):
            if os.fork() == 0:
                time.sleep(60)
                os._exit(0)
        """,
        Limits(timeout_s=10.0),  # 64 forks of a loaded worker take seconds on a busy machine
    )
    assert result.value is not None and result.value["exception"] == "BlockingIOError"
    assert "nproc" in kinds(result)
    assert processes_of(UID_BASE + SLOT) == []  # every forked sleeper is gone


def test_huge_allocation_is_a_memory_error() -> None:
    result = run("x = bytearray(10 * 2**30)")
    assert result.value is not None and result.value["exception"] == "MemoryError"
    memory = [c for c in result.containments() if c["kind"] == "memory"]
    assert memory and memory[0]["line"] == 1


def test_os_exit_zero_is_reported_as_an_early_exit() -> None:
    result = run("import os\nos._exit(0)")
    assert result.value is None and result.exit_code == 0
    assert kinds(result) == ["exit"]


def test_sys_exit_keeps_its_status() -> None:
    result = run("import sys\nsys.exit(3)")
    assert result.exit_code == 3 and kinds(result) == ["exit"]


def test_segfault_is_a_signal_with_the_block_line() -> None:
    result = run("import ctypes\nctypes.string_at(0)")
    assert result.signal == 11
    [signal] = result.containments()
    assert signal["kind"] == "signal" and signal["message"] == "killed by SIGSEGV"
    assert (signal["filename"], signal["line"]) == ("<exampletest-test>", 2)


def test_secret_from_the_environment_is_invisible(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret_value_1234")
    result = run(
        """
        import ctypes, os, subprocess
        assert "GITHUB_TOKEN" not in os.environ, "os.environ"
        assert ctypes.CDLL(None).getenv(b"GITHUB_TOKEN") in (None, 0), "getenv"
        env = subprocess.run(["env"], capture_output=True, text=True).stdout
        assert "ghp_secret" not in env, "subprocess"
        try:
            raw = open("/proc/self/environ", "rb").read()
        except PermissionError:
            raw = b""
        assert b"ghp_secret" not in raw, "/proc/self/environ"
        print(sorted(os.environ))
        """
    )
    assert result.value == {"ok": True}, result.value
    assert "ghp_secret" not in result.stdout + result.stderr


def test_writing_outside_the_directory_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "escape.txt"
    tmp_path.chmod(0o777)  # even a world-writable place is refused
    result = run(
        f"""
        import os
        for path in ("../escape.txt", {str(outside)!r}):
            try:
                open(path, "w").write("x")
            except PermissionError:
                pass
            else:
                raise AssertionError(path)
            assert not os.path.exists(path)
        os.mkdir("fine")  # inside is allowed
        """
    )
    assert result.value == {"ok": True}, result.value
    writes = [c for c in result.containments() if c["kind"] == "write"]
    assert len(writes) == 2 and writes[0]["line"] == 4
    assert not outside.exists()


@pytest.mark.skipif(not ROOT, reason="the kernel-level guard needs the uid drop (root)")
def test_kernel_refuses_writes_that_bypass_the_audit_hook() -> None:
    result = run(
        """
        import subprocess
        done = subprocess.run(["sh", "-c", "echo x > ../escape.txt"], capture_output=True)
        assert done.returncode != 0
        """
    )
    assert result.value == {"ok": True}, result.value


def test_tcp_connect_to_a_local_listener_never_arrives() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        result = run(
            f"""
            import socket, subprocess, sys
            socket.create_connection(("127.0.0.1", {port}), timeout=1)
            """
        )
        server.settimeout(0.2)
        with pytest.raises(TimeoutError):
            server.accept()
    assert result.value is not None and result.value["exception"] == "PermissionError"
    [network] = result.containments()
    assert network["kind"] == "network" and network["line"] == 2


@pytest.mark.skipif(not ROOT, reason="network namespaces need root")
def test_network_namespace_stops_connections_that_bypass_the_hook() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        connect = f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=1)"
        result = run(
            f"""
            import subprocess, sys
            done = subprocess.run([sys.executable, "-c", {connect!r}], capture_output=True)
            assert done.returncode != 0, done
            """
        )
        server.settimeout(0.2)
        with pytest.raises(TimeoutError):
            server.accept()
    assert result.value == {"ok": True}, result.value


def test_huge_output_is_capped() -> None:
    result = run("import sys\nsys.stdout.write('x' * 100_000_000)\nprint('tail', file=sys.stderr)")
    assert result.output_truncated and "output" in kinds(result)
    assert len(result.stdout) == LIMITS.output_bytes
    assert result.stderr == "tail\n"


def test_descriptor_level_output_is_captured_too() -> None:
    result = run("import os, subprocess\nos.write(1, b'fd1\\n')\nsubprocess.run(['echo', 'sub'])")
    assert result.stdout == "fd1\nsub\n"


def test_events_recorded_before_a_hard_exit_survive() -> None:
    result = run(
        """
        import os
        try:
            open("/etc/exampletest-nope", "w")
        except PermissionError:
            pass
        os._exit(0)
        """
    )
    assert kinds(result) == ["write", "exit"]


def broken_target(payload: dict[str, Any]) -> dict[str, Any]:
    raise RuntimeError(payload["why"])


def test_target_exception_is_an_internal_event() -> None:
    result = run_contained(broken_target, {"why": "target broke"}, LIMITS, slot=SLOT)
    assert result.value is None and result.exit_code == 1
    [internal] = result.containments()
    assert internal["kind"] == "internal"
    assert internal["message"] == "RuntimeError: target broke"


def test_contained_round_trips_through_json_dicts() -> None:
    result = run("print('x')")
    assert Contained.from_dict(result.to_dict()) == result


def test_process_bound_reason_is_explained() -> None:
    enforced, reason = process_bound_enforced()
    assert isinstance(enforced, bool) and reason
    print(enforced, reason, file=sys.stderr)


def test_a_loopback_probe_is_not_network_but_a_listener_is() -> None:
    # urllib3 (imported by requests) binds ::1 port 0 on import to learn whether IPv6 works.
    result = run(
        """
        import socket
        for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            with socket.socket(family) as probe:
                try:
                    probe.bind((host, 0))
                except OSError as exc:  # no IPv6 in this namespace: the kernel says so
                    assert not isinstance(exc, PermissionError), exc
        socket.socket().bind(("127.0.0.1", 8000))
        """
    )
    assert result.value is not None and result.value["exception"] == "PermissionError"
    [network] = result.containments()
    assert network["kind"] == "network" and "8000" in network["message"]


def test_a_name_lookup_is_network_access_and_a_local_one_is_not() -> None:
    result = run(
        """
        import socket
        socket.getaddrinfo("localhost", 80)
        socket.getaddrinfo("127.0.0.1", 80)
        socket.getaddrinfo("api.example.com", 443)
        """
    )
    assert result.value is not None and result.value["exception"] == "PermissionError"
    [network] = result.containments()
    assert network["kind"] == "network" and "api.example.com" in network["message"]
    assert network["line"] == 4


def test_a_name_lookup_in_a_thread_says_its_line_is_not_known() -> None:
    """asyncio looks names up in its executor's threads, where no frame is the block's."""
    result = run(
        """
        import socket
        import threading

        thread = threading.Thread(target=socket.getaddrinfo, args=("api.example.com", 443))
        thread.start()
        thread.join()
        """
    )
    [network] = result.containments()
    assert network["line"] is None
    assert network["kind"] == "network" and "in a thread the block started" in network["message"]


def test_a_name_lookup_of_encoded_bytes_is_refused_as_network_access() -> None:
    """asyncio and anyio (httpx's async client) look up the IDNA-encoded name, as bytes."""
    result = run(
        """
        import socket
        socket.getaddrinfo(b"api.example.com", 443)
        """
    )
    assert result.value is not None and result.value["exception"] == "PermissionError"
    [network] = result.containments()
    assert network["kind"] == "network" and "'api.example.com'" in network["message"]


def test_printed_exception_names_are_not_a_resource_limit() -> None:
    """``>>> globals()`` shows the builtins, ``MemoryError`` and ``BlockingIOError`` among
    them: only an exception the job raised says it ran out of memory or processes."""
    from exampletest.sandbox import _exceptions

    shown = {"got": "{'MemoryError': <class 'MemoryError'>, 'BlockingIOError': ...}"}
    value = {"pass1": {"exception": None, "outputs": [shown]}, "pass2": {"exception": None}}
    assert _exceptions(value) == []
    raised = {"pass1": {"exception": {"type": "MemoryError", "message": ""}}}
    assert _exceptions(raised) == [{"type": "MemoryError", "message": ""}]
