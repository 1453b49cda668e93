"""Add and remove import statements in a code block while leaving the rest of it byte-for-byte.

New imports are placed the way ruff's isort would place them: when the block's imports were
already isort-clean, ruff (``--select I --fix-only``) sorts the one block we touched; when they
were not, sorting would rewrite the author's lines too, so new lines go after the last import.
"""

from __future__ import annotations

import ast
import re
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import GlobalScope, MetadataWrapper, ScopeProvider

from exampletest.context import FILE_COMMENT, file_sections
from exampletest.stages.lint import ruff_binary
from exampletest.symbols import analyze, parse_code, source_lines
from exampletest.verdict import MARKER

_RUFF_ISORT = ("check", "--isolated", "--select", "I", "--fix-only", "--exit-zero", "--no-cache",
               "--quiet")  # fmt: skip


#: Code -> its isort-sorted form (None: ruff could not sort it). Seeded in batches.
_SORTED: dict[str, str | None] = {}


def ruff_isort(code: str) -> str | None:
    """``code`` sorted by ruff's isort with default settings; None when ruff cannot do it.

    Runs isolated from any project configuration, in an empty directory, so that no module is
    mistaken for first-party.
    """
    if code not in _SORTED:
        seed_isort([code])
    return _SORTED.get(code)


def seed_isort(codes: Iterable[str]) -> None:
    """Sort many blocks in one ruff process, for ``ruff_isort`` to answer from. A rewrite pool
    forked afterwards inherits the answers: about one ruff start per block saved."""
    todo = list(dict.fromkeys(c for c in codes if c not in _SORTED))
    if not todo:
        return
    with tempfile.TemporaryDirectory() as cwd:
        paths = [Path(cwd, f"_exampletest_isort_{i}.py") for i in range(len(todo))]
        for path, code in zip(paths, todo, strict=True):
            path.write_bytes(code.encode())
        try:
            proc = subprocess.run(
                [ruff_binary(), *_RUFF_ISORT, *(p.name for p in paths)],
                capture_output=True,
                cwd=cwd,
                check=False,
            )
        except OSError:  # no ruff: nothing is sorted, new imports go after the last one
            return
        for path, code in zip(paths, todo, strict=True):
            _SORTED[code] = path.read_bytes().decode() if proc.returncode == 0 else None


def _import_line(stmt: cst.BaseStatement) -> cst.Import | cst.ImportFrom | None:
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
        node = stmt.body[0]
        if isinstance(node, cst.Import | cst.ImportFrom):
            return node
    return None


def _same_from(line: cst.SimpleStatementLine, node: cst.ImportFrom) -> bool:
    """``line`` is a from-import of the same module as ``node`` (both absolute)."""
    other = _import_line(line)
    return (
        isinstance(other, cst.ImportFrom)
        and not isinstance(other.names, cst.ImportStar)
        and _module_name(other) is not None
        and _module_name(other) == _module_name(node)
    )


def _module_name(node: cst.ImportFrom) -> str | None:
    """Absolute module of a from-import; None for relative or star imports."""
    if node.relative or isinstance(node.names, cst.ImportStar) or node.module is None:
        return None
    return get_full_name_for_node(node.module)


def _alias_pair(alias: cst.ImportAlias) -> tuple[str, str | None]:
    name = get_full_name_for_node(alias.name) or ""
    asname = alias.asname
    as_name = asname.name.value if asname and isinstance(asname.name, cst.Name) else None
    return name, as_name


def _member_key(name: str) -> tuple[int, str, str]:
    """ruff isort's default order of names in one from-import: CONSTANTS, Classes, others."""
    kind = 0 if len(name) > 1 and name.isupper() else 1 if name[:1].isupper() else 2
    return kind, name.lower(), name


def is_docstring(stmt: cst.BaseStatement) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, cst.SimpleString | cst.ConcatenatedString)
    )


def _leading_imports(body: Sequence[cst.BaseStatement]) -> range:
    """Indexes of the imports that open the code (after a docstring): the only place a new
    import is sure to run before every use of its name."""
    start = 1 if body and is_docstring(body[0]) else 0
    end = start
    while end < len(body) and _import_line(body[end]) is not None:
        end += 1
    return range(start, end)


