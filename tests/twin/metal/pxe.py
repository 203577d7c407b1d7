"""A node's network boot: the iPXE scripts it runs, as iPXE runs them.

What iPXE does with a script (ipxe/ipxe src/core/exec.c `system`, `execv`, src/image/script.c
`process_script`, `script_probe`; src/hci/commands for each command):

- a script starts with `#!ipxe` (or `#!gpxe`) and a space/newline, else "Exec format error";
- a line is split on whitespace *before* `${...}` is expanded (so an unset setting is an empty
  argument); `#` starts a comment; `||`, `&&`, `;` chain commands: the next command runs on
  failure, on success, always; an empty command succeeds (`cmd ||` ignores a failure);
- a line that fails ends the script (its error is the script's); `:label` lines are goto targets;
- settings: `${mac}` (the booting port), `${netN/mac}` for each port in the order the firmware
  numbers them, typed names (`set idx:int32 0`, `${net${idx}/mac}` expands inside out);
- `chain URL` runs a fetched script (or boots a fetched kernel); `kernel URL args...` and
  `initrd URL` fetch images (named by their file name), `boot` boots the kernel with them;
  `shell` and `exit` leave the script without booting.

Downloads go through metal/nas.py (`fetch`): a failure reads as iPXE prints it,
`<url>... <error>`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

MAX_STEPS = 10000  # a script that loops longer than this never boots
_VAR = re.compile(r"\$\{([^${}]*)\}")


class IpxeStop(Exception):
    """The scripts ended without booting: why (the last error or echo), for the twin's log."""


@dataclass
class Boot:
    """What `boot` starts: the kernel, its command line, the initrds, and the scripts run."""
    kernel_url: str
    kernel_args: list[str]
    initrds: list[tuple[str, str]]  # (image name, url)
    scripts: list[str] = field(default_factory=list)

    def initrd_names(self) -> list[str]:
        return [name for name, _ in self.initrds]


