"""Every use of singer-sdk's private members by the target, in one module.

singer-sdk dispatches each Singer message type to a private `Target._process_<type>_message`,
passes STATE on through the private `Target._write_state_message`, installs the private
`_handle_termination` as the SIGTERM/SIGINT handler, and keeps its sinks and the record-age clock
in private attributes. The target needs each of these and singer-sdk 0.54 offers no public
equivalent, so `TargetHooks` turns them into public-named methods the target overrides, and no
other module of the target touches a private member of singer-sdk.

`SDK_PRIVATE_USES` lists every singer-sdk function whose private name or behaviour a hook relies
on, with its signature and a fingerprint of its source in the pinned singer-sdk;
tests/target/test_target_sdk_hooks.py fails, naming the hook, when an installed singer-sdk differs. An
SDK upgrade is then: re-read those functions, adapt the hooks here, update the fingerprints.
"""

from __future__ import annotations

import dataclasses
import typing as t

from singer_sdk.target_base import Target

if t.TYPE_CHECKING:
    from types import FrameType

    # `Target.invoke` types its `config` argument with this private class; an override must too.
    from singer_sdk.plugin_base import _ConfigInput as ConfigInput
    from singer_sdk.singerlib.encoding.base import GenericSingerReader
    from singer_sdk.sinks import Sink

__all__ = ["SDK_PRIVATE_USES", "ConfigInput", "PrivateUse", "TargetHooks", "refuse_unknown_message"]


@dataclasses.dataclass(frozen=True)
class PrivateUse:
    """A hook of this module and one singer-sdk function it relies on, as found in the pinned SDK."""

    hook: str
    #: `module:qualified.name` of the singer-sdk function (or class).
    sdk: str
    #: `str(inspect.signature(...))` of it (a class: of its constructor).
    signature: str
    #: First 16 hex digits of the SHA-256 of its source (`inspect.getsource`).
    source_sha256: str


_TARGET = "singer_sdk.target_base:Target"

#: What each hook relies on in singer-sdk ~=0.54.9 (the version pinned in pyproject.toml).
SDK_PRIVATE_USES: tuple[PrivateUse, ...] = (
    PrivateUse(
        "TargetHooks.handle_*_message",
        "singer_sdk.plugin_base:BaseSingerReader.process_lines",
        "(self, file_input: 't.IO[str] | None') -> 't.Counter[str]'",
        "3442243efb20c07d",
    ),
    PrivateUse(
        "TargetHooks.handle_schema_message",
        f"{_TARGET}._process_schema_message",
        "(self, message_dict: 'dict') -> 'None'",
        "ed6e8449bc8ff234",
    ),
    PrivateUse(
        "TargetHooks.handle_state_message",
        f"{_TARGET}._process_state_message",
        "(self, message_dict: 'dict') -> 'None'",
        "e27158e2b1e7ea6d",
    ),
    PrivateUse(
        "TargetHooks.handle_activate_version_message",
        f"{_TARGET}._process_activate_version_message",
        "(self, message_dict: 'dict') -> 'None'",
        "377950028ca9b3eb",
    ),
    PrivateUse(
        "TargetHooks.handle_batch_message",
        f"{_TARGET}._process_batch_message",
        "(self, message_dict: 'dict') -> 'None'",
        "f26fbe519745daf2",
    ),
    PrivateUse(
        "TargetHooks.emit_state",
        f"{_TARGET}._write_state_message",
        "(self, state: 'dict') -> 'None'",
        "bf40aa5e36ebef4d",
    ),
    PrivateUse(
        "TargetHooks.emit_state",
        f"{_TARGET}.drain_all",
        "(self, *, is_endofpipe: 'bool' = False) -> 'None'",
        "1da0109210d345c4",
    ),
    PrivateUse(
        "TargetHooks.set_state_interval",
        f"{_TARGET}._handle_max_record_age",
        "(self) -> 'None'",
        "5762750ab1035404",
    ),
    PrivateUse(
        "TargetHooks.drain_if_records_aged",
        f"{_TARGET}._handle_max_record_age",
        "(self) -> 'None'",
        "5762750ab1035404",
    ),
    PrivateUse(
        "TargetHooks.all_sinks",
        f"{_TARGET}.__init__",
        "(self, *, config: 'dict | PurePath | str | list[PurePath | str] | None' = None, "
        "parse_env_config: 'bool' = False, validate_config: 'bool' = True, setup_mapper: 'bool' = True, "
        "message_reader: 'GenericSingerReader | None' = None) -> 'None'",
        "8bd68db7b870726f",
    ),
    PrivateUse(
        "TargetHooks.all_sinks",
        f"{_TARGET}.get_sink",
        "(self, stream_name: 'str', *, record: 'dict | None' = None, schema: 'dict | None' = None, "
        "key_properties: 't.Sequence[str] | None' = None) -> 'Sink'",
        "d50a023664a5c97b",
    ),
    PrivateUse(
        "TargetHooks.all_sinks",
        f"{_TARGET}.drain_all",
        "(self, *, is_endofpipe: 'bool' = False) -> 'None'",
        "1da0109210d345c4",
    ),
    PrivateUse(
        "TargetHooks.on_termination_signal",
        f"{_TARGET}._handle_termination",
        "(self, signum: 'int', frame: 'FrameType | None') -> 'None'",
        "0d610b822293792b",
    ),
    PrivateUse(
        "TargetHooks.on_termination_signal",
        "singer_sdk.plugin_base:PluginBase._setup_signal_handlers",
        "(self) -> 'None'",
        "eb4287001bdd7d19",
    ),
    PrivateUse(
        "refuse_unknown_message",
        "singer_sdk.singerlib.encoding.base:GenericSingerReader._process_unknown_message",
        "(self, message_dict: 'dict') -> 'None'",
        "8798370ec9695cdb",
    ),
    PrivateUse(
        "ConfigInput",
        "singer_sdk.plugin_base:_ConfigInput",
        "(config: 'dict[str, t.Any]' = <factory>, parse_env: 'bool' = False) -> None",
        "9af0dd6ae9800be9",
    ),
)


