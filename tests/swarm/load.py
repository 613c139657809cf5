"""HTTPS load on the swarm's nodes, for the tests that break or update
something under it: a few clients ask, in turn, each node given for an
uncached page (a query string of its own each time, so that PHP answers,
not NGINX's page cache), and every answer is kept with its time.

Each client waits out PACE between the starts of its requests: a steady
site's traffic, not a saturating one. Four clients that never waited kept
both of this machine's cores busy: every task of the playbook under test
ran ~2.2 times as long as in molecule's second run, which has no load,
before the deploy as well. Paced, they ask about half as often, and the
same tasks ran 1.6-1.8 times as long. A request still starts every
PACE / CLIENTS seconds on average, so an outage of a few tenths of a
second still shows."""

from __future__ import annotations

import dataclasses
import http.client
import itertools
import threading
import time

from tests.support.site import Target, https_get

CLIENTS = 4
PACE = 0.25  # seconds between one client's request starts, at least


@dataclasses.dataclass(frozen=True)
class Answer:
    at: float  # time.monotonic() when the request was sent
    seconds: float
    node: int  # the forwarded port asked
    status: int  # 0: no HTTP answer
    error: str = ""


class Load:
    """Runs while its `with` block does; `answers` afterwards."""

    # The home page: it is there whatever the posts' IDs (Galera's
    # auto-increment steps by the cluster's size, so the first post's ID
    # depends on which member took the install).
    def __init__(self, targets: list[Target], path: str = "/"):
        self.targets = targets
        # Each request's own query string goes after the path's.
        self.path = path + ("&" if "?" in path else "?")
        self.answers: list[Answer] = []
        self._stop = threading.Event()
        self._count = itertools.count()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._client, daemon=True) for _ in range(CLIENTS)]

    def _client(self) -> None:
        while not self._stop.is_set():
            number = next(self._count)
            target = self.targets[number % len(self.targets)]
            sent = time.monotonic()
            try:
                status, error = https_get(target, f"{self.path}load={number}").status, ""
            # A broken answer counts as a failure too, never as a thread that dies.
            except (OSError, http.client.HTTPException) as failure:
                status, error = 0, repr(failure)
            with self._lock:
                self.answers.append(Answer(sent, time.monotonic() - sent, target.https_port, status, error))
            # Returns at once when the test stops the load.
            self._stop.wait(PACE - (time.monotonic() - sent))

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def failed(self, after: float = 0.0) -> list[Answer]:
        """The answers that were not 2xx, of the requests sent at `after` or later."""
        return [a for a in self.answers if a.at >= after and not 200 <= a.status < 300]

    def longest_gap(self, after: float = 0.0) -> float:
        """The longest time without a 2xx answer coming back, from `after` on."""
        ends = sorted(a.at + a.seconds for a in self.answers if a.at >= after and 200 <= a.status < 300)
        if not ends:
            return float("inf")
        return max(later - earlier for earlier, later in itertools.pairwise([after, *ends]))
