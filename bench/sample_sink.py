"""``sink.py`` that also keeps the last request it counted, so a benchmark can check what was forwarded.

Same command line and protocol as ``sink.py`` (prints ``port N``; ``POST /v1/traces`` counts spans;
``GET /count``; stops on SIGTERM or when stdin closes) plus ``GET /last``: the body of the most recent
POST as received (``application/x-protobuf``; 404 before the first). Keeping a reference to the body
costs nothing measurable, so the sink is as cheap as ``sink.py``. It runs ``sink.main`` with this
handler in place of the counting one, so the server itself lives only in ``sink.py``.
"""

from __future__ import annotations

import io
import sys
from http.server import BaseHTTPRequestHandler
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import sink  # noqa: E402

_LAST: list[bytes] = []  # the most recent POST body (one element once anything arrived)
_counting_handler = sink.make_handler


def make_sampling_handler(counts: sink.Counts, mode: str) -> type[BaseHTTPRequestHandler]:
    base = _counting_handler(counts, mode)

    class SamplingHandler(base):  # type: ignore[misc, valid-type]
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            _LAST[:] = [body]
            connection, self.rfile = self.rfile, io.BytesIO(body)  # the counting handler reads it again
            try:
                super().do_POST()
            finally:
                self.rfile = connection

        def do_GET(self) -> None:  # noqa: N802
            if self.path != "/last":
                super().do_GET()
                return
            body = _LAST[0] if _LAST else b""
            self.send_response(200 if _LAST else 404)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return SamplingHandler


if __name__ == "__main__":
    sink.make_handler = make_sampling_handler
    sys.exit(sink.main())
