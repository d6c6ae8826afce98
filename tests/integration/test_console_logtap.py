"""Board log lines reach the console with their levels, the way the link logs them."""

from __future__ import annotations

import logging

from tools.console.actions import format_log
from tools.console.logtap import LINK_LOGGER, LogTap


def test_board_log_lines_are_kept_with_levels_and_not_printed_twice(capsys):
    tap = LogTap(keep=3).attach()
    link_log = logging.getLogger(LINK_LOGGER)
    try:
        # gateway.link.connection logs each LOG message exactly like this
        link_log.log(logging.WARNING, "board %s: %s", "cam-1", "camera: frame dropped")
        link_log.log(logging.DEBUG, "board %s: %s", "cam-1", "burst 3 done")
        link_log.warning("port %s: hello with a bad MAC", "/dev/ttyACM0")
        lines = tap.since(0)
        assert [(line["source"], line["level"], line["text"]) for line in lines] == [
            ("cam-1", "warning", "camera: frame dropped"),
            ("cam-1", "debug", "burst 3 done"),
            ("link", "warning", "port /dev/ttyACM0: hello with a bad MAC"),
        ]
        assert tap.since(lines[1]["seq"]) == lines[2:]
        assert "WARNING cam-1: camera: frame dropped" in format_log(lines[0])
        for i in range(5):
            link_log.info("board %s: %s", "cam-1", f"line {i}")
        assert [line["text"] for line in tap.lines] == ["line 2", "line 3", "line 4"]
    finally:
        tap.detach()
    assert link_log.propagate is True
    assert capsys.readouterr().err == ""
