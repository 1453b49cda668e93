"""Authentication code: JWT decoding, password hashing, unmaintained auth libraries (ET401-ET406).

Facts checked here: PyJWT 2.x ``jwt.decode`` without ``algorithms=`` raises DecodeError (1.x
accepted any algorithm the token names); PyJWT 2.x ignores ``verify=False`` with a
DeprecationWarning; passlib 1.7.4 (its last release) with bcrypt 5 raises ValueError on its
first bcrypt hash.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from exampletest.model import Category
from exampletest.rules.base import STDLIB, Context, Hit, dotted, is_false, keyword, rule

SECURITY, STALE, BROKEN = Category.SECURITY, Category.STALE, Category.BROKEN

_PYJWT_DECODE = ("jwt.decode", "jwt.api_jwt.decode")
_JOSE_DECODE = ("jose.jwt.decode",)
_SECRETISH = re.compile(r"passw|pwd|passphrase|secret", re.I)


def _jwt_decodes(ctx: Context) -> Iterator[tuple[ast.Call, bool]]:
    """``jwt.decode(...)`` calls, with whether they are python-jose's."""
    for call in ctx.calls():
        if ctx.qualname(call.func) in _JOSE_DECODE:
            yield call, True
        elif ctx.matches(call.func, _PYJWT_DECODE):
            yield call, False


def _skips_signature(call: ast.Call) -> bool:
    options = keyword(call, "options")
    if options is None or not isinstance(options.value, ast.Dict):
        return False
    return any(
        isinstance(k, ast.Constant) and k.value == "verify_signature" and is_false(v)
        for k, v in zip(options.value.keys, options.value.values, strict=True)
    )


@rule(
    "ET401",
    "jwt.decode without algorithms=",
    SECURITY,
    "pyjwt",
    "",
    'jwt.decode(token, key, algorithms=["HS256"])',
    modules=("jwt", "jose"),
)
def decode_without_algorithms(ctx: Context) -> Iterator[Hit]:
    for call, jose in _jwt_decodes(ctx):
        # (token, key, algorithms) is the positional order in both libraries
        if keyword(call, "algorithms") or len(call.args) >= 3 or _skips_signature(call):
            continue
        if not jose and ctx.at_least("pyjwt", "2.0"):
            yield Hit(
                call,
                "`jwt.decode()` without `algorithms=`: PyJWT 2 raises DecodeError; pin the "
                "algorithms you issue",
                suggestion='jwt.decode(token, key, algorithms=["HS256"])',
                category=BROKEN,
            )
        else:
            yield Hit(
                call,
                "`jwt.decode()` without `algorithms=` accepts whatever algorithm the token names "
                "(algorithm confusion): pin the algorithms you issue",
                suggestion='jwt.decode(token, key, algorithms=["HS256"])',
            )


@rule(
    "ET402",
    "JWT signature verification disabled",
    SECURITY,
    "pyjwt",
    "",
    "verify the signature: drop verify=False / options={'verify_signature': False}",
    modules=("jwt", "jose"),
)
def signature_disabled(ctx: Context) -> Iterator[Hit]:
    for call, jose in _jwt_decodes(ctx):
        if _skips_signature(call):
            options = keyword(call, "options")
            assert options is not None
            yield Hit(
                options,
                "`jwt.decode()` with verify_signature False trusts any forged token",
                suggestion="verify the signature; to read claims of an untrusted token, never "
                "use them for authorization",
            )
        verify = keyword(call, "verify")
        if verify is not None and is_false(verify.value):
            if not jose and ctx.at_least("pyjwt", "2.0"):
                yield Hit(
                    verify,
                    "`verify=False` does nothing in PyJWT 2 (it warns and still verifies): "
                    "remove it",
                    suggestion="remove verify=False",
                    category=STALE,
                )
            else:
                yield Hit(
                    verify,
                    "`jwt.decode(verify=False)` skips signature verification and trusts any "
                    "forged token",
                    suggestion="remove verify=False",
                )


