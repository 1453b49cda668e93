"""Run untrusted example code in a contained, bounded child process.

``run_contained`` forks twice: a *supervisor* (trusted, stays root) and under it the
*contained child* that runs the target. A process that only runs contained jobs (the pool's
worker) calls ``prepare_worker()`` once: it enters its own mount and network namespaces and
becomes the supervisor itself, so that each job is one fork (into a new PID namespace)
instead of two. Both layouts give the same guarantees. What is guaranteed, and what is not:

Guaranteed (Linux; "as root" means the caller runs as root with CAP_SYS_ADMIN/CAP_SETUID,
as on our CI):

- **Wall-clock time**: the child and everything it started are SIGKILLed at
  ``timeout_s`` (the supervisor also arms its own alarm as a backstop), and
  ``run_contained`` returns within about ``timeout_s + 3`` seconds whatever the code does.
- **No leftovers, no escape from the kill**: as root the child is PID 1 of a fresh PID
  namespace, so when it ends or is killed the kernel kills every process it started,
  including ones that called ``setsid()`` or daemonized. Without a PID namespace the
  supervisor kills the child's process group and, when the uid was dropped, every
  process of that uid; a non-root caller gets only the process-group kill.
- **CPU, memory, files, processes**: RLIMIT_CPU, RLIMIT_AS (headroom above the size the
  process already has after the parent's imports), RLIMIT_FSIZE, RLIMIT_NOFILE,
  RLIMIT_CORE=0 and RLIMIT_NPROC. RLIMIT_NPROC does not bind root, so as root the child
  drops to uid/gid ``60000 + slot`` (no supplementary groups) and the limit counts that
  uid only; see ``process_bound_enforced()``.
- **Network**: as root the child gets a new, empty network namespace (not even loopback
  is up), so no connection can leave it, even from C code or a subprocess. In every case
  an audit hook refuses ``socket.connect``/``bind``/``sendto``/``sendmsg`` and the lookup
  of a host name (``getaddrinfo``) from Python with ``PermissionError`` and records a
  ``network`` event.
- **Secrets**: ``os.environ`` (and the C environment, so subprocesses too) is reduced to
  PATH, LANG, LC_*, TZ, HOME and TMPDIR (both the temp dir) plus the names given in
  ``env``; the original environment block of the process image is zeroed, and after the
  uid drop ``/proc/self/environ`` is not readable.
- **Files**: the working directory is a new empty temp dir (HOME and TMPDIR point to it),
  removed afterwards. Its parent is root-owned and not writable, so ``../x`` is refused
  by the kernel too. The audit hook refuses opening for writing, removing, renaming,
  creating directories, chmod/chown/utime outside it with ``PermissionError`` and records
  a ``write`` event; the dropped uid cannot write root-owned files.
- **Output**: stdout and stderr (file descriptors 1 and 2, and ``sys.stdout``/``sys.stderr``)
  are captured and each capped at ``output_bytes``; stdin is ``/dev/null``; other file
  descriptors of the caller are closed in the child.
- **Nothing recorded is lost**: events are streamed to the parent as they happen, so an
  ``os._exit``, a segfault or a kill keeps what was already reported.

Not guaranteed:

- The audit hook is a Python-level guard: C code (``ctypes``, extensions) or a subprocess
  bypasses it. Writes by such code to world-writable places (``/tmp``; ``/dev/shm`` too
  without root, where the pool's worker cannot mount its own) are not stopped; its network
  access is stopped only by the namespace (root).
- The child can read whatever the dropped uid may read (world-readable files, other
  processes' command lines in ``/proc``). Without root, it can read anything the caller can.
- Code that writes to the event pipe itself (file descriptor 3) can forge its own result.
- When ``run_contained`` is called in-process (not through the worker pool), freed memory
  of the caller may still hold environment values it read; the pool's workers start with
  the allowlisted environment, so secrets are not in their memory at all.
- Without root: no namespaces, no uid drop; RLIMIT_NPROC counts the caller's user.
- As root the block runs as PID 1 of its PID namespace, so a signal it sends itself with the
  default action (``os.kill(os.getpid(), SIGTERM)``) is ignored; SIGXCPU is handled for it.
- A worker killed from outside leaves its (root) supervisor as an unreaped zombie when PID 1
  of the machine does not reap orphans.
- ``run_contained`` is not thread-safe: call it from one thread (use the pool for
  parallelism). Runs sharing a slot share its process budget.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import errno
import faulthandler
import fcntl
import functools
import ipaddress
import json
import math
import os
import re
import resource
import selectors
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

Target = Callable[[dict[str, Any]], dict[str, Any]]

#: Filenames of compiled block code start with this; events point at such frames.
BLOCK_FILENAME_PREFIX = "<exampletest"
UID_BASE = 60000

_CLONE_NEWNS = 0x00020000
_CLONE_NEWPID = 0x20000000
_CLONE_NEWNET = 0x40000000
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_BIND, _MS_REC, _MS_PRIVATE = 2, 4, 8, 4096, 16384, 1 << 18
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_CAP_SETGID, _CAP_SETUID, _CAP_SYS_RESOURCE, _CAP_SYS_ADMIN = 6, 7, 24, 21
_EVENT_FD = 3
_KILL_GRACE_S = 2.0
_MAX_EVENT_BYTES = 16 * 1024 * 1024
_MAX_EVENTS_PER_KIND = 50
_ENV_NAMES = ("PATH", "LANG", "TZ")

_libc = ctypes.CDLL(None, use_errno=True)
_event_fd = -1  # where _emit writes: the supervisor's pipe end, fd 3 in the child
#: Set by ``prepare_worker``: a descriptor of this process's own PID namespace (it returns
#: there after starting each job's namespace). None: the two-fork layout.
_own_pid_ns: int | None = None


@dataclass(frozen=True)
class Limits:
    """Bounds for one contained run. ``cpu_s=None`` means one second more than the wall time."""

    timeout_s: float = 10.0
    cpu_s: float | None = None
    memory_bytes: int = 512 * 1024 * 1024  # address space headroom above the current size
    file_size_bytes: int = 64 * 1024 * 1024
    nofile: int = 256
    nproc: int = 64
    output_bytes: int = 1024 * 1024  # per stream

    def cpu_seconds(self) -> int:
        return math.ceil(self.cpu_s if self.cpu_s is not None else self.timeout_s + 1)


@dataclass(frozen=True)
class Contained:
    """What a contained run did; ``value`` is the target's return, None if it never returned."""

    value: dict[str, Any] | None
    events: list[dict[str, Any]]
    exit_code: int | None
    signal: int | None
    timed_out: bool
    duration_s: float
    stdout: str
    stderr: str
    output_truncated: bool
    limits: Limits = field(default_factory=Limits)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Contained:
        fields = dict(data)
        fields["limits"] = Limits(**fields.get("limits", {}))
        return cls(**fields)

    @classmethod
    def failure(cls, message: str, limits: Limits, duration_s: float = 0.0) -> Contained:
        """A run that could not happen (worker died, target not found): one ``internal`` event."""
        event = {"kind": "internal", "message": message, "filename": None, "line": None}
        return cls(None, [event], None, None, False, duration_s, "", "", False, limits)

    def containments(self) -> list[dict[str, Any]]:
        """Each bound the run hit, as {"kind", "message", "filename", "line"}."""
        found: list[dict[str, Any]] = []

        def add(
            kind: str, message: str, filename: str | None = None, line: int | None = None
        ) -> None:
            found.append({"kind": kind, "message": message, "filename": filename, "line": line})

        for event in self.events:
            if event.get("kind") in ("network", "write", "internal"):
                add(event["kind"], event["message"], event.get("filename"), event.get("line"))
        where = _faulthandler_location(self.stderr)
        raised: tuple[Any, Any] = (None, None)
        if self.value is not None:
            raised = (self.value.get("filename"), self.value.get("line"))
        if self.timed_out:
            add("timeout", f"killed after {self.limits.timeout_s:g} s wall-clock timeout")
        elif any(e.get("kind") == "cpu" for e in self.events) or self.signal == signal.SIGKILL:
            # SIGKILL: the hard CPU limit (C code that never let the SIGXCPU handler run)
            add("timeout", f"killed after {self.limits.cpu_seconds()} s of CPU time", *where)
        evidence = " ".join(
            [json.dumps(_exceptions(self.value)), self.stderr[-4000:]]
            + [str(e.get("message", "")) for e in self.events if e.get("kind") == "internal"]
        )
        if "MemoryError" in evidence or (
            self.signal is not None and re.search(r"Cannot allocate memory|bad_alloc", evidence)
        ):
            mib = self.limits.memory_bytes // (1024 * 1024)
            add("memory", f"ran out of memory: the block may use {mib} MiB more", *raised)
        if "BlockingIOError" in evidence or "Resource temporarily unavailable" in evidence:
            add("nproc", f"process limit reached: at most {self.limits.nproc} processes", *raised)
        if self.signal not in (None, signal.SIGKILL) and not self.timed_out:
            add("signal", f"killed by {signal.Signals(self.signal).name}", *where)
        has_internal = any(e.get("kind") in ("internal", "cpu") for e in self.events)
        if self.value is None and self.signal is None and not has_internal and not self.timed_out:
            add("exit", f"the block ended the process (exit status {self.exit_code}) early")
        if self.output_truncated:
            add("output", f"output capped at {self.limits.output_bytes} bytes per stream")
        return found


