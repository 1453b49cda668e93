"""Machine formats (SARIF, JUnit, GitHub, Markdown), the registry and the shared helpers.

Each format is read back with a real parser, and every location is checked to be a line of
the document (tests/data/formats/guide.md is the document the sample report describes).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
import runpy
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from markdown_it import MarkdownIt

from exampletest.formats import FORMATS, NAMES, github, junit, markdown, sarif
from exampletest.formats._common import parse_diff, source_lines
from exampletest.model import Finding, Report, Status
from exampletest.model import reaches as fails

DATA = Path(__file__).parent / "data"
sample_report = runpy.run_path(str(DATA / "formats" / "sample_report.py"))["sample_report"]
GUIDE = (DATA / "formats" / "guide.md").read_text(encoding="utf-8").splitlines()


def all_findings(report: Report) -> list[tuple[str, Finding]]:
    return [(d.path, f) for d in report.documents for b in d.blocks for f in b.findings]


# --- shared helpers and registry -------------------------------------------------------


def test_sample_report_matches_its_document() -> None:
    """The fixture is honest: every block's code sits at its line_map lines in guide.md."""
    for result in sample_report().documents[0].blocks:
        for row in source_lines(result.block):
            assert GUIDE[row.doc_line - 1] == row.text


def test_registry_names_and_laziness() -> None:
    assert set(FORMATS) == {"text", "json", "sarif", "junit", "github", "markdown", "html"}
    assert tuple(FORMATS) == NAMES
    report = sample_report()
    for name, render in FORMATS.items():
        if name == "json" and importlib.util.find_spec("exampletest.formats.json") is None:
            continue  # written by the lead
        out = render(report, color=False, verbose=0, fail_on="broken")
        assert isinstance(out, str) and out.endswith("\n"), name


@pytest.mark.parametrize(
    ("status", "fail_on", "expected"),
    [
        (Status.BROKEN, "broken", True),
        (Status.STALE, "broken", False),
        (Status.STALE, "stale", True),
        (Status.INCOMPLETE, "stale", False),
        (Status.ENV, "env", True),
        (Status.BROKEN, "env", True),
        (Status.OK, "env", False),
        (Status.SKIPPED, "env", False),
        (Status.BROKEN, "never", False),
    ],
)
def test_fails(status: Status, fail_on: str, expected: bool) -> None:
    assert fails(status, fail_on) is expected


def test_parse_diff_numbers_rows_in_document_lines() -> None:
    fix = sample_report().documents[0].blocks[0].fix
    hunks = parse_diff(fix.diff)
    assert [(h.old_start, h.old_count, h.new_start, h.new_count) for h in hunks] == [
        (10, 4, 10, 2),
        (17, 4, 15, 4),
    ]
    removed = [(r.old_line or 0, r.text) for h in hunks for r in h.rows if r.kind == "-"]
    assert len(removed) == 4
    assert all(GUIDE[line - 1] == text for line, text in removed)
    assert hunks[1].new_text == (
        "    name: str\n    tags: list[str] = []\n    nickname: str | None = None\n\n"
    )
    single = parse_diff("--- a\n+++ b\n@@ -28 +28 @@\n-old\n+new\n")
    assert (single[0].old_start, single[0].old_count, single[0].old_end) == (28, 1, 28)


# --- SARIF -----------------------------------------------------------------------------


def sarif_log(report: Report | None = None) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(sarif.render(report or sample_report()))
    return log


def test_sarif_is_valid_against_the_oasis_schema() -> None:
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    for report in (sample_report(), Report([], tool_version="0", environment={})):
        errors = list(jsonschema.Draft7Validator(schema).iter_errors(sarif_log(report)))
        assert errors == [], [e.message for e in errors[:5]]


def test_sarif_results_are_in_document_coordinates() -> None:
    report = sample_report()
    run = sarif_log(report)["runs"][0]
    expected = all_findings(report)
    assert len(run["results"]) == len(expected)
    got = {
        (
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
            r["locations"][0]["physicalLocation"]["region"]["startColumn"],
        )
        for r in run["results"]
    }
    assert got == {(f.rule, path, f.line, f.column) for path, f in expected}
    by_rule = {r["ruleId"]: r for r in run["results"]}
    assert by_rule["UP006"]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 18,
        "startColumn": 11,
        "endLine": 18,
        "endColumn": 15,
    }
    rules = run["tool"]["driver"]["rules"]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in run["results"])


