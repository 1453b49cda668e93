"""What a demanding user (and CI) relies on besides the verdicts: nothing of theirs deleted or
overwritten, a run that was not done as asked never exits 0, no stale result from the cache."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from exampletest import pipeline
from exampletest.cli import main

OK = "```python\nx = 1\nprint(x)\n```\n"
BROKEN = "```python\nimport json\n\njson.loads('{')\n```\n"
STALE = "```python\nfrom typing import List\n\nx: List[int] = []\n```\n"


def test_clean_removes_only_a_folder_that_is_exampletests_cache(
    write_doc: Callable[[str, str], Path],
    run_json: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("EXAMPLETEST_CACHE_DIR")
    write_doc("docs/a.md", OK)
    run_json("--stages", "lint", "docs/a.md")
    cache = Path(".exampletest_cache")
    assert (cache / "CACHEDIR.TAG").is_file() and (cache / ".gitignore").is_file()
    assert main(["clean", "--cache-dir", "docs"]) == 2  # a mistyped cache-dir
    assert main(["clean", "--cache-dir", "."]) == 2
    assert "not an exampletest cache" in capsys.readouterr().err
    assert Path("docs/a.md").is_file()
    assert main(["clean"]) == 0 and not cache.exists()


def test_clean_takes_the_cache_the_environment_names(
    write_doc: Callable[[str, str], Path], run_json: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXAMPLETEST_CACHE_DIR", "elsewhere")
    write_doc("a.md", OK)
    run_json("--stages", "lint", "a.md")
    assert Path("elsewhere/CACHEDIR.TAG").is_file()
    assert main(["clean"]) == 0 and not Path("elsewhere").exists()


def test_a_folder_of_other_files_is_never_tagged_as_the_cache(
    write_doc: Callable[[str, str], Path], run_json: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EXAMPLETEST_CACHE_DIR")
    write_doc("notes/keep.txt", "mine")
    write_doc("a.md", OK)
    write_doc("pyproject.toml", '[tool.exampletest]\ncache-dir = "notes"\n')
    run_json("--stages", "lint", "a.md")
    assert not Path("notes/CACHEDIR.TAG").exists()
    assert main(["clean"]) == 2 and Path("notes/keep.txt").is_file()


def test_fix_write_refuses_a_document_edited_while_it_was_checked(
    write_doc: Callable[[str, str], Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    doc = write_doc("a.md", STALE)
    real_run = pipeline.run

    def run_then_edit(*args: Any, **kwargs: Any) -> Any:
        report = real_run(*args, **kwargs)
        doc.write_text(STALE.replace("[]", "[1, 2]  # the reader's edit"), encoding="utf-8")
        return report

    monkeypatch.setattr(pipeline, "run", run_then_edit)
    assert main(["fix", "--write", "a.md"]) == 1
    assert "changed on disk since it was read; not written" in capsys.readouterr().err
    assert "the reader's edit" in doc.read_text(encoding="utf-8")


def test_extract_keeps_a_file_it_did_not_write_and_keeps_same_named_documents_apart(
    write_doc: Callable[[str, str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    write_doc("docs/guide.md", "# C\n\n```python\nprint('md')\n```\n")
    write_doc("docs/guide.markdown", "# C\n\n```python\nprint('markdown')\n```\n")
    assert main(["extract", "docs"]) == 0
    modules = sorted(Path("extracted").rglob("*.py"))
    assert len(modules) == 2  # not one overwriting the other
    mine = modules[0].parent / "b07_mine.py"
    mine.write_text("# my own notes\n", encoding="utf-8")
    assert main(["extract", "docs"]) == 0 and mine.is_file()
    assert main(["extract", "--check", "docs"]) == 0
    assert "b07_mine" not in capsys.readouterr().out


@pytest.mark.parametrize(
    ("config", "args"),
    [
        ("stages = []\n", ()),
        ('target-version = "py99"\n', ()),
        ("", ("--smoke-timeout", "0")),
        ("", ("--smoke-timeout", "-1")),
        ("", ("--jobs", "0")),
        ("", ("--report", "json=r.out", "--report", "sarif=./r.out")),  # one would be lost
    ],
)
def test_a_bad_setting_exits_2_before_running(
    write_doc: Callable[[str, str], Path],
    capsys: pytest.CaptureFixture[str],
    config: str,
    args: tuple[str, ...],
) -> None:
    write_doc("pyproject.toml", f"[tool.exampletest]\n{config}")
    write_doc("a.md", BROKEN)
    assert main(["run", *args, "a.md"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("exampletest: error: ")


def test_a_named_document_that_cannot_be_read_exits_2_after_the_rest(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    write_doc("good.md", OK)
    Path("latin1.md").write_bytes(b"# T\n\n\xe9t\xe9\n")
    code, report = run_json("latin1.md", "good.md")
    assert code == 2
    assert [b["status"] for d in report["documents"] for b in d["blocks"]] == ["ok"]


def test_fix_and_stubs_exit_2_on_a_path_that_is_not_there(
    write_doc: Callable[[str, str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    write_doc("ok.md", OK)
    assert main(["fix", "--diff", "missing.md", "ok.md"]) == 2
    assert main(["stubs", "missing.md"]) == 2
    assert "missing.md" in capsys.readouterr().err


def test_removing_an_override_checks_the_document_again(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    write_doc("a.md", BROKEN)
    override = '[[tool.exampletest.overrides]]\npaths = ["a.md"]\nstages = ["lint"]\n'
    write_doc("pyproject.toml", f"[tool.exampletest]\n{override}")
    assert run_json("a.md")[0] == 0  # the smoke run that would break it is switched off
    write_doc("pyproject.toml", "[tool.exampletest]\n")
    code, report = run_json("a.md")
    assert code == 1 and report["documents"][0]["blocks"][0]["stages"]["smoke"] == "ran"


def test_a_timed_out_run_is_not_remembered(
    write_doc: Callable[[str, str], Path], run_json: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow moment of the machine must not make the block broken for every later run."""
    monkeypatch.setenv("EXAMPLETEST_CACHE_DIR", "cache")
    # a wait the virtual clock cannot skip (a lock's timeout: another thread might release it)
    write_doc("a.md", "```python\nimport threading\n\nthreading.Event().wait(30)\n```\n")
    _code, report = run_json("--smoke-timeout", "1", "--no-fix", "a.md")
    assert report["documents"][0]["blocks"][0]["stages"]["smoke"] == "timeout"
    remembered = [p for p in Path("cache/results").glob("??/*.json")]
    assert remembered == []


