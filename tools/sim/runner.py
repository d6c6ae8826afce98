"""Simulation: N boards, each on its own simulated line, provisioned into the registry.

    sim = Simulation(datadir, boards=2, bit_error_rate=1e-5)
    sim.start()            # registers sim-1..sim-N with fresh keys, starts the boards
    sim.gateway_ports      # the pty paths the gateway opens
    ...
    sim.stop()

The device registry must be open (gateway.store.db.open_database) before start().
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from gateway.datadir import DataDir
from gateway.errors import AlprError
from gateway.store.devices import register_device
from tools.sim.board import SimBoard
from tools.sim.line import Line

logger = logging.getLogger(__name__)

FRAMES = Path(__file__).resolve().parent / "frames"


class SimError(AlprError):
    """A simulation cannot run as asked; nothing was started."""


def check_frames(folder: Path, what: str = "the frames folder") -> list[Path]:
    """The JPEGs the boards will send. Without any, the simulated camera fails on its first
    trigger and the board is restarted over and over, with the reason only in firmware.log."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SimError(f"{what} {folder}: no such folder")
    jpegs = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg"))
    if not jpegs:
        raise SimError(f"{what} {folder} holds no .jpg or .jpeg files: put the frames to send "
                       "there, or leave the option out to use the bundled ones")
    return jpegs


class Simulation:
    def __init__(self, datadir: DataDir, boards: int = 2, frames_dir: Path | None = None,
                 baud: int | None = None, bit_error_rate: float = 0.0, drop_rate: float = 0.0,
                 insert_rate: float = 0.0, trigger_ms: int = 3000, settings: dict | None = None,
                 seed: int | None = None):
        self.datadir = datadir
        self.count = boards
        self.frames_dir = Path(frames_dir or FRAMES)
        self.line_args = {"baud": baud, "bit_error_rate": bit_error_rate,
                          "drop_rate": drop_rate, "insert_rate": insert_rate}
        self.settings = {"sim_trigger_ms": trigger_ms, **(settings or {})}
        self.seed = seed
        self.lines: list[Line] = []
        self.boards: list[SimBoard] = []

    @property
    def gateway_ports(self) -> list[str]:
        return [line.gateway_port for line in self.lines]

    def start(self) -> Simulation:
        check_frames(self.frames_dir)
        root = self.datadir.root / "sim"
        for i in range(1, self.count + 1):
            board_id = f"sim-{i}"
            key = os.urandom(32)
            register_device(board_id, "sim", key.hex(), name=f"simulated board {i}")
            seed = None if self.seed is None else self.seed + i
            line = Line(seed=seed, **self.line_args).start()
            self.lines.append(line)
            board = SimBoard(board_id, key, line.board_port, self.frames_dir, root / board_id,
                             self.settings)
            self.boards.append(board.start())
            logger.info("simulated board %s on %s (gateway side %s)", board_id,
                        line.board_port, line.gateway_port)
        return self

    def stop(self) -> None:
        for board in self.boards:
            board.stop()
        for line in self.lines:
            line.stop()

    def line_stats(self) -> dict[str, dict]:
        return {b.board_id: dict(line.stats, restarts=b.restarts)
                for b, line in zip(self.boards, self.lines, strict=True)}
