"""Accounts: creation, sign-in and its back-off, passwords, roles, the last administrator."""

from __future__ import annotations

from datetime import timedelta

import pytest

from notifica.portal import (
    AccountDisabled,
    AuditAction,
    InvalidField,
    LastAdmin,
    OperatorExists,
    PortalSettings,
    Role,
    SignInPaused,
    SignInRefused,
    UnknownOperator,
    normalise_email,
)
from notifica.portal._passwords import Passwords
from tests.portal._support import ADMIN, ADMIN_PASSWORD, OPERATOR, OPERATOR_PASSWORD, add_operator
from tests.portal.conftest import Site

CLIENT = "203.0.113.9"


def actions(site: Site) -> list[AuditAction]:
    return [e.action for e in reversed(site.portal.store.audit.latest())]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "email.missing"),
        ("nobody", "email.invalid"),
        ("a@b", "email.invalid"),
        ("a b@c.it", "email.invalid"),
        ("<x>@y.it", "email.invalid"),
        ("a@" + "b" * 260 + ".it", "email.too_long"),
    ],
)
def test_bad_emails(text: str, key: str) -> None:
    with pytest.raises(InvalidField) as caught:
        normalise_email(text)
    assert caught.value.key == key
    assert normalise_email("  Op@ASL.Example ") == "op@asl.example"


def test_create_with_password_or_temporary(site: Site) -> None:
    accounts = site.portal.accounts
    op, temporary = accounts.create(
        email=OPERATOR, role=Role.OPERATOR, password=OPERATOR_PASSWORD, actor=None
    )
    assert temporary is None
    assert not op.must_change_password
    other, temporary = accounts.create(
        email="new@asl.example", role=Role.OPERATOR, password=None, actor=op
    )
    assert temporary is not None
    assert len(temporary) == 19
    assert other.must_change_password
    assert (
        accounts.sign_in(email="new@asl.example", password=temporary, client=CLIENT).id == other.id
    )
    with pytest.raises(OperatorExists):
        accounts.create(
            email=OPERATOR.upper(), role=Role.ADMIN, password=OPERATOR_PASSWORD, actor=None
        )
    for password, key in [
        ("short", "password.too_short"),
        ("x" * 300, "password.too_long"),
        ("            ", "password.guessable"),
        ("Z@asl.example   ", "password.guessable"),
    ]:
        with pytest.raises(InvalidField) as caught:
            accounts.create(
                email="z@asl.example", role=Role.OPERATOR, password=password, actor=None
            )
        assert caught.value.key == key
    assert [o.email for o in accounts.all()] == [ADMIN, "new@asl.example", OPERATOR]


def test_hashes_are_argon2id_with_the_settings(site: Site) -> None:
    stored = site.portal.store.operators.password_hash(site.portal.accounts.by_email(ADMIN).id)
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert "m=8192,t=1,p=1" in stored
    assert ADMIN_PASSWORD not in stored
    defaults = PortalSettings()
    assert (defaults.argon2_time_cost, defaults.argon2_memory_kib, defaults.argon2_parallelism) == (
        3,
        65536,
        4,
    )


def test_sign_in_refusals_are_one_case(site: Site) -> None:
    accounts = site.portal.accounts
    assert (
        accounts.sign_in(email=" Admin@ASL.example", password=ADMIN_PASSWORD, client=CLIENT).email
        == ADMIN
    )
    for email, password in [
        (ADMIN, "wrong password!"),
        ("nobody@asl.example", ADMIN_PASSWORD),
        ("not an email", "x"),
    ]:
        with pytest.raises(SignInRefused) as caught:
            accounts.sign_in(email=email, password=password, client=CLIENT)
        assert str(caught.value) == "The e-mail address or the password is wrong."
    assert actions(site)[-2:] == [AuditAction.SIGNED_IN, AuditAction.SIGN_IN_FAILED]


def test_account_backoff_pauses_even_the_right_password(site: Site) -> None:
    accounts = site.portal.accounts
    for i in range(5):
        with pytest.raises(SignInRefused):
            accounts.sign_in(email=ADMIN, password=f"wrong {i}", client=f"198.51.100.{i}")
    with pytest.raises(SignInPaused) as caught:
        accounts.sign_in(email=ADMIN, password=ADMIN_PASSWORD, client="198.51.100.99")
    assert caught.value.retry_after_s == 60
    site.clock.advance(timedelta(seconds=60))
    with pytest.raises(SignInRefused):  # sixth failure: two minutes now
        accounts.sign_in(email=ADMIN, password="wrong 6", client="198.51.100.6")
    site.clock.advance(timedelta(seconds=119))
    with pytest.raises(SignInPaused):
        accounts.sign_in(email=ADMIN, password=ADMIN_PASSWORD, client="198.51.100.99")
    site.clock.advance(timedelta(seconds=1))
    operator = accounts.sign_in(email=ADMIN, password=ADMIN_PASSWORD, client="198.51.100.99")
    assert operator.failed_sign_ins == 0
    assert operator.locked_until is None
    assert actions(site).count(AuditAction.SIGN_IN_PAUSED) == 2


