# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTTP server images are downloaded from in the integration tests (the twin's image
controller really fetches spec.url): /disk.img, sent in a few slow chunks so progress is seen,
and /other.img; anything else 404. `serve()` starts it; the `files` fixture in conftest.py
yields its base URL."""

from __future__ import annotations

import hashlib
import random
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DISK = random.Random(11).randbytes(256 * 1024)
DISK_SHA512 = hashlib.sha512(DISK).hexdigest()
OTHER = random.Random(12).randbytes(64 * 1024)


class Files(BaseHTTPRequestHandler):
    """/disk.img (sent in a few slow chunks, so progress is seen), /other.img; anything else 404."""

    def _found(self):
        return {"/disk.img": (DISK, 0.02), "/other.img": (OTHER, 0.0)}.get(self.path)

    def _headers(self):
        found = self._found()
        if found is None:
            self.send_error(404)
            return None
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(found[0])))
        self.end_headers()
        return found

    def do_HEAD(self):  # noqa: N802 - http.server's naming
        self._headers()

    def do_GET(self):  # noqa: N802
        found = self._headers()
        if found is None:
            return
        body, pause = found
        try:
            for i in range(0, len(body), 32 * 1024):
                self.wfile.write(body[i:i + 32 * 1024])
                self.wfile.flush()
                if pause:
                    time.sleep(pause)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


@contextmanager
def serve():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Files)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
