"""``run --changed-since REF``: only new and edited blocks are checked, in a throwaway git repo."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from exampletest.cli import main

OK_A = "```python\nx = 1\n```\n"
OK_B = "```python\ny = 2\n```\n"
BROKEN = "```python\nimport json\njson.loads(\n```\n"
OLD_SETTINGS = "```python\nfrom pydantic import BaseSettings\n```\n"


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(in_tmp: Path) -> Path:
    git(in_tmp, "init", "-q")
    (in_tmp / "doc.md").write_text(f"# Doc\n\n{OK_A}\nText.\n\n{OLD_SETTINGS}\n{OK_B}", "utf-8")
    git(in_tmp, "add", "doc.md")
    git(in_tmp, "commit", "-q", "-m", "doc")
    return in_tmp


def checked(report: dict[str, Any], path: str = "doc.md") -> dict[int, str]:
    """fence line -> status of the blocks the run checked (the only ones it reports)."""
    doc = next(d for d in report["documents"] if d["path"] == path)
    return {b["fence_line"]: b["status"] for b in doc["blocks"]}


def test_only_the_edited_block_is_checked(repo: Path, run_json: Any) -> None:
    text = (repo / "doc.md").read_text("utf-8").replace("y = 2", "y = 3")
    (repo / "doc.md").write_text(text, "utf-8")
    code, report = run_json("doc.md", "--changed-since", "HEAD", "--stages", "lint")
    assert code == 0  # the unchanged broken block is not checked
    assert checked(report) == {13: "ok"}
    # the unchanged blocks are left out of the report, not "skipped" (a directive's word)
    assert report["summary"]["left_out"] == 2 and report["summary"]["blocks"] == 1
    assert report["summary"]["status"]["skipped"] == 0


def test_moved_blocks_are_not_rechecked_and_new_ones_are(repo: Path, run_json: Any) -> None:
    moved = f"# Doc\n\nNew intro.\n\n{OK_B}\n{OLD_SETTINGS}\nText.\n\n{OK_A}\n{BROKEN}"
    (repo / "doc.md").write_text(moved, "utf-8")
    code, report = run_json("doc.md", "--changed-since", "HEAD", "--stages", "lint")
    assert code == 1
    assert checked(report) == {19: "broken"}


def test_unchanged_blocks_are_skipped_even_when_cached(repo: Path, run_json: Any) -> None:
    assert run_json("doc.md", "--stages", "lint")[0] == 1  # fills the cache, broken block seen
    with (repo / "doc.md").open("a", encoding="utf-8") as fh:
        fh.write("\n```python\nz = 2\n```\n")
    code, report = run_json("doc.md", "--changed-since", "HEAD", "--stages", "lint")
    assert code == 0
    assert checked(report) == {17: "ok"}


def test_unchanged_blocks_give_context(repo: Path, run_json: Any) -> None:
    with (repo / "doc.md").open("a", encoding="utf-8") as fh:
        fh.write("\n```python\nprint(x + y)\n```\n")
    code, report = run_json("doc.md", "--changed-since", "HEAD", "--stages", "lint")
    assert code == 0
    block = report["documents"][0]["blocks"][-1]
    assert block["status"] == "ok", block["findings"]  # x and y come from unchanged blocks


def test_a_new_document_is_checked_whole(repo: Path, run_json: Any) -> None:
    (repo / "new.md").write_text(OK_A + "\n" + BROKEN, "utf-8")
    code, report = run_json("new.md", "doc.md", "--changed-since", "HEAD", "--stages", "lint")
    assert code == 1
    assert checked(report, "new.md") == {1: "ok", 5: "broken"}
    assert [d["path"] for d in report["documents"]] == ["new.md"]  # nothing changed in doc.md


def test_a_ref_in_the_past(repo: Path, run_json: Any) -> None:
    (repo / "doc.md").write_text((repo / "doc.md").read_text("utf-8") + "\n" + BROKEN, "utf-8")
    git(repo, "commit", "-q", "-a", "-m", "broken block")
    assert run_json("doc.md", "--changed-since", "HEAD", "--stages", "lint")[0] == 0
    code, report = run_json("doc.md", "--changed-since", "HEAD~1", "--stages", "lint")
    assert code == 1
    assert list(checked(report).values()) == ["broken"]


def test_unknown_ref_exits_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "doc.md", "--changed-since", "no-such-branch"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["exampletest: error: --changed-since: unknown git ref 'no-such-branch'"]


def test_outside_a_git_work_tree_exits_2(
    write_doc: Callable[[str, str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    write_doc("doc.md", OK_A)
    assert main(["run", "doc.md", "--changed-since", "HEAD"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not inside a git work tree" in err[0]


def test_a_renamed_document_is_not_new(repo: Path, run_json: Any) -> None:
    """``git mv`` (and then an edit): only the edited block is checked, as before the move."""
    (repo / "guides").mkdir()
    git(repo, "mv", "doc.md", "guides/moved.md")
    moved = repo / "guides" / "moved.md"
    code, report = run_json("guides", "--changed-since", "HEAD", "--stages", "lint")
    assert code == 0 and report["summary"]["left_out"] == 3 and report["documents"] == []
    moved.write_text(moved.read_text("utf-8").replace("y = 2", "y = 3"), "utf-8")
    code, report = run_json("guides", "--changed-since", "HEAD", "--stages", "lint")
    assert checked(report, "guides/moved.md") == {13: "ok"}
