"""The shipped agent doc through the real pipeline: ruff, mypy, sandboxed smoke, fixes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_DOC = ROOT / "docs" / "agents" / "backend-engineer-python.md"

FENCES = [288, 305, 331, 361, 400, 439, 599, 624, 644, 676, 703, 722, 755]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One cold run (its own cache) of `exampletest run --format json`, as a user would."""
    cache = tmp_path_factory.mktemp("cache")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "exampletest.cli",
            "run",
            "--format",
            "json",
            str(SHIPPED_DOC.relative_to(ROOT)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "EXAMPLETEST_CACHE_DIR": str(cache)},
    )
    assert proc.returncode == 1, proc.stderr  # the doc has broken blocks
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def _block(report: dict[str, Any], index: int) -> dict[str, Any]:
    block: dict[str, Any] = report["documents"][0]["blocks"][index - 1]
    return block


def _has(block: dict[str, Any], category: str, text: str) -> list[dict[str, Any]]:
    return [
        f
        for f in block["findings"]
        if f["category"] == category and (text in f["message"] or text in (f["suggestion"] or ""))
    ]


def test_thirteen_blocks_at_their_fences(report: dict[str, Any]) -> None:
    blocks = report["documents"][0]["blocks"]
    assert [b["fence_line"] for b in blocks] == FENCES
    assert all(b["stages"] == {"lint": "ran", "types": "ran", "smoke": "ran"} for b in blocks)
    assert report["summary"]["blocks"] == 13


def test_pydantic_v1_is_stale_and_base_settings_import_is_broken(report: dict[str, Any]) -> None:
    b2 = _block(report, 2)
    (validator,) = _has(b2, "stale", "@validator")
    assert validator["line"] == 316
    assert len(_has(b2, "stale", "json_encoders")) == 1
    assert [f["line"] for f in _has(b2, "stale", "onfig")] == [322]
    b6 = _block(report, 6)
    (imp,) = _has(b6, "broken", "BaseSettings` has been moved")
    assert imp["line"] == 440
    assert _has(_block(report, 11), "stale", "onfig")[0]["line"] == 714


def test_utcnow_and_typing_aliases_are_stale_at_document_lines(report: dict[str, Any]) -> None:
    assert [f["line"] for f in _has(_block(report, 10), "stale", "utcnow")] == [684, 685]
    assert {f["rule"] for f in _has(_block(report, 1), "stale", "")} >= {"UP006", "UP035", "UP045"}
    (utc,) = _has(_block(report, 2), "stale", "utcnow")
    assert utc["line"] == 314


def test_context_verdicts(report: dict[str, Any]) -> None:
    b3 = _block(report, 3)
    rules3 = {f["message"].split("`")[1]: f for f in b3["findings"] if f["rule"] == "ET001"}
    assert rules3["select"]["category"] == "incomplete"
    assert rules3["select"]["suggestion"] == "from sqlalchemy import select"
    assert rules3["HTTPException"]["suggestion"] == "from fastapi import HTTPException"
    # No finding anywhere says that get_db or app (defined in block 3) is undefined.
    assert not [
        f
        for b in report["documents"][0]["blocks"]
        for f in b["findings"]
        if "`app`" in f["message"] or "`get_db`" in f["message"]
    ]
    # A missing import stops the run where the block needs it, and stays incomplete.
    (f,) = [f for f in _block(report, 9)["findings"] if "`argon2`" in f["message"]]
    assert (f["category"], f["suggestion"]) == ("incomplete", "import argon2"), f
    assert "running it as written stops here" in f["message"]
    # Names an earlier block imports are the document's context, as its definitions are; their
    # legacy spelling is still the block's to modernise (ruff sees the earlier import).
    for index, name in [(4, "Dict"), (5, "Optional"), (11, "Field")]:
        about = [f for f in _block(report, index)["findings"] if f"`{name}`" in f["message"]]
        assert not [f for f in about if f["rule"] in ("ET001", "ET002")]
    assert [f["rule"] for f in _block(report, 4)["findings"] if "`Dict`" in f["message"]] == [
        "UP006"
    ]
    (env,) = _has(_block(report, 11), "env", "configuration")
    assert env["line"] == 718
    assert _block(report, 7)["status"] == "ok"
    bad = [f for f in _block(report, 8)["findings"] if f["line"] == 626]
    assert bad and all(f["intentional"] for f in bad)


