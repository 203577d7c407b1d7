"""The lab's backup stores as Longhorn's backupstore drivers reach them from inside the cluster.

Harvester's backup-target webhook does not trust a target it cannot reach: it builds the Longhorn
URL (harvester v1.8.2 pkg/util/backup/backup.go ConstructEndpoint: `nfs://` is prepended when the
endpoint lacks it, S3 becomes `s3://<bucket>@<region>/`) and runs backupstore.GetBackupStoreDriver
on it within ConnectBackupStoreTimeout (8 s, pkg/util/timeout.go: "timeout after 8s"); any error
is refused as "failed to connect to backup target, reason: <error>" (422, field value).

The world those drivers would meet is data (lab/backup-stores.yml: NFS servers and their exports,
S3 endpoints with their region, buckets and access keys); nothing here opens a connection. A
server the table does not know is not there, and `/_twin/environment` {"unreachable": [url, ...]}
takes a known one down. The errors follow the drivers (longhorn/backupstore as vendored by
harvester v1.8.2: nfs/nfs.go initFunc and mount, s3/s3.go initFunc, s3/s3_service.go
ListObjects/parseAwsError) and what they wrap (k8s.io/mount-utils doMount, mount.nfs4's output,
an S3-compatible server's error codes).
"""
from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from .addresses import is_ip

DATA = Path(__file__).resolve().parent / "lab" / "backup-stores.yml"
TIMEOUT = "timeout after 8s"  # the webhook's RunWithTimeoutAndResult(ConnectBackupStoreTimeout)
MOUNT_DIR = "/var/lib/longhorn-backupstore-mounts"  # backupstore util.MountDir
NFS_VERSIONS = ("4.2", "4.1", "4.0")  # nfs.go MinorVersions, tried in this order
CLUSTER_DNS = "10.53.0.10:53"  # the pods' resolver (Harvester's cluster DNS service)


@lru_cache(maxsize=1)
def lab() -> dict:
    try:
        with open(DATA, encoding="utf-8") as f:
            return yaml.safe_load(f) or {}
    except OSError:
        return {}


def _down(store, *urls: str) -> bool:
    listed = {u.rstrip("/") for u in store.environment.get("unreachable") or []}
    return any(u and u.rstrip("/") in listed for u in urls)


# ------------------------------------------------------------------------------------------ NFS
def _nfs_server(host: str) -> dict | None:
    return next((s for s in lab().get("nfs") or [] if s.get("server") == host), None)


def _exported(server: dict, path: str) -> bool:
    path = "/" + path.strip("/")
    return any(path == e.rstrip("/") or path.startswith(e.rstrip("/") + "/") for e in server.get("exports") or [])


def _nfs_error(store, url: str) -> str | None:
    """nfs.go initFunc on `url` (nfs://server:/path)."""
    parts = urlsplit(url)
    host, path = parts.netloc, parts.path
    if not host:
        return "NFS path must follow format: nfs://<server-address>:/<share-name>/"
    if not path:
        return "cannot find nfs path"
    server_path = host + path
    server = host.rstrip(":")
    known = _nfs_server(server)
    if known is not None and _down(store, url, "nfs://" + server_path):
        return TIMEOUT  # mount.nfs4 keeps retrying (retry=2 minutes): the webhook gives up first
    if not host.endswith(":"):
        output = "mount.nfs4: remote share not in 'host:dir' format"
    elif known is None and is_ip(server):
        return TIMEOUT  # nobody answers at that address
    elif known is None:
        output = f"mount.nfs4: Failed to resolve server {server}: Name or service not known"
    elif not _exported(known, path):
        output = f"mount.nfs4: access denied by server while mounting {server_path}"
    else:
        return None
    mount_dir = f"{MOUNT_DIR}/{server.replace('.', '_')}{path}"
    chain = "cannot mount using NFSv4"
    options = []
    for version in NFS_VERSIONS:  # each try wraps the errors before it (pkg/errors Wrapf)
        options = [f"nfsvers={version}", "actimeo=1", "soft", "timeo=300", "retry=2"]
        failure = (f"mount failed: exit status 32\nMounting command: mount\nMounting arguments: -t nfs4 -o "
                   f"{','.join(options)} {server_path} {mount_dir}\nOutput: {output}\n")
        chain = f"vers={version}: {failure}: {chain}"
    return f"cannot mount nfs {server_path}, options [{' '.join(options)}]: {chain}"


