"""Jobs: publishing batches and deleting old data, as plain functions plus a clock-driven runner.

``notifica publish`` / ``notifica retention`` call `publish` / `retention` once; ``notifica
serve`` and the simulator call `ServerJobs.run_due()` on their clock.
"""

from notifica.server.jobs.publish import PublishReport, publish
from notifica.server.jobs.retention import RetentionReport, retention
from notifica.server.jobs.schedule import ServerJobs

__all__ = ["PublishReport", "RetentionReport", "ServerJobs", "publish", "retention"]
