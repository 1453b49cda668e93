"""SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.

Intentional findings become results with an ``inSource`` suppression, so viewers keep them out
of the open alerts. Verified fixes are attached to the results whose rule they resolve.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from exampletest.formats._common import LEVELS, ordered_findings, parse_diff, rule_title
from exampletest.model import BlockResult, Finding, Fix, Report

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"

_TOOL_DOCS: dict[str, str] = {
    "ruff": "https://docs.astral.sh/ruff/rules/",
    "mypy": "https://mypy.readthedocs.io/en/stable/error_code_list.html",
    "python": "https://docs.python.org/3/library/exceptions.html",
}


def render(
    report: Report,
    *,
    color: bool = False,
    verbose: int = 0,
    fail_on: str = "broken",
) -> str:
    """One run, one rule per rule id seen, one result per finding; stable JSON (indent 2)."""
    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    for doc in report.documents:
        for result in doc.blocks:
            for finding in ordered_findings(result.findings):
                if finding.rule not in rules:
                    rules[finding.rule] = _rule(finding)
                index = list(rules).index(finding.rule)
                results.append(_result(doc.path, result, finding, index))
    notifications: list[dict[str, Any]] = [
        {"level": "error", "message": {"text": e}} for e in report.errors
    ]
    notifications += [
        {
            "level": "error",
            "message": {"text": e},
            "locations": [{"physicalLocation": {"artifactLocation": _location(d.path)}}],
        }
        for d in report.documents
        for e in d.errors
    ]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "exampletest",
                "version": report.tool_version,
                "semanticVersion": report.tool_version,
                "rules": list(rules.values()),
            }
        },
        "invocations": [
            {
                "executionSuccessful": not report.errors,
                "toolExecutionNotifications": notifications,
            }
        ],
        "artifacts": [{"location": _location(d.path)} for d in report.documents],
        "originalUriBaseIds": {"%SRCROOT%": {"uri": _root().as_uri() + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": results,
        "properties": {"environment": report.environment, "duration_s": report.duration_s},
    }
    return json.dumps({"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}, indent=2) + "\n"


def _uri(path: str) -> str:
    """The document's URI relative to the repository root (code scanning looks files up
    there, whatever folder the run started in), or a ``file:`` URI outside it."""
    absolute = Path(path).resolve()
    root = _root()
    if absolute == root or root in absolute.parents:
        return quote(absolute.relative_to(root).as_posix())
    return absolute.as_uri()


def _location(path: str) -> dict[str, str]:
    uri = _uri(path)
    return {"uri": uri} if uri.startswith("file:") else {"uri": uri, "uriBaseId": "%SRCROOT%"}


def _root() -> Path:
    """The repository around the current folder (the folder itself outside one)."""
    return _repository(Path.cwd().resolve())


@functools.cache
def _repository(here: Path) -> Path:
    return next((p for p in (here, *here.parents) if (p / ".git").exists()), here)


def _rule(finding: Finding) -> dict[str, Any]:
    title = rule_title(finding.rule) if finding.tool == "exampletest" else None
    rule: dict[str, Any] = {
        "id": finding.rule,
        "shortDescription": {"text": title or f"{finding.tool} {finding.rule}"},
        "defaultConfiguration": {"level": LEVELS[finding.category]},
        "properties": {"tool": finding.tool, "category": str(finding.category)},
    }
    if finding.tool in _TOOL_DOCS:
        rule["helpUri"] = _TOOL_DOCS[finding.tool]
    return rule


def _result(path: str, block: BlockResult, finding: Finding, rule_index: int) -> dict[str, Any]:
    region: dict[str, int] = {"startLine": finding.line, "startColumn": finding.column}
    if finding.end_line is not None:
        region["endLine"] = finding.end_line
        if finding.end_column is not None:
            region["endColumn"] = finding.end_column
    text = finding.message
    if finding.suggestion:
        text += f"\nSuggestion: {finding.suggestion}"
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.category],
        "message": {"text": text},
        "locations": [
            {"physicalLocation": {"artifactLocation": _location(path), "region": region}}
        ],
        "partialFingerprints": {
            # Relative to the block, so that edits above it do not open a "new" alert.
            "exampletest/v1": f"{path}:{block.block.index}:{finding.rule}:"
            f"{finding.line - block.block.start_line}:{finding.column}"
        },
        "properties": {
            "category": str(finding.category),
            "stage": finding.stage,
            "tool": finding.tool,
            "block": block.block.index,
            "blockStatus": str(block.status),
        },
    }
    if finding.intentional:
        result["suppressions"] = [
            {"kind": "inSource", "justification": "the document marks this code as deliberate"}
        ]
    elif finding.known:
        result["suppressions"] = [
            {"kind": "external", "justification": "recorded in the --baseline file"}
        ]
    fix = block.fix
    if fix is not None and fix.verified and finding.rule in fix.resolves:
        result["fixes"] = [_fix(path, fix)]
    return result


def _fix(path: str, fix: Fix) -> dict[str, Any]:
    """One replacement per diff hunk: whole document lines, in document coordinates."""
    replacements = []
    for hunk in parse_diff(fix.diff):
        if hunk.old_count:
            deleted = {"startLine": hunk.old_start, "startColumn": 1}
            deleted |= {"endLine": hunk.old_end + 1, "endColumn": 1}
        else:  # pure insertion after old_start: an empty region at the start of the next line
            deleted = {"startLine": hunk.old_start + 1, "startColumn": 1, "endColumn": 1}
        replacements.append({"deletedRegion": deleted, "insertedContent": {"text": hunk.new_text}})
    return {
        "description": {"text": f"Verified rewrite resolving {', '.join(fix.resolves)}"},
        "artifactChanges": [{"artifactLocation": _location(path), "replacements": replacements}],
    }