def _insertion_index(body: Sequence[cst.BaseStatement]) -> int:
    """After the imports that open the code; else after a docstring; else at the top."""
    return _leading_imports(body).stop


def _merge(node: cst.ImportFrom, new: Sequence[cst.ImportAlias]) -> cst.ImportFrom:
    """Add names to a from-import, in isort order when the names were already in it."""
    assert not isinstance(node.names, cst.ImportStar)
    old = list(node.names)
    keys = [_member_key(_alias_pair(a)[0]) for a in old]
    last_comma = old[-1].comma
    trailing = isinstance(last_comma, cst.Comma)
    bare = [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in old]
    combined = bare + list(new)
    if keys == sorted(keys):
        combined.sort(key=lambda a: _member_key(_alias_pair(a)[0]))
    # Keep the separators the author wrote, in order; a new gap gets the plain ", ".
    seps = [a.comma for a in old[:-1]]
    out: list[cst.ImportAlias] = []
    for i, alias in enumerate(combined):
        if i < len(combined) - 1:
            sep = (
                seps[i] if i < len(seps) else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
            )
            out.append(alias.with_changes(comma=sep))
        else:
            out.append(
                alias.with_changes(comma=last_comma if trailing else cst.MaybeSentinel.DEFAULT)
            )
    return node.with_changes(names=out)


def add_imports(code: str, statements: Sequence[str]) -> str:
    """``code`` with each import statement added unless the name is already imported.

    A ``from X import a`` joins an existing top-level ``from X import ...``; other statements
    go into the first block of imports (after a docstring when there are none). Code that does
    not parse is returned unchanged.
    """
    if len(parts := file_sections(code)) > 1:
        return _add_imports_by_file(code, statements, parts)
    try:
        module = cst.parse_module(code)
    except cst.ParserSyntaxError:
        return code
    body = list(module.body)
    header = list(module.header)
    # A first line naming the file the block is (``# app/main.py``) stays the first line.
    title: list[cst.EmptyLine] = []
    if header and header[0].comment is not None and FILE_COMMENT.fullmatch(header[0].comment.value):
        title, header = header[:1], header[1:]
    elif not header and body:
        lead = list(body[0].leading_lines)
        if lead and lead[0].comment is not None and FILE_COMMENT.fullmatch(lead[0].comment.value):
            title = lead[:1]
            body[0] = body[0].with_changes(leading_lines=lead[1:])
    new_lines: list[cst.SimpleStatementLine] = []
    for text in dict.fromkeys(statements):
        stmt = cst.parse_statement(text)
        node = _import_line(stmt)
        if node is None:
            raise ValueError(f"not a single import statement: {text!r}")
        assert isinstance(stmt, cst.SimpleStatementLine)
        if isinstance(node, cst.Import):
            present = {
                _alias_pair(a)
                for s in body
                if isinstance(imp := _import_line(s), cst.Import)
                for a in imp.names
            }
            if all(_alias_pair(a) in present for a in node.names):
                continue
            new_lines.append(stmt)
            continue
        target = _module_name(node)
        assert not isinstance(node.names, cst.ImportStar)
        wanted = list(node.names)
        merged = False
        leading = _leading_imports(body)
        for i, s in enumerate(body):
            existing = _import_line(s)
            if i not in leading:
                continue  # an import further down runs after code that may need the name
            if not isinstance(existing, cst.ImportFrom) or _module_name(existing) != target:
                continue
            assert not isinstance(existing.names, cst.ImportStar)
            have = {_alias_pair(a) for a in existing.names}
            wanted = [a for a in wanted if _alias_pair(a) not in have]
            if not merged and wanted:
                assert isinstance(s, cst.SimpleStatementLine)
                body[i] = s.with_changes(body=[_merge(existing, wanted)])
                merged = True
        if not merged and wanted:
            same = next((k for k, n in enumerate(new_lines) if _same_from(n, node)), None)
            if same is None:
                new_lines.append(stmt.with_changes(body=[node.with_changes(names=wanted)]))
            else:  # two names from one module: one new line, as an author writes it
                earlier = _import_line(new_lines[same])
                assert isinstance(earlier, cst.ImportFrom)
                new_lines[same] = new_lines[same].with_changes(body=[_merge(earlier, wanted)])
    at = _insertion_index(body)
    if new_lines and at < len(body) and (at == 0 or _import_line(body[at - 1]) is None):
        # The new imports come straight before code: keep a blank line between them.
        nxt = body[at]
        lines = list(getattr(nxt, "leading_lines", ()))
        if not lines or lines[0].comment is not None:
            body[at] = nxt.with_changes(leading_lines=[cst.EmptyLine(), *lines])
    # A comment right above the code introduces it ("# BAD - ..."); so does a marker comment
    # above blank lines ("# DO NOT DO THIS: old style.").
    introduces = bool(header) and (
        header[-1].comment is not None
        or any(line.comment and MARKER.match(line.comment.value) for line in header)
    )
    shebang = bool(header) and header[0].comment is not None and header[0].comment.value[:2] == "#!"
    if new_lines and at == 0 and body and introduces and not shebang:
        # A comment opening the block introduces its first statement ("# BAD - ..."): the new
        # imports go above it, not between the comment and its code.
        first = body[0]
        blank = [cst.EmptyLine()] if not first.leading_lines else list(first.leading_lines)
        body[0] = first.with_changes(leading_lines=[*blank, *header])
        header = []
    body[at:at] = new_lines
    result = module.with_changes(body=body, header=[*title, *header]).code
    if result == code:
        return code
    if ruff_isort(code) == code:
        return ruff_isort(result) or result
    return result


