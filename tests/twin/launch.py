"""The one way to start and stop a twin process, for everyone who needs "a cluster": the pytest
fixtures, `make demo` (tools/with_twin.sh), the molecule scenario and the benchmarks.

Python::

    from tests.twin.launch import start_twin, stop_twin
    twin = start_twin(workdir, crd_dirs=[...], extra=["--lab", "inventory/lab"])   # a RunningTwin
    ... twin.session().get(twin.url("/api/v1/nodes")) ... twin.kubectl("get", "nodes") ...
    stop_twin(twin)

Command line (from the repository root)::

    python -m tests.twin.launch start --dir DIR [TWIN ARGS...]   # detached; pid in DIR/twin.pid;
                                                                 # prints "started", or "running" if one is
    python -m tests.twin.launch stop --dir DIR
    python -m tests.twin.launch run --dir DIR [TWIN ARGS...] -- CMD [ARG...]
        # start, run CMD with K8S_AUTH_KUBECONFIG (and TWIN_PORT, TWIN_LOG) set, stop; CMD's status

TWIN ARGS are those of ``python -m tests.twin`` (``--lab``, ``--speed``, ``--crds``, ...). The twin
writes its kubeconfig only once it serves; ``DIR/kubeconfig`` is removed first, so an old one never
counts as ready.
"""
from __future__ import annotations

import argparse
import base64
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
START_TIMEOUT = 30.0


@dataclass
class RunningTwin:
    """A started twin: its process, kubeconfig, server URL, token and CA file, and clients for it
    (requests, kubectl, the kubernetes Python client)."""
    process: subprocess.Popen | None
    kubeconfig: Path
    server: str
    token: str
    ca_file: Path
    workdir: Path
    hooks: str = ""  # --bare: the base URL of the /_twin/ hooks (see url)

    # plain HTTPS -------------------------------------------------------------------------------
    def session(self, token: str | None = None):
        """A new requests session with the twin's token or ``token``, for the test to use as it likes."""
        return self._new_session(token or self.token)

    def _hooks(self):
        """The session of the helpers below, kept and reused (one TLS handshake for all of them)."""
        cached = self.__dict__.get("_hooks_session")
        if cached is None:
            cached = self.__dict__["_hooks_session"] = self._new_session(self.token)
        return cached

    def _new_session(self, token: str):
        import requests
        s = requests.Session()
        s.trust_env = False  # else REQUESTS_CA_BUNDLE in the environment overrides verify=
        s.verify = str(self.ca_file)
        s.headers["Authorization"] = f"Bearer {token}"
        return s

    def url(self, path: str) -> str:
        """The URL of ``path``: the API's server, or for a ``/_twin/`` hook the twin's own port
        (the same but with --bare, whose VIP listens only while a cluster is installed)."""
        return (self.hooks or self.server) + path if path.startswith("/_twin/") else self.server + path

    def reset(self) -> None:
        self._hooks().post(self.url("/_twin/reset")).raise_for_status()

    def snapshot(self, name: str = "default") -> None:
        self._hooks().post(self.url("/_twin/snapshot"), params={"name": name}).raise_for_status()

    def restore(self, name: str = "default") -> None:
        self._hooks().post(self.url("/_twin/restore"), params={"name": name}).raise_for_status()

    def requests_log(self, since: int = 0) -> list[dict]:
        r = self._hooks().get(self.url("/_twin/requests"), params={"since": since})
        r.raise_for_status()
        return r.json()

    def last_seq(self) -> int:
        log = self.requests_log()
        return log[-1]["seq"] if log else 0

    def fault(self, **spec) -> None:
        self._hooks().post(self.url("/_twin/faults"), json=spec).raise_for_status()

    # kubectl -----------------------------------------------------------------------------------
    def kubectl(self, *args: str, input: str | None = None, check: bool = True, timeout: float = 30,
                ) -> subprocess.CompletedProcess:
        cmd = [KUBECTL, "--kubeconfig", str(self.kubeconfig), "--request-timeout=20s", *args]
        proc = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}{proc.stdout}")
        return proc

    # the kubernetes Python client --------------------------------------------------------------
    def dynamic(self):
        from kubernetes import config, dynamic
        api_client = config.new_client_from_config(config_file=str(self.kubeconfig))
        return dynamic.DynamicClient(api_client)


def _command(kubeconfig: Path, crd_dirs=(), extra=()) -> list[str]:
    args = [sys.executable, "-m", "tests.twin", "--port", "0", "--kubeconfig", str(kubeconfig), *extra]
    for d in crd_dirs:
        args += ["--crds", str(d)]
    return args


