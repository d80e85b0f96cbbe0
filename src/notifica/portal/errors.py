"""Errors of the portal. Each carries a message key of the catalogs, so a page can say it in
the operator's language, and an English text for logs and the command line.

    NotificaError
    └── PortalError                  key, params; str() is the English message
        ├── InvalidField             one form field is not as expected (field, key, params)
        │   └── FormInvalid          several fields at once (errors)
        ├── SignInRefused            wrong e-mail or password: deliberately one case
        ├── SignInPaused             too many failures: retry after retry_after_s
        ├── AccountDisabled          right password, disabled account
        ├── OperatorExists           the e-mail is taken
        ├── UnknownOperator          no such operator
        ├── LastAdmin                the last active admin cannot be disabled or demoted
        ├── AlreadyAuthorised        the code is authorised and alive (Immuni 409 / 1400)
        └── PortalStorageError       the database failed
"""

from __future__ import annotations

from collections.abc import Mapping

from notifica.errors import NotificaError
from notifica.portal._i18n import english

__all__ = [
    "AccountDisabled",
    "AlreadyAuthorised",
    "FormInvalid",
    "InvalidField",
    "LastAdmin",
    "OperatorExists",
    "PortalError",
    "PortalStorageError",
    "SignInPaused",
    "SignInRefused",
    "UnknownOperator",
]

Params = Mapping[str, str | int]


class PortalError(NotificaError):
    """A refusal the portal explains to its user."""

    key = "error.unknown"

    def __init__(self, key: str | None = None, **params: str | int) -> None:
        self.key = key or type(self).key
        self.params: Params = params
        super().__init__(english(self.key, **params))


class InvalidField(PortalError):
    """A form field that is not as expected; `field` names it."""

    def __init__(self, field: str, key: str, **params: str | int) -> None:
        self.field = field
        super().__init__(key, **params)
        self.args = (f"{field}: {self.args[0]}",)


class FormInvalid(InvalidField):
    """Several invalid fields, reported together (the first one is the exception's own)."""

    def __init__(self, errors: tuple[InvalidField, ...]) -> None:
        if not errors:
            raise ValueError("FormInvalid needs at least one error")
        first = errors[0]
        super().__init__(first.field, first.key, **first.params)
        self.errors = errors


class SignInRefused(PortalError):
    """Unknown e-mail or wrong password (the page does not say which)."""

    key = "signin.refused"


class SignInPaused(PortalError):
    """Too many failed sign-ins for this account or from this client."""

    key = "signin.paused"

    def __init__(self, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(minutes=max(1, -(-retry_after_s // 60)))


class AccountDisabled(PortalError):
    """The password was right but an administrator disabled the account."""

    key = "signin.disabled"


class OperatorExists(PortalError):
    """An operator with this e-mail already exists."""

    key = "operators.exists"


class UnknownOperator(PortalError):
    """No operator with this e-mail or id."""

    key = "operators.unknown"


class LastAdmin(PortalError):
    """The change would leave the portal without an active administrator."""

    key = "operators.last_admin"


class AlreadyAuthorised(PortalError):
    """The code is already authorised and alive (immuni-api.md §3.2: 409, error 1400)."""

    key = "authorise.already"


class PortalStorageError(PortalError):
    """The portal's database could not be reached or refused an operation."""

    key = "error.storage"
