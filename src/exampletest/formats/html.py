"""One self-contained HTML page: no network at all (a CSP forbids it), CSS/JS/SVG inline.

Code is highlighted by pygments at report time; findings sit under the document line they
flag; fixes are shown side by side. Filters are plain JS over ``data-`` attributes.
"""

from __future__ import annotations

from html import escape
from itertools import zip_longest

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from exampletest.formats._common import (
    CATEGORY_ORDER,
    DiffRow,
    Hunk,
    caret_span,
    failing_blocks,
    is_notable,
    ordered_findings,
    parse_diff,
    source_lines,
)
from exampletest.model import STATUS_ORDER, BlockResult, DocumentResult, Finding, Fix, Report

COLORS: dict[str, str] = {
    "broken": "#cf222e",
    "stale": "#b35900",
    "incomplete": "#8250df",
    "env": "#0969da",
    "security": "#a0111f",
    "style": "#1b7c83",
    "ok": "#1a7f37",
    "skipped": "#6e7781",
}

_FORMATTER = HtmlFormatter(nowrap=True, style="default")
_LEXER = PythonLexer(stripnl=False, ensurenl=False)
# pygments boxes tokens it cannot lex (a fence line in a diff): noise in a report.
_PYGMENTS_CSS: str = (
    _FORMATTER.get_style_defs(".src")  # type: ignore[no-untyped-call]
    + "\n.src .err { border: none; }"
)


def _highlight_lines(code: str) -> list[str]:
    """Highlighted HTML per code line (pygments closes and reopens spans at each newline)."""
    html: str = highlight(code, _LEXER, _FORMATTER)
    return html.split("\n")


def render(
    report: Report,
    *,
    color: bool = False,
    verbose: int = 0,
    fail_on: str = "broken",
) -> str:
    """The whole page; ``verbose`` opens every block, by default only notable ones are open."""
    blocks = report.blocks()
    failing = failing_blocks(report, fail_on)
    title = (
        f"exampletest report: {_plural(len(blocks), 'block')} in "
        f"{_plural(len(report.documents), 'document')}"
    )
    python = report.environment.get("python", "?")
    body = [
        '<header class="top">',
        "<h1>exampletest report</h1>",
        f'<p class="meta">exampletest {escape(report.tool_version)} · Python {escape(str(python))}'
        f" · {_plural(len(report.documents), 'document')} · {_plural(len(blocks), 'block')}"
        f" · {report.duration_s:.2f} s</p>",
        _verdict(len(failing), len(blocks), fail_on),
        "</header>",
        _filters(report),
        '<main id="main">',
        _summary(report),
    ]
    body.extend(_document(i, doc, verbose) for i, doc in enumerate(report.documents, 1))
    body.append("</main>")
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        # Nothing may leave the page: no fetch, no image, no font, no script from elsewhere.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
        f"<title>{escape(title)}</title>\n"
        f"<style>\n{_CSS}\n{_PYGMENTS_CSS}\n</style>\n"
        "</head><body>\n" + "\n".join(body) + f"\n<script>\n{_JS}\n</script>\n</body></html>\n"
    )


def _verdict(failing: int, total: int, fail_on: str) -> str:
    if failing:
        return (
            f'<p class="verdict fail">✗ {failing} of {total} blocks reach '
            f"<code>--fail-on {escape(fail_on)}</code></p>"
        )
    return (
        f'<p class="verdict pass">✓ no block reaches <code>--fail-on {escape(fail_on)}</code></p>'
    )


