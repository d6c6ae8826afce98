"""`alpr run`: the gateway on the data folder, optionally with simulated boards."""

from __future__ import annotations

import logging
import signal

from tools.cli import common

logger = logging.getLogger(__name__)


def register(subparsers) -> None:
    p = subparsers.add_parser("run", help="start the gateway (Ctrl-C stops it)")
    p.add_argument("--port", type=common.port, help="web UI port, 1-65535 (overrides web.port)")
    p.add_argument("--sim", type=int, default=0, metavar="N", help="start N simulated boards")
    p.add_argument("--no-tls", action="store_true", help="plain HTTP (overrides web.tls)")
    p.set_defaults(func=run)


def run(args) -> int:
    from gateway.service import Gateway

    datadir = common.datadir(args)
    config = common.config(args)
    if args.port is not None:
        config.override("web.port", args.port, "--port")
    if args.no_tls:
        config.override("web.tls", False, "--no-tls")
    if args.sim < 0 or args.sim > 16:
        from gateway.errors import ConfigError

        raise ConfigError("--sim takes 0 to 16 boards")
    if logging.getLogger().level > logging.INFO:
        logging.getLogger().setLevel(logging.INFO)
    gateway = Gateway(config, datadir)
    sim = None
    stop = gateway.stop_event

    def on_signal(signum, _frame):
        logger.info("signal %d: stopping", signum)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        gateway.init_store()
        if args.sim:
            from gateway.accounts.demo import ensure_demo_admin
            from tools.sim.runner import Simulation

            # A demo car needs someone to sign in; nothing is created once any user exists.
            ensure_demo_admin(datadir.root)

            sim = Simulation(datadir, boards=args.sim).start()
            gateway.extra_ports += sim.gateway_ports
        gateway.start()
        scheme = "https" if config.web.tls else "http"
        print(f"alpr: gateway running on {datadir.root}, UI {scheme}://localhost:{config.web.port}"
              f"{f', {args.sim} simulated boards' if args.sim else ''}; Ctrl-C stops it", flush=True)
        while not gateway.wait(1.0):
            pass
    finally:
        gateway.stop()
        if sim is not None:
            sim.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 0
