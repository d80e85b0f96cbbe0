"""`notifica.server`'s public surface is what its docstring and docs/server.md promise."""

from __future__ import annotations

import notifica.server as server


def test_exports_are_sorted_unique_and_resolvable() -> None:
    assert len(set(server.__all__)) == len(server.__all__)
    for name in server.__all__:
        assert getattr(server, name) is not None


def test_portal_and_simulator_entry_points_exist() -> None:
    for name in (
        "authorise_otp",
        "daily_counts",
        "notifications_by_province",
        "publish",
        "retention",
        "upgrade",
    ):
        assert callable(getattr(server.Backend, name))
    assert callable(server.ServerJobs.run_due)