@rule(
    "ET403",
    "python-jose",
    STALE,
    "python-jose",
    "",
    "PyJWT (import jwt)",
    modules=("jose",),
)
def python_jose(ctx: Context) -> Iterator[Hit]:
    for node in ctx.walk(ast.Import, ast.ImportFrom):
        assert isinstance(node, ast.Import | ast.ImportFrom)
        modules = (
            [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        )
        if any(m == "jose" or m.startswith("jose.") for m in modules) and not getattr(
            node, "level", 0
        ):
            yield Hit(
                node,
                "python-jose went years without maintenance and FastAPI's docs replaced it with "
                "PyJWT: use PyJWT",
                suggestion="pip install pyjwt; import jwt; jwt.encode(...) / "
                'jwt.decode(token, key, algorithms=["HS256"]); catch jwt.InvalidTokenError',
            )


@rule(
    "ET404",
    "passlib",
    STALE,
    "passlib",
    "",
    "pwdlib or argon2-cffi (argon2.PasswordHasher)",
    modules=("passlib",),
)
def passlib(ctx: Context) -> Iterator[Hit]:
    uses_bcrypt = "bcrypt" in ctx.code
    broken = uses_bcrypt and ctx.version("passlib") is not None and ctx.at_least("bcrypt", "5.0")
    for node in ctx.walk(ast.Import, ast.ImportFrom):
        assert isinstance(node, ast.Import | ast.ImportFrom)
        modules = (
            [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        )
        if not any(m == "passlib" or m.startswith("passlib.") for m in modules):
            continue
        message = (
            "passlib is unmaintained (last release 1.7.4, 2020) and FastAPI's docs replaced it "
            "with pwdlib: use pwdlib or argon2-cffi"
        )
        if uses_bcrypt and ctx.at_least("bcrypt", "5.0"):
            message += (
                "; with bcrypt>=5 installed, passlib 1.7.4's bcrypt scheme raises ValueError "
                "on its first hash"
            )
        yield Hit(
            node,
            message,
            suggestion="from argon2 import PasswordHasher; ph = PasswordHasher(); ph.hash(pw); "
            "ph.verify(hash, pw)",
            category=BROKEN if broken else None,
        )


@rule(
    "ET405",
    "bcrypt.gensalt with fewer than 12 rounds",
    SECURITY,
    "bcrypt",
    "",
    "bcrypt.gensalt() (12 rounds) or more",
)
def weak_gensalt(ctx: Context) -> Iterator[Hit]:
    for call in ctx.calls():
        if not ctx.matches(call.func, ("bcrypt.gensalt",)):
            continue
        kw = keyword(call, "rounds")
        rounds = kw.value if kw else (call.args[0] if call.args else None)
        if (
            isinstance(rounds, ast.Constant)
            and isinstance(rounds.value, int)
            and not isinstance(rounds.value, bool)
            and rounds.value < 12
        ):
            yield Hit(
                rounds,
                f"`bcrypt.gensalt({rounds.value})` is below bcrypt's default cost of 12: "
                "passwords are cheaper to brute-force",
                suggestion="bcrypt.gensalt() (12) or higher",
            )


@rule(
    "ET406",
    "fast hash of a password",
    SECURITY,
    STDLIB,
    "",
    "a password hash: argon2-cffi (PasswordHasher) or bcrypt",
    modules=("hashlib",),
)
def fast_password_hash(ctx: Context) -> Iterator[Hit]:
    fast = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512", "blake2b", "blake2s")
    for call in ctx.calls():
        if ctx.matches(call.func, [f"hashlib.{h}" for h in fast]):
            data = call.args[0] if call.args else None
        elif ctx.matches(call.func, ("hashlib.new",)) and len(call.args) >= 2:
            data = call.args[1]
        else:
            continue
        if data is None or not any(_SECRETISH.search(n) for n in _names_in(data)):
            continue
        algo = (dotted(call.func) or "hashlib").rsplit(".", 1)[-1]
        yield Hit(
            call,
            f"`{algo}` on a password is a fast hash, brute-forced cheaply: use a password "
            "hash (argon2, bcrypt)",
            suggestion="from argon2 import PasswordHasher; PasswordHasher().hash(password)",
        )


def _names_in(node: ast.AST) -> Iterator[str]:
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            yield n.id
        elif isinstance(n, ast.Attribute):
            yield n.attr
