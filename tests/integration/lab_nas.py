# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's NAS for the tests that run playbooks on inventory/lab (or a copy of it): its image
library is on the NAS (http://10.10.10.20/...), which no test may reach. Each playbook run gets
`lab_images` as the inventory has them, with every NAS entry's file generated in NAS_DIR by
tools/lab_nas.py (as `make demo` does), its sha512 checksum set and its URL on a loopback HTTP
server of this process that serves NAS_DIR; entries not on the NAS are left alone. The demo and
molecule give the twin the folder itself instead (`--nas`, the twin's model of the NAS)."""
from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
import threading
from pathlib import Path

from tests.integration import image_files
from tools.lab_nas import overlay, read_plan, release

NAS_DIR = Path(tempfile.mkdtemp(prefix="homelab-harvester-nas-"))
atexit.register(shutil.rmtree, NAS_DIR, True)


_STARTING = threading.Lock()


def base_url() -> str:
    """The loopback server serving NAS_DIR (image_files.py's, started once per process, also when
    threads ask at once: tools/fault_runs.py's workers compare their runs' image URLs)."""
    with _STARTING:
        return _started()


@functools.cache
def _started() -> str:
    return image_files.start(NAS_DIR)


def extra_vars(inventory: Path) -> dict:
    """``{"lab_images": [...]}`` for a run on `inventory` (see the module docstring)."""
    plan = read_plan(inventory)
    server = (plan.get("lab_nfs") or {}).get("server")
    release(NAS_DIR, str(plan.get("lab_harvester_version") or "v1.8.2"))
    return {"lab_images": overlay(plan.get("lab_images") or [], server, NAS_DIR, base_url())}
