"""Reading an HTTP response body within a size limit: the one body reader of every REST client
(Azure Resource Manager and Resource Graph, the SDN Network Controller). A server is not trusted
to send a sane amount: the declared size (Content-Length) is checked before reading, and the bytes
actually read (after any gzip/deflate decoding, so a compressed bomb is caught too) are counted
while reading, so no more than the limit is ever held in memory."""

from __future__ import annotations

import requests

_CHUNK = 64 * 1024
_MIB = 1024 * 1024


class BodyTooLarge(ValueError):
    """The body is larger than the limit; the message is the reason a coverage record shows."""

    def __init__(self, limit: int, declared: int | None = None) -> None:
        size = (f"{limit // _MIB} MiB" if limit % _MIB == 0 else f"{limit // 1024} KiB" if limit % 1024 == 0
                else f"{limit:,} bytes")
        super().__init__(f"response larger than {size}" + (f" ({declared:,} bytes)" if declared is not None else ""))


def read_body(response: requests.Response, limit: int) -> bytes:
    """The whole body of a response requested with `stream=True`, or BodyTooLarge once it is known
    to exceed `limit` bytes (requests' own exceptions pass through when the connection fails)."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit, int(declared))
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)
