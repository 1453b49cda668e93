"""Measure exampletest on a folder of Markdown against its floor and a peer (issue "Speed").

Run by hand, never in CI: ``python benchmarks/bench.py FOLDER [--skip-peer] [--scaling]
[--repeat N]``. Every figure is wall-clock time of a fresh process on a copy of FOLDER, next
to the 1-minute load average when it started (the numbers mean little on a busy machine).
benchmarks/README.md says what each figure is.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from exampletest.discover import discover
from exampletest.extract import doc_slug, module_text
from exampletest.model import Block
from exampletest.parse import read_document

BIN = Path(sys.executable).parent
IMPORT_STACK = "import pydantic, fastapi, sqlalchemy, sqlalchemy.orm, pydantic_settings"
#: The floor's and the peer's mypy configuration: what exampletest enables, nothing more.
MYPY_INI = """[mypy]
plugins = pydantic.mypy
enable_error_code = deprecated
ignore_missing_imports = True
"""
#: Fence languages handed to doccmd: those exampletest checks, minus pycon (mypy cannot read it).
PEER_LANGUAGES = ("python", "Python", "py", "python3", "py3")
SAMPLE_EVERY_S = 0.1
GIB_KB = 1024 * 1024


@dataclass
class Sample:
    seconds: float
    load: float  # 1-minute load average when the command started
    rc: int
    top_rss_kb: int = 0  # /usr/bin/time %M: largest single process, reaped descendants included
    tree_rss_kb: int = 0  # sampled peak of the summed RSS of the whole process tree
    tree_pss_kb: int = 0  # same, proportional set size (shared pages split between processes)
    blocks: int | None = None  # blocks the run reported (exampletest JSON / doccmd -v)


@dataclass
class Figure:
    name: str
    samples: list[Sample] = field(default_factory=list)
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples) if self.samples else float("nan")

    def row(self) -> str:
        if not self.samples:
            return f"{self.name:<28} {'-':>8}  {self.note}"
        lo, hi = min(s.seconds for s in self.samples), max(s.seconds for s in self.samples)
        loads = "/".join(f"{s.load:.1f}" for s in self.samples)
        bad = [s.rc for s in self.samples if s.rc not in (0, 1)]
        flag = f" EXIT {bad}" if bad else ""
        spread = f"{lo:.2f}-{hi:.2f}" if len(self.samples) > 1 else ""
        return (
            f"{self.name:<28} {self.median:>8.2f}  {spread:<12} load {loads:<16}{self.note}{flag}"
        )


class TreeSampler(threading.Thread):
    """Peak summed RSS and PSS of a process and all its descendants, read from /proc."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_rss_kb = 0
        self.peak_pss_kb = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            rss = pss = 0
            for pid in _tree(self.pid):
                rss += _proc_kb(f"/proc/{pid}/status", "VmRSS:")
                pss += _proc_kb(f"/proc/{pid}/smaps_rollup", "Pss:")
            self.peak_rss_kb = max(self.peak_rss_kb, rss)
            self.peak_pss_kb = max(self.peak_pss_kb, pss)
            self._stop_event.wait(SAMPLE_EVERY_S)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def _tree(root: int) -> list[int]:
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            continue  # exited meanwhile
    return pids


