"""The lab's NAS as a local folder, for the demo and the tests (the twin plays the NAS from it: `--nas DIR`).

    python tools/lab_nas.py --inventory inventory/lab --dir .twin/nas --vars .twin/nas-vars.yml [--base-url URL]

Reads the inventory's plan as plain YAML (group_vars/all/*.yml except the vault: lab_nfs.server,
lab_harvester_version, lab_images) and writes into DIR, the NAS's HTTP root:

- for every lab_images entry whose URL is on the NAS (`http://<lab_nfs.server>/<path>`), a small
  generated file at DIR/<path>: a qcow2 header (2 GiB virtual size) for `.qcow2`, an ISO 9660
  volume descriptor for `.iso`, bytes otherwise -- the same bytes on every run (seeded by the name);
- the Harvester release files the nodes boot and install from, DIR/harvester/<version>/
  harvester-<version>-{vmlinuz-amd64,initrd-amd64,rootfs-amd64.squashfs,amd64.iso} (the bootstrap
  role publishes its install configs and iPXE scripts next to them, in DIR/harvester);

and the extra-vars file VARS: `lab_images` as the inventory has it, each NAS entry with the sha512
`checksum` of its generated file (so the import is checked end to end). With --base-url the NAS
entries' URLs point there instead (a loopback HTTP server serving DIR, for a twin without a NAS
model). inventory/lab is never written. `overlay()` is the same for Python callers (tests).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import struct
import sys
from pathlib import Path
from urllib.parse import urlsplit

import yaml

RELEASE_FILES = ("vmlinuz-amd64", "initrd-amd64", "rootfs-amd64.squashfs", "amd64.iso")
QCOW2_VIRTUAL_SIZE = 2 * 1024 ** 3


class _Loader(yaml.SafeLoader):
    """Plain YAML; `!vault` and other tagged values are kept as opaque strings."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_scalar(node)
                              if isinstance(node, yaml.ScalarNode) else None)


def read_plan(inventory: Path) -> dict:
    """group_vars/all of an inventory directory, merged in file order (the vault left out)."""
    folder = inventory / "group_vars" / "all"
    files = sorted(folder.glob("*.yml")) if folder.is_dir() else [inventory / "group_vars" / "all.yml"]
    plan: dict = {}
    for path in files:
        if path.name.startswith("vault") or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        if text.lstrip().startswith("$ANSIBLE_VAULT"):
            continue
        plan.update(yaml.load(text, Loader=_Loader) or {})  # noqa: S506 - a SafeLoader subclass
    return plan


def content(path: str, size: int = 64 * 1024) -> bytes:
    """Small deterministic bytes for a file name: a qcow2 image or an ISO that say what they are."""
    data = bytearray(random.Random(path).randbytes(size))
    if path.endswith(".qcow2"):
        header = b"QFI\xfb" + struct.pack(">IQIIQ", 3, 0, 0, 16, QCOW2_VIRTUAL_SIZE)
        data[:len(header)] = header
    elif path.endswith(".iso") and size >= 0x8006:
        data[0x8000:0x8006] = b"\x01CD001"  # the primary volume descriptor's signature
    return bytes(data)


def _write(path: Path, data: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_bytes() != data:
        path.write_bytes(data)
    return hashlib.sha512(data).hexdigest()


def nas_path(url: str, server: str) -> str | None:
    """The path of a URL on the NAS (`http://<server>/<path>`), or None for any other URL."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or parts.hostname != server:
        return None
    return parts.path.lstrip("/")


def overlay(images: list, server: str, folder: Path, base_url: str | None = None) -> list:
    """`images` (lab_images entries) with each NAS entry's file generated in `folder` and its checksum
    set (and its URL moved to `base_url` when given); other entries unchanged."""
    out = []
    for image in images or []:
        path = nas_path(image.get("url", ""), server)
        if path is None:
            out.append(dict(image))
            continue
        checksum = _write(folder / path, content(path))
        entry = dict(image, checksum=checksum)
        if base_url:
            entry["url"] = f"{base_url.rstrip('/')}/{path}"
        out.append(entry)
    return out


def release(folder: Path, version: str) -> list[Path]:
    """The Harvester release files of `version` under folder/harvester/<version>/."""
    written = []
    for suffix in RELEASE_FILES:
        path = folder / "harvester" / version / f"harvester-{version}-{suffix}"
        _write(path, content(path.name, 16 * 1024))
        written.append(path)
    return written


def build(inventory: Path, folder: Path, base_url: str | None = None) -> dict:
    """Fill `folder` for the inventory; returns the extra vars (``{"lab_images": [...]}``)."""
    plan = read_plan(inventory)
    server = (plan.get("lab_nfs") or {}).get("server")
    if not server:
        raise SystemExit(f"{inventory}: lab_nfs.server is not set")
    folder.mkdir(parents=True, exist_ok=True)
    release(folder, str(plan.get("lab_harvester_version") or "v1.8.2"))
    return {"lab_images": overlay(plan.get("lab_images") or [], server, folder, base_url)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inventory", type=Path, default=Path("inventory/lab"))
    parser.add_argument("--dir", type=Path, required=True, help="the NAS's HTTP root to fill")
    parser.add_argument("--vars", type=Path, required=True, help="where to write the extra-vars file")
    parser.add_argument("--base-url", help="URL that serves DIR, for the images (default: the NAS's own URLs)")
    args = parser.parse_args(argv)
    extra = build(args.inventory, args.dir, args.base_url)
    args.vars.parent.mkdir(parents=True, exist_ok=True)
    args.vars.write_text("---\n# written by tools/lab_nas.py: the image library with the checksums of the NAS folder's files\n"
                         + yaml.safe_dump(json.loads(json.dumps(extra)), sort_keys=False), encoding="utf-8")
    names = ", ".join(image["name"] for image in extra["lab_images"]) or "none"
    print(f"NAS folder {args.dir}: the Harvester release files and the images {names}; extra vars in {args.vars}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
