"""From all stages' findings to one verdict per block.

Three jobs, in order: report each problem once (several stages often see the same thing: a
runtime DeprecationWarning, mypy ``deprecated`` and a rule on one line), mark what the document
says is deliberately wrong as intentional, and derive the block status from what is left.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Iterable, Sequence

from exampletest.context import (
    MISSING_IMPORT,
    NOT_INSTALLED,
    SYNTAX,
    UNDEFINED,
    USED_BEFORE_DEFINED,
)
from exampletest.model import STATUS_ORDER, Block, Category, Finding, Status
from exampletest.parse import parse_info
from exampletest.stages import NEWER_PYTHON
from exampletest.symbols import BUILTINS, analyze, code_lines, parse_tree

#: Stronger evidence first: what happened at run time, then what a type checker proved, then
#: what a rule or linter matched in the text.
_EVIDENCE = {"smoke": 0, "types": 1, "rules": 2, "lint": 3, "context": 4, "extract": 5}

#: A comment's words that name an error the code shows on purpose (after the ``#``).
_SHOWN_ERROR = (
    r".*\b(?:raises?|fails?|throws?)\b|.*(?:->|=>|→)\s*[A-Z]\w*(?:Error|Exception)\b"
    r"|[A-Z]\w*Error\b|.*\b(?:immediate|runtime|type|syntax) error\b"
    # "# invalid code!", "# Invalid: ..." (not "# invalid_input = ...", a name)
    r"|(?i:invalid)(?:\s+(?:code|syntax|usage|example)\b|\s*[!:]|\s*$)"
)
_MARKER_START = r"#\s*[*_]*(?:(?i:please)\s+)?"
#: A comment saying the code it stands above is the wrong way (``# BAD``, ``# DO NOT``).
MARKER = re.compile(
    _MARKER_START
    + r"(?:❌|🚫|✗|✘|⛔|BAD\b|Bad\b|NEVER\b|WRONG\b|Wrong\b|AVOID\b|Avoid\b|DON'?T\b|Don'?t\b"
    r"|DO NOT\b|Do not\b|INCORRECT\b|Incorrect\b|ANTI-?PATTERN|Anti-?pattern|INSECURE\b"
    r"|Insecure\b|VULNERABLE\b|Vulnerable\b"
    # the old half of a migration: "# Before (v1)", "# Old style", "# Legacy" (not a bare
    # "# v1": in one project's release notes v1 is the new code)
    r"|(?i:before)\s*(?:\(|:|$|-|v\d|pydantic|sqlalchemy|fastapi|python \d)"
    r"|(?i:old(?:er)?\s*(?:way|style|code|version|api|syntax|approach|pattern|imports?))\b"
    r"|(?i:old)\s*(?:\([^)]*\))?\s*:?\s*$"  # the whole label: "# OLD (Pydantic v1)", "# Old:"
    r"|(?i:legacy)\b|(?i:deprecated)\b(?!\s+(?:in|since))"
    # a version labelled as the old one: "# v1 (deprecated)", "# Pydantic v1 - legacy"
    r"|(?:v\d+(?:\.\w+)?|(?i:pydantic|sqlalchemy|fastapi|python)\s*v?\d[\w.]*)\s*[-\u2013:(]?\s*\(?"
    r"(?i:deprecated|old|legacy|outdated)\b"
    # the code for an older Python: "# Python 3.8 and earlier", "# Python < 3.9", "# pre-3.10"
    r"|.*\b(?i:python)\s*(?:<=?|≤)\s*3\.\d+|.*\b3\.\d+\s+(?i:(?:and|or)\s+(?:earlier|older|below))"
    r"|(?i:pre-?)\s*(?:(?i:python)\s*)?3\.\d+\b"
    # an error the example shows on purpose: "# raises TypeError", "# user's code: fails",
    # "# -> ValueError", "# immediate error"
    r"|" + _SHOWN_ERROR +
    # code a migration guide shows as gone: "# no longer supported", "# no longer works"
    r"|.*\b(?i:no longer)\s+(?:supported|works?|valid|available|exists?|allowed)\b"
    # a type the code breaks on purpose, to show it is not checked: "# default won't be
    # validated", "# nothing is validated"
    r"|.*(?:\bnot|n't|\bnever|\bnothing is)\s+(?:be\s+)?(?:validated|type-?checked)\b"
    r")"
)
_SUBJECT = re.compile(r"`@?([\w.]+)\(?\)?`|'@?([\w.]+)'|\"@?([\w.]+)\"|\b([A-Za-z_]\w*(?:\.\w+)+)")


#: A call with a keyword in backticks: ```Field(example=...)``` is about that keyword (the
#: callee is shared by every other keyword's problem on the line).
_CALL_KEYWORD = re.compile(r"`@?[\w.]+\((\w+)=[^`]*\)`")


def subjects(message: str) -> set[str]:
    """API names a message talks about (last dotted component), used to spot duplicates."""
    out = {m.group(1) for m in _CALL_KEYWORD.finditer(message) if len(m.group(1)) > 2}
    for m in _SUBJECT.finditer(message):
        token = next(g for g in m.groups() if g)
        last = token.rstrip(".").split(".")[-1]
        if len(last) > 2:
            out.add(last)
    return out


def merge(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per problem, the strongest evidence first, the rest as corroboration."""
    ordered = sorted(findings, key=lambda f: (_EVIDENCE.get(f.stage, 9), f.line, f.column))
    kept: list[Finding] = []
    for f in ordered:
        target = next((i for i, k in enumerate(kept) if _same_problem(k, f)), None)
        if target is None:
            kept.append(f)
            continue
        k = kept[target]
        kept[target] = k.replace(
            corroboration=(*k.corroboration, f"{f.tool}:{f.rule}"),
            suggestion=k.suggestion or f.suggestion or _replacement_hint(f),
        )
    kept = _fold_missing_names(kept)
    kept = _fold_deprecated_keywords(kept)
    kept = _fold_annotation_calls(kept)
    kept = _elided_lines_are_fragments(kept)
    if any(f.rule == NEWER_PYTHON for f in kept):  # valid syntax, of a later Python
        kept = [f for f in kept if not (f.stage == "extract" and f.rule == SYNTAX)]
    return sorted(kept, key=lambda f: (f.line, f.column, f.rule))


