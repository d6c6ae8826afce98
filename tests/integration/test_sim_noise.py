"""Two simulated boards (real firmware, real MicroPython) deliver byte-identical JPEGs
over pseudo-terminals through injected line noise."""

from __future__ import annotations

import hashlib

from gateway.store.devices import device_key
from tools.sim.runner import FRAMES, Simulation
from tools.sim.session import run_simulation


def test_two_boards_deliver_identical_jpegs_through_noise(db, datadir):
    sim = Simulation(datadir, boards=2, bit_error_rate=2e-5, drop_rate=1e-5, insert_rate=1e-5,
                     trigger_ms=1500, seed=462)
    summary = run_simulation(sim, seconds=6)
    sources = {hashlib.sha256(p.read_bytes()).hexdigest() for p in FRAMES.glob("*.jpg")}
    assert len(sources) >= 3
    boards = summary["boards"]
    assert set(boards) == {"sim-1", "sim-2"}
    for board_id, b in boards.items():
        assert b["drained"], board_id
        assert b["frames_received"] > 0, board_id
        # every frame the board says it delivered arrived, byte-identical to a source file
        assert b["frames_sent"] == b["frames_received"] == b["frames_intact"], (board_id, b)
        assert b["frames_captured"] == b["frames_sent"] + b["frames_dropped"], (board_id, b)
        assert device_key(board_id) is not None  # the sim provisioned it
    noise = sum(b["line"]["bits_flipped"] + b["line"]["bytes_dropped"] + b["line"]["bytes_inserted"]
                for b in boards.values())
    assert noise > 0
    assert sum(sum(b["gateway_link_errors"].values()) for b in boards.values()) > 0
    assert summary["ok"]
