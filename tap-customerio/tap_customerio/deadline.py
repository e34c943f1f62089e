"""A total deadline per request.

`requests` applies its timeout to each socket read, so a server that sends its headers and then one byte
every few seconds keeps a request alive for ever. The tap's sessions therefore ask for the body as a
stream and read it here, one socket read at a time, each read allowed only the time left until the
request's deadline (`request_timeout` seconds after it was sent). Hand-written because neither requests
nor urllib3 offers a deadline for a whole response (urllib3's `Timeout.total` still applies per read).
"""

from __future__ import annotations

import time
import typing as t

import requests
import urllib3

#: Bytes asked for per read; a read returns whatever arrived, up to this.
READ_SIZE = 1 << 16


class DeadlineExceededError(requests.exceptions.ReadTimeout):
    """The whole response did not arrive within the request's deadline (retried like any timeout)."""


def within_deadline(response: requests.Response, *_: t.Any, timeout: t.Any = None, **__: t.Any) -> None:
    """A `requests` response hook: read the body of a streamed response before `timeout` seconds have
    passed since the request was sent (`response.elapsed` covers the wait for the headers)."""
    if not isinstance(timeout, (int, float)):
        response.content  # noqa: B018 (no deadline configured: read the body the usual way)
        return
    deadline = time.monotonic() + timeout - response.elapsed.total_seconds()
    body = _read(response, deadline, timeout)
    # Response has no public setter for a body read outside it; these two are what `content` itself sets.
    response._content, response._content_consumed = body, True
    response.raw.release_conn()


def _read(response: requests.Response, deadline: float, timeout: float) -> bytes:
    """The decoded body, read in as many socket reads as the server needs, all before `deadline`."""
    connection = response.raw.connection
    sock = getattr(connection, "sock", None)
    chunks: list[bytes] = []
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if sock is not None:
                sock.settimeout(left)
            chunk = response.raw.read1(READ_SIZE, decode_content=True)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    except urllib3.exceptions.ReadTimeoutError:
        pass
    except urllib3.exceptions.ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from exc
    except urllib3.exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from exc
    response.close()
    received = sum(map(len, chunks))
    msg = f"the response was not complete after {timeout} s (request_timeout; {received} bytes received)"
    raise DeadlineExceededError(msg, response=response)
