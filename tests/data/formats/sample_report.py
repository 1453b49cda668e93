"""A hand-built Report covering every status, every category, an intentional finding and fixes.

Shared by tests/test_formats.py, test_terminal.py and test_html.py (loaded with runpy, so it
works whatever pytest's import mode is). guide.md next to this file is the document it describes.
"""

from __future__ import annotations

from exampletest.model import (
    Block,
    BlockResult,
    Category,
    Directives,
    DocumentResult,
    Finding,
    Fix,
    Report,
    Status,
)

RAN = {"lint": "ran", "types": "ran", "smoke": "ran"}


def block(path, index, fence_line, code, heading, *, prefixes=(), offset=0, info="python", **kw):
    n = len(code.split("\n"))
    lines = tuple(range(fence_line + 1, fence_line + 1 + n))
    return Block(
        doc_path=path,
        index=index,
        fence_line=fence_line,
        start_line=lines[0],
        end_line=kw.pop("end_line", lines[-1]),
        language="python",
        info=info,
        heading=heading,
        code=code,
        line_map=kw.pop("line_map", lines),
        col_offsets=(offset,) * n,
        prefixes=prefixes,
        **kw,
    )


def f(stage, tool, rule, category, line, column, message, end=None, **kw):
    end_line, end_column = end if end else (None, None)
    return Finding(stage, tool, rule, Category(category), line, column, message,
                   end_line=end_line, end_column=end_column, **kw)


GUIDE_B1 = '''from typing import List, Optional

from pydantic import BaseModel, validator


class User(BaseModel):
    name: str
    tags: List[str] = []
    nickname: Optional[str] = None

    @validator("name")
    def check(cls, v):
        return v'''

GUIDE_B1_FIXED = '''from pydantic import BaseModel, validator


class User(BaseModel):
    name: str
    tags: list[str] = []
    nickname: str | None = None

    @validator("name")
    def check(cls, v):
        return v'''

GUIDE_B1_DIFF = '''--- a/docs/guide.md
+++ b/docs/guide.md
@@ -10,4 +10,2 @@
 ```python
-from typing import List, Optional
-
 from pydantic import BaseModel, validator
@@ -17,4 +15,4 @@
     name: str
-    tags: List[str] = []
-    nickname: Optional[str] = None
+    tags: list[str] = []
+    nickname: str | None = None
 
'''

GUIDE_B2 = '''from pydantic import BaseSettings

PASSWORD = "hunter2"  # BAD: never hard-code secrets
query = "SELECT * FROM users WHERE name = '%s'" % name'''


def sample_report() -> Report:
    g = "docs/guide.md"
    b1 = block(g, 1, 10, GUIDE_B1, "Models")
    b2 = block(g, 2, 27, GUIDE_B2, "Settings & <secrets>")
    b3 = block(g, 3, 35, 'print("hello")', "Settings & <secrets>")
    b4 = block(g, 4, 40, "import structlog\n\nlog = structlog.get_logger()", "Logging")
    guide = DocumentResult(g, [
        BlockResult(b1, [
            f("lint", "ruff", "UP035", "stale", 11, 1, "`typing.List` is deprecated, use `list` instead", (11, 34)),
            f("lint", "ruff", "UP006", "stale", 18, 11, "Use `list` instead of `List` for type annotation",
              (18, 15), suggestion="Replace with `list`"),
            f("lint", "ruff", "UP045", "stale", 19, 15, "Use `X | None` for type annotations", (19, 28)),
            f("types", "mypy", "deprecated", "stale", 21, 5,
              'function pydantic.deprecated.class_validators.validator is deprecated: Pydantic V1 style '
              '`@validator` validators are deprecated.',
              suggestion="Use `@field_validator` (with `@classmethod`)",
              corroboration=("python:PydanticDeprecatedSince20",)),
        ], dict(RAN), Status.STALE, "extracted/guide/b01_models.py",
            Fix(GUIDE_B1_FIXED, GUIDE_B1_DIFF, ("UP035", "UP006", "UP045"), True)),
        BlockResult(b2, [
            f("smoke", "python", "PydanticImportError", "broken", 28, 1,
              "`BaseSettings` has been moved to the `pydantic-settings` package", (28, 34),
              suggestion="pip install pydantic-settings; from pydantic_settings import BaseSettings"),
            f("lint", "ruff", "S105", "security", 30, 12, 'Possible hardcoded password assigned to: "PASSWORD"',
              (30, 21), intentional=True),
            f("lint", "ruff", "S608", "security", 31, 9,
              "Possible SQL injection vector through string-based query construction", (31, 55)),
            f("lint", "ruff", "F821", "incomplete", 31, 51, "Undefined name `name`", (31, 55)),
        ], dict(RAN), Status.BROKEN, "extracted/guide/b02_settings.py",
            Fix("from pydantic_settings import BaseSettings\n\nPASSWORD = 'x'",
                "--- a/docs/guide.md\n+++ b/docs/guide.md\n@@ -28 +28 @@\n"
                "-from pydantic import BaseSettings\n+from pydantic_settings import BaseSettings\n",
                ("PydanticImportError",), False, ("pydantic-settings is not installed here",))),
        BlockResult(b3, [], dict(RAN), Status.OK, "extracted/guide/b03_settings.py"),
        BlockResult(b4, [
            f("smoke", "python", "ModuleNotFoundError", "env", 41, 1, "No module named 'structlog'", (41, 17),
              suggestion="pip install structlog"),
        ], {"lint": "ran", "types": "ran", "smoke": "error"}, Status.ENV, "extracted/guide/b04_logging.py"),
    ])

    r = "docs/api/routes.md"
    r1 = block(r, 1, 5, '@app.get("/users/{user_id}")\nasync def read_user(user_id: int, db=Depends(get_db)):\n'
               "    return await db.get(User, user_id)", "Routes")
    r2 = block(r, 2, 12, "app.run()", "Routes", directives=Directives(skip=frozenset({"all"})),
               skip_reason="directive: <!-- exampletest: skip -->")
    r3 = block(r, 3, 17, "x = None\nx == None", "Shell session", prefixes=("    >>> ", "    >>> "),
               offset=8, info="pycon", end_line=20)
    routes = DocumentResult(r, [
        BlockResult(r1, [
            f("lint", "ruff", "F821", "incomplete", 6, 2, "Undefined name `app`", (6, 5)),
            f("lint", "ruff", "F821", "incomplete", 7, 39, "Undefined name `Depends`", (7, 46),
              suggestion="from fastapi import Depends"),
        ], dict(RAN), Status.INCOMPLETE, "extracted/routes/b01_routes.py"),
        BlockResult(r2, [], {"lint": "skipped", "types": "skipped", "smoke": "skipped"}, Status.SKIPPED),
        BlockResult(r3, [
            f("lint", "ruff", "E711", "style", 19, 11, "Comparison to `None` should be `cond is None`", (19, 15)),
        ], dict(RAN), Status.OK, "extracted/routes/b03_shell_session.py"),
    ])
    empty = DocumentResult("docs/notes.md", [], ["not valid UTF-8 at byte 120"])
    return Report(
        [guide, routes, empty],
        tool_version="0.1.0",
        environment={"python": "3.11.9", "packages": {"pydantic": "2.11.0"}},
        duration_s=3.21,
    )