def _faulthandler_location(stderr: str) -> tuple[str | None, int | None]:
    """Innermost block frame of a faulthandler dump (it prints the innermost frame first)."""
    match = re.search(rf'File "({re.escape(BLOCK_FILENAME_PREFIX)}[^"]*)", line (\d+)', stderr)
    return (match.group(1), int(match.group(2))) if match else (None, None)


def exec_code(payload: dict[str, Any]) -> dict[str, Any]:
    """Target that runs ``payload["code"]`` as ``__main__``; exceptions are results, not errors."""
    filename = payload.get("filename", "<exampletest-test>")
    try:
        exec(compile(payload["code"], filename, "exec"), {"__name__": "__main__"})
    except Exception as exc:
        where, line = _block_location(exc.__traceback__)
        return {
            "exception": type(exc).__name__,
            "message": str(exc),
            "filename": where,
            "line": line,
        }
    return {"ok": True}


def _block_location(tb: TracebackType | None) -> tuple[str | None, int | None]:
    """Innermost traceback entry in block code."""
    found: tuple[str | None, int | None] = (None, None)
    for frame, line in traceback.walk_tb(tb):
        if frame.f_code.co_filename.startswith(BLOCK_FILENAME_PREFIX):
            found = (frame.f_code.co_filename, line)
    return found


