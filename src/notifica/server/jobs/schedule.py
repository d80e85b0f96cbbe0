"""Running the jobs on a clock: for ``notifica serve`` (real clock) and the simulator (SimClock).

A job is due when its interval boundary (multiples of the interval since the Unix epoch, so
daily jobs run at 00:00 UTC as Immuni's crontab "0 0 * * *") has been crossed since its last
run in this process, or if it never ran here. Several replicas may all run it: the publisher
lock makes the extra runs no-ops.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from notifica.clock import Clock
from notifica.protocol import ExportSigner
from notifica.server.jobs.publish import PublishReport, publish
from notifica.server.jobs.retention import RetentionReport, retention
from notifica.server.repository import Repository
from notifica.server.settings import Settings

__all__ = ["JobRuns", "ServerJobs"]

_log = logging.getLogger("notifica.server.jobs")


@dataclass(frozen=True, slots=True, kw_only=True)
class JobRuns:
    """Reports of the jobs that ran in one `run_due` call (None: not due)."""

    publish: PublishReport | None = None
    retention: RetentionReport | None = None


@dataclass(slots=True)
class ServerJobs:
    """Publish and retention on their intervals."""

    repository: Repository
    signer: Callable[[], ExportSigner]
    clock: Clock
    settings: Settings
    _last_slot: dict[str, int] = field(default_factory=dict)

    def _due(self, name: str, interval_s: int) -> bool:
        slot = int(self.clock.now().timestamp() // interval_s)
        if self._last_slot.get(name) == slot:
            return False
        self._last_slot[name] = slot
        return True

    def run_due(self) -> JobRuns:
        """Run each job whose interval boundary has passed; return their reports.

        Raises:
            DatabaseError: if the database fails (the job is retried at the next boundary).
        """
        published = retained = None
        if self._due("publish", self.settings.publish_interval_s):
            published = self.publish_now()
        if self._due("retention", self.settings.retention_interval_s):
            retained = retention(self.repository, self.clock, self.settings)
            _log.info("retention: %s", retained)
        return JobRuns(publish=published, retention=retained)

    def publish_now(self) -> PublishReport:
        """Publish at once, whatever the schedule."""
        report = publish(self.repository, self.signer(), self.clock, self.settings)
        _log.info(
            "publish: %d batches, %d keys, %d held back, %d dropped%s",
            len(report.batches),
            report.keys_published,
            report.keys_held_back,
            report.keys_discarded,
            " (another publisher held the lock)" if report.locked else "",
        )
        return report
