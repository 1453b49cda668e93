"""``exampletest baseline`` and ``run --baseline``: today's findings stop failing, new ones do."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from exampletest.baseline import fingerprint, normalise
from exampletest.cli import main

OK = "```python\nx = 1\n```\n"
BROKEN = "```python\nimport json\njson.loads(\n```\n"
OLD_SETTINGS = "```python\nfrom pydantic import BaseSettings\n```\n"
NEW_BROKEN = "```python\nimport os\nos.path.join(\n```\n"
DOC = f"# Doc\n\n{OK}\n{OLD_SETTINGS}\n{BROKEN}"
MOVED = f"# Doc\n\nMore prose.\n\nAnd more.\n\n{OK}\n{OLD_SETTINGS}\n{BROKEN}\n{NEW_BROKEN}"

WriteDoc = Callable[[str, str], Path]


def make_baseline(capsys: pytest.CaptureFixture[str], *paths: str, out: str = "bl.json") -> Any:
    assert main(["baseline", "--output", out, "--stages", "lint", *paths]) == 0
    assert "recorded in" in capsys.readouterr().out
    return json.loads(Path(out).read_text("utf-8"))


def findings(report: dict[str, Any]) -> list[tuple[int, str, bool]]:
    return [
        (f["line"], f["rule"], f["baseline"])
        for d in report["documents"]
        for b in d["blocks"]
        for f in b["findings"]
    ]


def test_normalise_drops_numbers_and_spacing() -> None:
    assert normalise("line 12:  name `x`\n used 3x") == normalise("line 40: name `x` used 1x")
    assert normalise("a  b") == "a b"
    assert fingerprint("x = 1") == fingerprint("x = 1") != fingerprint("x = 2")


def test_baseline_absorbs_existing_findings_and_new_ones_fail(
    write_doc: WriteDoc, run_json: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    write_doc("doc.md", DOC)
    assert run_json("doc.md", "--stages", "lint")[0] == 1
    data = make_baseline(capsys, "doc.md")
    assert data["version"] == 1
    assert {row["document"] for row in data["findings"]} == {"doc.md"}
    assert all("line" not in row for row in data["findings"])

    code, report = run_json("doc.md", "--stages", "lint", "--baseline", "bl.json")
    assert code == 0
    assert findings(report) and all(known for _, _, known in findings(report))
    assert report["summary"]["status"]["broken"] == 0

    # Prose and blocks added above move every line: the baseline still matches...
    write_doc("doc.md", MOVED)
    code, report = run_json("doc.md", "--stages", "lint", "--baseline", "bl.json")
    assert code == 1  # ...but the new broken block fails
    new = [(line, rule) for line, rule, known in findings(report) if not known]
    assert new and all(line > 20 for line, _ in new)
    statuses = [b["status"] for b in report["documents"][0]["blocks"]]
    assert statuses.count("broken") == 1


def test_fixed_findings_are_reported_as_stale_entries(
    write_doc: WriteDoc, capsys: pytest.CaptureFixture[str]
) -> None:
    write_doc("doc.md", DOC)
    make_baseline(capsys, "doc.md")
    write_doc("doc.md", f"# Doc\n\n{OK}\n{BROKEN}")  # the BaseSettings block is gone
    assert main(["run", "doc.md", "--stages", "lint", "--baseline", "bl.json", "-q"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "entries no longer match; regenerate with exampletest baseline" in err[0]


def test_documents_and_stages_not_run_are_not_stale(
    write_doc: WriteDoc, capsys: pytest.CaptureFixture[str]
) -> None:
    write_doc("doc.md", DOC)
    write_doc("other.md", OLD_SETTINGS)
    data = make_baseline(capsys, "doc.md", "other.md")
    assert {row["stage"] for row in data["findings"]} >= {"lint", "rules"}
    assert main(["run", "other.md", "--stages", "lint", "--baseline", "bl.json", "-q"]) == 0
    assert capsys.readouterr().err == ""
    main(["run", "other.md", "--stages", "types", "--baseline", "bl.json", "-q"])
    assert "no longer match" not in capsys.readouterr().err  # lint did not look at the block


def test_paths_are_relative_to_the_baseline_file(
    write_doc: WriteDoc, run_json: Any, capsys: pytest.CaptureFixture[str], in_tmp: Path
) -> None:
    write_doc("docs/doc.md", DOC)
    make_baseline(capsys, "docs/doc.md")
    os.chdir(in_tmp / "docs")
    code, report = run_json("doc.md", "--stages", "lint", "--baseline", "../bl.json")
    assert code == 0 and all(known for _, _, known in findings(report))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{not json", "not valid JSON"),
        ('{"version": 99, "findings": []}', "unsupported version 99"),
        ('{"version": 1, "findings": [{"document": "d.md"}]}', "findings[0] needs"),
    ],
)
def test_bad_baseline_file_exits_2_with_one_line(
    write_doc: WriteDoc, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    write_doc("doc.md", OK)
    if content is not None:
        write_doc("bl.json", content)
    assert main(["run", "doc.md", "--stages", "lint", "--baseline", "bl.json"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and "bl.json" in err[0]