def _add_imports_by_file(
    code: str, statements: Sequence[str], parts: Sequence[tuple[str, str]]
) -> str:
    """A block showing several files (``# app/models.py``, ..., ``# app/service.py``): each
    import goes to the files that use its name (into the first when none does), so that
    each file runs on its own."""
    lines = source_lines(code)
    starts = [len(text) - len(text.lstrip("\n")) for _, text in parts]  # (lines kept blank)
    texts = ["".join(lines[a:b]) for a, b in zip(starts, [*starts[1:], len(lines)], strict=True)]
    head = "".join(lines[: starts[0]])
    wanted: list[list[str]] = [[] for _ in texts]
    for statement in dict.fromkeys(statements):
        names = analyze(statement).binds
        users = [i for i, t in enumerate(texts) if names & set(analyze(t).free_names)]
        for i in users or [0]:
            wanted[i].append(statement)
    return head + "".join(
        add_imports(t, want) if want else t for t, want in zip(texts, wanted, strict=True)
    )


def _without_alias(node: cst.ImportFrom, index: int) -> cst.ImportFrom:
    """``node`` without its ``index``-th name, keeping the other names' commas and comments."""
    assert not isinstance(node.names, cst.ImportStar)
    names = list(node.names)
    removed = names.pop(index)
    if index == len(names) and names:  # removed the last name: the new last takes its ending
        prev = names[-1]
        comma = removed.comma
        if isinstance(comma, cst.Comma) and isinstance(prev.comma, cst.Comma):
            before, after = prev.comma.whitespace_after, comma.whitespace_after
            if isinstance(before, cst.ParenthesizedWhitespace) and isinstance(
                after, cst.ParenthesizedWhitespace
            ):
                comma = comma.with_changes(
                    whitespace_after=before.with_changes(
                        indent=after.indent, last_line=after.last_line
                    )
                )
        names[-1] = prev.with_changes(comma=comma)
    return node.with_changes(names=names)


def _drop_names(node: cst.ImportFrom, unused: set[tuple[str, str]]) -> cst.ImportFrom | None:
    """``node`` without the unused names it imports; None when none is left."""
    assert not isinstance(node.names, cst.ImportStar)
    module = _module_name(node)
    for i in reversed(range(len(node.names))):
        name, asname = _alias_pair(node.names[i])
        if asname is None and module is not None and (module, name) in unused:
            if len(node.names) == 1:
                return None
            node = _without_alias(node, i)
            assert not isinstance(node.names, cst.ImportStar)
    return node


def remove_unused_imports(code: str, pairs: Sequence[tuple[str, str]]) -> str:
    """Drop ``from module import name`` for each pair whose name the code no longer uses."""
    if not pairs:
        return code
    wrapper = MetadataWrapper(cst.parse_module(code), unsafe_skip_copy=True)  # a new tree
    scope = wrapper.resolve(ScopeProvider).get(wrapper.module)
    if not isinstance(scope, GlobalScope):
        return code
    unused = {
        (module, name)
        for module, name in pairs
        if not any(a.references for a in scope.assignments[name])
    }
    return _drop_imports(wrapper.module, unused).code


