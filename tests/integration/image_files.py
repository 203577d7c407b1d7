# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one HTTP file server of the tests, on loopback, that images are downloaded from (the twin's
image controller really fetches spec.url): /disk.img, sent in a few slow chunks so progress is
seen, /other.img, and, when it serves a folder, that folder's files (the lab's NAS, lab_nas.py);
anything else 404. `serve()` runs one for a `with` block (the `files` fixture in conftest.py
yields its base URL), `start()` one for the rest of the process."""

from __future__ import annotations

import hashlib
import random
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

DISK = random.Random(11).randbytes(256 * 1024)
DISK_SHA512 = hashlib.sha512(DISK).hexdigest()
OTHER = random.Random(12).randbytes(64 * 1024)


class Files(BaseHTTPRequestHandler):
    """/disk.img (sent in a few slow chunks, so progress is seen), /other.img, then the files of
    `directory` (when set); anything else 404."""

    directory: Path | None = None

    def _found(self):
        found = {"/disk.img": (DISK, 0.02), "/other.img": (OTHER, 0.0)}.get(self.path)
        if found is None and self.directory is not None:
            path = (self.directory / unquote(urlsplit(self.path).path).lstrip("/")).resolve()
            if path.is_relative_to(self.directory.resolve()) and path.is_file():
                found = (path.read_bytes(), 0.0)
        return found

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


def _started(directory: Path | None) -> ThreadingHTTPServer:
    handler = type("FolderFiles", (Files,), {"directory": Path(directory)}) if directory is not None else Files
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def start(directory: Path | None = None) -> str:
    """A server for the rest of the process; its base URL."""
    return _url(_started(directory))


@contextmanager
def serve(directory: Path | None = None):
    """A server for a `with` block; yields its base URL."""
    server = _started(directory)
    try:
        yield _url(server)
    finally:
        server.shutdown()
        server.server_close()