def test_sarif_levels_and_suppressions() -> None:
    results = sarif_log()["runs"][0]["results"]
    levels = {r["properties"]["category"]: r["level"] for r in results}
    assert levels == {
        "broken": "error",
        "security": "error",
        "stale": "warning",
        "incomplete": "warning",
        "env": "note",
        "style": "note",
    }
    suppressed = [r["ruleId"] for r in results if r.get("suppressions")]
    assert suppressed == ["S105"]


def apply_sarif_fix(lines: list[str], fix: dict[str, Any]) -> list[str]:
    """Apply whole-line replacements (start at column 1, end at column 1 of a later line)."""
    out = list(lines)
    (change,) = fix["artifactChanges"]
    for rep in sorted(change["replacements"], key=lambda r: -r["deletedRegion"]["startLine"]):
        region = rep["deletedRegion"]
        assert region["startColumn"] == region["endColumn"] == 1
        start, end = region["startLine"] - 1, region.get("endLine", region["startLine"]) - 1
        out[start:end] = rep["insertedContent"]["text"].splitlines()
    return out


def test_sarif_fixes_only_for_verified_and_they_apply() -> None:
    results = sarif_log()["runs"][0]["results"]
    with_fix = sorted(r["ruleId"] for r in results if "fixes" in r)
    assert with_fix == ["UP006", "UP035", "UP045"]  # not the unverified PydanticImportError fix
    fixed = apply_sarif_fix(GUIDE, next(r for r in results if "fixes" in r)["fixes"][0])
    block = sample_report().documents[0].blocks[0]
    assert fixed[10:21] == block.fix.replacement.split("\n")
    assert fixed[9] == "```python" and fixed[21] == "```"
    assert fixed[22:] == GUIDE[24:]


