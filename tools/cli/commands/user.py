"""`alpr user add|unlock|disable|enable|list|train|revoke-training|password|demo-code`: accounts.

`alpr user add` is how the first administrator is made on a real car; the
`--json` output holds the otpauth:// URI for the authenticator app.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from gateway.accounts import users
from gateway.accounts.demo import CREDENTIALS_FILE
from gateway.accounts.errors import AccountError
from gateway.accounts.roles import ROLES
from tools.cli import common
from tools.cli.commands import _store_cli as sc


def register(subparsers) -> None:
    parser = subparsers.add_parser("user", help="accounts: add, unlock, disable, list, training")
    sub = parser.add_subparsers(dest="user_cmd", metavar="ACTION")
    sub.required = True

    p = sub.add_parser("add", help="create an account (password read from stdin)")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--trained-until", metavar="DATE", help="training valid until YYYY-MM-DD")
    p.add_argument("--clets", action="store_true", help="authorised to see CLETS-sourced data")
    p.add_argument("--full-name", default="")
    p.add_argument("--password-stdin", action="store_true", required=True,
                   help="read the password from the first line of stdin")
    sc.add_user(p)
    common.add_json(p)
    p.set_defaults(func=do_add)

    p = sub.add_parser("unlock", help="clear a lockout or a 90-day idle disable "
                                      "(not an administrator's disable: that takes `enable`)")
    p.add_argument("name")
    sc.add_user(p)
    common.add_json(p)
    p.set_defaults(func=do_unlock)

    p = sub.add_parser("disable", help="take an account's access away at once, until `enable`")
    p.add_argument("name")
    p.add_argument("--reason", required=True, help="why, for the access record")
    sc.add_user(p)
    common.add_json(p)
    p.set_defaults(func=do_disable)

    p = sub.add_parser("enable", help="give a disabled account its access back (either kind of disable)")
    p.add_argument("name")
    sc.add_user(p)
    common.add_json(p)
    p.set_defaults(func=do_enable)

    p = sub.add_parser("list", help="accounts with role, training and state")
    common.add_json(p)
    p.set_defaults(func=do_list)

    p = sub.add_parser("train", help="record completed training")
    p.add_argument("name")
    p.add_argument("--until", required=True, metavar="DATE", help="expiry YYYY-MM-DD")
    p.add_argument("--completed", metavar="DATE", help="completion date (default today)")
    p.add_argument("--course", default="ALPR operator")
    sc.add_user(p)
    common.add_json(p)
    p.set_defaults(func=do_train)

    p = sub.add_parser("revoke-training", help="revoke unexpired training: kept on record, "
                                               "marked revoked; no access until training is recorded again")
    p.add_argument("name")
    p.add_argument("--reason", required=True, help="why, for the access record and the training record")
    sc.add_user(p)
    common.add_json(p)
    p.set_defaults(func=do_revoke_training)

    p = sub.add_parser("password", help="set a new password (read from stdin)")
    p.add_argument("name")
    p.add_argument("--password-stdin", action="store_true", required=True)
    sc.add_user(p)
    common.add_json(p)
    p.set_defaults(func=do_password)

    p = sub.add_parser("demo-code", help=f"current one-time code of the demo administrator "
                                         f"(reads <data>/{CREDENTIALS_FILE})")
    common.add_json(p)
    p.set_defaults(func=do_demo_code)


def _date(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise sc.UsageError(f"{option} {text!r} is not a date (YYYY-MM-DD)") from None


def _password() -> str:
    return sc.read_password_stdin("alpr user add|password")


def _describe(user) -> dict:
    training = users.current_training(user)
    return {"username": user.username, "role": user.role, "clets": user.clets_authorized,
            "trained_until": training.expires_on.isoformat() if training else None,
            "locked": user.locked, "disabled": user.disabled,
            "disabled_by": user.disabled_by or None, "disabled_reason": user.disabled_reason or None,
            "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None}


def do_add(args) -> int:
    sc.store(args)
    user = users.create_user(args.name, _password(), args.role,
                             trained_until=_date(args.trained_until, "--trained-until"),
                             clets=args.clets, full_name=args.full_name, by=sc.user(args))
    result = {**_describe(user), "otpauth_uri": users.provisioning_uri(user),
              "totp_secret": user.totp_secret}
    note = "" if result["trained_until"] else \
        "\nNo training recorded: this user cannot sign in until `alpr user train` records it."
    common.emit(result, args.json,
                f"created {user.username} ({user.role})\n"
                f"one-time code setup (enter in an authenticator app): {result['otpauth_uri']}{note}")
    return 0


def do_unlock(args) -> int:
    sc.store(args)
    user = users.require_user(args.name)
    note = users.unlock(user, by=sc.user(args))
    common.emit(_describe(user), args.json,
                f"{user.username} unlocked" + (f"\n{note}" if note else ""))
    return 0


def do_disable(args) -> int:
    sc.store(args)
    user = users.require_user(args.name)
    users.disable(user, reason=args.reason, by=sc.user(args))
    common.emit(_describe(user), args.json,
                f"{user.username} disabled: no access until `alpr user enable {user.username}`")
    return 0


def do_enable(args) -> int:
    sc.store(args)
    user = users.require_user(args.name)
    note = users.enable(user, by=sc.user(args))
    common.emit(_describe(user), args.json, f"{user.username} enabled" + (f"\n{note}" if note else ""))
    return 0


def do_revoke_training(args) -> int:
    sc.store(args)
    user = users.require_user(args.name)
    revoked = users.revoke_training(user, reason=args.reason, by=sc.user(args))
    result = {**_describe(user), "revoked_records": [r.id for r in revoked]}
    common.emit(result, args.json,
                f"training revoked for {user.username} ({len(revoked)} records kept, marked revoked): "
                f"no access until `alpr user train {user.username}` records new training")
    return 0


def do_list(args) -> int:
    from gateway.store.models import User

    sc.store(args)
    rows = [_describe(u) for u in User.select().order_by(User.username)]
    human = "\n".join(
        f"{r['username']:16} {r['role']:14} clets={'yes' if r['clets'] else 'no ':3} "
        f"trained_until={r['trained_until'] or 'NONE':10} "
        f"{'LOCKED' if r['locked'] else 'DISABLED' if r['disabled'] else 'open'}"
        for r in rows) or "no users"
    common.emit(rows, args.json, human)
    return 0


def do_train(args) -> int:
    sc.store(args)
    user = users.require_user(args.name)
    record = users.record_training(user, completed_on=_date(args.completed, "--completed") or dt.date.today(),
                                   expires_on=_date(args.until, "--until"), course=args.course,
                                   by=sc.user(args))
    common.emit(_describe(user), args.json, f"training recorded for {user.username} until {record.expires_on}")
    return 0


def do_password(args) -> int:
    sc.store(args)
    user = users.require_user(args.name)
    users.set_password(user, _password(), by=sc.user(args))
    common.emit({"username": user.username, "ok": True}, args.json, f"password set for {user.username}")
    return 0


def do_demo_code(args) -> int:
    import pyotp

    path = Path(common.datadir(args).root) / CREDENTIALS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AccountError(f"{path} does not exist: it is written only when the gateway starts "
                           "with simulated boards and no user") from None
    secret = next((line.split(":", 1)[1].split()[0] for line in text.splitlines()
                   if line.strip().startswith("TOTP secret:")), "")
    if not secret:
        raise AccountError(f"{path} holds no TOTP secret line")
    code = pyotp.TOTP(secret).now()
    common.emit({"code": code}, args.json, code)
    return 0
