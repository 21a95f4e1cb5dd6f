"""Real TCP peers for the abuse tests: a sentinel that must never be reached, and an image
host that serves images, redirect chains, a slow drip and a gzip bomb."""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import httpx


@dataclass
class Sentinel:
    """Listens on 127.0.0.1 and ::1 on one port and counts every connection it accepts."""

    port: int
    connections: list[str] = field(default_factory=list)


def _accept_forever(listener: socket.socket, sentinel: Sentinel, stop: threading.Event) -> None:
    listener.settimeout(0.2)
    while not stop.is_set():
        try:
            connection, peer = listener.accept()
        except TimeoutError:
            continue
        except OSError:
            return
        sentinel.connections.append(str(peer[0]))
        connection.close()


@contextmanager
def sentinel_listener() -> Iterator[Sentinel]:
    ipv4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ipv4.bind(("127.0.0.1", 0))
    port = ipv4.getsockname()[1]
    ipv6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    ipv6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    ipv6.bind(("::1", port))
    sentinel = Sentinel(port)
    stop = threading.Event()
    threads = []
    for listener in (ipv4, ipv6):
        listener.listen(64)
        thread = threading.Thread(target=_accept_forever, args=(listener, sentinel, stop))
        thread.start()
        threads.append(thread)
    try:
        yield sentinel
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        ipv4.close()
        ipv6.close()


class ImageHostHandler(BaseHTTPRequestHandler):
    """Routes are set per server: path -> (status, headers, body or a drip of bytes)."""

    routes: ClassVar[dict[str, tuple[int, dict[str, str], bytes]]] = {}
    drip_paths: ClassVar[set[str]] = set()
    # The User-Agent of every request, in order: how the fetcher announces itself.
    user_agents: ClassVar[list[str]] = []
    hits: ClassVar[list[str]] = []  # every path asked for, in order

    def do_GET(self) -> None:
        self.user_agents.append(self.headers.get("User-Agent", ""))
        self.hits.append(self.path)
        if self.path in self.drip_paths:
            self._drip()
            return
        status, headers, body = self.routes.get(self.path, (404, {}, b"not here"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _drip(self) -> None:
        # An image that arrives one byte a second, for a minute.
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", "60")
        self.end_headers()
        try:
            for _ in range(60):
                self.wfile.write(b"\x89")
                self.wfile.flush()
                time.sleep(1.0)
        except OSError:
            return  # the fetcher hung up, as it should

    def log_message(self, format: str, *args: object) -> None:
        return


@dataclass
class ImageHost:
    base_url: str
    handler: type[ImageHostHandler]

    def serve(self, path: str, body: bytes, encoding: str | None = None) -> str:
        headers = {"Content-Type": "image/png"}
        if encoding:
            headers["Content-Encoding"] = encoding
        self.handler.routes[path] = (200, headers, body)
        return self.base_url + path

    def redirect(self, path: str, target: str) -> str:
        self.handler.routes[path] = (302, {"Location": target}, b"")
        return self.base_url + path

    def drip(self, path: str) -> str:
        self.handler.drip_paths.add(path)
        return self.base_url + path

    def hits(self, path: str) -> int:
        """How many times `path` was asked for."""
        return self.handler.hits.count(path)


@contextmanager
def image_host(address: str) -> Iterator[ImageHost]:
    handler = type(
        "Handler",
        (ImageHostHandler,),
        {"routes": {}, "drip_paths": set(), "user_agents": [], "hits": []},
    )
    server = ThreadingHTTPServer((address, 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ImageHost(f"http://{address}:{server.server_address[1]}", handler)
    finally:
        server.shutdown()
        server.server_close()


def gzip_bomb(expanded_bytes: int) -> bytes:
    """A small gzip stream of zeros that expands to `expanded_bytes`."""
    return gzip.compress(b"\0" * expanded_bytes, compresslevel=9)


def client_from(address: str, timeout: float = 60) -> httpx.Client:
    """An HTTP client whose connections come from `address` (any of 127.0.0.0/8)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=timeout)
