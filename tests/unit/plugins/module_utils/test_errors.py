# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""errors.connection_failure: the one reading of a request's socket, TLS or HTTP-layer exception
that the API client and the AMT client share (their own hints and classes on top)."""

from __future__ import annotations

import http.client
import socket
import ssl

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils.errors import (
    ConnectionFailure,
    RequestTimeout,
    TLSFailure,
    connection_failure,
)

WHERE = "https://10.10.10.5:6443"


def certificate_error():
    e = ssl.SSLCertVerificationError(1, "certificate verify failed")
    e.verify_message, e.reason = "self-signed certificate", "CERTIFICATE_VERIFY_FAILED"
    return e


@pytest.mark.parametrize("exc, cause, sent, cls, message", [
    (certificate_error(), "tls", False, TLSFailure, f"TLS verification of {WHERE} failed: self-signed certificate"),
    (ssl.SSLError(1, "WRONG_VERSION_NUMBER"), "tls", True, TLSFailure, f"TLS handshake with {WHERE} failed: "),
    (TimeoutError(), "timeout", True, RequestTimeout, f"no answer from {WHERE} within 2.5 s"),
    (ConnectionRefusedError(111, "Connection refused"), "refused", False, ConnectionFailure,
     f"cannot connect to {WHERE}: connection refused"),
    (socket.gaierror(-2, "Name or service not known"), "dns", False, ConnectionFailure,
     "cannot resolve vip.lab: Name or service not known"),
    (ConnectionResetError(104, "Connection reset by peer"), "reset", True, ConnectionFailure,
     f"connection to {WHERE} lost (ConnectionResetError: [Errno 104] Connection reset by peer)"),
    (http.client.RemoteDisconnected("Remote end closed connection without response"), "reset", True, ConnectionFailure,
     f"connection to {WHERE} lost (RemoteDisconnected: Remote end closed connection without response)"),
    (OSError(113, "No route to host"), "unreachable", True, ConnectionFailure, f"cannot reach {WHERE}: No route to host"),
    (ValueError("odd"), "other", True, ConnectionFailure, f"request to {WHERE} failed: ValueError: odd"),
])
def test_each_exception_reads_as_its_cause_class_and_message(exc, cause, sent, cls, message):
    failure = connection_failure(exc, WHERE, "vip.lab", True, 2.5)
    assert (failure.cause, failure.sent, type(failure)) == (cause, sent, cls)
    assert failure.message.startswith(message), failure.message


def test_a_connection_never_made_says_so_and_a_client_adds_its_hint_and_class():
    class Mine(ConnectionFailure):
        pass
    failure = connection_failure(TimeoutError(), WHERE, "vip.lab", False, 1, hints={"timeout": " (request_timeout)"})
    assert failure.message == f"no connection from {WHERE} within 1 s (request_timeout)"
    refused = connection_failure(ConnectionRefusedError(), WHERE, "vip.lab", True, 1, classes={"other": Mine},
                                 hints={"reset": " never shown"})
    assert isinstance(refused, Mine) and refused.message == f"cannot connect to {WHERE}: connection refused"
