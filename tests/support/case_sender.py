"""Sends one battery case to a running server and returns what came back.

Ordinary bodies go through httpx. The two over-the-limit bodies need a raw socket: a
chunked stream that would never end on its own (`Encoding.STREAM`) and a Content-Length
that promises more than the server accepts (`Encoding.DECLARED`). Both show that the
server answers 413 while most of the body has not been sent, i.e. without reading it all.
"""

from __future__ import annotations

import select
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from tests.support.case_model import Case, Encoding

CHUNK = 64 * 1024


@dataclass
class Sent:
    response: httpx.Response
    # For raw-socket cases: body bytes handed to the socket before the answer came, and
    # whether the server then closed the connection rather than drain the rest.
    body_bytes_sent: int = 0
    closed_by_server: bool = False


def send(case: Case, base_url: str, api_key: str, timeout: float = 60.0) -> Sent:
    if case.body.encoding in (Encoding.STREAM, Encoding.DECLARED):
        return _send_raw(case, base_url, api_key, timeout)
    arguments = case.body.httpx_arguments()
    headers = {"x-api-key": api_key, **arguments.pop("headers", {})}
    response = httpx.post(base_url + case.path, headers=headers, timeout=timeout, **arguments)
    return Sent(response)


def _send_raw(case: Case, base_url: str, api_key: str, timeout: float) -> Sent:
    url = urlsplit(base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    body = case.body
    length_header = (
        f"Content-Length: {body.declared_length}"
        if body.encoding is Encoding.DECLARED
        else "Transfer-Encoding: chunked"
    )
    head = (
        f"POST {case.path} HTTP/1.1\r\nHost: {host}:{port}\r\nx-api-key: {api_key}\r\n"
        f"Content-Type: {body.content_type or 'application/octet-stream'}\r\n"
        f"{length_header}\r\n\r\n"
    ).encode()
    sent = 0
    with socket.create_connection((host, port), timeout=timeout) as connection:
        connection.sendall(head)
        if body.encoding is Encoding.STREAM:
            sent = _stream_until_answered(connection, body.stream_bytes)
        raw = _read_all(connection)
        closed = _hung_up(connection)
    request = httpx.Request("POST", base_url + case.path)
    return Sent(_parse_response(raw, request), sent, closed)


def _hung_up(connection: socket.socket, wait: float = 5.0) -> bool:
    connection.settimeout(wait)
    try:
        return connection.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def _stream_until_answered(connection: socket.socket, total: int) -> int:
    """Send PNG-looking chunks until the server answers (or hangs up); returns bytes sent."""
    piece = b"\x89PNG\r\n\x1a\n" + b"\x00" * (CHUNK - 8)
    framed = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    sent = 0
    while sent < total:
        readable, _, _ = select.select([connection], [], [], 0)
        if readable:
            break
        try:
            connection.sendall(framed)
        except (BrokenPipeError, ConnectionResetError):
            break
        sent += len(piece)
    return sent


def _read_all(connection: socket.socket) -> bytes:
    received = bytearray()
    while True:
        try:
            data = connection.recv(CHUNK)
        except ConnectionResetError:
            break
        if not data:
            break
        received += data
        if _complete(bytes(received)):
            break
    return bytes(received)


def _headers(head: bytes) -> dict[str, str]:
    lines = head.split(b"\r\n")[1:]
    pairs = (line.partition(b":") for line in lines)
    return {name.strip().decode().lower(): value.strip().decode() for name, _, value in pairs}


def _dechunk(body: bytes) -> bytes | None:
    """The payload of a chunked body, or None while it is incomplete."""
    payload = bytearray()
    while True:
        size_line, separator, rest = body.partition(b"\r\n")
        if not separator:
            return None
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            return bytes(payload)
        if len(rest) < size + 2:
            return None
        payload += rest[:size]
        body = rest[size + 2 :]


def _complete(raw: bytes) -> bool:
    head, separator, body = raw.partition(b"\r\n\r\n")
    if not separator:
        return False
    headers = _headers(head)
    if "content-length" in headers:
        return len(body) >= int(headers["content-length"])
    if headers.get("transfer-encoding", "").lower() == "chunked":
        return _dechunk(body) is not None
    return False


def _parse_response(raw: bytes, request: httpx.Request) -> httpx.Response:
    head, _, body = raw.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/"):
        raise ConnectionError(f"no HTTP answer; got {raw[:80]!r}")
    status = int(head.split(b"\r\n")[0].split()[1])
    headers = _headers(head)
    if headers.pop("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(body) or b""
    return httpx.Response(status, headers=headers, content=body, request=request)