def connect(workdir: Path, process=None) -> RunningTwin:
    """The twin whose kubeconfig is ``workdir/kubeconfig`` (its CA written to ``workdir/ca.crt``)."""
    kc = workdir / "kubeconfig"
    doc = yaml.safe_load(kc.read_text())
    cluster = doc["clusters"][0]["cluster"]
    ca_file = workdir / "ca.crt"
    ca_file.write_bytes(base64.b64decode(cluster["certificate-authority-data"]))
    hooks = workdir / "hooks-url"  # --bare: the hooks answer on the twin's port, not at the VIP
    return RunningTwin(process, kc, cluster["server"], doc["users"][0]["user"]["token"], ca_file, workdir,
                       hooks.read_text().strip() if hooks.exists() else "")


def start_twin(workdir: Path, crd_dirs=(), extra=(), *, detach: bool = False, timeout: float = START_TIMEOUT) -> RunningTwin:
    """Starts ``python -m tests.twin`` on a free port (from the repository root, log in
    ``workdir/twin.log``) and returns once it serves. ``detach``: in its own session, outliving us."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    kc = workdir / "kubeconfig"
    kc.unlink(missing_ok=True)
    log = open(workdir / "twin.log", "w")  # noqa: SIM115 - the child keeps it open
    proc = subprocess.Popen(_command(kc, crd_dirs, extra), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=detach)
    log.close()
    (workdir / "twin.pid").write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + timeout
    while not kc.exists():  # written atomically (tmp + rename) once the twin serves
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            tail = "\n".join((workdir / "twin.log").read_text().splitlines()[-20:])
            raise RuntimeError(f"the twin did not start (log {workdir / 'twin.log'}):\n{tail}")
        time.sleep(0.05)
    return connect(workdir, proc)


def stop_twin(twin: RunningTwin) -> None:
    stop_pid(twin.process.pid if twin.process is not None else _pid_of(twin.workdir))
    if twin.process is not None:
        try:
            twin.process.wait(1)
        except subprocess.TimeoutExpired:
            pass
    (twin.workdir / "twin.pid").unlink(missing_ok=True)


def _pid_of(workdir: Path) -> int | None:
    try:
        return int((Path(workdir) / "twin.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def _is_twin(pid: int) -> bool:
    """Only our twin: a stale pid file may name another process by now."""
    try:
        return b"tests.twin" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def stop_pid(pid: int | None, grace: float = 5.0) -> bool:
    """SIGTERM, then SIGKILL after ``grace`` seconds; False when ``pid`` is not a running twin."""
    if not pid or not _is_twin(pid):
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            done, dummy = os.waitpid(pid, os.WNOHANG)  # our child: reap it
            if done:
                return True
        except ChildProcessError:  # not our child: poll its existence
            if not _is_twin(pid):
                return True
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    return True


# --- command line -------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    p = argparse.ArgumentParser(prog="python -m tests.twin.launch", description="Start, stop or run with a twin.")
    p.add_argument("action", choices=["start", "stop", "run"])
    p.add_argument("--dir", type=Path, default=Path(".twin"), help="kubeconfig, CA, pid file and log (default .twin)")
    p.add_argument("--timeout", type=float, default=START_TIMEOUT, help="seconds to wait for the twin to serve")
    args, twin_args = p.parse_known_args(argv)
    workdir = args.dir.resolve()
    if args.action == "stop":
        stopped = stop_pid(_pid_of(workdir))
        (workdir / "twin.pid").unlink(missing_ok=True)
        print("stopped" if stopped else "not running")
        return 0
    if args.action == "run" and not command:
        p.error("run needs a command after --")
    running = _pid_of(workdir)
    if running and _is_twin(running):
        if args.action == "start":  # one twin per directory: start again is a no-op
            print("running")
            return 0
        print(f"launch: a twin (pid {running}) already uses {workdir}; stop it first", file=sys.stderr)
        return 1
    try:
        twin = start_twin(workdir, extra=twin_args, detach=args.action == "start", timeout=args.timeout)
    except RuntimeError as e:
        print(f"launch: {e}", file=sys.stderr)
        return 1
    port = twin.server.rsplit(":", 1)[1]
    print(f"twin pid {twin.process.pid} serving on {twin.server} (kubeconfig {twin.kubeconfig}, log {workdir / 'twin.log'})",
          file=sys.stderr)
    if args.action == "start":
        print("started")
        return 0
    env = dict(os.environ, K8S_AUTH_KUBECONFIG=str(twin.kubeconfig), TWIN_PORT=port, TWIN_LOG=str(workdir / "twin.log"))
    try:
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:
        return 130
    finally:
        stop_twin(twin)


if __name__ == "__main__":
    sys.exit(main())
