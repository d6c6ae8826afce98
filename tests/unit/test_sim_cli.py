"""`alpr sim` refuses, before any board starts, what would end in a traceback, in a run with no
frames and no reason, or in boards restarting over and over."""

from __future__ import annotations

import pytest

from tools.cli.main import main
from tools.sim.runner import SimError, Simulation, check_frames
from tools.sim.session import _problems, run_simulation


@pytest.mark.parametrize("option,value,message", [
    ("--seconds", "-5", "too small: more than 0"),
    ("--baud", "0", "too small: 9600 or more"),
    ("--trigger-ms", "0", "too small: 100 or more"),
])
def test_values_that_cannot_give_a_run_are_refused_by_name(tmp_path, capsys, option, value, message):
    with pytest.raises(SystemExit):
        main(["--data", str(tmp_path), "sim", option, value])
    assert f"argument {option}: {value} is {message}" in capsys.readouterr().err


def test_an_empty_frames_folder_is_refused_before_the_boards_start(tmp_path, capsys):
    empty = tmp_path / "frames"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a frame")
    assert main(["--data", str(tmp_path / "data"), "sim", "--frames", str(empty)]) == 1
    assert "holds no .jpg or .jpeg files" in capsys.readouterr().err
    with pytest.raises(SimError, match="no such folder"):
        check_frames(tmp_path / "missing")


def test_run_simulation_refuses_a_negative_time_before_starting(datadir):
    sim = Simulation(datadir, boards=1)
    with pytest.raises(SimError, match="more than 0 seconds"):
        run_simulation(sim, -5)
    assert sim.boards == []  # nothing was started


def test_a_failed_run_says_why():
    board = {"frames_sent": 0, "frames_received": 0, "frames_intact": 0, "triggers": 0}
    assert "sim-1 sent no frames" in _problems("sim-1", board, "w/firmware.log")[0]
    board = {"frames_sent": 5, "frames_received": 4, "frames_intact": 3, "triggers": 5}
    assert len(_problems("sim-1", board, "w/firmware.log")) == 2
