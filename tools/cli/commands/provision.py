"""`alpr provision new|revoke|list`: board keys and the car's device list."""

from __future__ import annotations

import json
from pathlib import Path

from tools.cli import common
from tools.cli.commands import _store_cli

BOARD_TYPES = ("openmv", "esp32s3", "sim")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "provision", help="give a camera board its key and register it with this car",
        description="Make a board's key, register the board in the car's device list "
                    "and write its config for `alpr flash`; revoke a board; list boards.")
    parser.add_argument("--list", action="store_true", dest="list_all",
                        help="same as `alpr provision list`")
    common.add_json(parser)
    sub = parser.add_subparsers(dest="provision_command", metavar="ACTION")

    new = sub.add_parser("new", help="a new key for a board; writes its config for flashing")
    new.add_argument("board_id", help="the board's name, e.g. cam-front (letters, digits, . _ -)")
    new.add_argument("--board-type", required=True, choices=BOARD_TYPES)
    new.add_argument("--name", default="", help="a label for the devices page")
    new.add_argument("--pinmap", type=Path, metavar="FILE",
                     help="the board's pin map (default: the reference build's, "
                          "hardware/pinmaps/openmv-h7-plus.json or xiao-esp32s3-sense.json)")
    new.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                     help="a board setting other than the defaults (JSON value), repeatable, "
                          "e.g. --set burst=5 --set trigger='\"diff\"'")
    new.add_argument("--rekey", action="store_true",
                     help="replace the key of a board that is already provisioned, keeping its "
                          "pin map and settings unless given anew")
    _store_cli.add_user(new)
    common.add_json(new)
    new.set_defaults(func=cmd_new)

    revoke = sub.add_parser("revoke", help="stop accepting a board and delete its key file")
    revoke.add_argument("board_id")
    _store_cli.add_user(revoke)
    common.add_json(revoke)
    revoke.set_defaults(func=cmd_revoke)

    listing = sub.add_parser("list", help="the boards this car knows, revoked ones too")
    common.add_json(listing)
    listing.set_defaults(func=cmd_list)

    parser.set_defaults(func=cmd_list_or_help, _parser=parser)


def _settings(pairs: list[str]) -> dict:
    out = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name:
            raise _store_cli.UsageError(f"--set {pair!r}: write NAME=VALUE, e.g. burst=5")
        try:
            out[name] = json.loads(text)
        except json.JSONDecodeError:
            out[name] = text  # bare words are text: --set trigger=diff
    return out


def cmd_list_or_help(args) -> int:
    if args.list_all:
        return cmd_list(args)
    args._parser.print_help()
    return 2


def cmd_new(args) -> int:
    from tools.provision import boards

    data = common.datadir(args)
    store = _store_cli.store(args)
    try:
        result = boards.provision(
            data.keys, args.board_id, args.board_type, name=args.name,
            pinmap_path=args.pinmap, overrides=_settings(args.set), rekey=args.rekey,
            username=_store_cli.user(args))
    finally:
        store.close()
    verb = "re-keyed" if result.rekeyed else "provisioned"
    common.emit(result.as_dict(), args.json,
                f"{verb} {result.board_id} ({result.board_type}), key fingerprint "
                f"{result.key_fingerprint}\nboard config: {result.config_path}"
                f"{' (pin map ' + result.pinmap + ')' if result.pinmap else ''}\n"
                f"next: alpr flash --board {_flash_board(result.board_type)} "
                f"--board-id {result.board_id} --port PORT")
    return 0


def _flash_board(board_type: str) -> str:
    return board_type if board_type != "sim" else "openmv"


def cmd_revoke(args) -> int:
    from tools.provision import boards

    data = common.datadir(args)
    store = _store_cli.store(args)
    try:
        result = boards.revoke(data.keys, args.board_id, username=_store_cli.user(args))
    finally:
        store.close()
    common.emit(result, args.json,
                f"revoked {args.board_id}: the car no longer accepts it"
                + ("; its key file was deleted" if result["config_removed"] else ""))
    return 0


def cmd_list(args) -> int:
    from tools.provision import boards

    data = common.datadir(args)
    store = _store_cli.store(args)
    try:
        rows = boards.listing(data.keys)
    finally:
        store.close()
    if args.json:
        common.emit(rows, True)
        return 0
    if not rows:
        common.emit(rows, False, "no boards provisioned yet: alpr provision new BOARD_ID "
                                 "--board-type openmv")
        return 0
    lines = [f"{'board':<20} {'type':<8} {'state':<8} {'last seen':<20} firmware"]
    for row in rows:
        state = "revoked" if row["revoked_at"] else "active"
        seen = str(row["last_seen_at"] or "never")[:19]
        lines.append(f"{row['board_id']:<20} {row['board_type']:<8} {state:<8} {seen:<20} "
                     f"{row['firmware_version'] or '-'}")
    common.emit(rows, False, "\n".join(lines))
    return 0
