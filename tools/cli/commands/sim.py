"""`alpr sim`: simulated boards (real firmware, MicroPython Unix port) against the link."""

from __future__ import annotations

from pathlib import Path

from gateway.errors import ConfigError
from tools.cli import common


def register(subparsers) -> None:
    p = subparsers.add_parser("sim", help="run simulated boards against the gateway's link and summarise")
    p.add_argument("--boards", type=int, default=2, help="number of boards (default 2)")
    p.add_argument("--seconds", type=common.at_least_float(0.0, above=True), default=20.0,
                   help="how long the boards trigger (more than 0)")
    p.add_argument("--frames", type=Path, help="folder of JPEGs to send (default tools/sim/frames)")
    # The link's own floor (link.baud); 0 would pace the line to nothing and send no frame.
    p.add_argument("--baud", type=common.at_least(9600),
                   help="pace each line to this baud rate, 9600 or more (default: unpaced)")
    p.add_argument("--bit-error-rate", type=float, default=0.0, help="probability a bit flips")
    p.add_argument("--drop-rate", type=float, default=0.0, help="probability a byte is lost")
    p.add_argument("--insert-rate", type=float, default=0.0, help="probability a byte is inserted")
    # 0 is the firmware's 'never trigger', which leaves nothing to compare; a real camera does
    # not trigger more than ten times a second.
    p.add_argument("--trigger-ms", type=common.at_least(100), default=2000,
                   help="interval between simulated triggers, 100 ms or more")
    p.add_argument("--seed", type=int, help="noise seed, for repeatable runs")
    common.add_json(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from gateway.store.db import open_database
    from tools.sim.runner import Simulation
    from tools.sim.session import run_simulation

    if not 1 <= args.boards <= 16:
        raise ConfigError("--boards takes 1 to 16")
    for name in ("bit_error_rate", "drop_rate", "insert_rate"):
        if not 0.0 <= getattr(args, name) < 0.1:
            raise ConfigError(f"--{name.replace('_', '-')} must be between 0 and 0.1")
    datadir = common.datadir(args)
    db = open_database(datadir.database)
    try:
        sim = Simulation(datadir, boards=args.boards, frames_dir=args.frames, baud=args.baud,
                         bit_error_rate=args.bit_error_rate, drop_rate=args.drop_rate,
                         insert_rate=args.insert_rate, trigger_ms=args.trigger_ms, seed=args.seed)
        summary = run_simulation(sim, args.seconds)
    finally:
        db.close()
    lines = [f"{bid}: sent {b['frames_sent']}, received {b['frames_received']} "
             f"({b['frames_intact']} byte-identical), dropped {b['frames_dropped']}, "
             f"link errors {b['gateway_link_errors'] or 'none'}"
             for bid, b in summary["boards"].items()]
    verdict = ["ok"] if summary["ok"] else ["MISMATCH: " + p for p in summary["problems"]]
    common.emit(summary, args.json, "\n".join(lines + verdict))
    return 0 if summary["ok"] else 1
