"""Test hooks outside the Kubernetes paths: the request log and injected faults.

GET  /_twin/requests            every API request served, in order: seq, method, path, query, status,
                                agent (User-Agent), peer (the client's port: one per connection)
                                (`?since=SEQ` returns only later ones)
POST /_twin/faults              {"method": "PUT", "path": "<regex searched in the path>",
                                 "status": 503 | "reset": true | "reset_after": true | "delay": 1.5
                                 | "random": ["409", "429", "500", "503", "reset", "reset_after"],
                                 "count": N | "ratio": 0.5, "seed": 7, "message": "...", "retry_after": 2}
                                reset: the connection drops before the request is served (nothing
                                stored); reset_after: it is served (a write is stored, its watch
                                event sent) and the connection drops before the answer goes out;
                                random: each firing picks one of the listed faults that fits the
                                request ("409" only for a PUT or PATCH carrying a resourceVersion,
                                "reset_after" only for writes); seed: a firing is random with
                                probability ratio (else the n-th match fires when floor(n*ratio)
                                grows), picks drawn from the same seeded generator
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

import random
import re
from dataclasses import dataclass, field

WRITES = ("POST", "PUT", "PATCH", "DELETE")
RANDOM_FAULTS = ("409", "429", "500", "503", "reset", "reset_after")


@dataclass
class Fault:
    method: str
    path: re.Pattern
    status: int | None = None
    reset: bool = False
    reset_after: bool = False
    delay: float = 0.0
    picks: tuple[str, ...] = ()  # the "random" faults to pick from
    count: int | None = None  # remaining matches to hit; None with ratio = unlimited
    ratio: float | None = None
    seed: int | None = None
    message: str = ""
    retry_after: int | None = None
    seen: int = field(default=0)
    fired: dict = field(default_factory=dict)  # what fired how often: {"503": 2, "reset_after": 1}
    rng: random.Random | None = field(default=None, repr=False)
    picked_status: int = field(default=503, repr=False)  # the status a random firing picked

    @classmethod
    def from_json(cls, body: dict) -> Fault:
        if not isinstance(body, dict):
            raise ValueError("a fault is a JSON object")
        unknown = set(body) - {"method", "path", "status", "reset", "reset_after", "delay", "random", "count", "ratio",
                               "seed", "message", "retry_after"}
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        actions = [k for k in ("status", "reset", "reset_after", "delay", "random") if body.get(k)]
        if len(actions) != 1:
            raise ValueError("a fault needs exactly one of status, reset, reset_after, delay, random")
        picks = body.get("random") or []
        if not isinstance(picks, list) or any(str(p) not in RANDOM_FAULTS for p in picks):
            raise ValueError(f"random is a list of faults out of {', '.join(RANDOM_FAULTS)}")
        seed = body.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError("seed must be an integer")
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
                   reset_after=bool(body.get("reset_after")), delay=float(body.get("delay") or 0),
                   picks=tuple(str(p) for p in picks), count=int(count) if count is not None else None,
                   ratio=float(ratio) if ratio is not None else None, seed=seed,
                   message=str(body.get("message", "")), retry_after=body.get("retry_after"),
                   rng=random.Random(seed) if seed is not None else None)

    def to_json(self) -> dict:
        return {"method": self.method, "path": self.path.pattern, "status": self.status, "reset": self.reset,
                "reset_after": self.reset_after, "delay": self.delay, "random": list(self.picks),
                "count": self.count, "ratio": self.ratio, "seed": self.seed, "seen": self.seen, "fired": dict(self.fired)}

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method)) and bool(self.path.search(path))

    def fires(self) -> bool:
        """Called on a match. With a seed, a match fires with probability ratio; else, with a
        ratio, faults are spread evenly and deterministically: the n-th match fires when
        floor(n*ratio) grows."""
        self.seen += 1
        if self.rng is not None:
            fire = self.rng.random() < (self.ratio if self.ratio is not None else 1.0)
        elif self.ratio is not None:
            fire = int(self.seen * self.ratio) > int((self.seen - 1) * self.ratio)
        else:
            fire = True
        if fire and self.count is not None:
            self.count -= 1
        return fire

    def action(self, method: str, versioned: bool) -> str:
        """What this firing does: "status", "reset", "reset_after" or "delay" -- for a random fault,
        one of its picks that fits the request ("409" needs a PUT or PATCH with a resourceVersion,
        "reset_after" a write), its status kept in ``picked_status``."""
        if not self.picks:
            kind = "status" if self.status else "reset" if self.reset else "reset_after" if self.reset_after else "delay"
            label = str(self.status) if kind == "status" else kind
            self.fired[label] = self.fired.get(label, 0) + 1
            return kind
        fits = [p for p in self.picks if (p != "409" or (method in ("PUT", "PATCH") and versioned))
                and (p != "reset_after" or method in WRITES)]
        rng = self.rng or random
        pick = rng.choice(fits) if fits else "503"
        self.fired[pick] = self.fired.get(pick, 0) + 1
        if pick in ("reset", "reset_after"):
            return pick
        self.picked_status = int(pick)
        return "status"

    def status_code(self) -> int:
        return self.picked_status if self.picks else self.status

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

    def add(self, method: str, path: str, query: str, status: int, agent: str = "", peer: int = 0,
            fault: str = "") -> None:
        """``fault``: what an injected fault did to this request ("503", "reset", "reset_after", ...)."""
        self._seq += 1
        entry = {"seq": self._seq, "method": method, "path": path, "query": query, "status": status,
                 "agent": agent, "peer": peer}
        if fault:
            entry["fault"] = fault
        self.entries.append(entry)

    def since(self, seq: int) -> list[dict]:
        return [e for e in self.entries if e["seq"] > seq]

    def clear(self) -> None:
        self.entries.clear()
