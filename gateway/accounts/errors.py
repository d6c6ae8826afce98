"""Account errors, each with a message the officer or administrator can act on."""

from __future__ import annotations

from gateway.errors import AlprError


class AccountError(AlprError):
    """A user could not be created or changed; the message says why."""


class PasswordRejected(AccountError):
    """A new password breaks the password rules (length, banned list)."""


class SignInRefused(AccountError):
    """Sign-in refused. `reason` is one of: credentials, locked, disabled, untrained."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
