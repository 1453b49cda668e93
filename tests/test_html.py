"""The HTML report in a real headless Chromium, driven over the DevTools protocol.

Checks the page is self-contained (no request but the file itself), the elements are there,
filters hide blocks on a real mouse click, and saves test-artifacts/html-report.png.
Needs `chromium` (Debian: `apt-get install -y chromium`) and the websocket-client package.
"""

from __future__ import annotations

import base64
import html.parser
import json
import runpy
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from exampletest.formats import html as html_format
from exampletest.model import Report

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data" / "formats"
ARTIFACTS = ROOT / "test-artifacts"
sample_report = runpy.run_path(str(DATA / "sample_report.py"))["sample_report"]

CHROMIUM = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--remote-debugging-port=0",
    "--remote-debugging-address=127.0.0.1",
]


class Page:
    """A minimal CDP client: send commands, collect the events that arrive meanwhile."""

    def __init__(self, ws_url: str) -> None:
        import websocket  # websocket-client

        self.ws = websocket.create_connection(ws_url, timeout=20, suppress_origin=True)
        self.events: list[dict[str, Any]] = []
        self._id = 0

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self._id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                result: dict[str, Any] = msg.get("result", {})
                return result
            self.events.append(msg)

    def wait_for(self, event: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == event for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(event)
            self.events.append(json.loads(self.ws.recv()))

    def js(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        """A real mouse click in the middle of the element (not a synthetic JS click)."""
        box = self.js(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.send(
                "Input.dispatchMouseEvent",
                type=kind,
                x=box[0],
                y=box[1],
                button="left",
                clickCount=1,
            )


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Page, str]]:
    if CHROMIUM is None:
        pytest.skip("chromium not found (install: apt-get install -y chromium)")
    pytest.importorskip("websocket", reason="needs websocket-client (pip install websocket-client)")
    tmp = tmp_path_factory.mktemp("html")
    report_file = tmp / "report.html"
    report_file.write_text(html_format.render(sample_report()), encoding="utf-8")
    profile = tmp / "profile"
    proc = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.skip("chromium did not start (no DevToolsActivePort)")
            time.sleep(0.05)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            targets = json.load(r)
        ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        p = Page(ws_url)
        for domain in ("Page", "Network", "Runtime", "Log"):
            p.send(f"{domain}.enable")
        p.send(
            "Emulation.setDeviceMetricsOverride",
            width=1366,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )
        url = report_file.as_uri()
        p.send("Page.navigate", url=url)
        p.wait_for("Page.loadEventFired")
        yield p, url
        p.ws.close()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_no_request_leaves_the_page(page: tuple[Page, str]) -> None:
    p, url = page
    p.js("1")  # drain events that arrived during load
    requested = [
        e["params"]["request"]["url"]
        for e in p.events
        if e.get("method") == "Network.requestWillBeSent"
    ]
    assert requested == [url]
    blocked = [
        e["params"]["entry"]["text"]
        for e in p.events
        if e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error"
    ]
    assert blocked == []


def test_elements_are_there(page: tuple[Page, str]) -> None:
    p, _ = page
    facts = p.js(
        """({
        blocks: document.querySelectorAll('details.block').length,
        statuses: [...document.querySelectorAll('details.block')].map(b => b.dataset.status),
        chartBars: document.querySelectorAll('figure.chart svg rect').length,
        tocLinks: [...document.querySelectorAll('.toc a.bchip')].map(a => a.getAttribute('href')),
        linksResolve: [...document.querySelectorAll('.toc a.bchip')]
            .every(a => document.getElementById(a.getAttribute('href').slice(1))),
        hitLines: [...document.querySelectorAll('#b-1-1 tr.hit td.ln')].map(t => t.textContent),
        verified: document.querySelector('#b-1-1 .fixhead .badge').textContent,
        diffRows: document.querySelectorAll('#b-1-1 table.diff td.add').length,
        highlighted: document.querySelectorAll('#b-1-1 td.src span.kn').length,
        intentional: document.querySelectorAll('tr.frow[data-intentional]').length,
        title: document.title,
    })"""
    )
    assert facts["blocks"] == 7
    assert sorted(facts["statuses"]) == sorted(
        ["stale", "broken", "ok", "env", "incomplete", "skipped", "ok"]
    )
    assert facts["chartBars"] >= 7
    assert facts["linksResolve"] and "#b-1-1" in facts["tocLinks"]
    # Findings sit at their document lines (11, 18, 19, 21), not at generated-file lines.
    assert facts["hitLines"] == ["11", "18", "19", "21"]
    assert "verified" in facts["verified"]
    assert facts["diffRows"] == 2
    assert facts["highlighted"] >= 2  # pygments: `from ... import` keywords
    assert facts["intentional"] == 1
    assert "7 blocks" in facts["title"]


def test_filters_hide_blocks(page: tuple[Page, str]) -> None:
    p, _ = page
    visible = "[...document.querySelectorAll('details.block')].filter(b => b.offsetParent !== null)"
    assert p.js(f"{visible}.length") == 7
    p.click('input[data-filter="status"][value="ok"]')
    assert p.js("document.querySelector('input[value=\"ok\"]').checked") is False
    assert p.js(f"{visible}.map(b => b.dataset.status)").count("ok") == 0
    assert p.js(f"{visible}.length") == 5
    p.click('input[data-filter="category"][value="incomplete"]')
    # routes.md block 1 has only incomplete findings; guide block 2 has broken ones too.
    ids = p.js(f"{visible}.map(b => b.id)")
    assert "b-2-1" not in ids and "b-1-2" in ids
    assert p.js("document.querySelector('#d-2 .hiddennote').textContent").startswith("2 of 3")
    p.click("#f-all")
    assert p.js(f"{visible}.length") == 7
    p.click("#f-problems")
    assert sorted(p.js(f"{visible}.map(b => b.dataset.status)")) == [
        "broken",
        "env",
        "incomplete",
        "stale",
    ]
    p.click('button.card[data-only="stale"]')
    assert p.js(f"{visible}.map(b => b.id)") == ["b-1-1"]
    p.click("#f-all")


def test_screenshot_and_print(page: tuple[Page, str]) -> None:
    p, _ = page
    p.js("window.scrollTo(0, 0)")
    shot = p.send(
        "Page.captureScreenshot",
        format="png",
        captureBeyondViewport=True,
        clip={
            "x": 0,
            "y": 0,
            "width": 1366,
            "height": p.js("document.documentElement.scrollHeight"),
            "scale": 1,
        },
    )
    ARTIFACTS.mkdir(exist_ok=True)
    png = base64.b64decode(shot["data"])
    assert png.startswith(b"\x89PNG")
    (ARTIFACTS / "html-report.png").write_bytes(png)
    pdf = base64.b64decode(p.send("Page.printToPDF", printBackground=True)["data"])
    assert pdf.startswith(b"%PDF")


def test_print_layout(page: tuple[Page, str]) -> None:
    p, _ = page
    all_open = "[...document.querySelectorAll('details.block')].every(d => d.open)"
    assert p.js(all_open) is False  # ok/skipped blocks start folded
    p.send("Emulation.setEmulatedMedia", media="print")
    try:
        assert p.js("getComputedStyle(document.querySelector('nav.filters')).display") == "none"
        p.js("window.dispatchEvent(new Event('beforeprint'))")
        assert p.js(all_open) is True
        p.js("window.dispatchEvent(new Event('afterprint'))")
        assert p.js(all_open) is False
    finally:
        p.send("Emulation.setEmulatedMedia", media="")


class _Collector(html.parser.HTMLParser):
    """Every URL-bearing attribute of the page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.urls += [v or "" for k, v in attrs if k in ("src", "href", "action", "srcset")]


def test_page_is_self_contained_without_a_browser() -> None:
    page_html = html_format.render(sample_report())
    parser = _Collector()
    parser.feed(page_html)
    assert all(u.startswith("#") for u in parser.urls), parser.urls
    assert "http" not in page_html.replace("http-equiv", "").replace("http://www.w3.org", "")
    assert {"svg", "script", "style", "details"} <= set(parser.tags)
    assert "Content-Security-Policy" in page_html and "default-src 'none'" in page_html


def test_text_is_escaped() -> None:
    page_html = html_format.render(sample_report())
    assert "Settings &amp; &lt;secrets&gt;" in page_html
    assert "<secrets>" not in page_html


def test_empty_report() -> None:
    page_html = html_format.render(Report([], tool_version="0", environment={}))
    assert "0 blocks" in page_html
