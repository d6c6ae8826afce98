"""What the store's commands share: opening the store, who is acting, dates.

Two kinds of command. Administrative and system ones (accounts, hotlist import,
retention, provisioning) act as `os:<login>` unless `--user` names an account.
Those that show stored reads or their images on behalf of a person act only
as a real account proven as the web sign-in proves it: password and one-time
code, open, currently trained, and a role that allows it (policy 462.3(d),
462.5(b)); `add_person` and `person` are that door.
"""

from __future__ import annotations

import datetime as dt
import getpass
import sys

from gateway.accounts import signin
from gateway.accounts.errors import AccountError, SignInRefused
from gateway.accounts.roles import can
from gateway.accounts.users import get_user
from gateway.errors import AlprError
from gateway.store import audit
from gateway.store.setup import Store, open_store
from tools.cli import common


class UsageError(AlprError):
    """A command-line value is malformed."""


def add_user(parser) -> None:
    parser.add_argument("--user", default=None,
                        help="the account acting, for the access record; it must exist "
                             "(default: os:<your login name>)")


def os_login() -> str:
    try:
        return "os:" + getpass.getuser()
    except (KeyError, OSError):
        return "os:unknown"


def user(args) -> str:
    """Who an administrative or system command acts as: the named account, or the login."""
    name = getattr(args, "user", None)
    if not name:
        return os_login()
    account = get_user(name)
    if account is None:
        # A made-up name in the access record would hide who really acted.
        raise AccountError(f"--user {name!r}: there is no such account (`alpr user list` shows "
                           "them); leave --user out to act as your login name")
    return account.username


def add_person(parser, permission: str) -> None:
    """Options of a command that shows stored reads: who you are, and the proof."""
    parser.add_argument("--user", default=None, metavar="NAME",
                        help="your account (required): the password and one-time code are asked "
                             "for, as at the web sign-in")
    parser.add_argument("--password-stdin", action="store_true",
                        help="read the password from the first line of stdin (scripts)")
    parser.add_argument("--otp", metavar="CODE",
                        help="the current one-time code from the authenticator app (scripts)")
    parser.set_defaults(person_permission=permission)


def read_password_stdin(command: str = "alpr ...") -> str:
    try:
        line = sys.stdin.readline()
    except UnicodeDecodeError:
        raise AccountError("the password on stdin is not valid UTF-8 text; pipe it from a UTF-8 "
                           "terminal or file") from None
    if not line:
        raise AccountError(f"no password on stdin: pipe it in, e.g. "
                           f"`printf '%s\\n' \"$PW\" | {command} --password-stdin`")
    return line.rstrip("\r\n")


def _interactive() -> bool:
    return sys.stdin.isatty()


def person(args, st: Store, what: str) -> str:
    """Prove who is running a command that shows stored reads; return the account name.

    The checks are the web sign-in's own (`signin.authenticate`): every failure
    is in the access record and counts towards the lockout. `what` names the
    command in messages. Call it after the command's own options are checked,
    so that a typo does not spend the one-time code.
    """
    name = getattr(args, "user", None)
    if not name:
        raise AccountError(
            f"{what} works with stored reads, so it must be run by a trained account: give --user NAME "
            "(the password and one-time code are asked for; scripts use --password-stdin and "
            "--otp CODE)")
    if args.password_stdin:
        password = read_password_stdin(what)
    elif _interactive():
        password = getpass.getpass(f"Password for {name}: ")
    else:
        raise AccountError("no terminal to ask for the password: pipe it in with --password-stdin")
    code = args.otp
    if code is None:
        if not _interactive() or args.password_stdin:
            raise AccountError("give the one-time code from the authenticator app with --otp CODE")
        code = getpass.getpass("One-time code: ")
    terminal = f"{st.config.agency.terminal}@cli:{os_login()[3:]}"
    try:
        account = signin.authenticate(name[:64], password[:256], code[:12], terminal=terminal)
    except SignInRefused as exc:
        if exc.reason == "credentials":
            raise SignInRefused(exc.reason, f"{exc} A code is accepted once: for another command, "
                                            "wait for the next code.") from None
        raise
    permission = args.person_permission
    if not can(account.role, permission):
        # The web answers 403 here; a command line is told, and the attempt is on record.
        audit.record("access_refused", username=account.username, outcome="role",
                     detail=f"{what} needs '{permission}'; role={account.role}; terminal={terminal}")
        raise AccountError(f"{account.username}'s role ({account.role}) does not allow {what}; "
                           "ask an ALPR administrator")
    return account.username


def store(args) -> Store:
    return open_store(common.datadir(args), common.config(args))


def _not_iso(option: str, text: str) -> UsageError:
    return UsageError(f"{option} {text!r} is not an ISO date (YYYY-MM-DD or "
                      "YYYY-MM-DDTHH:MM:SS, UTC)")


def when(text: str | None, option: str) -> dt.datetime | None:
    """An ISO date (its first moment) or date-time, taken as UTC; None for None."""
    if text is None:
        return None
    try:
        if len(text) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _not_iso(option, text) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def expiry(text: str, option: str = "--expires") -> dt.datetime:
    """An expiry as a CSV hotlist's `expires` column is read (csvfile.parse_expiry): a bare date
    holds through the day named (its last second), a date-time is taken as UTC."""
    from gateway.hotlist.csvfile import parse_expiry

    try:
        return parse_expiry(text)
    except ValueError:
        raise _not_iso(option, text) from None


def until(text: str | None, option: str = "--until") -> dt.datetime | None:
    """The end of a time range (exclusive): a date-time as given, or for a bare date the first
    moment of the next day, so that `--until 2026-11-28` takes in the whole of the day named."""
    moment = when(text, option)
    if moment is not None and len(text) == 10:
        moment += dt.timedelta(days=1)
    return moment


def ids(text: str, option: str) -> list[int]:
    try:
        values = [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise UsageError(f"{option} takes read ids separated by commas, e.g. 12,13,20") from None
    if not values:
        raise UsageError(f"{option} needs at least one read id")
    return values
