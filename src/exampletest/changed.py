"""``--changed-since REF``: which blocks differ from a git ref, and ``--shard K/N``.

A block is unchanged when a block with the same code (and the same directives) existed in the
document at REF, wherever it was: moving a block or editing the prose around it re-checks
nothing, while unchanged blocks still give their context to the ones that are checked.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from exampletest.discover import discover
from exampletest.model import Block, Directives, Document
from exampletest.parse import parse_document


class GitError(ValueError):
    """The git side cannot be used: one line saying why (exit code 2)."""


def _git(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except OSError as exc:
        raise GitError(f"--changed-since: cannot run git: {exc.strerror or exc}") from None


def _identity(block: Block) -> tuple[str, Directives]:
    return block.code, block.directives


class ChangedSince:
    """An ``Options.only`` callback: the indexes of the blocks new or edited since ``ref``."""

    def __init__(self, ref: str, cwd: Path | None = None) -> None:
        cwd = cwd or Path.cwd()
        top = _git(["rev-parse", "--show-toplevel"], cwd)
        if top.returncode != 0:
            raise GitError(f"--changed-since: {cwd} is not inside a git work tree")
        self.ref = ref
        self.cwd = cwd
        self.top = Path(os.fsdecode(top.stdout.strip()))
        commit = _git(
            ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"], cwd
        )
        if commit.returncode != 0:
            raise GitError(f"--changed-since: unknown git ref {ref!r}")
        self.commit = commit.stdout.decode().strip()
        self._memo: dict[str, set[int]] = {}
        self._renames: dict[str, str] | None = None

    def old_text(self, path: str) -> bytes | None:
        """The document's bytes at the ref; None when it did not exist there (or lies outside)."""
        rel = os.path.relpath((self.cwd / path).resolve(), self.top.resolve())
        if rel.startswith(".."):
            return None
        shown = _git(["show", f"{self.commit}:{Path(rel).as_posix()}"], self.cwd)
        if shown.returncode != 0 and (old := self.renamed_from().get(Path(rel).as_posix())):
            shown = _git(["show", f"{self.commit}:{old}"], self.cwd)
        return shown.stdout if shown.returncode == 0 else None

    def renamed_from(self) -> dict[str, str]:
        """New path -> path at the ref, for the files git sees as moved since (``git mv``, a
        commit that moved them): a renamed document's blocks are not new."""
        if self._renames is None:
            diff = _git(["diff", "-M", "--name-status", "-z", self.commit, "--"], self.top)
            fields = os.fsdecode(diff.stdout).split("\0") if diff.returncode == 0 else []
            self._renames = {}
            i = 0
            while i < len(fields) and fields[i]:
                if fields[i].startswith(("R", "C")) and i + 2 < len(fields):
                    self._renames[fields[i + 2]] = fields[i + 1]
                    i += 3
                else:
                    i += 2
        return self._renames

    def __call__(self, doc: Document) -> set[int]:
        if doc.path not in self._memo:
            raw = self.old_text(doc.path)
            old = {_identity(b) for b in parse_document(doc.path, raw).blocks} if raw else set()
            self._memo[doc.path] = {b.index for b in doc.blocks if _identity(b) not in old}
        return self._memo[doc.path]


def parse_shard(spec: str) -> tuple[int, int]:
    """``"K/N"`` -> (K, N) with 1 <= K <= N; ValueError with a one-line reason otherwise."""
    k, sep, n = spec.partition("/")
    if not sep or not k.strip().isdigit() or not n.strip().isdigit():
        raise ValueError(f"--shard expects K/N (e.g. 1/4), got {spec!r}")
    shard, total = int(k), int(n)
    if not 1 <= shard <= total:
        raise ValueError(f"--shard {spec}: K must be between 1 and N")
    return shard, total


def shard_paths(paths: Sequence[str], exclude: Sequence[str], shard: tuple[int, int]) -> list[str]:
    """This shard's documents: sorted round-robin, so shards are even and every shard agrees.

    Paths that cannot be used are kept, so that every shard reports them.
    """
    k, n = shard
    files, _errors = discover(paths, exclude)
    ordered = sorted(files, key=lambda f: Path(f).as_posix())
    mine = [f for i, f in enumerate(ordered) if i % n == k - 1]
    return mine + [p for p in paths if not os.path.exists(p)]
