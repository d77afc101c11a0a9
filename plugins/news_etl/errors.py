"""The two ways a URL can fail to become an article, shared by every stage."""

from __future__ import annotations


class Rejected(Exception):
    """Bad input: recorded as outcome ``rejected`` and not retried.

    ``stage`` is where it was found (discover, fetch, parse, normalize, load,
    seeds); ``reason`` a short stable code (``no_title``, ``too_large``...)
    that reports group by; ``detail`` a human sentence.
    """

    def __init__(self, stage: str, reason: str, detail: str = "") -> None:
        super().__init__(f"{stage}: {reason}" + (f": {detail}" if detail else ""))
        self.stage = stage
        self.reason = reason
        self.detail = detail


class RetryableFailure(Exception):
    """A transient fault (timeout, 5xx after retries): outcome ``failed``, worth a later retry."""

    def __init__(self, stage: str, reason: str, detail: str = "") -> None:
        super().__init__(f"{stage}: {reason}" + (f": {detail}" if detail else ""))
        self.stage = stage
        self.reason = reason
        self.detail = detail


class SiteUnreachable(RetryableFailure):
    """The host could not be reached at all (connection refused or timed out, robots.txt unavailable).

    Not one page's problem: the whole run fails and is retried later, whichever
    stage met it, rather than recording every URL as failed and calling the run done.
    """


class Interrupted(KeyboardInterrupt):
    """The process was asked to stop (SIGTERM, SIGINT): the run ends as ``failed``, reason ``interrupted``."""
