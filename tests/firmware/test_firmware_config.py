"""The firmware's configuration and pin maps, validated under MicroPython."""

from __future__ import annotations

import json

import pytest

from _mp_helpers import run_mp


def test_config_defaults_validation_and_persistence(micropython_bin, tmp_path):
    path = tmp_path / "config.json"
    out = run_mp(micropython_bin, f"""
import config
p = {str(path)!r}
print(config.load(p) == config.DEFAULTS)
for bad in ({{"burst": 0}}, {{"burst": "3"}}, {{"camera": "nikon"}}, {{"nope": 1}}, {{"service_mode": 1}}):
    try:
        config.validate(bad)
        print("accepted", bad)
    except config.ConfigError as e:
        print("rejected")
cfg = config.validate({{"burst": 5, "board_id": "b1", "key_hex": "00" * 32}})
config.save(p, cfg)
print(config.load(p)["burst"], config.redacted(cfg)["key_hex"])
""")
    lines = out.splitlines()
    assert lines[0] == "True"
    assert lines[1:6] == ["rejected"] * 5
    assert lines[6] == "5 (set)"
    assert json.loads(path.read_text())["burst"] == 5


def test_bad_config_file_falls_back_to_defaults_with_problems(micropython_bin, tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"burst": 99, "jpeg_quality": 70}))
    out = run_mp(micropython_bin, f"""
import config
problems = []
cfg = config.load({str(path)!r}, problems)
print(cfg["burst"], cfg["jpeg_quality"], len(problems), problems[0])
""")
    assert out.startswith("3 70 1 burst: must be between 1 and 16")


def test_pinmap_validation(micropython_bin, tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"board": "openmv-h7", "pins": {
        "trigger": "P4", "led_red": "LED_RED", "ir_enable": "P5", "uart_tx": "P4", "uart_rx": 5}}))
    bad = [{"pins": {"trigger": "P4"}}, {"board": "x", "pins": {}}, {"board": "x", "pins": {"warp": 1}},
           {"board": "x", "pins": {"trigger": 300}}, {"board": "x", "pins": {"trigger": True}},
           {"board": "x", "pins": {"trigger": "P4"}, "extra": 1}]
    out = run_mp(micropython_bin, f"""
import json, config
print(config.load_pinmap({str(good)!r})["pins"]["uart_rx"])
for pm in json.loads({json.dumps(json.dumps(bad))}):
    try:
        config.validate_pinmap(pm)
        print("accepted")
    except config.ConfigError:
        print("rejected")
try:
    config.load_pinmap("/nonexistent.json")
except config.ConfigError as e:
    print("missing:", e)
""")
    lines = out.splitlines()
    assert lines[0] == "5"
    assert lines[1:7] == ["rejected"] * 6
    assert lines[7].startswith("missing: /nonexistent.json")


def test_settings_that_would_leave_the_board_unbootable_are_refused(micropython_bin, tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"board_id": "b1", "key_hex": "00" * 32, "frame_slots": 32,
                                "max_frame_bytes": 1048576}))
    out = run_mp(micropython_bin, f"""
import config
for bad in ({{"board_id": ""}}, {{"key_hex": "zz" * 16}}, {{"key_hex": "0" * 33}}, {{"key_hex": "00" * 8}},
            {{"frame_slots": 32, "max_frame_bytes": 1048576}}):
    try:
        config.validate(bad, None, 300 * 1024)
        print("accepted", bad)
    except config.ConfigError as e:
        print("rejected:", e)
print(config.memory_needed(config.DEFAULTS) <= 300 * 1024)
config.validate({{"key_hex": "aB" * 32, "frame_slots": 16, "max_frame_bytes": 1048576}}, None, 32 << 20)
problems = []
cfg = config.load({str(path)!r}, problems, 300 * 1024)
print(cfg["frame_slots"], cfg["max_frame_bytes"], problems)
""")
    lines = out.splitlines()
    assert lines[0] == "rejected: board_id: must not be empty"
    assert lines[1] == "rejected: key_hex: must be hex digits only (0-9, a-f)"
    assert lines[2].startswith("rejected: key_hex: must be an even number of hex digits")
    assert lines[3].startswith("rejected: key_hex: must be an even number of hex digits, at least 32")
    assert lines[4].startswith("rejected: frame_slots x max_frame_bytes (32 x 1048576)")
    assert "this board has 300 KB" in lines[4]
    assert lines[5] == "True"  # the defaults fit a 300 KB board
    assert lines[6].startswith("4 32768 ['frame_slots x max_frame_bytes (32 x 1048576)")
    assert lines[6].endswith("using the defaults for them']")


def test_the_laptop_tools_check_the_same_rules_under_cpython():
    from tools.provision.firmware_config import module

    fw = module()
    with pytest.raises(fw.ConfigError, match="key_hex"):
        fw.check_value("key_hex", "g" * 64)
    with pytest.raises(fw.ConfigError, match="32 x 1048576"):
        fw.validate({"frame_slots": 32, "max_frame_bytes": 1048576})  # against MIN_HEAP
    assert fw.validate({"board_id": "b", "key_hex": "ab" * 32})["frame_slots"] == 4
