"""Offline stand-in for ansible-test's get-pip download.

ansible-test seeds pip into the venvs it creates for sanity tests by downloading
https://ci-files.testing.ansible.com/ansible-test/get-pip-<ver>.py, which this network blocks.
It first looks for ~/.ansible/test/cache/get_pip_<ver with _>.py; `make sanity` copies this
file there. It bootstraps pip from the standard library's ensurepip wheel, then lets that pip
install what ansible-test asked for (the pinned pip and its requirements) from the package index.
"""

import ensurepip
import os
import subprocess
import sys

GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}


def main():
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
    ensurepip.bootstrap(upgrade=True)
    # ensurepip sets PIP_CONFIG_FILE=/dev/null in this process, which would hide the machine's
    # pip configuration (index URL, CA bundle) from the pip run below.
    env = {k: v for k, v in os.environ.items() if k not in ("PIP_CONFIG_FILE", "ENSUREPIP_OPTIONS")}
    rc = subprocess.call([sys.executable, "-m", "pip", "install", "--upgrade"] + args, env=env)
    if rc == 0 and "--no-setuptools" in sys.argv:
        rc = subprocess.call([sys.executable, "-m", "pip", "uninstall", "-q", "-y", "setuptools"], env=env)
    return rc


if __name__ == "__main__":
    sys.exit(main())