class TargetHooks(Target):
    """singer-sdk's `Target` with its private extension points as public-named methods.

    Each `handle_*` / `emit_state` / `on_termination_signal` method does what singer-sdk does
    unless the target overrides it (and an override calls `super()` for singer-sdk's part).
    """

    # Message handlers ---------------------------------------------------------------------------
    # `BaseSingerReader.process_lines` hands each message to `self._process_<type>_message`: the
    # only place the target can check a message before singer-sdk acts on it, or replace that.

    def _process_schema_message(self, message_dict: dict) -> None:
        self.handle_schema_message(message_dict)

    def handle_schema_message(self, message_dict: dict) -> None:
        """A SCHEMA message: singer-sdk registers the stream and opens (or replaces) its sink."""
        super()._process_schema_message(message_dict)

    def _process_state_message(self, message_dict: dict) -> None:
        self.handle_state_message(message_dict)

    def handle_state_message(self, message_dict: dict) -> None:
        """A STATE message: singer-sdk keeps it as the latest, passed on at the next full drain."""
        super()._process_state_message(message_dict)

    def _process_activate_version_message(self, message_dict: dict) -> None:
        self.handle_activate_version_message(message_dict)

    def handle_activate_version_message(self, message_dict: dict) -> None:
        """An ACTIVATE_VERSION message: singer-sdk calls the stream's `Sink.activate_version`."""
        super()._process_activate_version_message(message_dict)

    def _process_batch_message(self, message_dict: dict) -> None:
        self.handle_batch_message(message_dict)

    def handle_batch_message(self, message_dict: dict) -> None:
        """A BATCH message: singer-sdk hands its files to the stream's `Sink.process_batch_files`."""
        super()._process_batch_message(message_dict)

    # STATE ---------------------------------------------------------------------------------------

    def _write_state_message(self, state: dict) -> None:
        self.emit_state(state)

    def emit_state(self, state: dict) -> None:
        """Pass a STATE on (stdout). singer-sdk's `drain_all` calls this, after draining every
        sink, with the latest STATE received; it is the one moment the target can make every
        record that STATE covers durable first."""
        super()._write_state_message(state)

    def set_state_interval(self, seconds: float) -> None:
        """singer-sdk drains every sink, passing the latest STATE on, once the oldest buffered record
        is `_MAX_RECORD_AGE_IN_MINUTES` old (5 minutes: a class attribute without a setting); this
        instance attribute sets that age instead."""
        self._MAX_RECORD_AGE_IN_MINUTES = seconds / 60

    def drain_if_records_aged(self) -> None:
        """Drain every sink (and pass STATE on) if the record age is reached: singer-sdk checks
        this after each RECORD and BATCH message it handles; the target's own paths for those call it."""
        self._handle_max_record_age()

    def all_sinks(self) -> list[Sink]:
        """Every sink holding rows: the active one of each stream, and the ones a schema change
        retired (singer-sdk drains those at its next full drain). singer-sdk has no public list;
        `get_sink` and `sink_exists` answer for active sinks only."""
        return [*self._sinks_active.values(), *self._sinks_to_clear]

    # Signals -------------------------------------------------------------------------------------

    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        self.on_termination_signal(signum, frame)

    def on_termination_signal(self, signum: int, frame: FrameType | None) -> None:
        """SIGTERM/SIGINT: singer-sdk installs `_handle_termination` as their handler (in
        `PluginBase.__init__`); its own drains every sink, emits STATE and exits with code 0.
        `frame` is the one the signal interrupted."""
        super()._handle_termination(signum, frame)


def refuse_unknown_message(reader: GenericSingerReader, message_type: str) -> None:
    """A message of a type no handler takes: singer-sdk's answer (it raises `ValueError`), so a
    reader that routes messages itself fails on it exactly as singer-sdk's own reader does."""
    reader._process_unknown_message({"type": message_type})
