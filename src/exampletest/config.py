"""``[tool.exampletest]`` in the nearest pyproject.toml, validated; CLI flags override it.

Keys are kebab-case (snake_case accepted). An unknown key or a bad value is a ConfigError
naming the file and the key, which the CLI turns into exit code 2.
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exampletest.model import STAGES

FAIL_ON = ("broken", "stale", "incomplete", "env", "never")
#: The Python versions ruff's ``--target-version`` takes.
TARGET_VERSIONS = tuple(f"py3{minor}" for minor in range(7, 15))


class ConfigError(ValueError):
    """Bad configuration: one line saying what and where."""


@dataclass(frozen=True)
class Override:
    patterns: tuple[str, ...]
    stages: frozenset[str] | None = None
    fail_on: str | None = None

    def matches(self, path: str) -> bool:
        norm = path.replace("\\", "/")
        return any(
            fnmatch.fnmatch(norm, p) or fnmatch.fnmatch(norm, f"*/{p}") for p in self.patterns
        )


@dataclass(frozen=True)
class Config:
    source: Path | None = None
    paths: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    fail_on: str = "broken"
    stages: frozenset[str] = frozenset(STAGES)
    ruff_select: tuple[str, ...] | None = None
    ruff_ignore: tuple[str, ...] | None = None
    mypy_options: tuple[str, ...] = ()
    target_version: str | None = None
    smoke_timeout: float = 15.0
    smoke_env: tuple[str, ...] = ()
    stubs_dir: str = "stubs"
    cache_dir: str = ".exampletest_cache"
    jobs: int | None = None
    overrides: tuple[Override, ...] = field(default=())

    def fail_on_for(self, path: str) -> str:
        for o in self.overrides:
            if o.fail_on is not None and o.matches(path):
                return o.fail_on
        return self.fail_on

    def stages_for(self, path: str) -> frozenset[str] | None:
        for o in self.overrides:
            if o.stages is not None and o.matches(path):
                return o.stages
        return None


def load(start: Path | None = None) -> Config:
    """The nearest ``pyproject.toml`` with a ``[tool.exampletest]`` table, as ruff and pytest
    look for theirs: a package's own pyproject without one does not hide the project's."""
    here = (start or Path.cwd()).resolve()
    for folder in [here, *here.parents]:
        path = folder / "pyproject.toml"
        if not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read: {exc}") from None
        tool = data.get("tool", {})
        table = tool.get("exampletest") if isinstance(tool, dict) else None
        if table is not None:
            return parse(table, path)
    return Config()


def _key(raw: str) -> str:
    return raw.replace("_", "-")


_SCALAR_KEYS = {
    "paths",
    "exclude",
    "fail-on",
    "stages",
    "ruff-select",
    "ruff-ignore",
    "mypy-options",
    "target-version",
    "smoke-timeout",
    "smoke-env",
    "stubs-dir",
    "cache-dir",
    "jobs",
    "overrides",
}


def parse(table: Any, where: Path) -> Config:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [tool.exampletest] must be a table")
    values: dict[str, Any] = {}
    for raw, value in table.items():
        key = _key(raw)
        if key not in _SCALAR_KEYS:
            known = ", ".join(sorted(_SCALAR_KEYS))
            raise ConfigError(f"{where}: unknown key tool.exampletest.{raw} (known: {known})")
        values[key] = value
    ctx = f"{where}: tool.exampletest"
    cfg: dict[str, Any] = {"source": where}
    for name in ("paths", "exclude", "smoke-env", "mypy-options"):
        if name in values:
            cfg[name.replace("-", "_")] = tuple(_strings(values[name], f"{ctx}.{name}"))
    for name in ("ruff-select", "ruff-ignore"):
        if name in values:
            cfg[name.replace("-", "_")] = tuple(_strings(values[name], f"{ctx}.{name}"))
    if "fail-on" in values:
        cfg["fail_on"] = _fail_on(values["fail-on"], f"{ctx}.fail-on")
    if "stages" in values:
        cfg["stages"] = _stages(values["stages"], f"{ctx}.stages")
    if "target-version" in values:
        tv = values["target-version"]
        if not isinstance(tv, str) or tv not in TARGET_VERSIONS:
            known = f"{TARGET_VERSIONS[0]} ... {TARGET_VERSIONS[-1]}"
            raise ConfigError(f"{ctx}.target-version: expected one of {known}, got {tv!r}")
        cfg["target_version"] = tv
    if "smoke-timeout" in values:
        t = values["smoke-timeout"]
        if isinstance(t, bool) or not isinstance(t, int | float) or not 0 < t <= 3600:
            raise ConfigError(f"{ctx}.smoke-timeout: expected seconds in (0, 3600], got {t!r}")
        cfg["smoke_timeout"] = float(t)
    for name in ("stubs-dir", "cache-dir"):
        if name in values:
            if not isinstance(values[name], str) or not values[name]:
                raise ConfigError(f"{ctx}.{name}: expected a folder path string")
            cfg[name.replace("-", "_")] = values[name]
    if "jobs" in values:
        j = values["jobs"]
        if isinstance(j, bool) or not isinstance(j, int) or j < 1:
            raise ConfigError(f"{ctx}.jobs: expected a positive integer, got {j!r}")
        cfg["jobs"] = j
    if "overrides" in values:
        cfg["overrides"] = tuple(_overrides(values["overrides"], f"{ctx}.overrides"))
    return Config(**cfg)


def _strings(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of strings, got {value!r}")
    return list(value)


def _fail_on(value: Any, where: str) -> str:
    if value not in FAIL_ON:
        raise ConfigError(f"{where}: expected one of {', '.join(FAIL_ON)}, got {value!r}")
    return str(value)


def _stages(value: Any, where: str) -> frozenset[str]:
    items = [s.strip() for s in value.split(",")] if isinstance(value, str) else value
    names = _strings(items, where)
    unknown = [n for n in names if n not in STAGES]
    if unknown:
        raise ConfigError(f"{where}: unknown stage {unknown[0]!r} (known: {', '.join(STAGES)})")
    if not names:
        raise ConfigError(f"{where}: no stage given (known: {', '.join(STAGES)})")
    return frozenset(names)


def parse_stages(value: str) -> frozenset[str]:
    return _stages(value, "--stages")


def _overrides(value: Any, where: str) -> list[Override]:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: expected an array of tables ([[tool.exampletest.overrides]])")
    out = []
    for i, item in enumerate(value):
        at = f"{where}[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{at}: expected a table")
        keys = {_key(k): v for k, v in item.items()}
        unknown = set(keys) - {"paths", "stages", "fail-on"}
        if unknown:
            raise ConfigError(
                f"{at}: unknown key {sorted(unknown)[0]!r} (known: paths, stages, fail-on)"
            )
        if "paths" not in keys:
            raise ConfigError(f"{at}: missing 'paths'")
        out.append(
            Override(
                patterns=tuple(_strings(keys["paths"], f"{at}.paths")),
                stages=_stages(keys["stages"], f"{at}.stages") if "stages" in keys else None,
                fail_on=_fail_on(keys["fail-on"], f"{at}.fail-on") if "fail-on" in keys else None,
            )
        )
    return out