def test_client_backoff_spans_accounts(site: Site) -> None:
    accounts = site.portal.accounts
    add_operator(site.portal, OPERATOR, OPERATOR_PASSWORD)
    for i in range(20):  # spraying: few tries per account, many from one client
        with pytest.raises(SignInRefused):
            accounts.sign_in(email=f"user{i}@asl.example", password="guess", client=CLIENT)
    with pytest.raises(SignInPaused):
        accounts.sign_in(email=OPERATOR, password=OPERATOR_PASSWORD, client=CLIENT)
    assert (
        accounts.sign_in(email=OPERATOR, password=OPERATOR_PASSWORD, client="192.0.2.1").email
        == OPERATOR
    )


def test_disabled_account_is_told_after_the_right_password(site: Site) -> None:
    accounts = site.portal.accounts
    op = add_operator(site.portal, OPERATOR, OPERATOR_PASSWORD)
    accounts.set_active(op.id, False, actor=None)
    with pytest.raises(SignInRefused):
        accounts.sign_in(email=OPERATOR, password="wrong password", client=CLIENT)
    with pytest.raises(AccountDisabled):
        accounts.sign_in(email=OPERATOR, password=OPERATOR_PASSWORD, client=CLIENT)
    accounts.set_active(op.id, True, actor=None)
    assert accounts.sign_in(email=OPERATOR, password=OPERATOR_PASSWORD, client=CLIENT).active


def test_stronger_parameters_rehash_at_sign_in(site: Site) -> None:
    store = site.portal.store
    admin_id = site.portal.accounts.by_email(ADMIN).id
    old = store.operators.password_hash(admin_id)
    stronger = Passwords(time_cost=2, memory_kib=8192, parallelism=1)
    site.portal.accounts._passwords = stronger
    site.portal.accounts.sign_in(email=ADMIN, password=ADMIN_PASSWORD, client=CLIENT)
    new = store.operators.password_hash(admin_id)
    assert new != old
    assert new is not None
    assert "t=2" in new
    assert not stronger.needs_rehash(new)


def test_change_password_rules(site: Site) -> None:
    accounts = site.portal.accounts
    admin = accounts.by_email(ADMIN)
    cases = [
        ("wrong", "a brand new secret", "a brand new secret", "current", "password.current_wrong"),
        (ADMIN_PASSWORD, "short", "short", "new", "password.too_short"),
        (
            ADMIN_PASSWORD,
            "a brand new secret",
            "a brand new secreT",
            "confirmation",
            "password.mismatch",
        ),
        (ADMIN_PASSWORD, ADMIN_PASSWORD, ADMIN_PASSWORD, "new", "password.unchanged"),
    ]
    for current, new, confirmation, field, key in cases:
        with pytest.raises(InvalidField) as caught:
            accounts.change_password(admin, current=current, new=new, confirmation=confirmation)
        assert (caught.value.field, caught.value.key) == (field, key)
    accounts.change_password(
        admin, current=ADMIN_PASSWORD, new="a brand new secret", confirmation="a brand new secret"
    )
    with pytest.raises(SignInRefused):
        accounts.sign_in(email=ADMIN, password=ADMIN_PASSWORD, client=CLIENT)
    assert accounts.sign_in(email=ADMIN, password="a brand new secret", client=CLIENT)


def test_reset_ends_sessions_and_forces_a_change(site: Site) -> None:
    portal = site.portal
    op = add_operator(portal, OPERATOR, OPERATOR_PASSWORD)
    visit = portal.sessions.start(operator=op)
    assert visit.new_token is not None
    temporary = portal.accounts.reset_password(op.id, actor=None)
    assert temporary is not None
    assert portal.sessions.resume(visit.new_token).expired
    assert portal.accounts.sign_in(
        email=OPERATOR, password=temporary, client=CLIENT
    ).must_change_password
    assert (
        portal.accounts.reset_password(op.id, actor=None, password="chosen on the console") is None
    )
    assert not portal.accounts.by_email(OPERATOR).must_change_password
    with pytest.raises(UnknownOperator):
        portal.accounts.reset_password(9999, actor=None)


def test_last_admin_cannot_be_disabled_demoted_or_removed(site: Site) -> None:
    accounts = site.portal.accounts
    admin = accounts.by_email(ADMIN)
    for change in (
        lambda: accounts.set_active(admin.id, False, actor=admin),
        lambda: accounts.set_role(admin.id, Role.OPERATOR, actor=admin),
        lambda: accounts.remove(admin.id, actor=None),
    ):
        with pytest.raises(LastAdmin):
            change()
    second = add_operator(site.portal, "second@asl.example", OPERATOR_PASSWORD, admin=True)
    assert accounts.set_role(admin.id, Role.OPERATOR, actor=second).role is Role.OPERATOR
    with pytest.raises(LastAdmin):
        accounts.set_active(second.id, False, actor=second)
    accounts.remove(admin.id, actor=second)
    with pytest.raises(UnknownOperator):
        accounts.by_email(ADMIN)
    entries = site.portal.store.audit.latest()
    assert entries[0].action is AuditAction.OPERATOR_REMOVED
    assert entries[0].subject == ADMIN
    assert entries[0].actor == "second@asl.example"