class _Failed(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class _Goto(Exception):
    def __init__(self, label: str):
        super().__init__(label)
        self.label = label


class _Leave(Exception):
    """shell / exit: stop running scripts."""


class _Booted(Exception):
    def __init__(self, boot: Boot):
        super().__init__("booted")
        self.boot = boot


class Ipxe:
    """One iPXE run on a machine: its ports [(name, mac)] and the port it booted from.
    `fetch(url) -> bytes` downloads a file or raises _Failed's message (see `run`); `dhcp_ok(mac)`
    says whether a DHCP server answers on that port."""

    def __init__(self, ports: list[tuple[str, str]], boot_mac: str, fetch, exists, dhcp_ok):
        self.settings: dict[str, str] = {"mac": boot_mac}
        for i, (_name, mac) in enumerate(ports):
            self.settings[f"net{i}/mac"] = mac
        self.ports = ports
        self.fetch, self.exists, self.dhcp_ok = fetch, exists, dhcp_ok
        self.kernel: tuple[str, str, list[str]] | None = None  # (name, url, args)
        self.initrds: list[tuple[str, str]] = []
        self.scripts: list[str] = []
        self.last_error = ""
        self.last_echo = ""
        self.steps = 0

    # ------------------------------------------------------------------ entry
    async def run(self, url: str, script: str | None = None) -> Boot:
        """Boot from the DHCP filename `url` (or run `script`, served at `url`): the Boot, or
        IpxeStop saying why not."""
        try:
            if script is None:
                await self._chain(url, [])
            else:
                self.scripts.append(url)
                await self._script(url, script)
        except _Booted as b:
            return b.boot
        except _Leave:
            raise IpxeStop(self.last_echo or self.last_error or "the script dropped to the iPXE shell") from None
        except _Failed as e:
            raise IpxeStop(e.message) from None
        raise IpxeStop(self.last_error or "the script ended without booting")

    # ------------------------------------------------------------------ scripts
    async def _chain(self, url: str, args: list[str]) -> None:
        data = await self._download(url)
        self.scripts.append(url)
        if not (data[:6] in (b"#!ipxe", b"#!gpxe") and len(data) > 6 and data[6:7].isspace()):
            if data[:2] == b"MZ" or data[:4] == b"\x7fELF":  # an EFI binary / a kernel: boot it
                raise _Booted(Boot(url, args, list(self.initrds), list(self.scripts)))
            raise _Failed(f"Could not boot {url}: Exec format error")
        await self._script(url, data.decode("utf-8", "replace"))

    async def _script(self, url: str, text: str) -> None:
        lines = text.split("\n")
        labels: dict[str, int] = {}
        commands: list[str] = []
        for i, raw in enumerate(lines):
            line = raw.rstrip("\r").strip()
            if line.startswith(":"):
                name, _, rest = line[1:].partition(" ")
                labels.setdefault(name, i)
                line = rest.strip()
            commands.append(line)
        pc = 1  # the signature line is a comment
        while pc < len(commands):
            self.steps += 1
            if self.steps > MAX_STEPS:
                raise _Failed(f"{url}: the script did not finish (looped more than {MAX_STEPS} steps)")
            try:
                rc = await self._system(url, commands[pc])
            except _Goto as g:
                if g.label not in labels:
                    raise _Failed(f"goto: {g.label}: no such label") from None
                pc = labels[g.label] + 1
                continue
            if rc != 0:
                raise _Failed(self.last_error or f"{url}: line {pc + 1} failed")
            pc += 1

    async def _system(self, url: str, line: str) -> int:
        """One line: commands joined by ||, && and ; (exec.c system)."""
        tokens = line.split()
        rc, process, i = 0, True, 0
        while True:
            j, terminator = i, None
            while j < len(tokens):
                tok = tokens[j]
                if tok.startswith("#"):
                    break
                if tok in ("||", "&&", ";"):
                    terminator = tok
                    break
                j += 1
            if process:
                argv = [self._expand(t) for t in tokens[i:j]]
                rc = await self._exec(url, argv) if argv else 0
            if terminator is None:
                return rc
            process = {"||": rc != 0, "&&": rc == 0, ";": True}[terminator]
            i = j + 1

    def _expand(self, token: str) -> str:
        while True:
            new = _VAR.sub(lambda m: self.settings.get(m.group(1).split(":", 1)[0], ""), token)
            if new == token:
                return new
            token = new

    # ------------------------------------------------------------------ commands
    async def _exec(self, url: str, argv: list[str]) -> int:
        cmd, args = argv[0], argv[1:]
        if cmd == "set":
            if not args:
                return self._error("set: missing name")
            self.settings[args[0].split(":", 1)[0]] = " ".join(args[1:])
            return 0
        if cmd == "clear":
            for a in args:
                self.settings.pop(a.split(":", 1)[0], None)
            return 0
        if cmd == "isset":
            return 0 if args and args[0] else 1
        if cmd == "iseq":
            if len(args) < 2:
                return self._error("iseq: missing argument")
            return 0 if args[0] == args[1] else 1
        if cmd == "inc":
            name = args[0].split(":", 1)[0] if args else ""
            try:
                self.settings[name] = str(int(self.settings.get(name) or 0) + int(args[1] if len(args) > 1 else 1))
            except ValueError:
                return self._error(f"inc: {name}: not a number")
            return 0
        if cmd == "goto":
            if not args:
                return self._error("goto: missing label")
            raise _Goto(args[0])
        if cmd == "echo":
            text = " ".join(a for a in args if a != "-n")
            if text:
                self.last_echo = text
            return 0
        if cmd in ("shell", "exit"):
            raise _Leave()
        if cmd in ("sleep", "iflinkwait", "ifopen", "prompt", "imgverify", "ntp", "console", "colour", "cpair"):
            return 0
        if cmd in ("ifconf", "dhcp"):
            return self._dhcp(cmd, args)
        if cmd in ("chain", "imgexec"):
            opts, rest = _options(args)
            if not rest:
                return self._error(f"{cmd}: missing URI")
            target = self._resolve(url, rest[0])
            try:
                await self._chain(target, rest[1:])
            except _Failed as e:
                return self._error(e.message)
            return 0
        if cmd in ("kernel", "imgselect", "initrd", "imgfetch", "module"):
            opts, rest = _options(args)
            if not rest:
                return self._error(f"{cmd}: missing URI")
            target = self._resolve(url, rest[0])
            try:
                await self._fetch_image(target)
            except _Failed as e:
                return self._error(e.message)
            name = opts.get("name") or _basename(target)
            if cmd in ("kernel", "imgselect"):
                self.kernel = (name, target, rest[1:])
                self.initrds = []  # a new kernel: iPXE's imgselect replaces the selected image
            else:
                self.initrds.append((name, target))
            return 0
        if cmd in ("boot", "imgboot"):
            if self.kernel is None:
                return self._error("No image selected")
            name, kurl, kargs = self.kernel
            raise _Booted(Boot(kurl, kargs, list(self.initrds), list(self.scripts)))
        return self._error(f"{cmd}: command not found")

    def _dhcp(self, cmd: str, args: list[str]) -> int:
        names = [a for a in args if not a.startswith("-") and a not in ("dhcp",)]
        ports = [self._port(n) for n in names] if names else list(range(len(self.ports)))
        for p in ports:
            if p is not None and self.dhcp_ok(self.ports[p][1]):
                return 0
        where = " ".join(names) or "all ports"
        return self._error(f"Could not configure {where}: Connection timed out")

    def _port(self, name: str) -> int | None:
        m = re.fullmatch(r"net(\d+)", name)
        if m and int(m.group(1)) < len(self.ports):
            return int(m.group(1))
        return None

    def _error(self, message: str) -> int:
        self.last_error = message
        return 1

    @staticmethod
    def _resolve(base: str, target: str) -> str:
        return target if urlsplit(target).scheme else urljoin(base, target)

    async def _download(self, url: str) -> bytes:
        return await self.fetch(url)

    async def _fetch_image(self, url: str) -> None:
        await self.exists(url)


def _options(args: list[str]) -> tuple[dict, list[str]]:
    opts: dict[str, str] = {}
    rest: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if not rest and a in ("-n", "--name") and i + 1 < len(args):
            opts["name"] = args[i + 1]
            i += 2
            continue
        if not rest and a.startswith("--name="):
            opts["name"] = a.split("=", 1)[1]
        elif not rest and a.startswith("-"):
            pass  # --autofree, --replace, --timeout ...: no effect on what boots
        else:
            rest.append(a)
        i += 1
    return opts, rest


def _basename(url: str) -> str:
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]


def kernel_parameter(args: list[str], name: str) -> str | None:
    """The value of `name=value` on a kernel command line (the last one wins, as on Linux)."""
    value = None
    for a in args:
        if a.startswith(name + "="):
            value = a.split("=", 1)[1]
    return value


Failed = _Failed  # the error fetch callbacks raise: its message is what iPXE prints