def _elided_lines_are_fragments(findings: list[Finding]) -> list[Finding]:
    """mypy's error on a line the run showed leaves code out (``datetime(..., tzinfo=utc)``:
    missing arguments) is about what the reader fills in: incomplete, as the run's is."""
    elided = {f.line for f in findings if f.stage == "smoke" and f.rule == "elided"}
    return [
        f.replace(
            category=Category.INCOMPLETE,
            message=f"{f.message} (the line leaves code out with `...`)",
        )
        if f.stage == "types" and f.line in elided and f.category is Category.BROKEN
        else f
        for f in findings
    ]


def _fold_deprecated_keywords(findings: list[Finding]) -> list[Finding]:
    """mypy rejecting a call for keywords the run shows the library still takes with a
    deprecation warning (``Field(min_items=1)``) is that stale finding seen by mypy, and so is
    its "no overload variant" for the same callee on the line: corroboration, not broken."""
    out = list(findings)
    folded: set[int] = set()
    for s, stale in enumerate(findings):
        if stale.stage != "smoke" or stale.category is not Category.STALE:
            continue
        same_line = [
            i for i, f in enumerate(findings) if f.stage == "types" and f.line == stale.line
        ]
        about = subjects(stale.message)
        rejected = [
            i
            for i in same_line
            if "Unexpected keyword" in findings[i].message and subjects(findings[i].message) & about
        ]
        callees = {
            c
            for i in rejected
            for c in re.findall(r'for (?:overloaded function )?"(\w+)"', findings[i].message)
        }
        mine = rejected + [
            i
            for i in same_line
            if i not in rejected
            and any(f'No overload variant of "{c}"' in findings[i].message for c in callees)
        ]
        if mine:
            folded.update(mine)
            tools = tuple(f"mypy:{findings[i].rule}" for i in mine)
            out[s] = stale.replace(corroboration=(*stale.corroboration, *tools))
    return [f for i, f in enumerate(out) if i not in folded]