# ------------------------------------------------------------------------------------------ S3
def _s3_error(store, target: dict) -> str | None:
    """s3.go initFunc on s3://<bucket>@<region>/ with the target's endpoint and keys (the AWS_*
    variables the webhook sets), then its first ListObjects."""
    bucket, region, endpoint = target["bucketName"], target["bucketRegion"], target["endpoint"]
    if not bucket:
        return "invalid URL. Must be either s3://bucket@region/path/, or s3://bucket/path"
    base = endpoint.rstrip("/") if endpoint else f"https://s3.{region}.amazonaws.com"
    parts = urlsplit(base if "://" in base else "https://" + base)
    netloc = parts.netloc
    if target.get("virtualHostedStyle"):
        request = f"{parts.scheme}://{bucket}.{netloc}/?delimiter=%2F&prefix=%2F"
    else:
        request = f"{parts.scheme}://{netloc}/{bucket}?delimiter=%2F&prefix=%2F"
    listing = (f'failed to list objects with param: {{\n  Bucket: "{bucket}",\n  Delimiter: "/",\n  Prefix: "/"\n}} '
               f"error: AWS Error:  ")
    known = next((s for s in lab().get("s3") or [] if s.get("endpoint", "").rstrip("/") == base), None)
    if known is not None and _down(store, endpoint, f"s3://{bucket}@{region}/"):
        return TIMEOUT
    if known is None:
        host = parts.hostname or netloc
        return f'{listing}RequestError send request failed Get "{request}": dial tcp: lookup {host} on ' \
               f"{CLUSTER_DNS}: no such host\n"
    keys = {c.get("accessKeyId"): c.get("secretAccessKey") for c in known.get("credentials") or []}
    if target["accessKeyId"] not in keys:
        code, status, message = "InvalidAccessKeyId", 403, "The Access Key Id you provided does not exist in our records."
    elif region != known.get("region"):
        code, status, message = ("AuthorizationHeaderMalformed", 400, "The authorization header is malformed; the "
                                 f"region is wrong; expecting '{known.get('region')}'.")
    elif keys[target["accessKeyId"]] != target["secretAccessKey"]:
        code, status, message = ("SignatureDoesNotMatch", 403, "The request signature we calculated does not match "
                                 "the signature you provided. Check your key and signing method.")
    elif bucket not in (known.get("buckets") or []):
        code, status, message = "NoSuchBucket", 404, "The specified bucket does not exist"
    else:
        return None
    request_id = hashlib.sha1(f"{base}/{bucket}/{code}".encode()).hexdigest()[:16].upper()
    return f"{listing}{code} {message} <nil>\n{status} {request_id}\n"


# ------------------------------------------------------------------------------------------ answers
def connect_error(store, target: dict) -> str | None:
    """What GetBackupStoreDriver(ConstructEndpoint(target)) answers in the webhook: None when it
    connects, else the error text (without Harvester's "failed to connect ..." prefix)."""
    if target["type"] == "nfs":
        return _nfs_error(store, "nfs://" + target["endpoint"].removeprefix("nfs://"))
    if target["type"] == "s3":
        return _s3_error(store, target)
    return f"BUG: no backup store driver for {target['type']!r}"


def reachable(store, url: str) -> bool:
    """Whether a Longhorn backup target URL (nfs://server:/path, s3://bucket@region/) answers now,
    credentials aside (Longhorn's controllers read them from the target's secret)."""
    if url.startswith("nfs://"):
        return _nfs_error(store, url) is None
    m = re.match(r"^s3://([^@/]+)@([^/]+)/", url)
    if m is None:
        return False
    bucket, region = m.groups()
    return not _down(store, url) and any(
        s.get("region") == region and bucket in (s.get("buckets") or []) and not _down(store, s.get("endpoint", ""))
        for s in lab().get("s3") or [])
