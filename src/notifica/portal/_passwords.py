"""Operator passwords: argon2id hashes, the password rules, temporary passwords.

argon2id with RFC 9106's second recommended parameter set by default (t=3, m=64 MiB, p=4;
`PortalSettings`), through argon2-cffi. A sign-in for an unknown e-mail still verifies a
password against a hash made with the same parameters, so its timing does not reveal
whether the account exists.
"""

from __future__ import annotations

import secrets
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from notifica.portal.errors import InvalidField

__all__ = ["MAX_PASSWORD_LENGTH", "Passwords", "check_password_rules", "temporary_password"]

MAX_PASSWORD_LENGTH = 256
"""Longer passwords are refused before hashing (OWASP: cap the input of a slow hash)."""

_TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
"""Lower-case letters and digits without look-alikes (i, l, o, 0, 1): 31 symbols."""
_TEMPORARY_GROUPS = 4
"""Four groups of four: 16 symbols, about 79 bits."""


class Passwords:
    """Hashing and verification with one deployment's argon2 parameters."""

    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism
        )
        self._dummy: str | None = None
        self._dummy_lock = threading.Lock()

    def hash(self, password: str) -> str:
        """The PHC-format argon2id hash of `password`."""
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether `password` matches (a malformed stored hash never matches)."""
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with other parameters than today's."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    def burn(self, password: str) -> None:
        """Spend the time of one verification (for an unknown or paused account)."""
        with self._dummy_lock:
            if self._dummy is None:
                self._dummy = self._hasher.hash(secrets.token_urlsafe(16))
            dummy = self._dummy
        self.verify(dummy, password)


def check_password_rules(password: str, *, email: str, min_length: int, field: str) -> None:
    """Refuse a password that is too short, too long or the account's e-mail.

    NIST SP 800-63B §3.1.1.2: length matters, composition rules do not.

    Raises:
        InvalidField: naming `field`, with the rule that failed.
    """
    if len(password) < min_length:
        raise InvalidField(field, "password.too_short", min=min_length)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidField(field, "password.too_long", max=MAX_PASSWORD_LENGTH)
    if password.strip().lower() == email.lower() or password.strip() == "":
        raise InvalidField(field, "password.guessable")


def temporary_password() -> str:
    """A random one-time password in groups, e.g. ``k7mq-x3vd-hf9a-2nrt``."""
    groups = (
        "".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(4))
        for _ in range(_TEMPORARY_GROUPS)
    )
    return "-".join(groups)
