"""Password rules and hashing: argon2id, at least 8 characters, not on the banned list."""

from __future__ import annotations

import functools
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from gateway.accounts.errors import PasswordRejected

MIN_LENGTH = 8
MAX_LENGTH = 256

_hasher = PasswordHasher()


@functools.cache
def banned() -> frozenset[str]:
    text = resources.files("gateway.accounts").joinpath("banned-passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def check_rules(password: str, username: str = "") -> None:
    """Raise PasswordRejected, naming the rule, if `password` may not be used."""
    if not _is_text(password):
        raise PasswordRejected("the password is not valid UTF-8 text (stdin carried other bytes); "
                               "type it again, or pipe it from a UTF-8 terminal or file")
    if len(password) < MIN_LENGTH:
        raise PasswordRejected(f"the password must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        raise PasswordRejected(f"the password must be at most {MAX_LENGTH} characters long")
    lowered = password.lower()
    if lowered in banned():
        raise PasswordRejected("that password is on the banned-password list; choose another")
    if username and username.lower() in lowered:
        raise PasswordRejected("the password must not contain the user name")
    if len(set(password)) < 3:
        raise PasswordRejected("the password must not repeat one or two characters")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _is_text(password: str) -> bool:
    """False for a string holding undecodable bytes (Python keeps them as lone surrogates), which
    the hasher cannot encode."""
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def verify_password(stored_hash: str, password: str) -> bool:
    if not _is_text(password):
        return False  # no stored password can match it: a plain wrong password
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return False