def _fold_annotation_calls(findings: list[Finding]) -> list[Finding]:
    """mypy rejecting a call as an annotation (``name: constr(max_length=63)``: "Invalid
    type") where the rule pack flags that very call as the outdated API (``constr()`` is
    discouraged for ``Annotated[str, StringConstraints(...)]``, which type checkers accept) is
    that stale finding seen by mypy: corroboration, not broken."""
    stale = {
        (f.line, f.column): i
        for i, f in enumerate(findings)
        if f.stage == "rules" and f.category is Category.STALE
    }
    out = list(findings)
    folded: set[int] = set()
    for i, f in enumerate(findings):
        host = stale.get((f.line, f.column))
        if f.stage == "types" and f.rule == "valid-type" and host is not None:
            folded.add(i)
            out[host] = out[host].replace(
                corroboration=(*out[host].corroboration, f"{f.tool}:{f.rule}")
            )
    return [f for i, f in enumerate(out) if i not in folded]


def _replacement_hint(f: Finding) -> str | None:
    return f.message if f.stage == "rules" else None


def _same_problem(a: Finding, b: Finding) -> bool:
    if a.line != b.line or a.category != b.category or (a.stage, a.rule) == (b.stage, b.rule):
        return False
    if {a.stage, b.stage} == {"context", "types"} and any(_GUESSED in f.message for f in (a, b)):
        return False  # mypy on a guessed import: the missing name stays its own finding
    if (_missing_name(a) or _missing_name(b)) and not {a.rule, b.rule} & _SAID_MISSING:
        # what the run did once the missing `pytest` was imported (`pytest.MockerFixture` is
        # no attribute) is another problem: the missing name stays its own finding
        return False
    return bool(_subjects(a) & _subjects(b))


#: What a checker says of a name that is missing: the context's finding seen again.
_SAID_MISSING = frozenset({"NameError", "name-defined"})


#: What the types stage appends to a complaint about a guessed import.
_GUESSED = "exampletest's guess for the missing"


def _subjects(f: Finding) -> set[str]:
    return {s.lower() for s in subjects(f.message) | subjects(f.suggestion or "")}


def fold_import_lines(block: Block, findings: list[Finding]) -> list[Finding]:
    """mypy flags a deprecated name where it is imported; when another finding reports the
    same name where it is used, the import-line one is corroboration, not a second problem."""
    try:
        tree = parse_tree(block.code)
    except (SyntaxError, ValueError):
        return findings
    import_lines = {
        block.doc_line(n.lineno) for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)
    }
    out = list(findings)
    for f in findings:
        if f.line not in import_lines or f.stage != "types":
            continue
        host = next(
            (
                i
                for i, g in enumerate(out)
                if g is not f
                and g.line not in import_lines
                and g.category == f.category
                and _subjects(g) & _subjects(f)
            ),
            None,
        )
        if host is not None:
            out[host] = out[host].replace(
                corroboration=(*out[host].corroboration, f"{f.tool}:{f.rule}")
            )
            out.remove(f)
    return out


