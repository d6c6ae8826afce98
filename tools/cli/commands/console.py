"""`alpr console PORT | --sim`: the technician's console for one camera board."""

from __future__ import annotations

import sys
from pathlib import Path

from tools.cli import common


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "console", help="talk to one camera board: status, logs, config, tests, aiming",
        description="The technician's console over the link protocol. Interactive by "
                    "default; --command runs one command (with --json for scripts). "
                    "Commands: status, watch, log, config get/set, trigger, self-test, "
                    "reboot, time-sync, frame, aim, service, repl.")
    parser.add_argument("port", nargs="?", help="the board's serial port, e.g. /dev/ttyACM0")
    parser.add_argument("--sim", action="store_true",
                        help="start one simulated board (the real firmware under MicroPython)")
    parser.add_argument("--command", "-c", metavar="COMMAND",
                        help='one command and exit, e.g. "status" or "config set burst=5"')
    parser.add_argument("--yes", action="store_true", help="save config changes without asking")
    parser.add_argument("--key-file", type=Path, metavar="FILE",
                        help="the board's provisioned config (default: the car's device list)")
    parser.add_argument("--baud", type=int, default=921600, help="UART line rate (USB ignores it)")
    parser.add_argument("--frames-dir", type=Path, default=Path("."),
                        help="where `frame` saves JPEGs (default: here)")
    parser.add_argument("--hello-timeout", type=float, default=8.0, metavar="S",
                        help="seconds to wait for the board's hello")
    common.add_json(parser)
    parser.set_defaults(func=cmd_console)


def cmd_console(args) -> int:
    from tools.console.actions import Console
    from tools.console.target import ConsoleError, key_from_file, open_port, open_sim

    if bool(args.port) == bool(args.sim):
        raise ConsoleError("give a serial port (alpr console /dev/ttyACM0) or --sim")
    if args.sim:
        target = open_sim()
    elif args.key_file:
        key = key_from_file(args.key_file)
        target = open_port(args.port, lambda _board_id: key, args.baud)
    else:
        from gateway.store import devices
        from tools.cli.commands import _store_cli

        store = _store_cli.store(args)
        target = open_port(args.port, devices.device_key, args.baud, cleanup=store.close)
    console = None
    try:
        target.session.wait_hello(timeout=args.hello_timeout)
        interactive = args.command is None
        if interactive:
            from tools.console.shell import ConsoleShell, confirm_on_terminal

            console = Console(target, confirm=confirm_on_terminal, out=print,
                              frames_dir=args.frames_dir)
            ConsoleShell(console).cmdloop()
            return 0
        console = Console(target, out=(lambda text: None) if args.json else print,
                          frames_dir=args.frames_dir)
        result, text = console.run_line(args.command, yes=args.yes)
        common.emit(result, args.json, text)
        return 0
    finally:
        if console is not None:
            console.close()
        if not (console and console.stop_after_repl):
            target.close()
        sys.stdout.flush()
