"""Sessions: hashed ids, idle and absolute expiry, rotation at sign-in, CSRF tokens."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from notifica.portal._sessions import Visit
from tests.portal._support import OPERATOR, OPERATOR_PASSWORD, add_operator
from tests.portal.conftest import Site


def test_only_the_hash_of_the_cookie_is_stored(site: Site) -> None:
    visit = site.portal.sessions.start()
    assert visit.new_token is not None
    assert visit.session is not None
    assert visit.session.token_hash == hashlib.sha256(visit.new_token.encode()).hexdigest()
    assert site.portal.store.sessions.get(visit.new_token) is None


def test_idle_expiry(site: Site) -> None:
    sessions = site.portal.sessions
    token = sessions.start().new_token
    site.clock.advance(timedelta(seconds=1799))
    assert sessions.resume(token).session is not None  # used: the idle time restarts
    site.clock.advance(timedelta(seconds=1799))
    assert sessions.resume(token).session is not None
    site.clock.advance(timedelta(seconds=1800))
    assert sessions.resume(token) == Visit(expired=True)
    assert site.portal.store.sessions.count() == 0


def test_absolute_expiry_even_when_used(site: Site) -> None:
    sessions = site.portal.sessions
    token = sessions.start().new_token
    for _ in range(24):  # used every 29 minutes for 11 h 36 min: still alive
        site.clock.advance(timedelta(minutes=29))
        assert sessions.resume(token).session is not None
    site.clock.advance(timedelta(minutes=24))  # 12 hours after it began
    assert sessions.resume(token).expired


def test_last_use_is_written_at_most_once_a_minute(site: Site) -> None:
    sessions, store = site.portal.sessions, site.portal.store
    visit = sessions.start()
    assert visit.session is not None
    site.clock.advance(timedelta(seconds=30))
    sessions.resume(visit.new_token)
    record = store.sessions.get(visit.session.token_hash)
    assert record is not None
    assert record.last_seen_at == visit.session.last_seen_at
    site.clock.advance(timedelta(seconds=30))
    sessions.resume(visit.new_token)
    record = store.sessions.get(visit.session.token_hash)
    assert record is not None
    assert record.last_seen_at == site.clock.now()


def test_start_replaces_the_old_session(site: Site) -> None:
    sessions = site.portal.sessions
    anonymous = sessions.start()
    op = add_operator(site.portal, OPERATOR, OPERATOR_PASSWORD)
    signed = sessions.start(operator=op, replacing=anonymous)
    assert signed.new_token != anonymous.new_token
    assert sessions.resume(anonymous.new_token).expired
    resumed = sessions.resume(signed.new_token)
    assert resumed.operator is not None
    assert resumed.operator.email == OPERATOR
    assert signed.session is not None
    assert anonymous.session is not None
    assert signed.session.csrf_token != anonymous.session.csrf_token


def test_csrf_token_comparison(site: Site) -> None:
    visit = site.portal.sessions.start()
    assert visit.session is not None
    assert visit.csrf_matches(visit.session.csrf_token)
    for forged in (None, "", visit.session.csrf_token[:-1] + "x", "x" * 1000):
        assert not visit.csrf_matches(forged)
    assert not Visit().csrf_matches(visit.session.csrf_token)


def test_unknown_and_oversized_cookies_count_as_expired(site: Site) -> None:
    sessions = site.portal.sessions
    assert sessions.resume(None) == Visit()
    assert sessions.resume("made-up").expired
    assert sessions.resume("x" * 500).expired


def test_disabled_operator_loses_the_session(site: Site) -> None:
    op = add_operator(site.portal, OPERATOR, OPERATOR_PASSWORD)
    token = site.portal.sessions.start(operator=op).new_token
    site.portal.store.operators.set_fields(op.id, active=False)  # even behind the service's back
    assert site.portal.sessions.resume(token).expired
