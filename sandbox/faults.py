"""Fault injection: a client-visible rate limit, 5xx answers, latency, dropped connections, failing jobs,
contacts refused by completed bulk jobs.

Spec syntax (flag `--faults` and the admin endpoint): comma-separated `name=value` pairs, e.g.
`rate_limit=20,error_rate=0.2,latency_ms=50,drop_rate=0.05,job_fail_rate=1,storm=0.3,seed=7`.
`job_refuse_rate=P` makes each contact of a completing bulk subscription job refused with probability P: not
applied, listed in the job's error report, the job still `Completed`.
`job_refuse_first=P` makes each contact refused, with probability P, by the first bulk subscription job that
asks a given action of it (`addnoforce`, `unsub`, `remove`, a properties-only update...), and never again for
that action: with P=1 every change is refused once, then goes through when sent again.
`methods=POST+PUT` limits the request faults (rate limit, storm, errors, drops, latency) to requests with
those HTTP methods; without it they hit every method."""

from __future__ import annotations

import hashlib
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from sandbox.exceptions import SandboxConfigError

Fault = Literal["rate_limited", "error", "drop"]
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD")

ALIASES = {
    "rate": "rate_limit",
    "rps": "rate_limit",
    "5xx": "error_rate",
    "errors": "error_rate",
    "latency": "latency_ms",
    "drop": "drop_rate",
    "jobfail": "job_fail_rate",
    "job_fail": "job_fail_rate",
    "jobrefuse": "job_refuse_rate",
    "job_refuse": "job_refuse_rate",
    "jobrefusefirst": "job_refuse_first",
    "storm_share": "storm",
    "method": "methods",
}


@dataclass
class Faults:
    """Active faults. All default to off."""

    rate_limit: float = 0.0  # requests per second per API key (token bucket, burst = one second's worth)
    error_rate: float = 0.0  # share of API requests answered 500
    latency_ms: float = 0.0  # added to every API request
    drop_rate: float = 0.0  # share of API responses cut off mid-body, connection closed
    job_fail_rate: float = 0.0  # share of async jobs that end in status Error
    job_refuse_rate: float = 0.0  # share of a completed bulk job's contacts refused (in its error report)
    job_refuse_first: float = 0.0  # share of contacts refused by the first job asking an action of them
    storm: float = 0.0  # share of every second during which every request gets a 429 (a 429 storm)
    seed: int = 0
    methods: str = ""  # HTTP methods the request faults hit, joined with "+" ("POST+PUT"); "" = all
    _rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _tokens: float = field(default=0.0, repr=False, compare=False)
    _last: float = field(default=0.0, repr=False, compare=False)
    _refuse_draws: dict[str, int] = field(default_factory=dict, repr=False, compare=False)
    _sent: set[tuple[str, str]] = field(default_factory=set, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in (
            "error_rate",
            "drop_rate",
            "job_fail_rate",
            "job_refuse_rate",
            "job_refuse_first",
            "storm",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise SandboxConfigError(f"fault {name}={value}: must be between 0 and 1")
        for name in ("rate_limit", "latency_ms"):
            if getattr(self, name) < 0:
                raise SandboxConfigError(f"fault {name}={getattr(self, name)}: must be >= 0")
        wanted = [m.strip().upper() for m in self.methods.split("+") if m.strip()]
        unknown = [m for m in wanted if m not in METHODS]
        if unknown or (self.methods.strip() and not wanted):
            raise SandboxConfigError(
                f"fault methods={self.methods}: expected HTTP methods joined with '+', such as POST+PUT, "
                f"from {', '.join(METHODS)}"
            )
        self.methods = "+".join(dict.fromkeys(wanted))
        self._rng.seed(self.seed)
        self._tokens = self.rate_limit
        self._last = time.monotonic()

    @classmethod
    def parse(cls, spec: str | None) -> Faults:
        """Faults from a spec string such as `rate_limit=20,error_rate=0.2`; '' or None = none."""
        values: dict[str, Any] = {}
        valid = [n for n in cls.__dataclass_fields__ if not n.startswith("_")]
        for item in (spec or "").split(","):
            if not item.strip():
                continue
            name, sep, raw = item.partition("=")
            key = ALIASES.get(name.strip().lower(), name.strip().lower())
            if not sep or key not in valid:
                raise SandboxConfigError(
                    f"bad fault {item.strip()!r}: expected name=value with name one of {', '.join(valid)}"
                )
            if key == "methods":
                values[key] = raw
                continue
            text = raw.strip().lower().removesuffix("ms").removesuffix("%")
            try:
                number = float(text)
            except ValueError as exc:
                raise SandboxConfigError(f"bad fault {item.strip()!r}: {raw!r} is not a number") from exc
            if raw.strip().endswith("%"):
                number /= 100
            values[key] = int(number) if key == "seed" else number
        return cls(**values)

    def describe(self) -> dict[str, Any]:
        """The public settings."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__ if not name.startswith("_")}

    def hits(self, method: str) -> bool:
        """Whether the request faults apply to a request with this HTTP method."""
        return not self.methods or method.upper() in self.methods.split("+")

    def decide(self, method: str) -> Fault | None:
        """Which fault (if any) hits the next API request, sent with `method`."""
        if not self.hits(method):
            return None
        with self._lock:
            if self.storm and time.monotonic() % 1.0 < self.storm:
                return "rate_limited"
            if self.rate_limit > 0:
                now = time.monotonic()
                self._tokens = min(self.rate_limit, self._tokens + (now - self._last) * self.rate_limit)
                self._last = now
                if self._tokens < 1.0:
                    return "rate_limited"
                self._tokens -= 1.0
            if self.error_rate and self._rng.random() < self.error_rate:
                return "error"
            if self.drop_rate and self._rng.random() < self.drop_rate:
                return "drop"
        return None

    def job_fails(self) -> bool:
        """Whether the next async job fails."""
        with self._lock:
            return bool(self.job_fail_rate) and self._rng.random() < self.job_fail_rate

    def job_refuses(self, email: str) -> bool:
        """Whether a completing bulk subscription job refuses this contact (drawn once per contact).

        The draw is derived from the seed, the address (lowercased) and how many times this address was
        drawn for before, not from the shared request-fault generator: it is the same for a given seed
        whatever the timing, the job IDs or the other faults' draws, and a later job draws afresh for the
        same address, so a retry can get through. Replacing the faults starts the counts over."""
        if not self.job_refuse_rate:
            return False
        key = email.strip().lower()
        with self._lock:
            drawn = self._refuse_draws.get(key, 0)
            self._refuse_draws[key] = drawn + 1
        digest = hashlib.blake2b(f"{self.seed}\0{key}\0{drawn}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64 < self.job_refuse_rate

    def job_refuses_first(self, email: str, action: str) -> bool:
        """Whether a bulk job that asks `action` of this contact refuses it as the first such job (drawn
        once per address and action, from the seed; a later job asking the same never is refused by this
        fault). Replacing the faults starts over: every address and action is new again."""
        if not self.job_refuse_first:
            return False
        key = (email.strip().lower(), action)
        with self._lock:
            if key in self._sent:
                return False
            self._sent.add(key)
        digest = hashlib.blake2b(f"{self.seed}\0{key[0]}\0{action}\0first".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64 < self.job_refuse_first
