# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One kept-alive ``http.client`` connection per endpoint: what the API client's ``Session`` and
the AMT ``Transport`` share. Each opens ``_conn`` its own way (proxy, TLS context, retry of a
dropped keep-alive); closing it is the same for both."""

from __future__ import annotations


class KeptConnection:
    _conn = None

    def close(self):
        """Drop the connection; the next request opens a new one. An error while closing a socket
        that is going away anyway changes nothing."""
        if self._conn is not None:
            try:
                self._conn.close()
            except OSError:
                pass
            self._conn = None