def test_sarif_names_files_from_the_repository_root_and_suppresses_baselined_findings(
    write_doc: Callable[[str, str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    write_doc(".git/HEAD", "ref: refs/heads/main\n")
    write_doc("docs/x.md", STALE)
    assert main(["baseline", "--output", "base.json", "docs"]) == 0
    os.mkdir("tools")
    os.chdir("tools")
    capsys.readouterr()
    main(["run", "--format", "sarif", "--baseline", "../base.json", "../docs/x.md"])
    run = json.loads(capsys.readouterr().out)["runs"][0]
    location = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "docs/x.md", "uriBaseId": "%SRCROOT%"}
    assert all(r["suppressions"][0]["kind"] == "external" for r in run["results"])


def test_a_nearer_pyproject_without_the_table_does_not_hide_the_projects(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    write_doc("pyproject.toml", '[tool.exampletest]\nfail-on = "stale"\n')
    write_doc("pkg/pyproject.toml", "[project]\nname = 'pkg'\n")
    write_doc("pkg/a.md", STALE)
    os.chdir("pkg")
    assert run_json("a.md")[0] == 1  # the project's fail-on applies


def test_a_file_given_beside_its_folder_is_checked_once_without_a_false_error(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    write_doc("docs/ok.md", OK)
    code, report = run_json("--stages", "lint", "docs/ok.md", "docs")
    assert code == 0 and report["errors"] == [] and len(report["documents"]) == 1


def test_sigterm_stops_the_run_and_its_workers(write_doc: Callable[[str, str], Path]) -> None:
    """What CI sends when it cancels a job: exit 143, and no smoke worker left behind."""
    import signal
    import subprocess
    import sys
    import time

    write_doc("slow.md", "```python\nimport threading\n\nthreading.Event().wait(60)\n```\n")
    script = "import sys; from exampletest.cli import entry; sys.exit(entry())"
    proc = subprocess.Popen(
        [sys.executable, "-c", script, "run", "--no-fix", "--stages", "smoke", "slow.md"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    workers = _wait_for_children(proc.pid, b"exampletest.worker")
    assert workers, "the run never started its workers"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143 and "interrupted" in err
    time.sleep(0.5)
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]


def test_sigterm_stops_a_running_mypy_too(
    write_doc: Callable[[str, str], Path], tmp_path: Path
) -> None:
    """A cold mypy takes seconds; the run must not wait for it once CI cancels the job."""
    import signal
    import subprocess
    import sys
    import time

    write_doc("typed.md", "```python\nimport fastapi\nimport sqlalchemy.orm\n\nx: int = 1\n```\n")
    env = {
        **os.environ,
        "EXAMPLETEST_CACHE_DIR": str(tmp_path / "cold-cache"),  # mypy analyses the libraries
        "XDG_CACHE_HOME": str(tmp_path / "cold-user-cache"),
    }
    script = "import sys; from exampletest.cli import entry; sys.exit(entry())"
    # The name index first (its build would start mypy on the libraries ahead of the check,
    # and that one is stopped anyway): then the check's own mypy runs cold.
    lint = [sys.executable, "-c", script, "run", "--no-fix", "--stages", "lint", "typed.md"]
    subprocess.run(lint, env=env, capture_output=True, check=False)
    proc = subprocess.Popen(
        [sys.executable, "-c", script, "run", "--no-fix", "--stages", "types", "typed.md"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**env, "EXAMPLETEST_CACHE_DIR": str(tmp_path / "cold-project")},
    )
    mypys = _wait_for_children(proc.pid, b"mypy")
    assert mypys, "mypy never started"
    proc.send_signal(signal.SIGTERM)
    stopped = time.monotonic()
    proc.communicate(timeout=30)
    took = time.monotonic() - stopped  # a cold mypy has seconds left: the run must not wait
    assert proc.returncode == 143 and took < 2, took
    gone = time.monotonic()
    while [p for p in mypys if _alive(p)] and time.monotonic() - gone < 1:
        time.sleep(0.1)  # a killed child is gone once init has reaped it
    assert not [pid for pid in mypys if _alive(pid)]


def _alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for_children(parent: int, marker: bytes, timeout_s: float = 60) -> list[int]:
    """The run's child processes running ``python -m <marker>``, once there are some."""
    import time

    deadline = time.monotonic() + timeout_s
    while not (found := _children_running(parent, marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def _children_running(parent: int, marker: bytes) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == parent and b"-m\x00" + marker in cmdline:
            out.append(int(entry.name))
    return out


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_report_that_cannot_be_written_is_one_line_and_exit_2(
    write_doc: Callable[[str, str], Path],
) -> None:
    import subprocess
    import sys

    write_doc("a.md", OK)
    script = "import sys; from exampletest.cli import entry; sys.exit(entry())"
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-c", script, "run", "--stages", "lint", "a.md"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert proc.returncode == 2
    assert proc.stderr == "exampletest: error: cannot write to stdout: No space left on device\n"


def test_an_interrupt_inside_the_import_system_comes_again_outside_it() -> None:
    """Raised in the import system's own code (a module lock's callback runs there at any
    time), the interrupt could leave the import lock held, and the run's threads, importing
    too, would hang on it: the handler lets it come again a moment later instead."""
    import signal
    import sys
    import threading

    from exampletest import cli

    inside: dict[str, Any] = {}
    there = compile("import sys\nframe = sys._getframe()", "<frozen importlib._bootstrap>", "exec")
    exec(there, inside)
    again = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: again.set())
    try:
        cli._interrupt(signal.SIGTERM, inside["frame"])  # no exception here
        assert again.wait(5), "the signal did not come again"
    finally:
        signal.signal(signal.SIGTERM, previous)
    with pytest.raises(cli.Terminated):
        cli._interrupt(signal.SIGTERM, sys._getframe())
    with pytest.raises(KeyboardInterrupt) as caught:
        cli._interrupt(signal.SIGINT, sys._getframe())
    assert not isinstance(caught.value, cli.Terminated)


def test_sigterm_at_any_moment_of_a_run_exits_143_without_a_traceback(
    write_doc: Callable[[str, str], Path], tmp_path: Path
) -> None:
    """CI cancels a job whenever it likes: while the parser is built, while modules load in
    several threads, while the stages run. Each time the run stops, 143, in one line."""
    import signal
    import subprocess
    import sys
    import time

    write_doc("doc.md", BROKEN + "\n" + STALE)
    script = "import sys; from exampletest.cli import entry; sys.exit(entry())"
    for i, delay in enumerate((0.05, 0.15, 0.25, 0.35, 0.45, 0.6, 0.8, 1.0)):
        proc = subprocess.Popen(
            [sys.executable, "-c", script, "run", "doc.md"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "EXAMPLETEST_CACHE_DIR": str(tmp_path / f"cache-{i}")},
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)  # a hang fails here
        assert "Traceback" not in err, (delay, err)
        # -15: the signal came before the handler was set (nothing had started); 0 or 1: the
        # run was done before it came
        assert proc.returncode in (143, -signal.SIGTERM, 0, 1), (delay, proc.returncode, err)


def test_a_signal_while_the_main_thread_holds_the_parse_lock_comes_again_after() -> None:
    """Raising between taking the parse lock and the `with` that releases it would leave it
    held, and the stage threads the run joins would wait for it forever: the handler lets
    the signal come again a moment later instead."""
    import signal
    import time

    from exampletest import symbols
    from exampletest.cli import _interrupt

    came: list[int] = []
    before = signal.signal(signal.SIGTERM, lambda signum, frame: came.append(signum))
    try:
        with symbols._PARSING:
            _interrupt(signal.SIGTERM, None)  # no Terminated raised here
        deadline = time.monotonic() + 5
        while not came and time.monotonic() < deadline:
            time.sleep(0.01)
        assert came == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, before)


def test_an_internal_error_on_one_document_costs_that_document_not_the_run(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug of exampletest's own (the context analysis raising on one document) is one
    line naming the document and the bug's place; the other documents are checked, and the
    exit code says the run was not done (2)."""
    from exampletest import context

    (in_tmp / "good.md").write_text("```python\nprint(1)\n```\n", encoding="utf-8")
    (in_tmp / "bad.md").write_text("```python\nprint(2)\n```\n", encoding="utf-8")
    real = context._analyze_document.__wrapped__

    def trips(blocks: Any, index: Any, stub: Any) -> Any:
        if blocks and blocks[0].doc_path.endswith("bad.md"):
            raise IndexError("list index out of range")
        return real(blocks, index, stub)

    monkeypatch.setattr(context, "_analyze_document", trips)
    assert main(["run", "--format", "json", "--no-fix", "good.md", "bad.md"]) == 2
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    statuses = {d["path"]: [b["status"] for b in d["blocks"]] for d in report["documents"]}
    assert statuses == {"good.md": ["ok"], "bad.md": ["skipped"]}
    [line] = [e for e in captured.err.splitlines() if "internal error" in e]
    assert line.startswith("exampletest: bad.md: stage failed: internal error (IndexError: ")
    assert "its blocks were not checked" in line


def test_an_internal_error_in_one_blocks_verdict_costs_its_merging_not_the_run(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug of the verdict (`With` has no `orelse`, once) on one block: that block keeps its
    findings as the stages gave them, the run goes on and exits 2 with one line, and the
    block is not cached: the next run gives its verdict."""
    from exampletest import verdict

    monkeypatch.setenv("EXAMPLETEST_CACHE_DIR", str(in_tmp / "own-cache"))  # not the session's
    (in_tmp / "d.md").write_text("```python\nprint(1)\n```\n\n```python\nimport os\n{}['x']\n```\n")
    real = verdict.mark_intentional

    def trips(block: Any, findings: Any) -> Any:
        if block.index == 2:
            raise AttributeError("'With' object has no attribute 'orelse'")
        return real(block, findings)

    monkeypatch.setattr(verdict, "mark_intentional", trips)
    assert main(["run", "--format", "json", "--no-fix", "d.md"]) == 2
    captured = capsys.readouterr()
    blocks = json.loads(captured.out)["documents"][0]["blocks"]
    assert [b["status"] for b in blocks] == ["ok", "broken"]
    assert {f["rule"] for f in blocks[1]["findings"]} >= {"KeyError", "F401"}  # unmerged
    [line] = [e for e in captured.err.splitlines() if "internal error" in e]
    assert "d.md:5: block 2: stage failed: its findings are not merged: internal error" in line
    monkeypatch.setattr(verdict, "mark_intentional", real)
    assert main(["run", "--format", "json", "--no-fix", "d.md"]) == 1
    blocks = json.loads(capsys.readouterr().out)["documents"][0]["blocks"]
    assert blocks[1]["status"] == "broken"


def test_a_fix_engine_error_is_reported_and_nothing_is_cached_without_the_fixes(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug of the fix engine costs the fixes of that run (exit 2, one line), not the report,
    and is not remembered: the next run, with the cache, proposes them."""
    from exampletest.fix import engine

    monkeypatch.setenv("EXAMPLETEST_CACHE_DIR", str(in_tmp / "own-cache"))  # not the session's
    (in_tmp / "f.md").write_text("```python\nfrom typing import List\n\nx: List[int] = []\n```\n")
    real = engine.propose

    def trips(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(engine, "propose", trips)
    assert main(["run", "--format", "json", "f.md"]) == 2
    captured = capsys.readouterr()
    [block] = json.loads(captured.out)["documents"][0]["blocks"]
    assert block["status"] == "stale" and block["fix"] is None
    assert "fixes: stage failed: internal error (OSError" in captured.err
    monkeypatch.setattr(engine, "propose", real)
    assert main(["run", "--format", "json", "f.md"]) == 0  # stale fails only --fail-on stale
    [block] = json.loads(capsys.readouterr().out)["documents"][0]["blocks"]
    assert block["fix"]["verified"] and "x: list[int] = []" in block["fix"]["replacement"]
