"""Shown output brought up to date: the ``#>`` comments or the string under a ``print()`` get
what the statement prints with the installed libraries, as pytest-examples' update mode does.

Only where the run showed the difference (a ``wrong-output`` finding carries the whole real
output): the check of the rewritten block is what says the output now matches.
"""

from __future__ import annotations

import ast
import pprint
import re
from collections.abc import Sequence

from exampletest.fix.base import Rewrite
from exampletest.parse import strings_after
from exampletest.symbols import parse_code, source_lines

RULE = "wrong-output"
WIDTH = 88
_COMMENT = re.compile(r"^(\s*)#>(?: |$)")


def rewrite(code: str, outputs: Sequence[tuple[int, str]]) -> Rewrite:
    """``outputs``: (code line of the ``print()``'s last line, what it really prints)."""
    lines = source_lines(code)
    try:
        tree = parse_code(code)
    except (SyntaxError, ValueError):
        return Rewrite(code)
    # the string statement right after a statement, by that statement's last line
    strings = {(stmt.end_lineno or stmt.lineno): after for stmt, after, _ in strings_after(tree)}
    notes: list[str] = []
    changed = False
    for line, text in sorted(outputs, reverse=True):  # bottom up: earlier lines keep places
        shown = _laid_out(text.rstrip("\n")).split("\n")
        m = _COMMENT.match(lines[line]) if line < len(lines) else None
        if m is not None:
            end = line
            while end < len(lines) and _COMMENT.match(lines[end]):
                end += 1
            ending = _ending(lines[end - 1])
            lines[line:end] = [f"{m.group(1)}#> {t}".rstrip() + ending for t in shown]
            changed = True
            continue
        after = strings.get(line)
        if after is None:
            continue
        if '"""' in text or "\\" in text:
            notes.append(f"line {line}: the output holds quotes or backslashes; update it by hand")
            continue
        first = lines[after.lineno - 1]
        indent = first[: len(first) - len(first.lstrip())]
        ending = _ending(lines[(after.end_lineno or after.lineno) - 1])
        block = [f'{indent}"""', *(f"{indent}{t}".rstrip() for t in shown), f'{indent}"""']
        lines[after.lineno - 1 : after.end_lineno or after.lineno] = [b + ending for b in block]
        changed = True
    return Rewrite("".join(lines), (RULE,) if changed else (), tuple(notes))


def _laid_out(text: str) -> str:
    """A long value on one line laid out over lines, as the documents' own long outputs are
    (the check reads both layouts as the same value); any other output as it is."""
    if "\n" in text or len(text) <= WIDTH:
        return text
    try:
        value = ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return text
    return pprint.pformat(value, width=WIDTH, sort_dicts=False)


def _ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")) :] or "\n"