def _fold_missing_names(findings: list[Finding]) -> list[Finding]:
    """A NameError on a name the context stage already reports missing is that finding seen
    at run time: one finding, still ``incomplete`` (a fragment that needs its import, as the
    contract has it), saying where running the block stops. A name the block itself defines
    too late is its own mistake: ``broken``."""
    errors = {
        name: f
        for f in findings
        if f.stage == "smoke" and f.rule == "NameError"
        for name in re.findall(r"name '(\w+)'", f.message)
    }
    out: list[Finding] = []
    used: set[str] = set()
    for f in findings:
        name = _missing_name(f)
        err = errors.get(name) if name else None
        if err is not None and name is not None:
            used.add(name)
            out.append(
                f.replace(
                    category=Category.BROKEN if USED_BEFORE_DEFINED in f.message else f.category,
                    message=f"{f.message}; {err.message[err.message.index(':') + 2 :]} "
                    f"(line {err.line})",
                    corroboration=(*f.corroboration, "python:NameError"),
                )
            )
        else:
            out.append(f)
    return [
        f
        for f in out
        if not (
            f.stage == "smoke"
            and f.rule == "NameError"
            and set(re.findall(r"name '(\w+)'", f.message)) & used
        )
    ]


def _missing_name(f: Finding) -> str | None:
    if f.stage != "context" or f.rule not in (MISSING_IMPORT, UNDEFINED):
        return None
    m = re.search(r"`(\w+)`", f.message)
    return m.group(1) if m else None


def marked_lines(block: Block) -> set[int]:
    """Document lines an anti-pattern marker comment governs (see :func:`_marked`)."""
    return _marked(block)[0]


def _marked(block: Block) -> tuple[set[int], set[int]]:
    """Document lines an anti-pattern marker comment governs, and those of them a marker of
    old code (``# Before (v1)``, ``# Python 2``, ``# Legacy``) or of an error shown on purpose
    (``# SyntaxError!``, ``# raises``) governs: where even a syntax error may be the point.

    A marker on its own line governs the lines after it up to the next blank line or the
    next own-line comment that follows code; blank lines right after the marker do not end
    it (``# DO NOT DO THIS`` above two blank lines and a decorated function), but a blank line
    after other comments does (``# NEVER hardcode`` above a commented-out line is about that
    line). A marker that heads a section of old code (``# Python 3.8 and earlier``,
    ``# Before (v1)``, ``# Legacy``) goes on past blank lines, to the next comment at the left
    margin. A trailing marker governs its own line. A marker inside an indented body (a
    function's) governs no line outside that body.
    """
    lines = code_lines(block.code)
    older = _older_versions(lines)
    governed: set[int] = set()
    old_code: set[int] = set()
    active = False
    section = False
    shows = False  # the marker says the code is old, or shows an error
    seen_code = False
    commented = False  # a comment after the marker: its subject may be that commented-out line
    depth = 0  # the marker's indentation: code indented less is outside the body it is in
    for i, text in enumerate(lines, start=1):
        stripped = text.strip()
        if not stripped:
            active = active and (section or (not seen_code and not commented))
            continue
        indent = len(text) - len(text.lstrip())
        if active and indent < depth and not stripped.startswith("#"):
            active = False
        if stripped.startswith("#"):
            if MARKER.match(stripped) or i in older:
                active, seen_code, commented = True, False, False
                section = i in older or _SECTION.match(stripped) is not None
                shows = section or _SHOWS_ERROR.match(stripped) is not None
                depth = indent
            elif section and text[:1] == " ":
                pass  # a comment inside the old code's own body
            elif seen_code:
                active = False
            else:
                commented = True
            if active:
                governed.add(block.doc_line(i))
            continue
        seen_code = True
        comment = text.find("#")
        trailing = text[comment:] if comment > 0 else ""
        if active or MARKER.search(trailing):
            governed.add(block.doc_line(i))
            if (active and shows) or _SHOWS_ERROR.match(trailing):
                old_code.add(block.doc_line(i))
    return governed, old_code


#: A marker that names the error the code shows: "# SyntaxError!", "# raises", "# -> TypeError".
_SHOWS_ERROR = re.compile(_MARKER_START + f"(?:{_SHOWN_ERROR})")


#: A comment that labels the code under it with a version: ``# v1 - Config class``,
#: ``# Pydantic V2``, ``# SQLAlchemy 1.4 style`` -> (library or "", major version).
_VERSION_LABEL = re.compile(
    r"#\s*[*_]*(?:(pydantic|sqlalchemy|fastapi|python)\s*v?|v)(\d+)(?:\.[\dx]+)*\b(?![.\d])", re.I
)


