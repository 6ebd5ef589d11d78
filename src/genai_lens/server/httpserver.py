"""A threaded stdlib HTTP server with the two things both HTTP listeners need: SO_REUSEPORT and TLS.

The TLS handshake happens on the connection's own thread, so a client that connects and stalls cannot hold
up the accept loop. Used by the OTLP/HTTP receiver and the admin endpoint.
"""

from __future__ import annotations

import socket
import socketserver
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from genai_lens.server.config import ServerTLS, parse_host_port


class ThreadedHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self,
        endpoint: str,
        handler: type[BaseHTTPRequestHandler],
        *,
        reuse_port: bool = False,
        tls: ServerTLS | None = None,
        context: Any = None,
    ) -> None:
        host_port = parse_host_port(endpoint)
        if host_port is None:
            raise ValueError(f"bad endpoint {endpoint!r}")
        host, port = host_port
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.reuse_port = reuse_port
        self.app = context  # what the handler serves (receiver or admin state)
        self.ssl_context: ssl.SSLContext | None = None
        if tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(str(tls.cert_file), str(tls.key_file))
            self.ssl_context = ctx
        super().__init__((host, port), handler)
        self._thread: threading.Thread | None = None

    def server_bind(self) -> None:
        if self.reuse_port:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        socketserver.TCPServer.server_bind(self)  # skips HTTPServer's getfqdn() (a DNS lookup)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.ssl_context is not None:
            request.settimeout(10)
            try:
                request = self.ssl_context.wrap_socket(request, server_side=True)
            except (OSError, ssl.SSLError):
                return  # failed handshake: nothing to answer
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Connection-level errors (resets, timeouts) are the client's business; don't print tracebacks."""

    @property
    def bound(self) -> str:
        host, port = self.server_address[:2]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"

    def start(self, name: str) -> None:
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.2}, name=name, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