def test_each_problem_once_with_corroboration(report: dict[str, Any]) -> None:
    b3, b5 = _block(report, 3), _block(report, 5)
    assert len(_has(b3, "stale", "from_orm")) == 1
    assert len(_has(b5, "stale", "from_orm")) == 1
    (validator,) = _has(_block(report, 2), "stale", "@validator")
    assert "exampletest:ET101" in validator["corroboration"]


def test_fixes_are_verified_and_diff_in_document_lines(report: dict[str, Any]) -> None:
    fix = _block(report, 2)["fix"]
    assert fix["verified"]
    assert "@field_validator" in fix["replacement"]
    assert "@@ -30" in fix["diff"] and "docs/agents/backend-engineer-python.md" in fix["diff"]


def test_json_matches_the_contract_shape(report: dict[str, Any]) -> None:
    assert report["schema_version"] == 1
    assert report["tool"]["name"] == "exampletest"
    for block in report["documents"][0]["blocks"]:
        for key in (
            "index",
            "fence_line",
            "start_line",
            "end_line",
            "language",
            "heading",
            "module",
            "status",
            "stages",
            "findings",
            "fix",
        ):
            assert key in block
        for f in block["findings"]:
            assert block["fence_line"] - 5 <= f["line"] <= block["end_line"] + 1
            assert set(f) >= {
                "stage",
                "tool",
                "rule",
                "category",
                "line",
                "column",
                "end_line",
                "end_column",
                "message",
                "suggestion",
                "intentional",
            }


def test_fix_write_then_run_on_the_shipped_doc(tmp_path: Path, report: dict[str, Any]) -> None:
    """Blocks whose findings all had mechanical fixes come out clean; nothing else changes."""
    import shutil

    from exampletest.parse import parse_document, split_lines

    shutil.copy(SHIPPED_DOC, tmp_path / "doc.md")
    shutil.copytree(ROOT / "stubs", tmp_path / "stubs")
    (tmp_path / "stubs" / "backend_engineer_python.py").rename(tmp_path / "stubs" / "doc.py")
    env = {**__import__("os").environ, "EXAMPLETEST_CACHE_DIR": str(tmp_path / "cache")}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "exampletest.cli", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
        )

    assert cli("fix", "--write", "doc.md").returncode == 0
    after = json.loads(cli("run", "--format", "json", "doc.md").stdout)
    for before_block, after_block in zip(
        report["documents"][0]["blocks"], after["documents"][0]["blocks"], strict=True
    ):
        bad = {
            f["rule"]
            for f in before_block["findings"]
            if f["category"] in ("broken", "stale") and not f["intentional"]
        }
        fix = before_block["fix"]
        if bad and fix and fix["verified"] and bad <= set(fix["resolves"]):
            # What the fix says it left (an import later blocks still take) may stay.
            partly = {n.split(":")[0] for n in fix["notes"] if "still reported after" in n}
            left = [
                f
                for f in after_block["findings"]
                if f["category"] in ("broken", "stale")
                and not f["intentional"]
                and f["rule"] not in partly
            ]
            assert left == [], (before_block["index"], left)
    # Outside the Python blocks' code lines the document is byte-identical.
    old_raw, new_raw = SHIPPED_DOC.read_bytes(), (tmp_path / "doc.md").read_bytes()
    old_doc, new_doc = parse_document("d", old_raw), parse_document("d", new_raw)

    def outside(raw: bytes, doc: Any) -> list[str]:
        inside = {n for b in doc.blocks for n in range(b.start_line, b.end_line + 1)}
        lines = split_lines(raw.decode())
        return [line for n, line in enumerate(lines, 1) if n not in inside]

    assert outside(old_raw, old_doc) == outside(new_raw, new_doc)
    assert [b.fence_line for b in new_doc.blocks] != [] and len(new_doc.blocks) == 13


def test_committed_extraction_is_up_to_date() -> None:
    """extracted/ is what `exampletest extract` makes of the shipped doc today."""
    proc = subprocess.run(
        [sys.executable, "-m", "exampletest.cli", "extract", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
