"""How context intelligence changes the verdicts on a folder of Markdown (run by hand).

For every name a block uses but does not bind, counts which rule resolved it (earlier block,
import, stub, unknown) and compares block statuses with a naive reading in which every such
name is simply "undefined" (a NameError / mypy name-defined error: broken).

usage: python benchmarks/context_stats.py REPORT.json FOLDER
(REPORT.json from `exampletest run --format json FOLDER`)
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from exampletest.context import analyze_document
from exampletest.nameindex import NameIndex
from exampletest.pipeline import Options, load_documents, stub_source


def main() -> None:
    report = json.loads(Path(sys.argv[1]).read_text())
    options = Options(paths=(sys.argv[2],))
    documents, _ = load_documents(options)
    index = NameIndex.load(Path(".exampletest_cache"))
    rules: Counter[str] = Counter()
    has_free: set[tuple[str, int]] = set()
    for doc in documents:
        for ctx in analyze_document(doc.blocks, index, stub_source(options, doc)):
            free = ctx.symbols.free_names
            if free:
                has_free.add((doc.path, ctx.block.index))
            prelude = {n for p in ctx.prelude for n in p.statement.binds}
            sources = {p.name: p.source for p in ctx.provided}
            for name in free:
                if name in prelude and name not in ctx.missing:
                    rules["1 earlier block"] += 1
                elif name not in sources:  # an earlier block imports it: still a missing import
                    rules["2 importable"] += 1
                else:
                    kind = {
                        "import": "2 importable",
                        "stub": "3 stubs/",
                        "placeholder": "4 unknown",
                    }
                    rules[kind[sources[name]]] += 1
    after: Counter[str] = Counter()
    before: Counter[str] = Counter()
    for d in report["documents"]:
        for b in d["blocks"]:
            after[b["status"]] += 1
            naive = b["status"]
            if (d["path"], b["index"]) in has_free and naive != "skipped":
                naive = "broken"
            before[naive] += 1
    print(
        "undefined names resolved, by rule:",
        dict(sorted(rules.items())),
        "total",
        sum(rules.values()),
    )
    print("blocks by status, naive (every free name undefined):", dict(before))
    print("blocks by status, with context:", dict(after))


if __name__ == "__main__":
    main()