def _filters(report: Report) -> str:
    """Two rows of checkboxes (block status, finding category), each with its count."""
    statuses = report.status_counts()
    categories = report.category_counts()

    def chips(kind: str, counts: dict[str, int]) -> str:
        return "".join(
            f'<label class="chip" style="--c:{COLORS[name]}"><input type="checkbox" checked '
            f'data-filter="{kind}" value="{name}"> {name} <b>{n}</b></label>'
            for name, n in counts.items()
        )

    return (
        '<nav class="filters" aria-label="filters"><div class="fgroup">'
        '<span class="flabel">Blocks</span>'
        f"{chips('status', statuses)}"
        '<span class="fbuttons"><button type="button" id="f-problems">problems only</button>'
        '<button type="button" id="f-all">show all</button></span></div>'
        '<div class="fgroup"><span class="flabel">Findings</span>'
        f"{chips('category', categories)}"
        '<label class="chip plain"><input type="checkbox" checked id="f-intentional"> '
        "intentional</label></div></nav>"
    )


def _summary(report: Report) -> str:
    statuses = report.status_counts()
    categories = report.category_counts()
    cards = "".join(
        f'<button type="button" class="card" data-only="{s}" style="--c:{COLORS[s]}" '
        f'title="show only {s} blocks"><span class="n">{statuses[s]}</span>'
        f'<span class="l">{s}</span></button>'
        for s in STATUS_ORDER
    )
    most = max(categories.values(), default=0) or 1
    cats = "".join(
        f'<div class="catrow"><span class="cl">{c}</span><span class="bar" '
        f'style="--c:{COLORS[c]};--w:{100 * categories[c] / most:.1f}%"></span>'
        f'<span class="cn">{categories[c]}</span></div>'
        for c in CATEGORY_ORDER
    )
    toc = []
    for i, doc in enumerate(report.documents, 1):
        chips = (
            "".join(
                f'<a class="bchip" href="#b-{i}-{b.block.index}" style="--c:{COLORS[b.status]}" '
                f'title="{escape(b.status)}: {escape(b.block.heading or "")}">'
                f"{b.block.index}<small> L{b.block.start_line}</small></a>"
                for b in doc.blocks
            )
            or '<span class="muted">no Python blocks</span>'
        )
        toc.append(
            f'<li><a href="#d-{i}" class="docl">{escape(doc.path)}</a><div>{chips}</div></li>'
        )
    return (
        '<section class="summary" id="summary"><h2>Summary</h2>'
        f'<div class="cards">{cards}</div>'
        '<div class="sumgrid"><figure class="chart"><figcaption>Blocks by status, per document'
        f"</figcaption>{_chart(report)}</figure>"
        f'<div class="cats"><div class="caption">Findings by category</div>{cats}</div></div>'
        f'<h3>Documents</h3><ol class="toc">{"".join(toc)}</ol></section>'
    )


def _chart(report: Report) -> str:
    """Inline SVG: one stacked horizontal bar of block statuses per document."""
    label_w, bar_w, row_h = 230, 470, 26
    most = max((len(d.blocks) for d in report.documents), default=0) or 1
    height = row_h * len(report.documents) + 30
    out = [
        f'<svg role="img" aria-label="blocks by status per document" viewBox="0 0 '
        f'{label_w + bar_w + 40} {height}" width="100%" style="max-width:{label_w + bar_w + 40}px">'
    ]
    for row, doc in enumerate(report.documents):
        y = row * row_h + 4
        name = doc.path if len(doc.path) <= 34 else "…" + doc.path[-33:]
        out.append(
            f'<a href="#d-{row + 1}"><text x="{label_w - 8}" y="{y + 15}" text-anchor="end" '
            f'class="svgl"><title>{escape(doc.path)}</title>{escape(name)}</text></a>'
        )
        x = float(label_w)
        for s in STATUS_ORDER:
            n = sum(1 for b in doc.blocks if b.status is s)
            if not n:
                continue
            w = bar_w * n / most
            out.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_h - 8}" '
                f'fill="{COLORS[s]}"><title>{escape(doc.path)}: {n} {s}</title></rect>'
            )
            if w >= 16:
                out.append(
                    f'<text x="{x + w / 2:.1f}" y="{y + 13}" text-anchor="middle" '
                    f'class="svgn">{n}</text>'
                )
            x += w
        if not doc.blocks:
            out.append(f'<text x="{label_w}" y="{y + 13}" class="svgl muted">no blocks</text>')
    legend_y = row_h * len(report.documents) + 16
    lx = float(label_w)
    for s in STATUS_ORDER:
        out.append(
            f'<rect x="{lx:.0f}" y="{legend_y - 9}" width="10" height="10" fill="{COLORS[s]}"/>'
            f'<text x="{lx + 14:.0f}" y="{legend_y}" class="svgl">{s}</text>'
        )
        lx += 14 + 7 * len(s) + 18  # ~7 px per character at 12 px
    out.append("</svg>")
    return "".join(out)


