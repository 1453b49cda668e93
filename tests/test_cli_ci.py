"""CI integration: ``--shard``, the pre-commit hook and the GitHub workflow use real options."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from exampletest.changed import parse_shard
from exampletest.cli import main

ROOT = Path(__file__).resolve().parent.parent

OK = "```python\nx = 1\n```\n"


def test_shards_split_documents_evenly_and_completely(
    write_doc: Callable[[str, str], Path], run_json: Any
) -> None:
    names = [f"docs/d{i}.md" for i in range(5)]
    for name in names:
        write_doc(name, OK)
    shards: list[list[str]] = []
    for k in (1, 2, 3, 2):
        code, report = run_json("docs", "--stages", "lint", "--shard", f"{k}/3")
        assert code == 0
        shards.append([d["path"] for d in report["documents"]])
    assert [len(s) for s in shards] == [2, 2, 1, 2]
    assert sorted(shards[0] + shards[1] + shards[2]) == names
    assert shards[3] == shards[1]  # every CI job agrees on the split


def test_an_empty_shard_passes(write_doc: Callable[[str, str], Path], run_json: Any) -> None:
    write_doc("one.md", OK)
    code, report = run_json("one.md", "--shard", "2/2")
    assert code == 0 and report["documents"] == []


@pytest.mark.parametrize("spec", ["3", "0/2", "3/2", "a/b", "1/0"])
def test_bad_shard_exits_2(
    write_doc: Callable[[str, str], Path], capsys: pytest.CaptureFixture[str], spec: str
) -> None:
    write_doc("one.md", OK)
    assert main(["run", "one.md", "--shard", spec]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--shard" in err[0]
    with pytest.raises(ValueError):
        parse_shard(spec)


def run_help(capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    return capsys.readouterr().out


def test_pre_commit_hook(capsys: pytest.CaptureFixture[str]) -> None:
    yaml = pytest.importorskip("yaml")
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text("utf-8"))
    hook = next(h for h in hooks if h["id"] == "exampletest")
    assert hook["entry"] == "exampletest run"
    assert hook["language"] == "python"
    assert hook["types"] == ["markdown"]
    assert hook["pass_filenames"] is True


def test_workflow_uses_real_options(capsys: pytest.CaptureFixture[str]) -> None:
    yaml = pytest.importorskip("yaml")
    flow = yaml.safe_load((ROOT / ".github/workflows/exampletest.yml").read_text("utf-8"))
    trigger = flow.get("on", flow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert trigger["pull_request"]["paths"] == ["**.md"]
    steps = flow["jobs"]["exampletest"]["steps"]
    assert steps[0]["with"]["fetch-depth"] == 0
    assert any(s.get("with", {}).get("python-version") == "3.11" for s in steps)
    upload = next(s for s in steps if "upload-sarif" in s.get("uses", ""))
    assert upload["if"].startswith("always()")
    command = next(s["run"] for s in steps if s.get("run", "").startswith("exampletest "))
    words = shlex.split(command.replace("${{ github.base_ref }}", "main"))
    assert words[:2] == ["exampletest", "run"]
    help_text = run_help(capsys)
    flags = [w for w in words if w.startswith("--")]
    assert flags == ["--changed-since", "--report", "--format"]
    for flag in flags:
        assert re.search(rf"\s{re.escape(flag)}\b", help_text), flag
    report = words[words.index("--report") + 1].split("=")
    assert report[0] == "sarif" and upload["with"]["sarif_file"] == report[1]
    assert words[words.index("--format") + 1] == "github"