def _older_versions(lines: Sequence[str]) -> set[int]:
    """Code lines (1-based) of left-margin comments that label the older half of a migration
    the block shows whole: ``# v1 - Config class`` above ``# v2 - ConfigDict``. A lone
    ``# v1`` says nothing (in one project's notes v1 is the new code); beside a ``# v2`` of
    the same library it is the old way, and heads a section like ``# Before (v1)``."""
    labels: list[tuple[int, str, int]] = []
    for i, text in enumerate(lines, start=1):
        m = _VERSION_LABEL.match(text)
        if m is not None:
            labels.append((i, (m.group(1) or "").lower(), int(m.group(2))))
    newest: dict[str, int] = {}
    for _, library, major in labels:
        newest[library] = max(major, newest.get(library, major))
    return {i for i, library, major in labels if major < newest[library]}


#: A marker that heads a section of old code rather than pointing at the lines under it.
_SECTION = re.compile(
    r"#\s*(?i:before\b|old(?:er)?\s+(?:way|style|code|version|api|syntax|approach)|legacy\b"
    r"|old\s*(?:\([^)]*\))?\s*:?\s*$"
    r"|(?:v\d+(?:\.\w+)?|(?:pydantic|sqlalchemy|fastapi|python)\s*v?\d[\w.]*)\s*[-\u2013:(]?\s*\(?"
    r"(?:deprecated|old|legacy|outdated)\b"
    r"|python\s*(?:<|≤)|python\s*3\.\d+\s+(?:and|or)\s+(?:earlier|older|below)|pre-?\s*3\.)"
)


#: An own-line comment between two ways of writing the same thing: ``# or``, ``# Alternatively:``.
_OR = re.compile(r"#\s*(?i:or|alternatively|alternative)\b[^#]{0,40}$")


def _older_alternatives(block: Block, findings: Sequence[Finding]) -> set[Finding]:
    """Stale findings in a way of writing something that the block follows with ``# or`` and
    a way without that rule's finding: the older form, shown next to the newer on purpose
    (``Optional[str]``, ``# or``, ``str | None``). A fix would only make the two the same."""
    lines = code_lines(block.code)
    cuts = [
        block.doc_line(i)
        for i, text in enumerate(lines, start=1)
        if text.startswith("#") and _OR.fullmatch(text.strip())
    ]
    if not cuts:
        return set()
    bounds = [0, *cuts, block.doc_line(len(lines)) + 1]
    regions = list(itertools.pairwise(bounds))
    older: set[Finding] = set()
    for (start, end), (_, next_end) in itertools.pairwise(regions):
        after = {f.rule for f in findings if end < f.line < next_end}
        older |= {
            f
            for f in findings
            if start < f.line < end and f.category is Category.STALE and f.rule not in after
        }
    return older


#: What a ``try`` catches when it shows a type error on purpose: ``TypeError``, Pydantic's
#: ``ValidationError``, a runtime type checker's ``...Violation``, a frozen instance's
#: ``FrozenInstanceError`` (an ``AttributeError``).
_TYPE_FAILURE = re.compile(r"Type|Validation|Violation|Frozen|AttributeError")


def _shown_type_failures(block: Block) -> set[int]:
    """Document lines of statements in a ``try`` whose handler catches the type failure the
    statement shows (``double("a")`` under ``except TypeError``): mypy's error there is what
    the example demonstrates."""
    if "try" not in block.code:  # no `try` statement: nothing to walk
        return set()
    try:
        tree = parse_tree(block.code)
    except (SyntaxError, ValueError):
        return set()
    lines: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        caught = " ".join(ast.unparse(h.type) for h in node.handlers if h.type is not None)
        if not _TYPE_FAILURE.search(caught):
            continue
        for stmt in node.body:
            end = stmt.end_lineno or stmt.lineno
            lines.update(block.doc_line(n) for n in range(stmt.lineno, end + 1))
    return lines


