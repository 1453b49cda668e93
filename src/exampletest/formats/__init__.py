"""Report formats: each module renders the same :class:`~exampletest.model.Report` to a string.

Every module has ``render(report, *, color=False, verbose=0, fail_on="broken") -> str``;
arguments a format has no use for are accepted and ignored, so callers never special-case.
Modules are imported on first use: ``--format json`` never pays for rich or pygments.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from exampletest.model import Report

NAMES: tuple[str, ...] = ("text", "json", "sarif", "junit", "github", "markdown", "html")


def _lazy(name: str) -> Callable[..., str]:
    def render(report: Report, **options: Any) -> str:
        module = importlib.import_module(f"{__name__}.{name}")
        result: str = module.render(report, **options)
        return result

    render.__name__ = f"render_{name}"
    render.__doc__ = f"Render a report as {name} (imports exampletest.formats.{name} on call)."
    return render


FORMATS: dict[str, Callable[..., str]] = {name: _lazy(name) for name in NAMES}
