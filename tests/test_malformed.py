"""Malformed documents: each one works or gives ONE clear line naming the file, never a
traceback or a hang; folders mixing good and bad documents still get checked."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_parse import assert_round_trip

from exampletest.cli import main
from exampletest.discover import discover
from exampletest.model import Document
from exampletest.parse import MAX_BYTES, parse_document, read_document

DATA = Path(__file__).resolve().parent / "data" / "malformed"
GOOD = "# Good\n\n```python\nx = [1, 2]\nprint(sum(x))\n```\n"


def read(path: Path) -> Document:
    """read_document in a thread, so that a hang fails the test instead of stalling it."""
    out: list[Document] = []
    worker = threading.Thread(target=lambda: out.append(read_document(str(path))), daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert out, f"read_document({path}) hung"
    return out[0]


def one_error(doc: Document, *words: str) -> str:
    assert doc.blocks == ()
    (error,) = doc.errors
    assert error.startswith(doc.path) and "\n" not in error and "Traceback" not in error
    for word in words:
        assert word in error
    return error


def test_fixture_documents() -> None:
    unterminated = read(DATA / "unterminated.md")
    assert [b.code for b in unterminated.blocks] == ["x = 1\n\nno closing fence, runs to the end\n"]
    assert len(unterminated.errors) == 1 and ":3: code fence" in unterminated.errors[0]

    longer = read(DATA / "fence_longer_than_file.md")
    assert [b.code for b in longer.blocks] == ["x = 1\n```\n````\ny = 2\n"]
    assert len(longer.errors) == 1 and "never closed" in longer.errors[0]

    tabs = read(DATA / "tabs.md")
    assert [b.code for b in tabs.blocks] == ["def f():\n\treturn 1\n", "x = 1\n"]
    assert tabs.errors == ()

    empty = read(DATA / "empty.md")
    assert (empty.blocks, empty.errors) == ((), ())
    for doc in (unterminated, longer, tabs):
        assert_round_trip(doc)


def test_binary_file_with_markdown_name(tmp_path: Path) -> None:
    path = tmp_path / "image.md"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    assert one_error(read(path)) == f"{path}:3: binary file (NUL byte), skipped"


def test_nul_byte_in_text(tmp_path: Path) -> None:
    path = tmp_path / "nul.md"
    path.write_bytes(b"# T\n\n```python\nx = '\x00'\n```\n")
    one_error(read(path), f"{path}:4:", "NUL")


def test_invalid_utf8_names_line_and_offset(tmp_path: Path) -> None:
    path = tmp_path / "latin1.md"
    path.write_bytes("# Café\n\n```python\nx = 1\n```\n".encode("latin-1"))
    assert one_error(read(path)) == f"{path}:1: not valid UTF-8 (byte offset 5), skipped"


def test_utf16_is_named(tmp_path: Path) -> None:
    path = tmp_path / "utf16.md"
    path.write_bytes(GOOD.encode("utf-16"))
    one_error(read(path), "UTF-16")


def test_bom_crlf_and_mixed_endings_work(tmp_path: Path) -> None:
    path = tmp_path / "windows.md"
    path.write_bytes(b"\xef\xbb\xbf# T\r\n\r\n```python\r\nx = 1\ry = 2\n```\r\n")
    doc = read(path)
    assert doc.errors == ()
    assert [(b.code, b.line_map, b.heading) for b in doc.blocks] == [
        ("x = 1\ny = 2\n", (4, 5), "T")
    ]
    assert_round_trip(doc)


def test_empty_and_blank_files(tmp_path: Path) -> None:
    for name, content in [
        ("empty.md", b""),
        ("blank.md", b"\n\n  \r\n"),
        ("bom.md", b"\xef\xbb\xbf"),
    ]:
        doc = parse_document(name, content)
        assert (doc.blocks, doc.errors) == ((), ())


def test_folder_and_fifo_named_md_do_not_hang(tmp_path: Path) -> None:
    folder = tmp_path / "folder.md"
    folder.mkdir()
    assert one_error(read(folder)) == f"{folder}: cannot read: Is a directory"
    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    assert one_error(read(fifo)) == f"{fifo}: cannot read: not a regular file"


def test_missing_file(tmp_path: Path) -> None:
    one_error(read(tmp_path / "gone.md"), "cannot read", "No such file")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.md"
    path.write_text(GOOD)
    path.chmod(0)
    one_error(read(path), "cannot read", "Permission denied")


def test_too_large_file_is_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "huge.md"
    with path.open("wb") as fh:
        fh.truncate(MAX_BYTES + 1)  # sparse: no time or disk spent
    started = time.perf_counter()
    one_error(read(path), "too large")
    assert time.perf_counter() - started < 1


def test_ten_megabyte_document_parses_in_seconds() -> None:
    para = "Some prose with *emphasis*, `code` and a [link](https://example.com).\n\n"
    chunk = para * 20 + "## Section\n\n```python\nx = 1\nprint(x)\n```\n\n"
    text = chunk * (10_000_000 // len(chunk) + 1)
    assert len(text) >= 10_000_000
    started = time.perf_counter()
    doc = parse_document("big.md", text.encode())
    elapsed = time.perf_counter() - started
    print(f"10 MB document: {elapsed:.2f} s, {len(doc.blocks)} blocks")
    assert len(doc.blocks) == text.count("```python")
    assert doc.errors == ()
    assert elapsed < 30


def test_ten_thousand_blocks_parse_in_seconds() -> None:
    text = "".join(f"## B{i}\n\n```python\nx{i} = {i}\n```\n\n" for i in range(10_000))
    started = time.perf_counter()
    doc = parse_document("many.md", text.encode())
    elapsed = time.perf_counter() - started
    print(f"10,000 blocks: {elapsed:.2f} s")
    assert [b.index for b in doc.blocks] == list(range(1, 10_001))
    assert doc.blocks[-1].code == "x9999 = 9999\n" and doc.blocks[-1].heading == "B9999"
    assert elapsed < 15


@pytest.mark.parametrize(
    "nest",
    [
        lambda i: "  " * i + "- item\n",  # 500 nested lists
        lambda i: "> " * (i + 1) + "quote\n",  # 500 nested quotes
        lambda i: "    " * i + "!!! note\n\n",  # 500 nested admonitions
    ],
)
def test_deep_nesting_is_reported_and_the_rest_still_parsed(nest: Callable[[int], str]) -> None:
    deep = "".join(nest(i) for i in range(500))
    text = "```python\nbefore = 1\n```\n\n" + deep + "\n\n```python\nafter = 2\n```\n"
    started = time.perf_counter()
    doc = parse_document("deep.md", text.encode())
    assert time.perf_counter() - started < 5
    assert [b.code for b in doc.blocks] == ["before = 1\n", "after = 2\n"]
    (error,) = doc.errors
    assert error.startswith("deep.md:") and "nested too deeply" in error


def test_moderate_nesting_still_finds_the_block() -> None:
    quotes = "> " * 30
    block = parse_document("q.md", f"{quotes}```python\n{quotes}x = 1\n{quotes}```\n".encode())
    assert [b.code for b in block.blocks] == ["x = 1\n"] and block.errors == ()


def test_discover_survives_symlink_loops(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "a.md").write_text(GOOD)
    (docs / "sub" / "b.md").write_text(GOOD)
    (docs / "sub" / "loop").symlink_to(docs, target_is_directory=True)
    (docs / "self.md").symlink_to(docs / "self.md")
    (tmp_path / "outer.md").symlink_to(tmp_path / "outer.md")
    result: list[tuple[list[str], list[str]]] = []
    worker = threading.Thread(
        target=lambda: result.append(discover([str(docs), str(tmp_path / "outer.md")])),
        daemon=True,
    )
    worker.start()
    worker.join(timeout=20)
    assert result, "discover hung"
    files, errors = result[0]
    assert sorted(Path(f).name for f in files) == ["a.md", "b.md", "self.md"]
    assert errors == [f"{tmp_path / 'outer.md'}: symbolic link loop"]
    looped = read(next(Path(f) for f in files if f.endswith("self.md")))
    one_error(looped, "cannot read", "symbolic links")


def test_discover_names_missing_and_broken_paths(tmp_path: Path) -> None:
    (tmp_path / "broken.md").symlink_to(tmp_path / "nowhere.md")
    files, errors = discover([str(tmp_path / "broken.md"), str(tmp_path / "none.md")])
    assert files == []
    assert errors == [
        f"{tmp_path / 'broken.md'}: broken symbolic link",
        f"{tmp_path / 'none.md'}: no such file or folder",
    ]
    one_error(read(tmp_path / "broken.md"), "broken symbolic link")


# --- end to end ------------------------------------------------------------------------------


def _malformed_folder(root: Path) -> Path:
    docs = root / "docs"
    docs.mkdir()
    for name in ("good.md", "unterminated.md", "fence_longer_than_file.md", "tabs.md", "empty.md"):
        shutil.copy(DATA / name, docs / name)
    (docs / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)))
    (docs / "latin1.md").write_bytes("# Café\n".encode("latin-1"))
    (docs / "folder.md").mkdir()
    os.mkfifo(docs / "pipe.md")
    (docs / "self.md").symlink_to(docs / "self.md")
    (docs / "loop").symlink_to(docs, target_is_directory=True)
    deep = "".join("> " * (i + 1) + "q\n" for i in range(200))
    (docs / "deep.md").write_text(deep + "\n```python\nz = 3\n```\n")
    (docs / os.fsdecode(b"bad\xffname.md")).write_text("```python\nx = 1\n```\n")
    return docs


def run_cli(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any], str]:
    result: list[int] = []
    worker = threading.Thread(target=lambda: result.append(main(list(args))), daemon=True)
    worker.start()
    worker.join(timeout=120)
    assert result, "exampletest run hung"
    out, err = capsys.readouterr()
    return result[0], json.loads(out) if out.strip() else {}, err


def test_cli_checks_the_good_documents_in_a_malformed_folder(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = _malformed_folder(in_tmp)
    code, report, err = run_cli(
        "run", "--stages", "lint", "--format", "json", str(docs), capsys=capsys
    )
    assert code in (0, 1), err
    blocks = {d["path"]: [b["start_line"] for b in d["blocks"]] for d in report["documents"]}
    assert blocks["docs/good.md"] == [4]
    assert blocks["docs/tabs.md"] == [6, 11]
    assert blocks["docs/deep.md"] == [203]
    assert "Traceback" not in err
    problems = [line for line in err.splitlines() if line.startswith("exampletest: ")]
    for name in ("binary.md", "latin1.md", "pipe.md", "self.md", "unterminated.md", "deep.md"):
        assert sum(f"docs/{name}" in line for line in problems) == 1, (name, err)
    assert sum("bad\\xffname.md: file name is not valid UTF-8" in line for line in problems) == 1
    # With the cache too, and with every stage: nothing pending, no thread died.
    code, report, err = run_cli("run", "--format", "json", "--no-fix", str(docs), capsys=capsys)
    assert "Traceback" not in err and code in (0, 1)
    assert all(
        state in ("ran", "skipped")
        for d in report["documents"]
        for b in d["blocks"]
        for state in b["stages"].values()
    ), report


def test_cli_exits_2_when_nothing_could_be_checked(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = in_tmp / "docs"
    docs.mkdir()
    (docs / "binary.md").write_bytes(b"\x00\x01\x02")
    (docs / "latin1.md").write_bytes(b"caf\xe9\n")
    code, _, err = run_cli("run", "--stages", "lint", "--format", "json", str(docs), capsys=capsys)
    assert code == 2
    assert "docs/binary.md:1: binary file" in err and "docs/latin1.md:1: not valid UTF-8" in err
    # A path given that is not there (a typo in CI) is an error even when the rest ran.
    (docs / "good.md").write_text("```python\nx = 1\n```\n")
    code, report, err = run_cli(
        "run",
        "--stages",
        "lint",
        "--format",
        "json",
        str(docs / "good.md"),
        "nope.md",
        capsys=capsys,
    )
    assert code == 2 and report["documents"] and "nope.md: no such file or folder" in err
