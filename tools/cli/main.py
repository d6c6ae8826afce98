"""`alpr`: one command, subcommands discovered from tools.cli.commands.

One error boundary: an AlprError prints `alpr: message` on stderr and exits 1.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import logging
import os
import pkgutil
import sqlite3
import sys

import peewee

from gateway.errors import AlprError

logger = logging.getLogger("alpr")


def discover(package: str, subparsers) -> None:
    """Import every module of `package` and let it register its subcommands.

    A module that fails to import is logged, not fatal, so that one broken
    plugin (a missing optional runtime, say) leaves the other commands usable.
    """
    pkg = importlib.import_module(package)
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        try:
            module = importlib.import_module(f"{package}.{info.name}")
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not take the CLI down
            logger.warning("command module %s.%s not loaded: %s", package, info.name, exc)
            continue
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alpr", description="In-car licence plate reader: gateway, boards, tools."
    )
    parser.add_argument("--data", metavar="DIR", help="the car's data folder (default $ALPR_DATA or ./data)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    discover("tools.cli.commands", sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except AlprError as exc:
        print(f"alpr: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`alpr recognize ... | head`): what it wanted it has. Point stdout
        # at /dev/null so that the interpreter's final flush does not fail a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except (OSError, sqlite3.DatabaseError, peewee.DatabaseError) as exc:
        # The last line of defence for the environment failing under a command (a disk, a
        # permission, a database file) where no layer translated it: a message, not a traceback;
        # the traceback is at debug level (-vv) for a bug report. Programming errors are not
        # caught here: they are fixed where they happen.
        logger.debug("%s failed", args.command, exc_info=True)
        print(f"alpr: {_environment(exc)}", file=sys.stderr)
        return 1


HINTS = {
    errno.ENOSPC: "free some space and run the command again",
    errno.EACCES: "check the permissions (ls -l) or choose another data folder with --data DIR",
    errno.EROFS: "the file system is read-only: choose another data folder with --data DIR",
    errno.ENOENT: "check the path",
}


def _environment(exc: BaseException) -> str:
    """The message for an environment failure no layer translated: what, where, and a hint."""
    if isinstance(exc, OSError):
        where = exc.filename if exc.filename is not None else ""
        what = exc.strerror or str(exc) or type(exc).__name__
        text = f"{where}: {what}" if where else what
        hint = HINTS.get(exc.errno)
        return f"{text}; {hint}" if hint else text
    from gateway.store.db import problem
    from gateway.store.models import database

    path = getattr(database.obj, "database", None) or "the database"
    return problem(exc, path)


if __name__ == "__main__":
    sys.exit(main())
