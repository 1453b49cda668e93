"""The JSON report of the contract (schema_version 1): the format other programs rely on."""

from __future__ import annotations

import json
from typing import Any

from exampletest.model import BlockResult, Finding, Report

SCHEMA_VERSION = 1


def finding_dict(f: Finding) -> dict[str, Any]:
    data: dict[str, Any] = {
        "stage": f.stage,
        "tool": f.tool,
        "rule": f.rule,
        "category": f.category.value,
        "line": f.line,
        "column": f.column,
        "end_line": f.end_line if f.end_line is not None else f.line,
        "end_column": f.end_column if f.end_column is not None else f.column,
        "message": f.message,
        "suggestion": f.suggestion,
        "intentional": f.intentional,
        "baseline": f.known,
    }
    if f.corroboration:
        data["corroboration"] = list(f.corroboration)
    return data


def block_dict(result: BlockResult) -> dict[str, Any]:
    b = result.block
    fix = result.fix
    return {
        "index": b.index,
        "fence_line": b.fence_line,
        "start_line": b.start_line,
        "end_line": b.end_line,
        "language": b.language,
        "heading": b.heading,
        "module": result.module,
        "status": result.status.value,
        "stages": dict(result.stages),
        "findings": [finding_dict(f) for f in result.findings],
        "fix": None
        if fix is None
        else {
            "replacement": fix.replacement,
            "diff": fix.diff,
            "resolves": list(fix.resolves),
            "verified": fix.verified,
            "notes": list(fix.notes),
        },
    }


def report_dict(report: Report) -> dict[str, Any]:
    from exampletest import __version__

    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "exampletest", "version": __version__},
        "environment": report.environment,
        "summary": {
            "documents": len(report.documents),
            "blocks": len(report.blocks()),
            "duration_s": round(report.duration_s, 3),
            "status": report.status_counts(),
            "findings": report.category_counts(),
            # extension: blocks --changed-since did not select (unchanged), not in "documents"
            "left_out": report.left_out,
        },
        "errors": list(report.errors) + [e for d in report.documents for e in d.errors],
        "documents": [
            {
                "path": d.path,
                "errors": list(d.errors),
                "blocks": [block_dict(b) for b in d.blocks],
            }
            for d in report.documents
        ],
    }


def render(report: Report, **_: object) -> str:
    return json.dumps(report_dict(report), indent=2, ensure_ascii=False) + "\n"
