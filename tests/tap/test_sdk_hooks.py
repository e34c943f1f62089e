"""singer-sdk's private parts stay in one room: `tap_customerio/sdk_hooks.py`.

The hooks there rely on private or final singer-sdk members; each is pinned by a fingerprint of its source, so
an upgraded singer-sdk that changes one fails here with the name of the hook to re-read. No other module of
the tap names a private singer-sdk member.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest
from singer_sdk import Tap
from singer_sdk.pagination import BaseAPIPaginator, BaseOffsetPaginator
from singer_sdk.streams import RESTStream
from singer_sdk.streams.rest import _HTTPStream

import tap_customerio
from tap_customerio import sdk_hooks
from tap_customerio.sdk_hooks import SDK_MEMBERS, SDKMember, changed_members

PACKAGE = Path(tap_customerio.__file__).parent


def mismatch(member: SDKMember) -> str | None:
    """Why `member` no longer matches the pinned singer-sdk, naming the hook; None when it matches."""
    current = member.current_fingerprint()
    if current == member.fingerprint:
        return None
    return (
        f"singer-sdk changed {member.path} (fingerprint {member.fingerprint} -> {current}), which "
        f"sdk_hooks.{member.hook} relies on: re-read that hook against the new singer-sdk, then update the fingerprint"
    )


@pytest.mark.parametrize("member", SDK_MEMBERS, ids=lambda member: member.path)
def test_each_private_singer_sdk_member_a_hook_relies_on_is_as_pinned(member: SDKMember) -> None:
    assert mismatch(member) is None, mismatch(member)


def test_a_changed_singer_sdk_member_is_reported_with_the_hook_relying_on_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def _request(self: RESTStream, prepared_request: object, context: object) -> None:
        """A singer-sdk release that sends requests differently."""

    monkeypatch.setattr(_HTTPStream, "_request", _request)

    assert [member.hook for member in changed_members()] == ["StreamHooks.send_attempt"]
    message = mismatch(next(m for m in SDK_MEMBERS if m.hook == "StreamHooks.send_attempt"))
    assert message is not None
    assert "singer_sdk.streams.rest:_HTTPStream._request" in message
    assert "sdk_hooks.StreamHooks.send_attempt" in message


def test_a_removed_singer_sdk_member_is_reported_with_the_hook_relying_on_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(Tap, "_set_compatible_replication_methods")

    assert [member.hook for member in changed_members()] == ["TapHooks.prepare_sync"]


def test_every_hook_named_in_the_pins_exists_in_sdk_hooks() -> None:
    for member in SDK_MEMBERS:
        owner, *attribute = member.hook.split(".")
        found = getattr(sdk_hooks, owner)
        for name in attribute:
            found = getattr(found, name)
        assert callable(found), member.hook


def sdk_private_names() -> set[str]:
    """Private names singer-sdk defines on the classes the tap builds on: class members and the instance
    attributes their code sets or reads (`self._tap`, `self._page_size`, ...)."""
    names: set[str] = set()
    for base in (RESTStream, Tap, BaseAPIPaginator, BaseOffsetPaginator):
        for cls in base.__mro__:
            if not cls.__module__.startswith("singer_sdk"):
                continue
            names.update(name for name in vars(cls) if is_private(name))
            names.update(re.findall(r"\bself\.(_[A-Za-z]\w*)", inspect.getsource(cls)))
    return {name for name in names if is_private(name)}


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_uses(path: Path, private: set[str]) -> list[str]:
    """Where the module at `path` names or overrides one of `private`, or imports from a private singer-sdk module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Attribute) and node.attr in private:
            found.append(f"{path.name}:{node.lineno} uses {node.attr}")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in private:
            found.append(f"{path.name}:{node.lineno} overrides {node.name}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("singer_sdk"):
            parts = [*(node.module or "").split("."), *(alias.name for alias in node.names)]
            if any(is_private(part) for part in parts):
                found.append(f"{path.name}:{node.lineno} imports from {node.module}")
    return found


def test_no_tap_module_but_sdk_hooks_touches_a_private_singer_sdk_member() -> None:
    private = sdk_private_names()
    modules = sorted(path for path in PACKAGE.rglob("*.py") if path.name != "sdk_hooks.py")

    assert [use for path in modules for use in private_uses(path, private)] == []


def test_the_scan_finds_a_private_singer_sdk_member_where_one_is_used(tmp_path: Path) -> None:
    module = tmp_path / "stream.py"
    module.write_text(
        "from singer_sdk.helpers._util import utc_now\n"
        "class S:\n"
        "    def _request(self, prepared, context):\n"
        "        return self._tap\n"
    )

    assert private_uses(module, sdk_private_names()) == [
        "stream.py:1 imports from singer_sdk.helpers._util",
        "stream.py:3 overrides _request",
        "stream.py:4 uses _tap",
    ]
