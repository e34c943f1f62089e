"""Keep bucket credentials out of every log line, whichever library writes it.

The backends never put secrets in their own messages, but the HTTP libraries under the SDKs log
full request URLs at DEBUG (urllib3 prints an Azure SAS URL with its `sig`). Rather than chase
each library's loggers, one filter on the root handlers redacts every record on its way out.
"""

from __future__ import annotations

import logging
import typing as t


class RedactingFilter(logging.Filter):
    """Rewrites each record's message through `redact` before any handler formats it."""

    def __init__(self, redact: t.Callable[[str], str]) -> None:
        super().__init__()
        self._redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keep the record, with its message (and any traceback text) redacted."""
        record.msg = self._redact(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = self._redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def redact_logs(redact: t.Callable[[str], str]) -> None:
    """Install the filter on every handler of the root logger (where all library records end up)."""
    log_filter = RedactingFilter(redact)
    for handler in logging.getLogger().handlers:
        handler.addFilter(log_filter)
