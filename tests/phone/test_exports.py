"""`notifica.phone`'s public surface is exactly its sorted `__all__` (httpx's test)."""

from __future__ import annotations

import notifica.phone as phone


def test_all_is_sorted_unique_and_resolvable() -> None:
    names = phone.__all__
    assert len(set(names)) == len(names)
    assert sorted(names, key=lambda n: (not n.isupper(), n)) == names or names == sorted(names)
    for name in names:
        assert getattr(phone, name) is not None


def test_all_lists_every_public_name() -> None:
    public = {n for n in dir(phone) if not n.startswith("_") and n not in {"annotations"}}
    modules = {"calibration", "errors"}
    assert public - modules == set(phone.__all__)