def mark_intentional(block: Block, findings: Sequence[Finding]) -> list[Finding]:
    governed, old_code = _marked(block)
    # A syntax error is what old code may show on purpose (Python 2's `print "x"`), never
    # what an anti-pattern is (`# ❌ Bad` code is valid code doing the wrong thing): a typo.
    governed_for = {SYNTAX: old_code}
    older = _older_alternatives(block, findings)
    handled = _shown_type_failures(block)
    # pytest-examples' `upgrade="skip"`: the document keeps this spelling on purpose.
    keep_spelling = parse_info(block.info)[1].get("upgrade") == "skip"
    raising = _shown_to_raise(block)
    ends_raising = _ends_in_its_own_raise(block)
    expect = block.directives.expect
    expected_rank = STATUS_ORDER.index(expect) if expect is not None else -1
    out = []
    for f in findings:
        # `expect=stale` covers stale and milder findings (and lint noise), never a broken one.
        statuses = {s.value for s in STATUS_ORDER}
        by_directive = expect is not None and (
            f.category.value not in statuses
            or STATUS_ORDER.index(Status(f.category.value)) >= expected_rank
        )
        # mypy seeing the error a transcript shows the statement raise is that same error.
        shown = f.stage == "types" and (
            f.line in raising or (f.line in handled and f.category is Category.BROKEN)
        )
        if (
            by_directive
            or shown
            or (f.stage == "smoke" and (f.line, f.rule) in ends_raising)
            or f in older
            or (keep_spelling and f.tool == "ruff" and f.rule.startswith("UP"))
            or f.rule in block.directives.keeps
            or (
                f.line in governed_for.get(f.rule, governed)
                and not _used_elsewhere(block, f, governed)
            )
        ):
            out.append(f.replace(intentional=True))
        else:
            out.append(f)
    return out


def _shown_to_raise(block: Block) -> set[int]:
    """Document lines of a transcript's statements whose shown output is a traceback."""
    if not block.expected_exceptions:
        return set()
    try:
        tree = parse_tree(block.code)
    except (SyntaxError, ValueError):
        return set()
    shown = {line for line, _ in block.expected_exceptions}  # a statement's last line
    return {
        block.doc_line(line)
        for stmt in tree.body
        if any(stmt.lineno <= at <= (stmt.end_lineno or stmt.lineno) for at in shown)
        for line in range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1)
    }


def _ends_in_its_own_raise(block: Block) -> set[tuple[int, str]]:
    """(document line, exception class) of the ``raise`` statements the block ends in, at its
    top level (``if not policy.can_access_admin: raise PermissionError(...)``): an example of
    a guard ends in the error it raises on purpose, with nothing left after it unrun. And of
    the raises right before a last one, and of a handler's ``raise ... from e`` after a body
    made to fail."""
    try:
        tree = parse_tree(block.code)
    except (SyntaxError, ValueError):
        return set()
    out: set[tuple[int, str]] = set()
    # and the `raise` statements the block ends in, one after another (notes on raising:
    # `raise ValueError(...)`, then `raise TypeError(...)`): nothing but raises is left unrun
    last: list[tuple[ast.stmt, bool]] = [(s, False) for s in tree.body[-1:]]
    ends_raising = bool(tree.body) and isinstance(tree.body[-1], ast.Raise)
    for stmt in reversed(tree.body[:-1] if ends_raising else []):
        if not isinstance(stmt, ast.Raise):
            break
        last.append((stmt, False))
    while last:
        stmt, guarded = last.pop()
        if isinstance(stmt, ast.Raise) and stmt.exc is not None:
            called = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
            if isinstance(called, ast.Name | ast.Attribute):
                name = called.id if isinstance(called, ast.Name) else called.attr
                # a check of the code's own result (`if result != 4: raise AssertionError`)
                # failing is a bug it caught, not a guard shown rejecting
                if not (guarded and name == "AssertionError"):
                    out.add((block.doc_line(stmt.lineno), name))
        elif isinstance(stmt, ast.If | ast.With | ast.Try):
            inner = guarded or isinstance(stmt, ast.If | ast.Try)
            # chaining shown: a handler's `raise ... from e` after a body that fails on purpose
            # (`1 / 0`, `int("abc")`: literals and builtins only), not after the reader's code
            handlers = (
                [h.body for h in stmt.handlers]
                if isinstance(stmt, ast.Try) and _fails_on_purpose(stmt.body)
                else []
            )
            bodies = (stmt.body, getattr(stmt, "orelse", ()), *handlers)
            last += [(b[-1], inner) for b in bodies if b]
    return out


