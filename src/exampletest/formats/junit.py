"""JUnit XML: one testcase per block, so CI test tabs list documentation examples."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from exampletest.formats._common import block_name, finding_summary, ordered_findings
from exampletest.model import Report, Status, reaches


def render(
    report: Report,
    *,
    color: bool = False,
    verbose: int = 0,
    fail_on: str = "broken",
) -> str:
    """Blocks whose status reaches ``fail_on`` fail; skipped blocks are skipped testcases."""
    root = ET.Element("testsuites", name="exampletest", time=f"{report.duration_s:.3f}")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for doc in report.documents:
        suite = ET.SubElement(root, "testsuite", name=doc.path)
        counts = dict.fromkeys(totals, 0)
        for error in doc.errors:
            case = ET.SubElement(suite, "testcase", name=doc.path, classname=doc.path)
            ET.SubElement(case, "error", message=error, type="document").text = error
            counts["tests"] += 1
            counts["errors"] += 1
        for result in doc.blocks:
            block = result.block
            case = ET.SubElement(
                suite,
                "testcase",
                name=block_name(doc.path, block),
                classname=doc.path,
                file=doc.path,
                line=str(block.fence_line),
            )
            counts["tests"] += 1
            lines = [finding_summary(f) for f in ordered_findings(result.findings)]
            if result.status is Status.SKIPPED:
                ET.SubElement(case, "skipped", message=block.skip_reason or "skipped by directive")
                counts["skipped"] += 1
            elif reaches(result.status, fail_on):
                real = [f for f in result.findings if not f.intentional]
                message = f"{result.status}: {len(real)} finding{'s' if len(real) != 1 else ''}"
                failure = ET.SubElement(case, "failure", message=message, type=str(result.status))
                failure.text = "\n".join(lines)
                counts["failures"] += 1
            elif lines:
                ET.SubElement(case, "system-out").text = f"{result.status}\n" + "\n".join(lines)
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
