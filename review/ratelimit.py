"""Sliding-window counters that slow down password guessing.

In memory, per process: the embedded default runs one web process, and a restart only
forgets at most a minute of attempts.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """At most `limit` hits per key within `window` seconds."""

    def __init__(
        self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _prune(self, key: str, now: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits

    def hit(self, key: str) -> bool:
        """Count one attempt; False when the key is over its limit (the attempt is refused
        and not counted, so waiting always helps)."""
        with self._lock:
            now = self._clock()
            hits = self._prune(key, now)
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            if len(self._hits) > 10_000:
                self._sweep(now)
            return True

    def retry_after(self, key: str) -> int:
        """Whole seconds until the key may try again (0 when it may now)."""
        with self._lock:
            now = self._clock()
            hits = self._prune(key, now)
            if len(hits) < self.limit:
                return 0
            return max(1, math.ceil(hits[0] + self.window - now))

    def reset(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)

    def _sweep(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
            del self._hits[key]


class Backoff:
    """Per-account slowing of password guessing that never locks the owner out.

    The first `free` failures within `window` seconds cost nothing; each one after that
    doubles the wait before the next attempt on the account is answered (from `base`
    seconds up to `cap`). The attempt is still checked after the wait, so the owner with the
    right password always gets in, while a guesser gets a few tries a minute at most
    (and the per-address limit bounds how many accounts one address may try)."""

    def __init__(
        self,
        free: int,
        window: float = 60.0,
        *,
        base: float = 0.5,
        cap: float = 8.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free = free
        self.base = base
        self.cap = cap
        self._failures = RateLimiter(10**9, window, clock)

    def delay(self, key: str) -> float:
        """Seconds to wait before checking the next attempt on this account."""
        with self._failures._lock:
            hits = self._failures._prune(key, self._failures._clock())
            excess = len(hits) - self.free
        if excess <= 0:
            return 0.0
        return float(min(self.cap, self.base * 2 ** (excess - 1)))

    def failed(self, key: str) -> None:
        self._failures.hit(key)

    def reset(self, key: str) -> None:
        self._failures.reset(key)