def _frame_location(frame: FrameType | None) -> tuple[str | None, int | None]:
    """Innermost stack frame in block code."""
    while frame is not None:
        if frame.f_code.co_filename.startswith(BLOCK_FILENAME_PREFIX):
            return frame.f_code.co_filename, frame.f_lineno
        frame = frame.f_back
    return None, None


#: Interpreter flags of every trusted child (smoke worker, mypy, ruff, the index build): never
#: put the working directory first on ``sys.path``, where a reader's ``copy.py`` or a
#: document module written for the checkers would be imported in place of the real module,
#: outside the sandbox.
SAFE_PATH = ("-P",)


def safe_environ(extra: Mapping[str, str] | None = None, home: str | None = None) -> dict[str, str]:
    """The allowlisted environment: locale, PATH, TZ, HOME/TMPDIR, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k in _ENV_NAMES or k.startswith("LC_")}
    if home is not None:
        env["HOME"] = env["TMPDIR"] = home
    env.update(extra or {})
    return env


def _capabilities() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return int(line.split()[1], 16)
    return 0


@functools.cache
def _hidden_python_dirs() -> dict[str, frozenset[str]]:
    """Directories on the way to Python's own files that other users cannot search (e.g. /root
    with pyenv): directory -> the entries under it that the interpreter needs."""
    needed = [*sys.path, sys.prefix, sys.base_prefix, os.path.dirname(sys.executable)]
    hidden: dict[str, set[str]] = {}
    for path in {p for entry in needed if entry for p in (entry, os.path.realpath(entry))}:
        parts = Path(path).parts
        for i in range(1, len(parts) - 1):
            ancestor = os.path.join(*parts[:i])
            with contextlib.suppress(OSError):
                if not os.stat(ancestor).st_mode & 0o001:
                    hidden.setdefault(ancestor, set()).add(parts[i])
                    break
    return {k: frozenset(v) for k, v in hidden.items()}


@functools.cache
def process_bound_enforced() -> tuple[bool, str]:
    """Whether RLIMIT_NPROC can bound the number of processes a block starts, and why."""
    caps = _capabilities()
    if os.geteuid() == 0:
        if not (caps & (1 << _CAP_SETUID) and caps & (1 << _CAP_SETGID)):
            return False, "root without CAP_SETUID/CAP_SETGID: no uid drop, RLIMIT_NPROC skips root"
        if _hidden_python_dirs() and not caps & (1 << _CAP_SYS_ADMIN):
            hidden = ", ".join(_hidden_python_dirs())
            return False, f"Python lives under {hidden}, unreadable after a uid drop (no mount ns)"
        return True, f"root: blocks run as unprivileged uid {UID_BASE}+slot under RLIMIT_NPROC"
    if caps & ((1 << _CAP_SYS_RESOURCE) | (1 << _CAP_SYS_ADMIN)):
        return False, "CAP_SYS_RESOURCE/CAP_SYS_ADMIN exempt this user from RLIMIT_NPROC"
    return True, f"RLIMIT_NPROC binds uid {os.getuid()} (shared with its other processes)"


def _processes_of(uid: int) -> int:
    count = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError):
            if f"\nUid:\t{uid}\t" in status.read_text():
                count += 1
    return count


#: ``madvise`` advice values (linux/mman.h); MADV_COLLAPSE needs Linux 6.1.
_MADV_HUGEPAGE, _MADV_COLLAPSE = 14, 25
_HUGE = 2 << 20


def collapse_heap() -> int:
    """Back a warm worker's heap with 2 MiB pages, so that each job's fork copies (and its
    exit tears down) one page-table entry per 2 MiB instead of 512: forks dominate the smoke
    run's kernel time. Best effort: the bytes collapsed, 0 where the kernel cannot."""
    try:
        with open("/proc/self/maps", encoding="ascii") as maps:
            regions = [line.split() for line in maps]
    except OSError:
        return 0
    collapsed = 0
    for fields in regions:
        # Private, writable, anonymous (no path) or the brk heap: where the imports' objects live.
        if not fields[1].startswith("rw") or (len(fields) > 5 and fields[5] != "[heap]"):
            continue
        low, high = (int(x, 16) for x in fields[0].split("-"))
        start, end = (low + _HUGE - 1) & ~(_HUGE - 1), high & ~(_HUGE - 1)
        if end - start < _HUGE:
            continue
        where = ctypes.c_void_p(start), ctypes.c_size_t(end - start)
        _libc.madvise(*where, _MADV_HUGEPAGE)
        if _libc.madvise(*where, _MADV_COLLAPSE) == 0:
            collapsed += end - start
    return collapsed


