"""What the console talks to: a board on a serial port, or one simulated board.

A real board's key comes from the car's device list (the data folder), or
from a provisioned board config file (--key-file). `--sim` starts one board
running the real firmware under the MicroPython Unix port, joined by a
pseudo-terminal (tools.sim), with its own throw-away data folder.
"""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from gateway.datadir import DataDir
from gateway.errors import AlprError
from gateway.link.session import BoardSession

logger = logging.getLogger(__name__)


class ConsoleError(AlprError):
    """The console could not do what was asked; the message says why."""


@dataclass
class Target:
    session: BoardSession
    port: str
    sim: bool = False
    notes: dict = field(default_factory=dict)
    _cleanup: list = field(default_factory=list)

    def close(self) -> None:
        self.session.close()
        for fn in reversed(self._cleanup):
            try:
                fn()
            except Exception:  # noqa: BLE001 - cleanup must run to the end
                logger.exception("console cleanup step failed")
        self._cleanup.clear()


def key_from_file(path: Path) -> bytes:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return bytes.fromhex(data["key_hex"])
    except FileNotFoundError:
        raise ConsoleError(f"--key-file {path}: no such file") from None
    except (ValueError, KeyError, TypeError):
        raise ConsoleError(f"--key-file {path}: not a board config with a key_hex "
                           "(use the one `alpr provision new` wrote)") from None


def open_port(port: str, key_lookup, baud: int, cleanup=None) -> Target:
    try:
        session = BoardSession.open(port, key_lookup=key_lookup, baud=baud)
    except AlprError:
        raise
    except Exception as exc:  # noqa: BLE001 - pyserial raises several kinds
        raise ConsoleError(f"cannot open {port}: {exc}; the port may be in use by another "
                           "program (stop the gateway: it holds every board's port)") from None
    target = Target(session, port)
    if cleanup:
        target._cleanup.append(cleanup)
    return target


def open_sim() -> Target:
    """One simulated board, registered in a temporary data folder."""
    from gateway.store import devices
    from gateway.store.db import open_database
    from tools.sim.runner import Simulation

    tmp = tempfile.TemporaryDirectory(prefix="alpr-console-sim-")
    data = DataDir(Path(tmp.name)).ensure()
    db = open_database(data.database)
    # No automatic triggers: the technician fires them with `trigger`.
    sim = Simulation(data, boards=1, trigger_ms=0).start()
    port = sim.gateway_ports[0]
    try:
        session = BoardSession.open(port, key_lookup=devices.device_key)
    except BaseException:
        sim.stop()
        db.close()
        tmp.cleanup()
        raise
    target = Target(session, port, sim=True,
                    notes={"firmware_log": str(sim.boards[0].log_path)})
    target._cleanup += [tmp.cleanup, db.close, sim.stop]
    return target
