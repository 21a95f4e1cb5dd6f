"""Slow clients against a real `bgone serve` (no nginx in front): a request's headers and its
body each have a deadline, so a client sending one byte a second cannot hold a connection.

The deadlines are set small here (BGONE_HEADER_TIMEOUT_SECONDS, BGONE_BODY_TIMEOUT_SECONDS);
every byte goes over a raw socket, as a slowloris client sends it.
"""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import httpx

from tests.support.servers import server_fixtures
from tests.support.stack import Server

HEADER_TIMEOUT = 2.0
BODY_TIMEOUT = 3.0
# Without a deadline the trickle would go on for ever; the tests give up after this long.
GIVE_UP_SECONDS = 12.0

slow_stack, slow_server = server_fixtures(
    "slow",
    header_timeout_seconds=str(HEADER_TIMEOUT),
    body_timeout_seconds=str(BODY_TIMEOUT),
)


def connect(server: Server) -> socket.socket:
    address = urlsplit(server.base_url)
    return socket.create_connection((address.hostname or "", address.port or 80), timeout=5)


def trickle(connection: socket.socket, data: bytes) -> tuple[bytes, float]:
    """Sends `data` one byte a second until the server answers and hangs up; returns what
    it answered and the seconds that took (GIVE_UP_SECONDS if it never hung up)."""
    started = time.monotonic()
    answer = b""
    connection.settimeout(1.0)
    for byte in [data[i : i + 1] for i in range(len(data))]:
        if time.monotonic() - started > GIVE_UP_SECONDS:
            break
        try:
            connection.sendall(byte)
            chunk = connection.recv(65536)
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            return answer, time.monotonic() - started
        if not chunk:
            return answer, time.monotonic() - started
        answer += chunk
    return answer, GIVE_UP_SECONDS


def test_headers_sent_a_byte_a_second_get_408_at_the_header_deadline(
    slow_server: Server,
) -> None:
    request = b"GET /v2/health HTTP/1.1\r\nHost: bgone\r\nX-Padding: " + b"a" * 100 + b"\r\n\r\n"
    with connect(slow_server) as connection:
        answer, seconds = trickle(connection, request)
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert HEADER_TIMEOUT - 0.5 <= seconds <= HEADER_TIMEOUT + 2


def test_a_body_sent_a_byte_a_second_gets_408_at_the_body_deadline(slow_server: Server) -> None:
    # The log-in form is read whole before anything is answered.
    body = b"email=someone%40example.com&password=" + b"x" * 200
    head = (
        b"POST /login HTTP/1.1\r\nHost: bgone\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    with connect(slow_server) as connection:
        connection.sendall(head)
        answer, seconds = trickle(connection, body)
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert BODY_TIMEOUT - 0.5 <= seconds <= BODY_TIMEOUT + 2


def test_a_body_still_trickling_after_an_early_answer_is_cut_off(slow_server: Server) -> None:
    """An invalid key is refused before the body is read; the rest of the body must still
    arrive within the deadline."""
    body = b"x" * 200
    head = (
        b"POST /v2 HTTP/1.1\r\nHost: bgone\r\nx-api-key: not-a-key\r\n"
        b"Content-Type: application/octet-stream\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    with connect(slow_server) as connection:
        connection.sendall(head)
        answer, seconds = trickle(connection, body)
    assert answer.startswith(b"HTTP/1.1 401 ") and b" 408 " not in answer, answer
    assert seconds <= BODY_TIMEOUT + 2


def test_a_connection_that_sends_nothing_is_closed(slow_server: Server) -> None:
    with connect(slow_server) as connection:
        started = time.monotonic()
        connection.settimeout(GIVE_UP_SECONDS)
        answer = connection.recv(65536)
        while answer and not answer.endswith(b"\n"):
            answer += connection.recv(65536)
        seconds = time.monotonic() - started
    assert seconds <= HEADER_TIMEOUT + 2
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408 ")


def test_prompt_clients_are_not_affected(slow_server: Server) -> None:
    """Several requests on one kept-alive connection, with pauses longer than the header
    deadline in all but shorter than uvicorn's keep-alive timeout each, all answered."""
    with httpx.Client(base_url=slow_server.base_url, timeout=10) as client:
        for _ in range(3):
            assert client.get("/v2/health").status_code == 200
            time.sleep(HEADER_TIMEOUT * 0.6)
        uploaded = client.post("/v2", headers={"x-api-key": "not-a-key"}, content=b"x" * 100_000)
        assert uploaded.status_code == 401