def _document(i: int, doc: DocumentResult, verbose: int) -> str:
    errors = "".join(f'<p class="docerr">⚠ {escape(e)}</p>' for e in doc.errors)
    blocks = "".join(_block(i, b, verbose) for b in doc.blocks)
    if not doc.blocks:
        blocks = '<p class="muted">No Python blocks in this document.</p>'
    return (
        f'<section class="doc" id="d-{i}"><h2 class="dochead">{escape(doc.path)}</h2>'
        f'{errors}<p class="hiddennote"></p>{blocks}</section>'
    )


def _block(doc_i: int, result: BlockResult, verbose: int) -> str:
    block = result.block
    bid = f"b-{doc_i}-{block.index}"
    cats = sorted({f.category.value for f in result.findings if not f.intentional})
    stages = "".join(
        f'<span class="stage st-{escape(v)}">{escape(s)}: {escape(v)}</span>'
        for s, v in result.stages.items()
    )
    heading = f" — {escape(block.heading)}" if block.heading else ""
    summary = (
        f'<summary><span class="badge" style="--c:{COLORS[result.status]}">{result.status}</span>'
        f'<span class="btitle">Block {block.index}{heading}</span>'
        f'<span class="lines">{_line_range(block.start_line, block.end_line)}</span>'
        f'<span class="fcount">{_plural(len(result.findings), "finding")}</span></summary>'
    )
    info = f'<div class="binfo">{stages}'
    if result.module:
        info += f'<span class="module">{escape(result.module)}</span>'
    if block.skip_reason:
        info += f'<span class="module">{escape(block.skip_reason)}</span>'
    info += "</div>"
    is_open = " open" if verbose >= 1 or is_notable(result) else ""
    return (
        f'<details class="block" id="{bid}" data-status="{result.status}" '
        f'data-cats="{" ".join(cats)}" style="--c:{COLORS[result.status]}"{is_open}>'
        f"{summary}{info}{_code(bid, result)}{_fix(result.fix) if result.fix else ''}</details>"
    )


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _line_range(start: int, end: int) -> str:
    return f"line {start}" if start == end else f"lines {start}\N{EN DASH}{end}"


def _rich_text(text: str) -> str:
    """Escape a message and show its `backtick spans` as code, as tools mean them."""
    parts = escape(text).split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: leave the text as it is
        return escape(text)
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def _finding(finding: Finding, caret: str) -> str:
    cat = finding.category.value
    intentional = ' data-intentional="1"' if finding.intentional else ""
    text = (
        f'<span class="badge sm" style="--c:{COLORS[cat]}">{cat}</span>'
        f'<code class="rule">{escape(finding.tool)}:{escape(finding.rule)}</code>'
        f'<span class="pos">{finding.line}:{finding.column}</span> {_rich_text(finding.message)}'
    )
    if finding.intentional:
        text += ' <span class="intent">intentional</span>'
    if finding.suggestion:
        text += f'<div class="sugg">→ {_rich_text(finding.suggestion)}</div>'
    return (
        f'<tr class="frow{" int" if finding.intentional else ""}" data-cat="{cat}"{intentional} '
        f'style="--c:{COLORS[cat]}"><td class="ln"></td><td>{caret}<div class="fmsg">{text}</div>'
        "</td></tr>"
    )


