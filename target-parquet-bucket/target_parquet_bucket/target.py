"""target-parquet-bucket: any Singer stream as typed parquet/csv/jsonl files in a bucket.

singer-sdk runs the CLI, settings, SCHEMA/STATE/ACTIVATE_VERSION handling, sinks and drains.
RECORD lines skip its per-record path (see `reader.py`) unless stream maps or flattening are
configured, in which case the standard SDK path is used (correct, slower).

STATE is written only after every open file is closed and uploaded, so an emitted state never
covers a record that is not in a complete file in the bucket.
"""

from __future__ import annotations

import re
import sys
import typing as t

import msgspec
import pyarrow as pa
from singer_sdk.exceptions import ConfigValidationError, RecordsWithoutSchemaException
from singer_sdk.helpers.capabilities import PluginCapabilities
from singer_sdk.singerlib.exceptions import InvalidInputLine

from target_parquet_bucket.batch_files import BatchFileError, parse_message, write_batch
from target_parquet_bucket.bucket import Bucket
from target_parquet_bucket.message_checks import (
    check_activate_version_message,
    check_schema_message,
    check_state_message,
)
from target_parquet_bucket.naming import FileNamer, NamingError
from target_parquet_bucket.reader import FastSingerReader
from target_parquet_bucket.redaction import redact_logs
from target_parquet_bucket.sdk_hooks import TargetHooks
from target_parquet_bucket.settings import SETTINGS, Settings, check_settings, describe_config_errors
from target_parquet_bucket.sinks import ParquetBucketSink
from target_parquet_bucket.storage import open_storage
from target_parquet_bucket.table_settings import check_table_settings
from target_parquet_bucket.writers import FileLayout, file_extension

if t.TYPE_CHECKING:
    from pathlib import PurePath
    from types import FrameType

    from target_parquet_bucket.sdk_hooks import ConfigInput
    from target_parquet_bucket.table_commits import TableCommits

#: The SDK checks the age of buffered records after every record; a clock read per record is
#: measurable at our rates, and every few thousand lines is just as timely.
_AGE_CHECK_EVERY = 4096
#: Terminal control sequences (ESC [ ... letter): delta-rs colours the chain of causes in its error texts,
#: which the one error line would otherwise carry into log collectors as `[31m↳[0m`.
_TERMINAL_CODES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")

# Decimal-safe (STATE floats arrive as Decimal and are written back as exact numbers).
_state_encoder = msgspec.json.Encoder(decimal_format="number")