def test_sarif_errors_become_notifications() -> None:
    report = sample_report()
    report.errors.append("mypy not found")
    invocation = sarif_log(report)["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    texts = [n["message"]["text"] for n in invocation["toolExecutionNotifications"]]
    assert texts == ["mypy not found", "not valid UTF-8 at byte 120"]


# --- JUnit -----------------------------------------------------------------------------


def junit_root(**options: Any) -> ET.Element:
    return ET.fromstring(junit.render(sample_report(), **options))


def test_junit_one_testcase_per_block() -> None:
    root = junit_root()
    cases = root.findall(".//testcase")
    names = [c.get("name") for c in cases]
    report = sample_report()
    for doc in report.documents:
        for b in doc.blocks:
            assert f"{doc.path}:{b.block.fence_line}" in names
    by_name = {c.get("name"): c for c in cases}
    assert by_name["docs/guide.md:27"].get("classname") == "docs/guide.md"
    failure = by_name["docs/guide.md:27"].find("failure")
    assert failure is not None and failure.get("type") == "broken"
    assert "28:1 broken python:PydanticImportError" in (failure.text or "")
    assert by_name["docs/api/routes.md:12"].find("skipped") is not None
    assert root.get("failures") == "1" and root.get("skipped") == "1"
    assert root.get("errors") == "1"  # docs/notes.md could not be read
    assert sum(int(s.get("tests") or 0) for s in root.findall("testsuite")) == len(cases)


@pytest.mark.parametrize(("fail_on", "failures"), [("broken", 1), ("stale", 2), ("env", 4)])
def test_junit_fail_on(fail_on: str, failures: int) -> None:
    root = junit_root(fail_on=fail_on)
    assert len(root.findall(".//failure")) == failures == int(root.get("failures") or -1)
    assert junit_root(fail_on="never").findall(".//failure") == []


# --- GitHub ----------------------------------------------------------------------------

COMMAND = re.compile(r"^::(error|warning|notice) (?P<props>[^:]*)::(?P<message>.*)$")


def parse_commands(output: str) -> list[tuple[str, dict[str, str], str]]:
    commands = []
    for line in output.splitlines():
        m = COMMAND.match(line)
        if m:
            props = dict(p.split("=", 1) for p in m["props"].split(","))
            commands.append((m[1], props, m["message"]))
    return commands


def test_github_annotations_point_at_document_lines() -> None:
    report = sample_report()
    commands = [c for c in parse_commands(github.render(report)) if "line" in c[1]]
    real = [(p, f) for p, f in all_findings(report) if not f.intentional]
    assert len(commands) == len(real)
    located = {
        (p["file"], int(p["line"]), int(p["col"]), p["title"].split(" ")[0]) for _, p, _ in commands
    }
    assert located == {(path, f.line, f.column, f.rule) for path, f in real}
    kinds = {p["title"]: k for k, p, _ in commands}
    assert kinds["S608 (security)"] == "error"
    assert kinds["PydanticImportError (broken)"] == "error"
    assert kinds["UP006 (stale)"] == "warning"
    assert kinds["F821 (incomplete)"] == "warning"
    assert kinds["ModuleNotFoundError (env)"] == "notice"
    assert kinds["E711 (style)"] == "notice"


def test_github_intentional_only_when_verbose() -> None:
    quiet = github.render(sample_report())
    loud = parse_commands(github.render(sample_report(), verbose=1))
    assert "S105" not in quiet
    assert ("notice", "S105 (security%2C intentional)") in {(k, p["title"]) for k, p, _ in loud}


def test_github_escaping() -> None:
    assert github.escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert github.escape_property("a:b,c%") == "a%3Ab%2Cc%25"
    report = sample_report()
    result = report.documents[0].blocks[0]
    result.findings = [result.findings[0].replace(message="line one\nline: two, 100%")]
    (command,) = [c for c in parse_commands(github.render(report)) if c[1].get("line") == "11"]
    assert command[2] == "line one%0Aline: two, 100%25"


# --- Markdown --------------------------------------------------------------------------


def test_markdown_parses_with_table_findings_and_diff() -> None:
    md = markdown.render(sample_report())
    tokens = MarkdownIt("commonmark").enable("table").parse(md)
    types = [t.type for t in tokens]
    assert "table_open" in types
    fences = [t for t in tokens if t.type == "fence"]
    # The verified fix spans two hunks: not a contiguous suggestion, so a diff block.
    assert [t.info for t in fences] == ["diff"]
    assert fences[0].content == sample_report().documents[0].blocks[0].fix.diff
    assert "`docs/guide.md:18:11` `UP006`" in md
    assert "PydanticImportError" in md and "pydantic\\_settings" in md
    assert "1 intentional finding" in md
    assert md.startswith("## exampletest report\n\n❌ 1 of 7 blocks reach `--fail-on broken`")


def test_markdown_suggestion_for_a_contiguous_fix() -> None:
    report = sample_report()
    result = report.documents[0].blocks[1]
    diff = (
        "--- a/docs/guide.md\n+++ b/docs/guide.md\n@@ -28 +28 @@\n"
        "-from pydantic import BaseSettings\n+from pydantic_settings import BaseSettings\n"
    )
    result.fix = dataclasses.replace(result.fix, diff=diff, verified=True)
    report.documents[0].blocks[0].fix = None
    md = markdown.render(report)
    fences = [t for t in MarkdownIt("commonmark").parse(md) if t.type == "fence"]
    assert [(t.info, t.content) for t in fences] == [
        ("suggestion", "from pydantic_settings import BaseSettings\n")
    ]
    assert "`docs/guide.md:27` lines 28\N{EN DASH}28" in md


def test_markdown_escaping_and_fences() -> None:
    assert markdown.escape("a <b> | `x | y` *z*") == "a \\<b\\> \\| `x | y` \\*z\\*"
    assert markdown.fenced("```\nx\n```", "diff").startswith("````diff\n")


def test_markdown_passes_and_caps_findings() -> None:
    assert "✅" in markdown.render(sample_report(), fail_on="never")
    report = sample_report()
    block = report.documents[0].blocks[0]
    block.findings = [block.findings[0]] * markdown.MAX_FINDINGS
    real = sum(not f.intentional for _, f in all_findings(report))
    md = markdown.render(report)
    assert f"- … and {real - markdown.MAX_FINDINGS} more (see the full report)" in md


def test_sarif_rule_titles_come_from_the_rule_pack() -> None:
    rules = pytest.importorskip("exampletest.rules").RULES
    rule_id = next(iter(rules))
    report = sample_report()
    result = report.documents[0].blocks[0]
    result.findings.append(result.findings[0].replace(tool="exampletest", rule=rule_id))
    driver = sarif_log(report)["runs"][0]["tool"]["driver"]
    (rule,) = [r for r in driver["rules"] if r["id"] == rule_id]
    assert rule["shortDescription"]["text"] == rules[rule_id].title