def _code(bid: str, result: BlockResult) -> str:
    block = result.block
    rows = source_lines(block)
    html_lines = _highlight_lines(block.code)
    by_line: dict[int, list[Finding]] = {}
    for f in ordered_findings(result.findings):
        by_line.setdefault(f.line, []).append(f)
    known = {r.doc_line for r in rows}
    outside = [f for line, fs in by_line.items() if line not in known for f in fs]
    out = ['<table class="code">']
    out.extend(_finding(f, "") for f in outside)
    for i, row in enumerate(rows):
        found = by_line.get(row.doc_line, [])
        worst = next((f for f in found if not f.intentional), found[0] if found else None)
        mark = f' class="hit" style="--c:{COLORS[worst.category]}"' if worst else ""
        prefix = block.prefixes[i] if i < len(block.prefixes) else ""
        code = html_lines[i] if i < len(html_lines) else ""
        out.append(
            f'<tr id="{bid}-L{row.doc_line}"{mark}><td class="ln">{row.doc_line}</td>'
            f'<td class="src"><span class="pfx">{escape(prefix)}</span>{code}</td></tr>'
        )
        for f in found:
            start, width = caret_span(f, row)
            caret = f'<div class="caret">{" " * start}{"^" * width}</div>'
            out.append(_finding(f, caret))
    out.append("</table>")
    return "".join(out)


def _pairs(hunk: Hunk) -> list[tuple[DiffRow | None, DiffRow | None]]:
    """Side-by-side rows: context on both sides, each run of removals next to its additions."""
    pairs: list[tuple[DiffRow | None, DiffRow | None]] = []
    removed: list[DiffRow] = []
    added: list[DiffRow] = []

    def flush() -> None:
        pairs.extend(zip_longest(removed, added))
        removed.clear()
        added.clear()

    for row in hunk.rows:
        if row.kind == "-":
            if added:
                flush()
            removed.append(row)
        elif row.kind == "+":
            added.append(row)
        else:
            flush()
            pairs.append((row, row))
    flush()
    return pairs


def _side(row: DiffRow | None, old: bool) -> str:
    if row is None:
        return '<td class="ln"></td><td class="empty"></td>'
    number = row.old_line if old else row.new_line
    kind = {"-": "del", "+": "add", " ": "ctx"}[row.kind]
    code = _highlight_lines(row.text)[0] if row.text.strip() else escape(row.text)
    return f'<td class="ln">{number}</td><td class="src {kind}">{code}</td>'


def _fix(fix: Fix) -> str:
    badge = (
        '<span class="badge" style="--c:#1a7f37">✓ verified</span>'
        if fix.verified
        else '<span class="badge" style="--c:#6e7781">not verified</span>'
    )
    resolves = " ".join(f"<code>{escape(r)}</code>" for r in fix.resolves)
    rows = []
    for hunk in parse_diff(fix.diff):
        rows.append(
            f'<tr class="hunk"><td colspan="4">{_line_range(hunk.old_start, hunk.old_end)} → '
            f"{_line_range(hunk.new_start, hunk.new_start + hunk.new_count - 1)}</td></tr>"
        )
        rows.extend(f"<tr>{_side(old, True)}{_side(new, False)}</tr>" for old, new in _pairs(hunk))
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in fix.notes)
    return (
        f'<div class="fix"><div class="fixhead">{badge} <b>Suggested fix</b>'
        f'<span class="muted"> resolves {resolves}</span></div>{notes}'
        '<table class="diff"><colgroup><col class="lnc"><col><col class="lnc"><col></colgroup>'
        '<thead><tr><th colspan="2">before</th><th colspan="2">after</th></tr></thead>'
        f"{''.join(rows)}</table></div>"
    )