class TargetParquetBucket(TargetHooks):
    """Singer target writing streams as files into a local folder, S3, Azure Blob or GCS."""

    name = "target-parquet-bucket"
    config_jsonschema = SETTINGS.to_dict()
    default_sink_class = ParquetBucketSink
    message_reader_class = FastSingerReader
    capabilities: t.ClassVar = [*TargetHooks.capabilities, PluginCapabilities.ACTIVATE_VERSION]

    def __init__(
        self,
        *,
        config: dict | PurePath | str | list[PurePath | str] | None = None,
        parse_env_config: bool = False,
        validate_config: bool = True,
        setup_mapper: bool = True,
        message_reader: FastSingerReader | None = None,
    ) -> None:
        """Open the bucket and switch RECORD lines to the columnar path when no maps apply."""
        self._stopped_by_signal = 0  # set before the SDK installs the signal handlers
        self._emitted_state: dict | None = None
        #: The latest STATE received (what the end of input passes on).
        self._received_state: dict | None = None
        #: Each stream's active sink, for the columnar RECORD path (SCHEMA messages reset it).
        self._sink_of: dict[str, ParquetBucketSink] = {}
        super().__init__(
            config=config,
            parse_env_config=parse_env_config,
            validate_config=validate_config,
            setup_mapper=setup_mapper,
            message_reader=message_reader,
        )
        #: Every setting, defaults applied (`storage` reads the backends' own from `config`).
        self.settings = settings = Settings.from_config(self.config)
        check_settings(settings)
        namer = FileNamer(
            settings.file_name_template,
            workspace_id=settings.workspace_id,
            version=settings.version,
            extension=file_extension(settings.format, settings.compression),
            split=bool(settings.split_initial_sync_streams),
        )
        storage = open_storage(self.config)
        redact_logs(storage.redact)
        self.bucket = Bucket(
            storage,
            namer,
            FileLayout.from_settings(settings),
            temp_dir=settings.temp_dir,
            split_initial=settings.split_initial_sync_streams,
        )
        self._open_tables()
        self.set_state_interval(settings.state_interval_seconds)
        self.logger.debug(
            "Arrow allocator: %s; thread switch interval: %g ms (see cli.py)",
            pa.default_memory_pool().backend_name,
            sys.getswitchinterval() * 1000,
        )
        if isinstance(self.message_reader, FastSingerReader) and not settings.uses_sdk_record_path:
            self.message_reader.raw_record_handler = self._process_raw_records
            self.message_reader.idle_handler = self.finish_pending_batches

    def _open_tables(self) -> None:
        """With `table_format` delta/iceberg, streams go to tables through `TableSink`."""
        check_table_settings(self.settings)
        self.tables: TableCommits | None = None
        if self.settings.table_format != "files":
            from target_parquet_bucket.table_commits import TableCommits  # optional deps
            from target_parquet_bucket.table_sink import TableSink
            from target_parquet_bucket.tables import open_table_store

            store = open_table_store(self.settings, self.config)
            self.tables = TableCommits(store, self.settings, redact=self.bucket.storage.redact)
            self.default_sink_class = TableSink

    def _process_raw_records(self, stream: str, lines: list[bytes], first_number: int) -> None:
        """Columnar path for a run of one stream's RECORD lines: buffer them in its sink, draining
        each time it is full, and check the age of buffered records after every line whose number is
        a multiple of `_AGE_CHECK_EVERY` (as if they came one at a time)."""
        sink = self._sink_of.get(stream)
        if sink is None:
            sink = self._active_sink(stream, first_number, "RECORD")
        taken = 0
        while taken < len(lines):
            # one past the next line whose number is a multiple of _AGE_CHECK_EVERY
            check_at = taken + (-(first_number + taken)) % _AGE_CHECK_EVERY + 1
            stop = min(len(lines), check_at)
            while taken < stop:
                taken += sink.extend_raw(lines, taken, stop, first_number)
                if sink.is_full:
                    sink.drain_while_reading()
            if taken == check_at:
                self.drain_if_records_aged()

    def finish_pending_batches(self) -> None:
        """Hand down every batch still decoding (see `ParquetBucketSink.drain_while_reading`), in input
        order, so the run fails on the first bad record. Called before a STATE is passed on (which
        commits the open files), at end of input before any upload, and when input pauses (the reader's
        next read would wait), so a paused tap's rows reach the files as when batches were decoded at once."""
        sinks = t.cast("list[ParquetBucketSink]", self.all_sinks())
        for sink in sorted((s for s in sinks if s.pending_since is not None), key=lambda s: s.pending_since or 0):
            sink.finish_pending()

    def _active_sink(self, stream: str, line_number: int, message_type: str) -> ParquetBucketSink:
        """The stream's sink, or the error naming the stream and line when it had no SCHEMA yet."""
        if not self.sink_exists(stream):
            msg = f"stream '{stream}', input line {line_number}: {message_type} before any SCHEMA of its stream"
            raise RecordsWithoutSchemaException(msg)
        sink = self._sink_of[stream] = t.cast("ParquetBucketSink", self.get_sink(stream))
        return sink

    def handle_schema_message(self, message_dict: dict) -> None:
        """On a schema change, finish the old schema's file right away, so sequences follow the
        input order (the SDK would drain the retired sink only at the next full drain).

        Malformed SCHEMA messages are refused first with an error naming the stream (see
        `message_checks`); a stream name unusable in object names is refused naming the line too.
        """
        check_schema_message(
            message_dict,
            allow_case_colliding_columns=self.settings.allow_case_colliding_columns,
        )
        stream = message_dict.get("stream", "")
        previous = self.get_sink(stream) if self.sink_exists(stream) else None
        self._sink_of.clear()
        try:
            super().handle_schema_message(message_dict)
        except NamingError as exc:  # the stream's name cannot name objects: about this SCHEMA line
            raise InvalidInputLine(f"stream '{stream}': {exc}") from None
        if previous is not None and self.get_sink(stream) is not previous:
            self.drain_one(previous)
            t.cast("ParquetBucketSink", previous).retire()

    def handle_state_message(self, message_dict: dict) -> None:
        """A STATE without `value` is refused with its line number (see `message_checks`)."""
        check_state_message(message_dict)
        super().handle_state_message(message_dict)
        self._received_state = message_dict["value"]

    def handle_activate_version_message(self, message_dict: dict) -> None:
        """ACTIVATE_VERSION for a stream without SCHEMA is refused naming it (the SDK: `KeyError`)."""
        check_activate_version_message(message_dict, known_streams=self.mapper.stream_maps)
        super().handle_activate_version_message(message_dict)

    def handle_batch_message(self, message_dict: dict) -> None:
        """BATCH: the manifest's files go through the stream's decoder into its open files, so the
        STATE after it is emitted only once they are uploaded (see `batch_files`).

        Overrides the SDK's handler, which hands the files to `Sink.process_batch_files`: that one
        builds a dict per record and calls `process_batch` with them, which this sink (buffering raw
        lines) never reads, so every record was dropped. Stream maps and flattening are applied by
        the SDK to RECORD messages only (its BATCH path skips them too), so with either configured
        a BATCH is refused rather than written untransformed.
        """
        line_number = getattr(self.message_reader, "line_number", 0)
        batch = parse_message(message_dict, line_number)
        if self.settings.uses_sdk_record_path:
            msg = (
                f"stream '{batch.stream}', input line {line_number}: BATCH messages cannot be combined "
                "with stream_maps or flattening_enabled (their files would be written untransformed); "
                "turn off the tap's batch_config"
            )
            raise BatchFileError(msg)
        write_batch(self._active_sink(batch.stream, line_number, "BATCH"), batch, line_number)
        self.drain_if_records_aged()

    def emit_state(self, state: dict) -> None:
        """Upload every open file (commit every table) first; if that fails the exception stops
        the state line. While a table replacement is incomplete the state is held back: the
        end of the replacement or of the input emits the latest one.

        The STATE already passed on is not passed on again (singer-sdk's periodic drain repeats it):
        the open files keep growing instead of being cut into small ones. End of input still uploads
        them (`process_endofpipe`)."""
        if state == self._emitted_state:
            return
        self.finish_pending_batches()
        holding = self.tables.commit_all(state) if self.tables is not None else []
        self.bucket.commit_all()
        if holding:
            self.logger.info("STATE held until the replacement of %s is committed", ", ".join(holding))
            return
        line = _state_encoder.encode(state).decode()
        self.logger.debug("Emitting completed target state %s", line)
        sys.stdout.write(f"{line}\n")
        sys.stdout.flush()
        self._emitted_state = state

    def on_termination_signal(self, signum: int, frame: FrameType | None) -> None:
        """On SIGTERM/SIGINT, stop reading at a line boundary and end like end of input.

        singer-sdk drains and emits STATE from inside the signal handler, but the signal may arrive
        in the middle of a batch whose records are then in neither a file nor the buffer, and that
        STATE would cover them (meltano/sdk#3775). Stopping the reader instead lets the normal
        end-of-input path upload every complete file and emit the STATE that covers exactly them;
        the exit code still says the run was stopped by a signal.
        """
        self.logger.warning("Received signal %d: committing what was read, then stopping", signum)
        self._stopped_by_signal = signum
        if isinstance(self.message_reader, FastSingerReader):
            self.message_reader.request_stop(frame)

    def process_endofpipe(self) -> None:
        """Drain and upload everything (also when no STATE was ever received)."""
        self.finish_pending_batches()
        if self.tables is not None:
            self.tables.final_state = self._received_state
        super().process_endofpipe()
        self.bucket.commit_all()
        self.bucket.close()
        if self._stopped_by_signal:
            raise SystemExit(128 + self._stopped_by_signal)

    @classmethod
    def invoke(  # type: ignore[override]  # Target.invoke's signature (the SDK ignores the same mismatch)
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: ConfigInput | None = None,
        file_input: t.IO[str] | None = None,
    ) -> None:
        """Run the target; any failure ends it with one error line and exit code 1."""
        try:
            super().invoke(about=about, about_format=about_format, config=config, file_input=file_input)
        except Exception as exc:
            cls.logger.debug("Target failed", exc_info=exc)
            message = " ".join(_TERMINAL_CODES.sub("", str(exc)).split()) or type(exc).__name__
            if isinstance(exc, ConfigValidationError) and exc.errors:
                message = f"invalid settings: {describe_config_errors(exc.errors)}"
            sys.stderr.write(f"{cls.name}: error: {type(exc).__name__}: {message}\n")
            sys.stderr.flush()
            sys.exit(1)
