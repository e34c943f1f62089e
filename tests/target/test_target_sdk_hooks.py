"""The target's uses of singer-sdk's private members: all in `sdk_hooks`, and all still as the
pinned singer-sdk has them.

When a singer-sdk upgrade changes a function a hook relies on, the first test fails naming the
hook and the function; re-read that function, adapt the hook, and update its fingerprint in
`sdk_hooks.SDK_PRIVATE_USES` (the failure message shows the new one).
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import inspect
import re
import typing as t
from importlib.metadata import version
from pathlib import Path

import pytest
from singer_sdk.plugin_base import BaseSingerReader, PluginBase
from singer_sdk.singerlib.encoding.base import GenericSingerReader
from singer_sdk.sinks import BatchSink
from singer_sdk.target_base import Target

import target_parquet_bucket
from target_parquet_bucket import sdk_hooks
from target_parquet_bucket.sdk_hooks import SDK_PRIVATE_USES, PrivateUse

PACKAGE = Path(target_parquet_bucket.__file__).parent
SDK_VERSION = version("singer-sdk")
#: The singer-sdk classes the target extends or calls into.
SDK_CLASSES = (Target, BatchSink, GenericSingerReader, BaseSingerReader, PluginBase)


def resolve(sdk: str) -> t.Any:
    """The singer-sdk object named `module:Qualified.name`."""
    module, _, qualname = sdk.partition(":")
    found: t.Any = importlib.import_module(module)
    for part in qualname.split("."):
        found = inspect.getattr_static(found, part)
    return found.fget if isinstance(found, property) else found


def as_installed(use: PrivateUse) -> PrivateUse:
    """`use` with the signature and source fingerprint of the installed singer-sdk."""
    found = resolve(use.sdk)
    source = inspect.getsource(found)
    signature = str(inspect.signature(found))
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    return PrivateUse(use.hook, use.sdk, signature, digest)


def change_of(use: PrivateUse) -> str | None:
    """What changed in singer-sdk under `use`'s hook, or None."""
    try:
        installed = as_installed(use)
    except (AttributeError, ImportError, TypeError, OSError) as exc:
        return f"sdk_hooks.{use.hook}: singer-sdk {SDK_VERSION} has no {use.sdk} ({exc})"
    if installed == use:
        return None
    return (
        f"sdk_hooks.{use.hook}: {use.sdk} changed in singer-sdk {SDK_VERSION} "
        f"(signature {installed.signature!r}, source_sha256 {installed.source_sha256!r}; pinned: "
        f"{use.signature!r}, {use.source_sha256!r}); re-read it and adapt the hook"
    )


@pytest.mark.parametrize("use", SDK_PRIVATE_USES, ids=lambda use: f"{use.hook}:{use.sdk.rpartition(':')[2]}")
def test_every_singer_sdk_function_a_hook_relies_on_is_as_pinned(use: PrivateUse) -> None:
    assert change_of(use) is None, change_of(use)


def test_a_changed_signature_in_singer_sdk_is_reported_naming_the_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    def _write_state_message(self: Target, state: dict, *, flush: bool = True) -> None:
        """What a future singer-sdk could make of it."""

    monkeypatch.setattr(Target, "_write_state_message", _write_state_message)
    [use] = [use for use in SDK_PRIVATE_USES if use.sdk.endswith("Target._write_state_message")]

    change = change_of(use)

    assert change is not None
    assert change.startswith("sdk_hooks.TargetHooks.emit_state: singer_sdk.target_base:Target._write_state_message")
    assert "state: 'dict', *, flush: 'bool' = True" in change


def test_a_member_removed_from_singer_sdk_is_reported_naming_the_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(Target, "_handle_max_record_age")
    uses = [use for use in SDK_PRIVATE_USES if use.sdk.endswith("Target._handle_max_record_age")]

    changes = [change_of(use) for use in uses]

    assert [change and change.split(":")[0] for change in changes] == [
        "sdk_hooks.TargetHooks.set_state_interval",
        "sdk_hooks.TargetHooks.drain_if_records_aged",
    ]
    assert all("has no singer_sdk.target_base:Target._handle_max_record_age" in str(change) for change in changes)


def sdk_private_names() -> set[str]:
    """Private members (`_name`, not dunder) of the singer-sdk classes the target uses: class
    attributes and methods, and the instance attributes their code assigns (`self._name = ...`)."""
    names: set[str] = set()
    for cls in SDK_CLASSES:
        for klass in cls.__mro__:
            if not klass.__module__.startswith("singer_sdk"):
                continue
            names.update(vars(klass))
            names.update(re.findall(r"self\.(_[A-Za-z]\w*)\s*(?::[^=\n]+)?=", inspect.getsource(klass)))
    return {name for name in names if name.startswith("_") and not name.startswith("__")}


def private_uses_in(path: Path, sdk_names: set[str]) -> list[str]:
    """`file:line name` of every use of a singer-sdk private member in one module: an attribute
    read or written, a method defined in a class (an override), or a private module imported."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in sdk_names:
            found.append((node.lineno, node.attr))
        elif isinstance(node, ast.ClassDef):
            found += [
                (item.lineno, f"def {item.name}")
                for item in node.body
                if isinstance(item, ast.FunctionDef) and item.name in sdk_names
            ]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("singer_sdk"):
            private = [a.name for a in node.names if a.name.startswith("_")]
            private += [part for part in (node.module or "").split(".") if part.startswith("_")]
            found += [(node.lineno, f"import {name}") for name in private]
    return [f"{path.relative_to(PACKAGE)}:{line} {name}" for line, name in sorted(found)]


def test_no_target_module_but_sdk_hooks_touches_a_singer_sdk_private_member() -> None:
    sdk_names = sdk_private_names()
    modules = [path for path in sorted(PACKAGE.rglob("*.py")) if path.name != "sdk_hooks.py"]

    uses = [use for path in modules for use in private_uses_in(path, sdk_names)]

    assert uses == []


def test_the_scan_finds_the_private_uses_sdk_hooks_holds() -> None:
    uses = private_uses_in(Path(sdk_hooks.__file__), sdk_private_names())

    assert {use.split(" ", 1)[1] for use in uses} >= {
        "def _write_state_message",
        "def _handle_termination",
        "def _process_schema_message",
        "_sinks_active",
        "_sinks_to_clear",
        "_MAX_RECORD_AGE_IN_MINUTES",
        "_handle_max_record_age",
        "_process_unknown_message",
        "import _ConfigInput",
    }