_CSS = """
:root { --fg:#1f2328; --muted:#656d76; --line:#d0d7de; --bg:#ffffff; --soft:#f6f8fa;
  --mono: ui-monospace, SFMono-Regular, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: var(--soft); }
header.top, main { max-width: 1180px; }
header.top { margin: 0 auto; padding: 20px 24px 8px; }
h1 { margin: 0; font-size: 24px; }
h2 { font-size: 19px; margin: 0 0 10px; }
h3 { font-size: 15px; margin: 18px 0 6px; color: var(--muted); text-transform: uppercase;
  letter-spacing: .04em; }
.meta, .muted { color: var(--muted); }
.meta { margin: 2px 0 8px; }
.verdict { display: inline-block; margin: 4px 0; padding: 4px 12px; border-radius: 6px;
  font-weight: 600; }
.verdict.fail { background: #ffebe9; color: #a40e26; border: 1px solid #ffcecb; }
.verdict.pass { background: #dafbe1; color: #116329; border: 1px solid #aceebb; }
nav.filters { position: sticky; top: 0; z-index: 5; display: grid; gap: 6px;
  padding: 8px max(24px, calc((100% - 1180px) / 2 + 24px));
  background: rgba(255,255,255,.96); border-bottom: 1px solid var(--line);
  box-shadow: 0 1px 3px rgba(0,0,0,.04); }
.fgroup { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
.flabel { font-size: 12px; font-weight: 600; color: var(--muted); text-transform: uppercase;
  width: 72px; }
.fbuttons { margin-left: auto; display: flex; gap: 6px; }
.chip { display: inline-flex; gap: 5px; align-items: center; padding: 2px 9px; font-size: 13px;
  border: 1px solid var(--line); border-left: 4px solid var(--c, var(--line));
  border-radius: 6px; background: #fff; cursor: pointer; user-select: none; }
.chip b { color: var(--muted); font-weight: 600; }
.chip input { margin: 0; accent-color: var(--c, #0969da); }
.chip.plain { border-left-width: 1px; }
nav button { font: inherit; font-size: 13px; padding: 2px 10px; border-radius: 6px;
  border: 1px solid var(--line); background: var(--soft); cursor: pointer; }
nav button:hover, .chip:hover { border-color: #8c959f; }
main { margin: 0 auto; padding: 12px 24px 40px; }
section.summary, section.doc { background: var(--bg); border: 1px solid var(--line);
  border-radius: 10px; padding: 16px 20px; margin: 14px 0; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin-bottom: 14px; }
.card { flex: 1 1 110px; border: 1px solid var(--line); border-top: 4px solid var(--c);
  border-radius: 8px; padding: 8px 12px; background: #fff; font: inherit; text-align: left;
  cursor: pointer; }
.card:hover { background: color-mix(in srgb, var(--c) 6%, #fff); }
.card .n { display: block; font-size: 26px; font-weight: 700; color: var(--c); line-height: 1.1; }
.card .l { color: var(--muted); font-size: 13px; text-transform: uppercase; letter-spacing: .04em; }
.sumgrid { display: grid; grid-template-columns: minmax(0, 2fr) minmax(220px, 1fr); gap: 24px;
  align-items: start; }
@media (max-width: 900px) { .sumgrid { grid-template-columns: 1fr; } }
figure.chart { margin: 0; }
figcaption, .caption { font-size: 13px; font-weight: 600; color: var(--muted); margin-bottom: 6px; }
.svgl { font: 12px system-ui, sans-serif; fill: var(--fg); }
.svgl.muted { fill: var(--muted); }
.svgn { font: 600 11px system-ui, sans-serif; fill: #fff; }
svg a:hover .svgl { text-decoration: underline; }
.catrow { display: grid; grid-template-columns: 84px 1fr 32px; gap: 8px; align-items: center;
  font-size: 13px; margin: 3px 0; }
.catrow .bar { height: 12px; border-radius: 3px; background: linear-gradient(90deg, var(--c)
  var(--w), #eaeef2 var(--w)); }
.catrow .cn { text-align: right; font-variant-numeric: tabular-nums; }
ol.toc { margin: 0; padding-left: 22px; }
ol.toc li { margin: 4px 0; }
.docl { font-family: var(--mono); font-size: 13px; }
.bchip { display: inline-block; margin: 3px 4px 0 0; padding: 0 7px; border-radius: 5px;
  font-size: 12px; font-weight: 600; text-decoration: none; color: #fff; background: var(--c); }
.bchip small { font-weight: 400; opacity: .85; }
a { color: #0969da; }
.dochead { font-family: var(--mono); font-size: 16px; padding-bottom: 8px;
  border-bottom: 1px solid var(--line); }
.docerr { color: #a40e26; background: #ffebe9; padding: 6px 10px; border-radius: 6px; }
.hiddennote { color: var(--muted); font-size: 13px; margin: 0; }
.hiddennote:empty { display: none; }
details.block { border: 1px solid var(--line); border-left: 5px solid var(--c); border-radius: 8px;
  margin: 12px 0; background: #fff; scroll-margin-top: 60px; }
details.block:target { box-shadow: 0 0 0 3px rgba(9,105,218,.3); }
details.block > summary { display: flex; flex-wrap: wrap; gap: 10px; align-items: center;
  padding: 8px 12px; cursor: pointer; list-style: none; background: var(--soft);
  border-radius: 0 8px 8px 0; }
details.block[open] > summary { border-bottom: 1px solid var(--line); border-radius: 0 8px 0 0; }
details.block > summary::-webkit-details-marker { display: none; }
details.block > summary::before { content: "▸"; color: var(--muted); }
details.block[open] > summary::before { content: "▾"; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px;
  font-weight: 700; color: #fff; background: var(--c); text-transform: uppercase;
  letter-spacing: .03em; }
.badge.sm { font-size: 11px; padding: 0 7px; }
.btitle { font-weight: 600; }
.lines, .fcount { color: var(--muted); font-size: 13px; }
.fcount { margin-left: auto; }
.binfo { display: flex; flex-wrap: wrap; gap: 6px; padding: 6px 12px; font-size: 12px; }
.stage { padding: 0 6px; border-radius: 4px; background: #eaeef2; color: var(--muted); }
.stage.st-timeout, .stage.st-error { background: #fff1e5; color: #953800; }
.module { font-family: var(--mono); color: var(--muted); }
table.code, table.diff { width: 100%; border-collapse: collapse; font: 13px/1.45 var(--mono); }
table.code td, table.diff td { padding: 0 10px; vertical-align: top; }
td.ln { width: 1%; min-width: 44px; text-align: right; color: #8c959f; user-select: none;
  border-right: 1px solid var(--line); background: var(--soft); white-space: nowrap; }
td.src { white-space: pre-wrap; word-break: break-word; }
.pfx { color: #8c959f; }
.fmsg code, .sugg code { font-size: 12px; background: rgba(175,184,193,.25); padding: 0 4px;
  border-radius: 4px; }
tr.hit > td.src { background: color-mix(in srgb, var(--c) 9%, transparent); }
tr.hit > td.ln { color: var(--c); font-weight: 700; box-shadow: inset 3px 0 var(--c); }
tr.frow > td { padding-bottom: 6px; }
tr.frow .caret { white-space: pre; color: var(--c); font-weight: 700; line-height: 1; }
.fmsg { font-family: system-ui, sans-serif; font-size: 13px; padding: 5px 10px; margin-top: 2px;
  border-left: 3px solid var(--c); background: color-mix(in srgb, var(--c) 6%, #fff);
  border-radius: 0 6px 6px 0; white-space: normal; }
.fmsg .rule { font-size: 12px; margin: 0 6px; color: var(--fg); }
.fmsg .pos { color: var(--muted); font-family: var(--mono); font-size: 12px; margin-right: 4px; }
tr.frow.int .fmsg { opacity: .7; border-left-style: dashed; }
.intent { font-size: 11px; font-style: italic; padding: 0 6px; border: 1px dashed var(--muted);
  border-radius: 4px; color: var(--muted); }
.sugg { color: #116329; margin-top: 2px; }
.fix { margin: 10px 12px 12px; border: 1px solid var(--line); border-radius: 8px;
  overflow: hidden; }
.fixhead { padding: 6px 10px; background: var(--soft); border-bottom: 1px solid var(--line); }
.fixhead code { font-size: 12px; }
.fix .note { margin: 4px 10px; color: #953800; font-size: 13px; }
table.diff col.lnc { width: 48px; }
table.diff th { text-align: left; font: 600 12px system-ui, sans-serif; color: var(--muted);
  padding: 4px 10px; border-bottom: 1px solid var(--line); }
table.diff td.del { background: #ffebe9; }
table.diff td.add { background: #dafbe1; }
table.diff td.empty { background: repeating-linear-gradient(45deg, #f6f8fa, #f6f8fa 4px,
  #eef1f4 4px, #eef1f4 8px); }
tr.hunk td { background: #ddf4ff; color: var(--muted); font-size: 12px; padding: 2px 10px; }
@media print {
  body { background: #fff; font-size: 11pt; }
  nav.filters, .hiddennote { display: none !important; }
  section.summary, section.doc { border: none; padding: 0; margin: 0 0 12pt; }
  details.block, tr, .fix { break-inside: avoid; }
  section.doc { break-before: page; }
  details.block > summary::before, details.block[open] > summary::before { content: none; }
  a { color: inherit; text-decoration: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

_JS = """
(() => {
  const boxes = [...document.querySelectorAll('input[data-filter]')];
  const intentional = document.getElementById('f-intentional');
  function apply() {
    const on = {status: new Set(), category: new Set()};
    boxes.forEach(b => { if (b.checked) on[b.dataset.filter].add(b.value); });
    document.querySelectorAll('details.block').forEach(el => {
      const cats = el.dataset.cats ? el.dataset.cats.split(' ') : [];
      const catOk = cats.length === 0 || cats.some(c => on.category.has(c));
      el.hidden = !(on.status.has(el.dataset.status) && catOk);
    });
    document.querySelectorAll('tr.frow').forEach(r => {
      r.hidden = !on.category.has(r.dataset.cat)
        || (!!r.dataset.intentional && !intentional.checked);
    });
    document.querySelectorAll('section.doc').forEach(d => {
      const all = d.querySelectorAll('details.block');
      const hidden = [...all].filter(b => b.hidden).length;
      d.querySelector('.hiddennote').textContent =
        hidden ? hidden + ' of ' + all.length + ' blocks hidden by the filters' : '';
    });
  }
  boxes.concat([intentional]).forEach(b => b.addEventListener('change', apply));
  function showStatuses(wanted) {
    boxes.forEach(b => { if (b.dataset.filter === 'status') b.checked = wanted(b.value); });
    apply();
  }
  document.getElementById('f-problems').addEventListener('click',
    () => showStatuses(s => !['ok', 'skipped'].includes(s)));
  document.getElementById('f-all').addEventListener('click', () => {
    boxes.forEach(b => { b.checked = true; }); intentional.checked = true; apply();
  });
  // A summary card shows only its status.
  document.querySelectorAll('button.card').forEach(card => card.addEventListener('click',
    () => showStatuses(s => s === card.dataset.only)));
  // A link to a block opens it (and shows it, whatever the filters say).
  function reveal() {
    const el = location.hash && document.getElementById(location.hash.slice(1));
    if (el && el.matches('details.block')) { el.hidden = false; el.open = true; }
  }
  window.addEventListener('hashchange', reveal);
  reveal();
  window.addEventListener('beforeprint', () => {
    document.querySelectorAll('details.block').forEach(d => {
      d.dataset.wasOpen = d.open;
      d.open = true;
    });
  });
  window.addEventListener('afterprint', () => {
    document.querySelectorAll('details.block').forEach(d => {
      d.open = d.dataset.wasOpen === 'true';
    });
  });
})();
"""
