"""Test hooks outside the Kubernetes paths: the request log and injected faults.

GET  /_twin/requests            every API request served, in order: seq, method, path, query, status,
                                agent (User-Agent), peer (the client's port: one per connection)
                                (`?since=SEQ` returns only later ones)
POST /_twin/faults              {"method": "PUT", "path": "<regex searched in the path>",
                                 "status": 503 | "reset": true | "delay": 1.5,
                                 "count": N | "ratio": 0.5, "message": "...", "retry_after": 2}
GET  /_twin/faults              the faults still armed; DELETE clears them
GET  /_twin/environment         facts about the world outside the API (PATCH merges keys, null
                                removes one), e.g. {"unreachable": ["nfs://10.10.10.20:/export"]}
POST /_twin/reset               faults, log, environment and objects back to the start state
POST /_twin/snapshot?name=N     keeps every object and the environment as they are now (default N:
                                "default"; 201 with the object count)
POST /_twin/restore?name=N      objects and environment back to snapshot N, no faults, empty log,
                                controllers restarted on them (404 when there is no snapshot N)
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class Fault:
    method: str
    path: re.Pattern
    status: int | None = None
    reset: bool = False
    delay: float = 0.0
    count: int | None = None  # remaining matches to hit; None with ratio = unlimited
    ratio: float | None = None
    message: str = ""
    retry_after: int | None = None
    seen: int = field(default=0)

    @classmethod
    def from_json(cls, body: dict) -> Fault:
        if not isinstance(body, dict):
            raise ValueError("a fault is a JSON object")
        unknown = set(body) - {"method", "path", "status", "reset", "delay", "count", "ratio", "message",
                               "retry_after"}
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        actions = [k for k in ("status", "reset", "delay") if body.get(k)]
        if len(actions) != 1:
            raise ValueError("a fault needs exactly one of status, reset, delay")
        count, ratio = body.get("count"), body.get("ratio")
        if count is None and ratio is None:
            count = 1
        if ratio is not None and not 0 < float(ratio) <= 1:
            raise ValueError("ratio must be in (0, 1]")
        status = body.get("status")
        if status is not None and not 400 <= int(status) <= 599:
            raise ValueError("status must be 4xx or 5xx")
        return cls(method=str(body.get("method", "*")).upper(), path=re.compile(body.get("path", "")),
                   status=int(status) if status else None, reset=bool(body.get("reset")),
                   delay=float(body.get("delay") or 0), count=int(count) if count is not None else None,
                   ratio=float(ratio) if ratio is not None else None, message=str(body.get("message", "")),
                   retry_after=body.get("retry_after"))

    def to_json(self) -> dict:
        return {"method": self.method, "path": self.path.pattern, "status": self.status, "reset": self.reset,
                "delay": self.delay, "count": self.count, "ratio": self.ratio, "seen": self.seen}

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method)) and bool(self.path.search(path))

    def fires(self) -> bool:
        """Called on a match. With a ratio, faults are spread evenly and deterministically:
        the n-th match fires when floor(n*ratio) grows."""
        self.seen += 1
        if self.ratio is not None:
            fire = int(self.seen * self.ratio) > int((self.seen - 1) * self.ratio)
        else:
            fire = True
        if fire and self.count is not None:
            self.count -= 1
        return fire

    @property
    def spent(self) -> bool:
        return self.count is not None and self.count <= 0


class Faults:
    def __init__(self):
        self.armed: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self.armed.append(fault)

    def clear(self) -> None:
        self.armed.clear()

    def pick(self, method: str, path: str) -> Fault | None:
        for fault in self.armed:
            if fault.matches(method, path) and fault.fires():
                if fault.spent:
                    self.armed.remove(fault)
                return fault
        return None


class RequestLog:
    def __init__(self):
        self.entries: list[dict] = []
        self._seq = 0

    def add(self, method: str, path: str, query: str, status: int, agent: str = "", peer: int = 0) -> None:
        self._seq += 1
        self.entries.append({"seq": self._seq, "method": method, "path": path, "query": query, "status": status,
                             "agent": agent, "peer": peer})

    def since(self, seq: int) -> list[dict]:
        return [e for e in self.entries if e["seq"] > seq]

    def clear(self) -> None:
        self.entries.clear()