def _proc_kb(path: str, key: str) -> int:
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def measure(
    cmd: Sequence[str],
    log: Path,
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    tree: bool = False,
) -> Sample:
    """One timed run; stdout goes to ``log``, stderr to ``log`` + ``.err``."""
    memfile = log.with_suffix(".rss")
    full = ["/usr/bin/time", "-f", "%M", "-o", str(memfile), *cmd]
    load = os.getloadavg()[0]
    with open(log, "wb") as out, open(f"{log}.err", "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(full, stdout=out, stderr=err, env=env, cwd=cwd)
        sampler = TreeSampler(proc.pid) if tree else None
        if sampler is not None:
            sampler.start()
        rc = proc.wait()
        seconds = time.perf_counter() - started
        if sampler is not None:
            sampler.stop()
    words = memfile.read_text().split() if memfile.exists() else []  # %M is the last word
    top = int(words[-1]) if words and words[-1].isdigit() else 0
    return Sample(
        seconds,
        load,
        rc,
        top,
        sampler.peak_rss_kb if sampler else 0,
        sampler.peak_pss_kb if sampler else 0,
    )


# --- the folder copies ---------------------------------------------------------------------


def markdown_files(folder: Path) -> list[Path]:
    """The documents exampletest itself would check under ``folder``."""
    return [Path(f) for f in discover([str(folder)])[0]]


def checkable(block: Block, stage: str = "all") -> bool:
    """A block exampletest checks (with ``stage``), whose code is plain Python (not pycon)."""
    return (
        block.skip_reason is None
        and not block.directives.skips(stage)
        and block.language not in ("pycon", "python-console")
    )


def append_to_blocks(doc: Path, text_for: Callable[[Block], str | None]) -> int:
    """Append one line to the end of each block ``text_for`` names; returns how many.

    The line goes right after the block's last code line, with the fence's own indentation,
    and the document is re-parsed to prove the line landed inside the block.
    """
    parsed = read_document(str(doc))
    raw = doc.read_bytes().decode("utf-8")
    lines = raw.splitlines(keepends=True)
    newline = "\r\n" if "\r\n" in raw else "\n"
    edits = [(b, t) for b in parsed.blocks if (t := text_for(b)) is not None]
    for block, text in sorted(edits, key=lambda e: -e[0].end_line):
        after = block.end_line if block.line_map else block.fence_line
        if after <= len(lines) and not lines[after - 1].endswith(("\n", "\r")):
            lines[after - 1] += newline
        lines.insert(after, f"{block.fence_indent}{text}{newline}")
    doc.write_text("".join(lines), encoding="utf-8", newline="")
    again = read_document(str(doc))
    wanted = {b.index: t for b, t in edits}
    landed = sum(1 for b in again.blocks if b.index in wanted and wanted[b.index] in b.code)
    if len(again.blocks) != len(parsed.blocks) or landed != len(edits):
        raise SystemExit(f"bench: could not append a line inside the blocks of {doc}")
    return len(edits)


def perturbed_copy(src: Path, dest: Path, tag: str) -> int:
    """A copy of ``src`` whose every checkable block ends with a unique comment."""
    shutil.copytree(src, dest)
    return sum(
        append_to_blocks(doc, lambda b: f"# copy {tag}" if checkable(b) else None)
        for doc in markdown_files(dest)
    )


def edit_one_block(folder: Path, value: int) -> tuple[Path, bytes]:
    """Append ``_bench_edit = value`` to the first checkable block; returns what to restore."""
    doc, index = next(
        ((doc, b.index) for doc in markdown_files(folder)
         for b in read_document(str(doc)).blocks if checkable(b)),
        (None, 0),
    )  # fmt: skip
    if doc is None:
        raise SystemExit(f"bench: no checkable Python block under {folder}")
    before = doc.read_bytes()
    append_to_blocks(doc, lambda b: f"_bench_edit = {value}" if b.index == index else None)
    return doc, before


# --- the three contenders ------------------------------------------------------------------


def exampletest_run(folder: Path, cache: Path, log: Path) -> Sample:
    """``cache`` holds the project's caches and, as XDG_CACHE_HOME, the user's (name index)."""
    env = {**os.environ, "EXAMPLETEST_CACHE_DIR": str(cache / "project"),
           "XDG_CACHE_HOME": str(cache / "user")}  # fmt: skip
    sample = measure(
        [str(BIN / "exampletest"), "run", "--format", "json", str(folder)], log, env=env, tree=True
    )
    try:
        report = json.loads(log.read_text(encoding="utf-8"))
        sample.blocks = sum(len(d["blocks"]) for d in report["documents"])
    except (ValueError, KeyError, TypeError):
        sample.rc = sample.rc if sample.rc not in (0, 1) else 99  # no report: a failed run
    return sample


def bench_exampletest(work: Path, tmp: Path, repeat: int) -> dict[str, Figure]:
    cold, warm, edit = Figure("exampletest cold"), Figure("exampletest warm"), Figure("edit one")
    project = Figure("new project", note="fresh project cache, name index already built")
    for r in range(repeat):
        cache = tmp / f"cache-{r}"
        cold.samples.append(exampletest_run(work, cache, tmp / f"cold-{r}.json"))
        shutil.rmtree(cache / "project")
        project.samples.append(exampletest_run(work, cache, tmp / f"project-{r}.json"))
        warm.samples.append(exampletest_run(work, cache, tmp / f"warm-{r}.json"))
        doc, before = edit_one_block(work, r + 1)
        try:
            edit.samples.append(exampletest_run(work, cache, tmp / f"edit-{r}.json"))
        finally:
            doc.write_bytes(before)
        edit.note = f"_bench_edit appended to {doc.name}"
    return {"cold": cold, "new project": project, "warm": warm, "edit": edit}


def floor_files(work: Path, tmp: Path) -> Path:
    """The checkable blocks as modules, as ``exampletest extract`` writes them but uniquely named:
    extract names a module after its document's file name, so same-named documents in different
    folders (``SKILL.md``) overwrite each other, and mypy rejects two modules named ``b01_x``."""
    flat = tmp / "flat"
    flat.mkdir()
    for d, doc in enumerate(markdown_files(work)):
        for block in read_document(str(doc)).blocks:
            text = module_text(block)
            if checkable(block, stage="types") and not _unparsable(text):
                name = f"d{d:03d}_{doc_slug(str(doc))}_b{block.index:02d}.py"
                (flat / name).write_text(text, encoding="utf-8")
    return flat


def _unparsable(text: str) -> bool:
    """A syntax error is a blocking error for mypy: it would stop the whole floor run."""
    try:
        compile(text, "<block>", "exec", ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    except (SyntaxError, ValueError):
        return True
    return False


def drop_blocking(flat: Path, ini: Path, tmp: Path) -> list[str]:
    """Move out the modules that stop mypy altogether (a relative import, a syntax error mypy
    alone rejects), as exampletest does, so the timed runs check all the others."""
    dropped: list[str] = []
    for attempt in range(50):
        proc = subprocess.run(
            [sys.executable, "-m", "mypy", "--config-file", str(ini),
             "--cache-dir", str(tmp / f"probe-mypy-{attempt}"), str(flat)],
            capture_output=True, text=True, cwd=tmp, check=False,
        )  # fmt: skip
        culprits = {
            line.split(":", 1)[0] for line in proc.stdout.splitlines() if ": error:" in line
        }
        if proc.returncode != 2 or not culprits:
            break
        for culprit in culprits:
            (tmp / culprit).unlink(missing_ok=True)
            dropped.append(Path(culprit).name)
    return dropped


def bench_floor(work: Path, tmp: Path, repeat: int) -> dict[str, Figure]:
    flat = floor_files(work, tmp)
    ini = tmp / "mypy.ini"
    ini.write_text(MYPY_INI, encoding="utf-8")
    dropped = drop_blocking(flat, ini, tmp)
    files = len(list(flat.glob("*.py")))
    ruff = Figure("  ruff check", note=f"{files} modules, default rules, no cache")
    blocked = f", {len(dropped)} blocking modules left out" if dropped else ""
    cold = Figure("  mypy cold", note=f"fresh --cache-dir{blocked}")
    warm = Figure("  mypy warm", note="same cache, nothing changed")
    imp = Figure("  import stack", note="pydantic fastapi sqlalchemy(.orm) pydantic_settings")
    for r in range(repeat):
        ruff.samples.append(
            measure(
                [
                    sys.executable,
                    "-m",
                    "ruff",
                    "check",
                    "--isolated",
                    "--no-cache",
                    "--exit-zero",
                    "--quiet",
                    str(flat),
                ],
                tmp / f"ruff-{r}.log",
            )
        )
        mypy = [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ini),
            "--cache-dir",
            str(tmp / f"floor-mypy-{r}"),
            str(flat),
        ]
        cold.samples.append(measure(mypy, tmp / f"mypy-cold-{r}.log", cwd=tmp))
        warm.samples.append(measure(mypy, tmp / f"mypy-warm-{r}.log", cwd=tmp))
        imp.samples.append(measure([sys.executable, "-c", IMPORT_STACK], tmp / f"import-{r}.log"))
    for fig in (cold, warm):
        if any(s.rc == 2 for s in fig.samples):
            fig.note += " (mypy stopped on a blocking error: see mypy-*.log)"
    return {"ruff": ruff, "mypy cold": cold, "mypy warm": warm, "import": imp}


def bench_peer(work: Path, tmp: Path, repeat: int) -> dict[str, Figure]:
    """doccmd runs mypy once per block; ``|| true`` because doccmd stops a document at the
    first failing command even with --continue-on-error."""
    ini = tmp / "mypy.ini"
    ini.write_text(MYPY_INI, encoding="utf-8")
    inner = f'{shlex.quote(str(BIN / "mypy"))} --config-file {shlex.quote(str(ini))} "$0" || true'
    cmd = [
        str(BIN / "doccmd"),
        "-v",
        *[f"--language={lang}" for lang in PEER_LANGUAGES],
        "--no-pad-file",
        "--no-write-to-file",
        "--myst-extension=.",
        "--markdown-extension=.md",
        f"--command=sh -c {shlex.quote(inner)}",
        str(work),
    ]
    cold = Figure("peer cold (doccmd+mypy)", note="fresh MYPY_CACHE_DIR")
    warm = Figure("peer warm (doccmd+mypy)", note="same MYPY_CACHE_DIR")
    for r in range(repeat):
        env = {**os.environ, "MYPY_CACHE_DIR": str(tmp / f"peer-mypy-{r}")}
        for fig, label in ((cold, "cold"), (warm, "warm")):
            log = tmp / f"peer-{label}-{r}.log"
            sample = measure(cmd, log, env=env, cwd=tmp)
            output = log.read_text(errors="replace") + Path(f"{log}.err").read_text(
                errors="replace"
            )
            sample.blocks = sum(line.startswith("Running '") for line in output.splitlines())
            fig.samples.append(sample)
    return {"peer cold": cold, "peer warm": warm}


def bench_scaling(work: Path, tmp: Path) -> list[tuple[int, Sample]]:
    points = []
    for k in (1, 2, 4):
        folder = tmp / f"scale-{k}"
        folder.mkdir()
        for i in range(1, k + 1):
            perturbed_copy(work, folder / f"copy{i}", f"{k}-{i}")
        points.append(
            (k, exampletest_run(folder, tmp / f"scale-cache-{k}", tmp / f"scale-{k}.json"))
        )
    return points


# --- the report ----------------------------------------------------------------------------


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b > 0 else "n/a"


def print_report(
    folder: Path, figures: dict[str, Figure], scaling: list[tuple[int, Sample]]
) -> None:
    et = [figures[k] for k in ("cold", "new project", "warm", "edit")]
    blocks = next((s.blocks for s in et[0].samples if s.blocks is not None), None)
    print(f"\n== exampletest benchmark: {folder} ({blocks} blocks, {os.cpu_count()} CPUs) ==")
    print(f"{'figure':<28} {'median s':>8}  {'min-max':<12} {'load (1 min)':<21}note")
    for fig in et:
        print(fig.row())
    runs = [s for f in et for s in f.samples]
    top = max(s.top_rss_kb for s in runs)
    rss = max(s.tree_rss_kb for s in runs)
    pss = max(s.tree_pss_kb for s in runs)
    print(
        f"{'peak memory':<28} {pss / GIB_KB:>8.2f}  GiB: tree PSS {pss / 1024:.0f} MiB, tree RSS "
        f"{rss / 1024:.0f} MiB (shared pages counted per process), "
        f"largest process {top / 1024:.0f} MiB"
    )
    floor_cold = floor_warm = None
    if "mypy cold" in figures:
        parts = [figures[k] for k in ("ruff", "mypy cold", "mypy warm", "import")]
        floor_cold = parts[0].median + parts[1].median + parts[3].median
        floor_warm = parts[0].median + parts[2].median + parts[3].median
        print(f"{'floor cold':<28} {floor_cold:>8.2f}  = ruff + mypy cold + import")
        print(f"{'floor warm':<28} {floor_warm:>8.2f}  = ruff + mypy warm + import")
        for fig in parts:
            print(fig.row())
    if "peer cold" in figures:
        for fig in (figures["peer cold"], figures["peer warm"]):
            print(fig.row() + f" [{fig.samples[0].blocks if fig.samples else '?'} blocks]")
    print("\nratios and targets (issue Speed)")
    cold, _, warm, edit = (f.median for f in et)
    if floor_cold is not None:
        print(
            f"  cold / floor cold        {ratio(cold, floor_cold):>6}   target <= 1.3 (shipped doc)"
        )
        print(f"  warm / floor warm        {ratio(warm, floor_warm or 0):>6}")
    if "peer cold" in figures:
        print(
            f"  peer cold / cold         {ratio(figures['peer cold'].median, cold):>6}   "
            "target >= 10 (corpus)"
        )
        print(f"  peer warm / warm         {ratio(figures['peer warm'].median, warm):>6}")
    print(
        f"  warm                     {warm:>6.2f} s target <= 0.5 s (shipped doc), <= 2 s (corpus)"
    )
    print(f"  edit one                 {edit:>6.2f} s target <= 3 s")
    print(f"  peak memory (tree PSS)   {pss / GIB_KB:>6.2f} GiB target <= 1.5 GiB")
    if scaling:
        print("\nscaling (cold, perturbed copies)")
        base = scaling[0][1].seconds
        for k, s in scaling:
            per = f"{1000 * s.seconds / s.blocks:.0f} ms/block" if s.blocks else "no report"
            print(
                f"  {k}x  {s.seconds:>7.2f} s  {s.blocks} blocks  {per}  x{s.seconds / base:.2f}"
                f"  load {s.load:.1f}  peak PSS {s.tree_pss_kb / 1024:.0f} MiB"
            )
        t = {k: s.seconds for k, s in scaling}
        first, second = t[2] - t[1], (t[4] - t[2]) / 2
        print(f"  marginal cost per copy: 1x->2x {first:.2f} s, 2x->4x {second:.2f} s")
        # Linear means the cost per block does not grow with the size of the run.
        per = {k: s.seconds / s.blocks for k, s in scaling if s.blocks}
        if len(per) == 3:
            growth = per[4] / min(per[1], per[2])
            verdict = "near-linear" if growth <= 1.25 else "super-linear"
            print(f"  cost per block at 4x / best of 1x, 2x: {growth:.2f} ({verdict})")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("folder", type=Path)
    p.add_argument("--skip-peer", action="store_true", help="do not run doccmd + mypy")
    p.add_argument("--scaling", action="store_true", help="also time 1x, 2x, 4x the folder (slow)")
    p.add_argument("--repeat", type=int, default=1, metavar="N", help="runs per figure (median)")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write every sample as JSON")
    args = p.parse_args(argv)
    if not args.folder.is_dir():
        p.error(f"{args.folder} is not a folder")
    tmp = Path(tempfile.mkdtemp(prefix="exampletest-bench-"))
    work = tmp / "docs" / args.folder.resolve().name
    shutil.copytree(args.folder, work, ignore=shutil.ignore_patterns(".*cache*", "extracted"))
    print(f"bench: working in {tmp}", file=sys.stderr)
    try:
        figures = bench_exampletest(work, tmp, args.repeat) | bench_floor(work, tmp, args.repeat)
        if not args.skip_peer:
            figures |= bench_peer(work, tmp, args.repeat)
        scaling = bench_scaling(work, tmp) if args.scaling else []
        print_report(args.folder, figures, scaling)
        if args.json:
            data = {
                "folder": str(args.folder),
                "figures": {k: [asdict(s) for s in f.samples] for k, f in figures.items()},
                "scaling": [(k, asdict(s)) for k, s in scaling],
            }
            args.json.write_text(json.dumps(data, indent=2), encoding="utf-8")
    finally:
        if args.keep:
            print(f"bench: logs kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
