"""Keeping the App API key out of every line the tap writes.

The key travels only in the `Authorization` header, but text from outside the tap can carry it back:
an API error body that quotes the request's key or header, an exception message from the HTTP stack.
Every such text goes through `redact` before it reaches a log line or an error message.
"""

from __future__ import annotations

import json
import re
import urllib.parse

#: `Bearer <token>` in any text (the token is whatever follows, up to a quote, comma or whitespace).
BEARER = re.compile(r"(?i)(bearer)\s+[^\s\"',;]+")
REDACTED = "[redacted]"


def key_forms(key: str) -> list[str]:
    """How a key can appear in text: as is, URL-encoded, JSON-escaped (longest first)."""
    if not key:
        return []
    forms = {key, urllib.parse.quote(key, safe=""), urllib.parse.quote_plus(key), json.dumps(key)[1:-1]}
    return sorted(forms, key=len, reverse=True)


def redact(text: str, key: str | None) -> str:
    """`text` without any form of `key` and without any `Bearer …` token."""
    for form in key_forms(key or ""):
        text = text.replace(form, REDACTED)
    return BEARER.sub(rf"\1 {REDACTED}", text)