def drop_imports(code: str, pairs: Sequence[tuple[str, str]]) -> str:
    """Drop ``from module import name`` for pairs a checker (ruff's F401) already found unused:
    the scope analysis of ``remove_unused_imports`` costs a tenth of a second per block."""
    if not pairs:
        return code
    quick = _drop_plain_lines(code, set(pairs))
    return quick if quick is not None else _drop_imports(cst.parse_module(code), set(pairs)).code


#: ``from module import a, b as c  # comment``, alone on its line (no parentheses, no ``;``).
_PLAIN_FROM = re.compile(r"^(from[ \t]+[\w.]+[ \t]+import[ \t]+)([\w \t,]+?)([ \t]*(?:#.*)?)$")


def _drop_plain_lines(code: str, unused: set[tuple[str, str]]) -> str | None:
    """:func:`_drop_imports` by editing lines, for the common case (a libcst round trip costs
    a hundredth of a second per block): every import to change is a top-level one-line
    ``from m import ...``; one that loses all its names goes with the blank lines above it
    (libcst's leading lines of the statement). None for anything else: the first or last
    statement, or comments above a statement that goes (libcst decides where they go)."""
    try:
        tree = parse_code(code)
    except (SyntaxError, ValueError):
        return None
    lines = code.split("\n")
    gone: set[int] = set()
    for at, node in enumerate(tree.body):
        if not isinstance(node, ast.ImportFrom) or node.level or node.module is None:
            continue
        drop = {a.name for a in node.names if a.asname is None and (node.module, a.name) in unused}
        if not drop:
            continue
        m = _PLAIN_FROM.match(lines[node.lineno - 1])
        if node.end_lineno != node.lineno or node.col_offset or m is None:
            return None
        names = [n.strip() for n in m.group(2).split(",") if n.strip()]
        if len(names) != len(node.names):
            return None
        kept = [n for n in names if n not in drop]
        if kept:
            lines[node.lineno - 1] = m.group(1) + ", ".join(kept) + m.group(3)
            continue
        if at in (0, len(tree.body) - 1):
            return None
        above = range(tree.body[at - 1].end_lineno or 0, node.lineno - 1)  # 0-based
        if any(lines[i].strip() for i in above):
            return None
        gone.update([*above, node.lineno - 1])
    return "\n".join(line for i, line in enumerate(lines) if i not in gone)


def _drop_imports(module: cst.Module, unused: set[tuple[str, str]]) -> cst.Module:
    body: list[cst.BaseStatement] = []
    carry: list[cst.EmptyLine] = []
    for stmt in module.body:
        node = _import_line(stmt)
        if isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar):
            assert isinstance(stmt, cst.SimpleStatementLine)
            kept = _drop_names(node, unused)
            if kept is None:  # every name went: keep the comments above the statement, with
                # the blank lines around them (a fence's `# app/service.py` keeps its place)
                lead = list(stmt.leading_lines)
                carry = lead if any(line.comment is not None for line in lead) else []
                continue
            stmt = stmt.with_changes(body=[kept])
        if carry and isinstance(stmt, cst.SimpleStatementLine | cst.BaseCompoundStatement):
            own = list(stmt.leading_lines)
            while own and own[0].comment is None:  # (the blank line under the import that went)
                own.pop(0)
            stmt = stmt.with_changes(leading_lines=[*carry, *own])
            carry = []
        body.append(stmt)
    return module.with_changes(body=body)


def imports_added(before: str, after: str) -> list[str]:
    """The import statements ``after`` has that ``before`` has not, one name each (UP017's
    ``UTC`` joining a ``from datetime import ...``). Raises SyntaxError as ``ast.parse``."""
    old = set(_import_statements(before))
    return [s for s in _import_statements(after) if s not in old]


def _import_statements(code: str) -> list[str]:
    out: list[str] = []
    for node in ast.walk(parse_code(code)):
        if isinstance(node, ast.Import):
            names = node.names
            out += [f"import {a.name}" + (f" as {a.asname}" if a.asname else "") for a in names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out += [
                f"from {node.module} import {a.name}" + (f" as {a.asname}" if a.asname else "")
                for a in node.names
            ]
    return out
