"""A small rate limiter for expensive operations (imports, exports, linkage runs).

Per user (or client address) and per operation, at most ``limit`` calls in a sliding window of
``window`` seconds. State is **in memory, per process**: checking it costs no database round
trip and no write on the hot path, and a restart forgets it — acceptable because its purpose
is to stop a runaway script or a stuck "retry" button from exhausting the server, not to
account for use. With several worker processes the effective limit is ``limit`` × workers;
size it accordingly. (Login failures, which protect accounts, are counted in the database:
``orgs.service``.)
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from havens.exceptions import RateLimited
from havens.orgs.permissions import Principal


@dataclass
class RateLimiter:
    limit: int
    window: float  # seconds
    clock: Callable[[], float] = time.monotonic
    _calls: dict[tuple[str, str], deque[float]] = field(
        default_factory=lambda: defaultdict(deque))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hit(self, key: str, operation: str) -> None:
        """Count one call, or raise ``RateLimited`` (429) naming when to retry."""
        now = self.clock()
        with self._lock:
            calls = self._calls[(key, operation)]
            while calls and calls[0] <= now - self.window:
                calls.popleft()
            if len(calls) >= self.limit:
                retry = max(1, math.ceil(calls[0] + self.window - now))
                raise RateLimited(f"Too many {operation} requests: at most {self.limit} every "
                                  f"{int(self.window)} s. Try again in {retry} s.",
                                  details={"retry_after": retry})
            calls.append(now)
            if len(self._calls) > 10_000:  # forget idle keys rather than grow forever
                for stale in [k for k, v in self._calls.items() if not v or
                              v[-1] <= now - self.window]:
                    del self._calls[stale]

    def check(self, actor: Principal, operation: str) -> None:
        self.hit(f"user:{actor.user_id}" if actor.user_id is not None else "system",
                 operation)

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()


#: Imports of registration, site, activity and intention files: 20 a minute per user.
IMPORTS = RateLimiter(limit=20, window=60)
#: Exports and reports built from the whole database: 30 a minute per user.
EXPORTS = RateLimiter(limit=30, window=60)
#: Record-linkage runs: 2 an hour per user.
LINKAGE = RateLimiter(limit=2, window=3600)
