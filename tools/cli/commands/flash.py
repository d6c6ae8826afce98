"""`alpr flash`: MicroPython where needed, the firmware as .mpy, the board's config; verified."""

from __future__ import annotations

import sys
from pathlib import Path

from tools.cli import common


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "flash", help="put the camera firmware (and MicroPython where needed) on a board",
        description="Compile the firmware with mpy-cross, copy it with mpremote, write the "
                    "board's provisioned config and key, and verify every file by its SHA-256 "
                    "read back from the board. ESP32-S3 boards get MicroPython from esptool "
                    "first when --micropython is given. --dry-run prints every step and "
                    "touches no port.")
    parser.add_argument("--board", required=True, choices=("openmv", "esp32s3"))
    parser.add_argument("--port", help="serial port of the board (default /dev/ttyACM0)")
    parser.add_argument("--board-id", help="flash the config and key made by "
                                           "`alpr provision new BOARD_ID`")
    parser.add_argument("--config", type=Path, metavar="FILE",
                        help="a board config file instead of --board-id")
    parser.add_argument("--pinmap", type=Path, metavar="FILE",
                        help="pin map to install (default: the one chosen at provisioning)")
    parser.add_argument("--micropython", type=Path, metavar="FILE",
                        help="ESP32-S3 only: MicroPython image (.bin, with the camera module) "
                             "to write with esptool first")
    parser.add_argument("--mpy-compat", metavar="VERSION",
                        help="compile for an older MicroPython on the board, e.g. 1.22")
    parser.add_argument("--dry-run", action="store_true",
                        help="print every step; compile only, touch no port")
    parser.add_argument("--no-reset", dest="reset", action="store_false",
                        help="leave the board at its prompt afterwards")
    parser.add_argument("--no-service", dest="service_first", action="store_false",
                        help="do not ask running camera firmware for service mode first")
    common.add_json(parser)
    parser.set_defaults(func=cmd_flash)


def cmd_flash(args) -> int:
    from tools.flash.boards import PROFILES
    from tools.flash.steps import FlashError, FlashJob
    from tools.provision import boardconfig

    profile = PROFILES[args.board]
    port = args.port or profile.default_port
    config_path = args.config
    if args.board_id:
        if config_path is not None:
            raise FlashError("give --board-id or --config, not both")
        config_path = boardconfig.path_for(common.datadir(args).keys, args.board_id)
    if args.micropython and not profile.needs_micropython_image:
        raise FlashError("--micropython is for ESP32-S3 boards; OpenMV boards keep OpenMV's "
                         "MicroPython (see the MicroPython step of --dry-run)")

    def show(step) -> None:
        if not args.json:
            mark = {"done": "ok", "would": "would", "skipped": "skip", "manual": "manual",
                    "failed": "FAILED"}[step.status]
            print(f"{step.number:>2}. [{step.where}] {step.action}: {mark}"
                  + (f"\n      {step.detail}" if step.detail else ""))
            sys.stdout.flush()

    if not args.json:
        print(f"alpr flash: {profile.name} on {port}"
              + (" (dry run: compiles only, no port is opened)" if args.dry_run else ""))
    job = FlashJob(profile=profile, port=port, dry_run=args.dry_run, board_config=config_path,
                   pinmap=args.pinmap, micropython_image=args.micropython,
                   mpy_compat=args.mpy_compat, reset=args.reset,
                   service_first=args.service_first, on_step=show)
    steps = job.run()
    result = {"board": args.board, "port": port, "dry_run": args.dry_run,
              "steps": [s.as_dict() for s in steps],
              "files": [b.as_dict() for b in job.built],
              "verified": bool(job.verified) and not args.dry_run}
    if args.json:
        common.emit(result, True)
    else:
        print("dry run complete: nothing was written" if args.dry_run
              else "flashed and verified" if job.verified else "flashed")
    return 0