def _libc_call(name: str, *args: int | bytes | ctypes.c_ulong | None) -> None:
    if getattr(_libc, name)(*args) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{name}: {os.strerror(err)}")


def _use_event_fd(fd: int) -> None:
    global _event_fd
    _event_fd = fd


def _emit(event: Mapping[str, Any]) -> None:
    """One JSON line to the parent; small lines are atomic even with several writers."""
    data = (json.dumps(event, default=repr) + "\n").encode()
    with contextlib.suppress(OSError):
        while data:
            data = data[os.write(_event_fd, data) :]


# ---------------------------------------------------------------------------- the child side

_PATH_EVENTS: dict[str, tuple[tuple[int, int | None], ...]] = {
    # audit event -> (index of a written path, index of its dir_fd or None)
    "os.remove": ((0, 1),),
    "os.rmdir": ((0, 1),),
    "os.mkdir": ((0, 2),),
    "os.rename": ((0, 2), (1, 3)),
    "os.link": ((1, 3),),
    "os.symlink": ((1, 2),),
    "os.truncate": ((0, None),),
    "os.chmod": ((0, 2),),
    "os.chown": ((0, 3),),
    "os.utime": ((0, 3),),
    "os.setxattr": ((0, None),),
    "os.removexattr": ((0, None),),
    "shutil.rmtree": ((0, 1),),
}
_NET_EVENTS = frozenset({"socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg"})
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _install_audit_hook(workdir: str) -> None:
    """Refuse network and writes outside ``workdir`` from Python code, reporting each refusal."""
    allowed = (os.path.realpath(workdir), os.devnull)
    counts: dict[str, int] = {}

    def outside(path: object, dir_fd: object) -> str | None:
        if isinstance(path, int) or path is None:
            return None
        text = os.fsdecode(path)  # type: ignore[arg-type]
        if isinstance(dir_fd, int) and dir_fd >= 0 and not os.path.isabs(text):
            text = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), text)
        real = os.path.realpath(text)
        if real == allowed[1] or real == allowed[0] or real.startswith(allowed[0] + os.sep):
            return None
        return real

    def refuse(kind: str, message: str) -> None:
        counts[kind] = counts.get(kind, 0) + 1
        if counts[kind] <= _MAX_EVENTS_PER_KIND:
            filename, line = _frame_location(sys._getframe(2))
            if line is None and threading.current_thread() is not threading.main_thread():
                # asyncio looks names up in its executor's threads, away from the block's frame
                message += " (in a thread the block started, so the line is not known)"
            _emit({"kind": kind, "message": message, "filename": filename, "line": line})
        raise PermissionError(errno.EACCES, f"refused by the exampletest sandbox: {message}")

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            path, mode, flags = args
            writing = (mode is not None and any(c in mode for c in "wax+")) or (
                mode is None and flags & _WRITE_FLAGS
            )
            target = outside(path, None) if writing else None
            if target is not None:
                refuse("write", f"opening {target} for writing outside the block's directory")
        elif event in _PATH_EVENTS:
            for path_i, fd_i in _PATH_EVENTS[event]:
                dir_fd = args[fd_i] if fd_i is not None and fd_i < len(args) else None
                target = outside(args[path_i], dir_fd)
                if target is not None:
                    refuse("write", f"{event} on {target} outside the block's directory")
        elif event in _NET_EVENTS:
            address = args[1] if len(args) > 1 else None
            if event == "socket.bind" and _local_ephemeral(address):
                return  # a probe (urllib3 binds ::1 on import to learn about IPv6): no network
            if event != "socket.sendmsg" or address is not None:
                refuse("network", f"{event} to {address!r}: no network for examples")
        elif event == "socket.getaddrinfo" and _remote_name(args[0] if args else None):
            # A name lookup is how most network access starts (and without a network it would
            # fail in C, as "Temporary failure in name resolution", with no event).
            refuse("network", f"name lookup of {_host_text(args[0])!r}: no network for examples")

    sys.addaudithook(hook)


