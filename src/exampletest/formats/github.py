"""GitHub Actions workflow commands: annotations on the document lines of a pull request."""

from __future__ import annotations

from exampletest.formats._common import LEVELS, failing_blocks, ordered_findings
from exampletest.model import Report

#: SARIF level -> workflow command.
_COMMANDS = {"error": "error", "warning": "warning", "note": "notice"}


def escape_data(text: str) -> str:
    """Escape a command's message (GitHub's ``escapeData`` in @actions/core)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a command property value (GitHub's ``escapeProperty``)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(
    report: Report,
    *,
    color: bool = False,
    verbose: int = 0,
    fail_on: str = "broken",
) -> str:
    """One annotation per finding; intentional findings only with ``verbose >= 1`` (as notices)."""
    out: list[str] = []
    for error in report.errors:
        out.append(f"::error title=exampletest::{escape_data(error)}")
    for doc in report.documents:
        for error in doc.errors:
            out.append(
                f"::error file={escape_property(doc.path)},title=exampletest::{escape_data(error)}"
            )
        for result in doc.blocks:
            for f in ordered_findings(result.findings):
                if (f.intentional or f.known) and verbose < 1:
                    continue
                quiet = f.intentional or f.known
                command = "notice" if quiet else _COMMANDS[LEVELS[f.category]]
                props = [f"file={escape_property(doc.path)}", f"line={f.line}", f"col={f.column}"]
                if f.end_line is not None:
                    props.append(f"endLine={f.end_line}")
                    if f.end_column is not None:
                        props.append(f"endColumn={f.end_column}")
                marks = ", intentional" * f.intentional + ", baseline" * f.known
                title = f"{f.rule} ({f.category}{marks})"
                props.append(f"title={escape_property(title)}")
                message = f.message + (f"\nSuggestion: {f.suggestion}" if f.suggestion else "")
                out.append(f"::{command} {','.join(props)}::{escape_data(message)}")
    counts = ", ".join(f"{n} {s}" for s, n in report.status_counts().items() if n)
    failing = len(failing_blocks(report, fail_on))
    out.append(
        f"exampletest: {len(report.blocks())} blocks ({counts or 'none'}); "
        f"{failing} reach --fail-on {fail_on}"
    )
    return "\n".join(out) + "\n"
