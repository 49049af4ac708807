"""Secrets are never compared with == or != (whose time tells how much of a guess was right):
a scan of the modules that check tokens, keys and signatures, with the scan's own tests."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Where presented credentials, tokens and signatures are checked.
SCANNED = ["api", "store", "vendors", "connections", "codec.py"]
# What a secret is called here.
SECRET_NAME = re.compile(
    r"secret|token|signature|password|passwd|digest|hmac|nonce|api_?key|(^|_)key$|credential|capability",
    re.IGNORECASE,
)
# Comparisons the scan flags that compare no presented secret, each with the reason.
NOT_A_SECRET_CHECK = {
    (
        "api/console/accounts.py",
        "token.id == token_id",
    ): "a trigger token's id, which every token list shows, against the id in the page's URL",
    (
        "vendors/testgorilla.py",
        "self._token == stale",
    ): "our own cached session token against the one a failed call used: nothing presented to us",
    (
        "vendors/registry.py",
        "built.credentials == account.credentials",
    ): (
        "the stored credentials against those an adapter was built with: a cache check, "
        "nothing presented to us"
    ),
}


def _identities(node: ast.expr) -> list[str]:
    """The names an operand goes by: a variable, an attribute, a called function (and the
    constant key of .get(…) or […]), or any part of a formatted string or concatenation."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        return [node.attr]
    if isinstance(node, ast.Call):
        keys = [
            arg.value
            for arg in node.args[:1]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
        ]
        is_lookup = isinstance(node.func, ast.Attribute) and node.func.attr in ("get", "pop")
        return _identities(node.func) + (keys if is_lookup else [])
    if isinstance(node, ast.Subscript):
        key = node.slice
        return (
            [key.value]
            if isinstance(key, ast.Constant) and isinstance(key.value, str)
            else _identities(node.value)
        )
    if isinstance(node, (ast.JoinedStr, ast.BinOp, ast.FormattedValue)):
        return [
            name
            for child in ast.iter_child_nodes(node)
            if isinstance(child, ast.expr)
            for name in _identities(child)
        ]
    return []


def _literal(node: ast.expr) -> bool:
    """A literal, or a module constant (an ALL_CAPS name such as a header's name)."""
    return isinstance(node, ast.Constant) or (isinstance(node, ast.Name) and node.id.isupper())


def secret_comparisons(source: str) -> list[str]:
    """Every `a == b` or `a != b` where a side is named like a secret and neither is a literal."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        for op, left, right in zip(node.ops, operands, operands[1:], strict=False):
            if not isinstance(op, (ast.Eq, ast.NotEq)) or _literal(left) or _literal(right):
                continue
            if any(
                SECRET_NAME.search(name) for side in (left, right) for name in _identities(side)
            ):
                found.append(ast.unparse(ast.Compare(left=left, ops=[op], comparators=[right])))
    return found


def _scanned_files() -> list[Path]:
    files = []
    for entry in SCANNED:
        path = ROOT / entry
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path] if path.exists() else []
    return [f for f in files if "migrations" not in f.parts]


def test_no_secret_is_compared_with_equality():
    found = {
        (str(path.relative_to(ROOT)), comparison)
        for path in _scanned_files()
        for comparison in secret_comparisons(path.read_text())
    }
    assert sorted(found - NOT_A_SECRET_CHECK.keys()) == []
    assert len(_scanned_files()) > 20  # the scan found the modules


@pytest.mark.parametrize(
    "code",
    [
        "ok = presented == expected_key",
        "ok = token != stored",
        "ok = hmac.new(k, body, sha256).hexdigest() == signature",
        "ok = claims.get('nonce') == cookie",
        "ok = settings.admin_api_key.get_secret_value() == presented",
        "ok = request.headers['x-signature'] == computed",
        "ok = header == f'Bearer {api_key}'",
        "ok = a == b == self._client_secret",
    ],
)
def test_the_scan_finds_a_secret_compared_with_equality(code):
    assert secret_comparisons(code) != []


@pytest.mark.parametrize(
    "code",
    [
        "ok = hmac.compare_digest(presented, expected_key)",
        "ok = scheme.lower() != 'bearer'",
        "ok = key == 't'",
        "ok = token is None",
        "ok = len(signatures) != 1",
        "ok = token.vendor_account_id != vendor_account_id",
        "ok = claims.get('company') == company_id",
        "ok = k.lower() == SIGNATURE_HEADER",
    ],
)
def test_the_scan_leaves_other_comparisons_alone(code):
    assert secret_comparisons(code) == []