def _host_text(host: object) -> object:
    """A host name as text: asyncio and anyio look up ``b"api.example.com"``, already
    IDNA-encoded (ASCII); the idna codec itself cannot decode with ``replace``."""
    return host.decode("ascii", "replace") if isinstance(host, bytes) else host


def _remote_name(host: object) -> bool:
    """A host name to look up that is not this machine (an IP address needs no lookup)."""
    host = _host_text(host)
    if not isinstance(host, str) or not host or host.lower().rstrip(".") == "localhost":
        return False
    try:
        ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return True
    return False


def _local_ephemeral(address: object) -> bool:
    """A loopback address with port 0: a socket that can reach nothing and takes no port
    anyone else could want."""
    if not isinstance(address, tuple) or len(address) < 2 or address[1] != 0:
        return False
    host = address[0]
    if not isinstance(host, str):
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _install_fds(out_w: int, err_w: int, ev_w: int) -> None:
    """stdin=/dev/null, 1/2 = capture pipes, 3 = event pipe; every other descriptor closed."""
    devnull = os.open(os.devnull, os.O_RDONLY)
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 16) for fd in (devnull, out_w, err_w, ev_w)]
    for target, fd in enumerate(high):
        os.dup2(fd, target, inheritable=target < _EVENT_FD)
    _use_event_fd(_EVENT_FD)
    os.closerange(_EVENT_FD + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    sys.stdin = open(0, closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
    sys.stderr = open(  # noqa: SIM115
        2, "w", encoding="utf-8", errors="backslashreplace", closefd=False, buffering=1
    )


def _scrub_environment(workdir: str, env: Mapping[str, str] | None) -> None:
    """Allowlisted os.environ, and the process image's original environment block zeroed."""
    keep = safe_environ(env, home=workdir)
    os.environ.clear()
    os.environ.update(keep)
    fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    env_start, env_end = int(fields[47]), int(fields[48])  # stat fields 50 and 51
    if 0 < env_start < env_end:
        ctypes.memset(env_start, 0, env_end - env_start)


def _set_limits(limits: Limits, uid: int | None) -> None:
    vm_size = 0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            vm_size = int(line.split()[1]) * 1024
    nproc = limits.nproc if uid is not None else _processes_of(os.getuid()) + limits.nproc
    cpu = limits.cpu_seconds()
    for which, value in (
        (resource.RLIMIT_CPU, (cpu, cpu + 1)),
        (resource.RLIMIT_AS, (vm_size + limits.memory_bytes,) * 2),
        (resource.RLIMIT_FSIZE, (limits.file_size_bytes,) * 2),
        (resource.RLIMIT_NOFILE, (limits.nofile,) * 2),
        (resource.RLIMIT_NPROC, (nproc,) * 2),
        (resource.RLIMIT_CORE, (0, 0)),
    ):
        resource.setrlimit(which, value)


def _exceptions(value: object) -> list[object]:
    """The exceptions a job's result reports, wherever they sit in it: what says the job ran
    out of memory or processes (not the text it printed: ``>>> globals()`` shows the names
    ``MemoryError`` and ``BlockingIOError``)."""
    found: list[object] = []
    todo = [value]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            found += [v for k, v in node.items() if k == "exception" and v]
            todo += [v for k, v in node.items() if k != "exception"]
        elif isinstance(node, list):
            todo += node
    return found


def _on_cpu_limit(signum: int, frame: object) -> None:
    _emit({"kind": "cpu", "message": "CPU time limit reached"})
    os._exit(128 + signum)


def _child(
    target: Target,
    payload: dict[str, Any],
    limits: Limits,
    workdir: str,
    uid: int | None,
    env: Mapping[str, str] | None,
    pipes: tuple[int, int, int],
    namespaces: bool,
    own_mounts: bool = False,
) -> None:
    """The contained child: isolate, bound, run the target, report. Never returns.
    ``own_mounts``: unshare the mount namespace first (the worker's is shared by its jobs)."""
    code = 1
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        # As PID 1 of its namespace the child ignores default-action signals like SIGXCPU.
        signal.signal(signal.SIGXCPU, _on_cpu_limit)
        os.setsid()
        _install_fds(*pipes)
        if own_mounts:
            _libc_call("unshare", _CLONE_NEWNS)
        if namespaces:  # PID 1 of its own PID namespace: a /proc that shows only the block
            _mount("proc", "/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
        os.chdir(workdir)
        _scrub_environment(workdir, env)
        _set_limits(limits, uid)
        supervisor = os.getppid()
        if uid is not None:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
        _libc_call("prctl", _PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # after setuid
        if os.getppid() != supervisor:
            os._exit(1)
        sys.argv = ["example.py"]  # what a reader's script is called (usage messages show it)
        sys.dont_write_bytecode = True
        faulthandler.enable(file=sys.stderr, all_threads=True)
        tempfile.tempdir = workdir
        _install_audit_hook(workdir)
    except BaseException as exc:
        _emit({"kind": "internal", "message": f"sandbox setup failed: {exc!r}"})
        os._exit(1)
    me = os.getpid()
    try:
        value = target(payload)
        if os.getpid() == me:
            _emit({"result": value})
            code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if not isinstance(exc.code, int | None):
            print(exc.code, file=sys.stderr)
    except BaseException as exc:
        filename, line = _block_location(exc.__traceback__)
        message = f"{type(exc).__name__}: {exc}"
        _emit({"kind": "internal", "message": message, "filename": filename, "line": line})
    if os.getpid() != me:  # a process the block forked returned into our code
        os._exit(0)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):
            stream.flush()
    os._exit(code)


# ------------------------------------------------------------------------ the supervisor side


def _remove_tree(path: str) -> None:
    """Remove the block's directory; a non-root block may have made parts of it unreadable."""
    if os.geteuid() != 0:
        for root, dirs, _ in os.walk(path):
            for name in dirs:
                child = os.path.join(root, name)
                if not os.path.islink(child):
                    with contextlib.suppress(OSError):
                        os.chmod(child, 0o700)
    shutil.rmtree(path, ignore_errors=True)


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    def encode(text: str | None) -> bytes | None:
        return None if text is None else os.fsencode(text)

    _libc_call(
        "mount", encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data)
    )


def _expose_python_dirs() -> None:
    """In a private mount namespace, cover each hidden directory (e.g. /root) with an empty
    tmpfs holding only bind mounts of what Python needs, so the dropped uid can import."""
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)
    for hidden, entries in _hidden_python_dirs().items():
        originals = {name: os.open(os.path.join(hidden, name), os.O_PATH) for name in entries}
        _mount("tmpfs", hidden, "tmpfs", _MS_NOSUID | _MS_NODEV, "mode=755,size=64k")
        for name, fd in originals.items():
            os.mkdir(os.path.join(hidden, name))
            _mount(f"/proc/self/fd/{fd}", os.path.join(hidden, name), None, _MS_BIND | _MS_REC)
            os.close(fd)


def _kill_uid(uid: int) -> None:
    """SIGKILL every process of ``uid`` (from a helper that becomes that uid)."""
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.setuid(uid)
            for _ in range(1000):  # until no process of the uid is left, fork bombs included
                os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        except BaseException:
            code = 1
        os._exit(code)
    os.waitpid(pid, 0)


def _supervisor(
    run: Callable[[int | None, bool], None],
    uid: int | None,
    limits: Limits,
    capture: tuple[int, int],
    base: str,
) -> None:
    """Start the child in new mount/PID/network namespaces when possible, wait, clean up
    (processes and ``base``, even when the caller died), report the child's wait status.
    Never returns."""
    try:
        parent = os.getppid()
        _libc_call("prctl", _PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)
        namespaces = True
        try:
            _libc_call("unshare", _CLONE_NEWNS | _CLONE_NEWPID | _CLONE_NEWNET)
            _expose_python_dirs()
        except OSError as exc:
            namespaces = False
            _libc_call("prctl", _PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
            _emit({"kind": "isolation", "message": f"no mount/PID/network namespace ({exc})"})
            if uid is not None and _hidden_python_dirs():
                uid = None
                _emit({"kind": "isolation", "message": "no uid drop: Python would be unreadable"})
        killed = False
        pid = os.fork()
        if pid == 0:
            run(uid, namespaces)
        pidfd = os.pidfd_open(pid)
        for fd in capture:
            os.close(fd)

        def kill(signum: int, frame: object) -> None:
            nonlocal killed
            killed = True
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)

        signal.signal(signal.SIGTERM, kill)
        signal.signal(signal.SIGALRM, kill)
        signal.setitimer(signal.ITIMER_REAL, limits.timeout_s + _KILL_GRACE_S / 2)
        _, status = os.waitpid(pid, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
        if not namespaces:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
            if uid is not None:
                _kill_uid(uid)
            with contextlib.suppress(ChildProcessError):
                while os.waitpid(-1, os.WNOHANG)[0]:
                    pass
        _remove_tree(base)
        _emit({"status": status, "killed": killed, "namespaces": namespaces})
        os._exit(0)
    except BaseException as exc:
        _emit({"kind": "internal", "message": f"sandbox supervisor failed: {exc!r}"})
        os._exit(1)


# ---------------------------------------------------------------------------- the parent side


def prepare_worker() -> bool:
    """Make this process the supervisor of the jobs it will run: private mount namespace
    (Python's hidden directories exposed, as the supervisor does per job) and an empty
    network namespace, entered once. Call it before any thread starts; from then on each job
    is a single fork into a fresh PID namespace. False (nothing changed) without the
    privileges: jobs then keep the two-fork layout, with its fallbacks."""
    global _own_pid_ns
    if _own_pid_ns is not None:
        return True
    if os.geteuid() != 0 or not _capabilities() & (1 << _CAP_SYS_ADMIN):
        return False
    own = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    try:
        _libc_call("unshare", _CLONE_NEWNS | _CLONE_NEWNET)
    except OSError:
        os.close(own)
        return False
    _expose_python_dirs()
    _private_job_dirs()
    _own_pid_ns = own
    return True


#: Where a worker's jobs get their directories: its own tmpfs, mounted over ``/dev/shm`` in
#: its private mount namespace.
JOB_DIRS = "/dev/shm"
JOB_DIRS_OPTIONS = "mode=1777,size=512m"


def _private_job_dirs() -> None:
    """Job directories on a tmpfs of this worker's own: a directory per job on the disk's
    file system cost a fifth of a trivial job (ext4 looks for an inode not recently freed, and
    every job frees some); a block's C-level writes to ``/dev/shm`` stay in the worker's
    namespace; everything goes when the worker does. Kept on the temp dir if it cannot mount."""
    try:
        _mount("tmpfs", JOB_DIRS, "tmpfs", _MS_NOSUID | _MS_NODEV, JOB_DIRS_OPTIONS)
    except OSError:
        return
    tempfile.tempdir = JOB_DIRS


def _fork_in_new_pid_namespace() -> int:
    """fork() whose child is PID 1 of a new PID namespace; this process stays where it was
    (its later children, too). Returns 0 in the child, as fork does."""
    assert _own_pid_ns is not None
    _libc_call("setns", _own_pid_ns, _CLONE_NEWPID)  # a namespace per job: back home first
    _libc_call("unshare", _CLONE_NEWPID)
    try:
        pid = os.fork()
    except BaseException:
        _libc_call("setns", _own_pid_ns, _CLONE_NEWPID)
        raise
    if pid != 0:
        _libc_call("setns", _own_pid_ns, _CLONE_NEWPID)
    return pid


def run_contained(
    target: Target,
    payload: dict[str, Any],
    limits: Limits,
    *,
    slot: int = 0,
    env: Mapping[str, str] | None = None,
) -> Contained:
    """Run ``target(payload)`` in a contained child; see the module docstring for guarantees."""
    start = time.monotonic()
    uid = UID_BASE + slot if os.geteuid() == 0 and process_bound_enforced()[0] else None
    base = tempfile.mkdtemp(prefix="exampletest-")
    workdir = os.path.join(base, "work")
    os.mkdir(workdir, 0o700)
    os.chmod(base, 0o711)
    if uid is not None:
        os.chown(workdir, uid, uid)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    ev_r, ev_w = os.pipe()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    pipes = (out_w, err_w, ev_w)
    direct = _own_pid_ns is not None  # this process is the supervisor: one fork
    try:
        pid = _fork_in_new_pid_namespace() if direct else os.fork()
        if pid == 0:
            _use_event_fd(ev_w)
            for fd in (out_r, err_r, ev_r):
                os.close(fd)
            if direct:
                with contextlib.suppress(BaseException):
                    _libc_call("prctl", _PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
                _child(target, payload, limits, workdir, uid, env, pipes, True, own_mounts=True)

            def run(child_uid: int | None, namespaces: bool) -> None:
                _child(target, payload, limits, workdir, child_uid, env, pipes, namespaces)

            _supervisor(run, uid, limits, (out_w, err_w), base)
        for fd in pipes:
            os.close(fd)
        # PID 1 of a namespace ignores SIGTERM from outside: the job itself gets SIGKILL.
        first = signal.SIGKILL if direct else signal.SIGTERM
        streams, events_raw, truncated, signalled = _collect(
            pid, out_r, err_r, ev_r, limits, start, first
        )
        _, status = os.waitpid(pid, 0)
        if direct:  # what the supervisor would have reported
            report = {"status": status, "killed": signalled, "namespaces": True}
            events_raw += (json.dumps(report) + "\n").encode()
    finally:
        for fd in (out_r, err_r, ev_r):
            with contextlib.suppress(OSError):
                os.close(fd)
        _remove_tree(base)
    duration = time.monotonic() - start
    return _assemble(events_raw, streams, truncated, signalled, limits, duration)


def _collect(
    pid: int,
    out_r: int,
    err_r: int,
    ev_r: int,
    limits: Limits,
    start: float,
    first: signal.Signals = signal.SIGTERM,
) -> tuple[dict[int, bytearray], bytearray, bool, bool]:
    """Drain the three pipes until every writer is gone, signalling ``pid`` on timeout (first
    ``first``, SIGKILL if it is still there after a grace period)."""
    caps = {out_r: limits.output_bytes, err_r: limits.output_bytes, ev_r: _MAX_EVENT_BYTES}
    data = {fd: bytearray() for fd in caps}
    truncated = False
    deadline = start + limits.timeout_s
    signalled = False
    with selectors.DefaultSelector() as sel:
        for fd in caps:
            sel.register(fd, selectors.EVENT_READ)
        while sel.get_map():
            now = time.monotonic()
            if now >= deadline:
                if signalled:
                    os.kill(pid, signal.SIGKILL)  # the supervisor itself is stuck
                    break
                os.kill(pid, first)
                signalled, deadline = True, now + _KILL_GRACE_S
            for key, _ in sel.select(deadline - now):
                fd = int(key.fd)
                chunk = os.read(fd, 65536)
                if not chunk:
                    sel.unregister(fd)
                    continue
                room = caps[fd] - len(data[fd])
                if len(chunk) > room:
                    truncated = truncated or fd != ev_r
                    chunk = chunk[: max(room, 0)]
                data[fd] += chunk
    return {1: data[out_r], 2: data[err_r]}, data[ev_r], truncated, signalled


def _assemble(
    raw: bytearray,
    streams: dict[int, bytearray],
    truncated: bool,
    signalled: bool,
    limits: Limits,
    duration: float,
) -> Contained:
    events: list[dict[str, Any]] = []
    value: dict[str, Any] | None = None
    status: dict[str, Any] | None = None
    for line in raw.splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if not isinstance(item, dict):
            continue
        if "result" in item:
            value = (
                item["result"] if isinstance(item["result"], dict) else {"value": item["result"]}
            )
        elif "status" in item:
            status = item
        else:
            events.append(item)
    exit_code = sig = None
    timed_out = signalled
    if status is None:
        events.append({"kind": "internal", "message": "sandbox supervisor did not report"})
    else:
        timed_out = bool(status["killed"])
        wait_status = int(status["status"])
        if os.WIFSIGNALED(wait_status):
            sig = os.WTERMSIG(wait_status)
        else:
            exit_code = os.WEXITSTATUS(wait_status)
    if timed_out:
        sig = None
    return Contained(
        value=value,
        events=events,
        exit_code=exit_code,
        signal=sig,
        timed_out=timed_out,
        duration_s=round(duration, 4),
        stdout=streams[1].decode("utf-8", "replace"),
        stderr=streams[2].decode("utf-8", "replace"),
        output_truncated=truncated,
        limits=limits,
    )


__all__ = [
    "BLOCK_FILENAME_PREFIX",
    "SAFE_PATH",
    "Contained",
    "Limits",
    "exec_code",
    "prepare_worker",
    "process_bound_enforced",
    "run_contained",
    "safe_environ",
]