def _fails_on_purpose(body: list[ast.stmt]) -> bool:
    """A ``try`` body that computes from literals and builtins only: made to fail."""
    names = [n for s in body for n in ast.walk(s) if isinstance(n, ast.Name)]
    stored = {n.id for n in names if isinstance(n.ctx, ast.Store)}
    return {n.id for n in names} - stored <= BUILTINS


def _used_elsewhere(block: Block, f: Finding, governed: set[int]) -> bool:
    """A missing name the marked lines use first, but unmarked code uses too: the marker is
    about what those lines do, not about the name the whole block lacks."""
    name = _missing_name(f)
    if name is not None:
        return any(
            u.name == name and block.doc_line(u.line) not in governed
            for u in analyze(block.code).free
        )
    if f.stage == "context" and f.rule == NOT_INSTALLED:  # the module unmarked code uses too
        return bool(_bound_by_import_at(block, f.line) & _names_used_outside(block, governed))
    return False


def _bound_by_import_at(block: Block, doc_line: int) -> set[str]:
    """The names the import statement on a document line binds."""
    line = block.code_line_of(doc_line)
    try:
        tree = parse_tree(block.code)
    except (SyntaxError, ValueError):
        return set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Import | ast.ImportFrom)
            and line is not None
            and node.lineno <= line <= (node.end_lineno or node.lineno)
        ):
            return {(a.asname or a.name).split(".")[0] for a in node.names}
    return set()


def _names_used_outside(block: Block, governed: set[int]) -> set[str]:
    try:
        tree = parse_tree(block.code)
    except (SyntaxError, ValueError):
        return set()
    return {
        n.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Name) and block.doc_line(n.lineno) not in governed
    }


def unmet_expectation(block: Block, findings: Sequence[Finding], ran_all: bool) -> list[Finding]:
    """``expect=broken`` on a block no check found broken (every stage ran): what the document
    says of it no longer holds (the library now takes the code, or the example changed), as
    pytest's strict xfail. Stale: the block works; its prose may teach the wrong thing."""
    expect = block.directives.expect
    if expect is None or expect is Status.OK or block.directives.implied:
        return []  # a caption's "❌ WRONG" is about the way, not about which check fails
    if not ran_all or block.skip_reason is not None:
        return []
    wanted = STATUS_ORDER.index(expect)
    statuses = {s.value: i for i, s in enumerate(STATUS_ORDER)}
    if any(statuses.get(f.category.value, 99) <= wanted for f in findings):
        return []
    return [
        Finding.at(
            block,
            1,
            1,
            stage="context",
            tool="exampletest",
            rule="expect-unmet",
            category=Category.STALE,
            message=f"the document expects this block to be {expect.value} "
            f"(`expect={expect.value}`), but no check found it so: it works as written now",
            suggestion="remove the directive, or show code that is still "
            f"{expect.value} on purpose",
        )
    ]


def status(block: Block, findings: Sequence[Finding], ran_any: bool) -> Status:
    if block.skip_reason is not None or not ran_any:
        return Status.SKIPPED
    present = {f.category.value for f in findings if not f.intentional}
    for s in STATUS_ORDER[:4]:
        if s.value in present:
            return s
    return Status.OK
