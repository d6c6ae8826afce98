"""`alpr provision`: keys, the device list, the board config file, the access record."""

from __future__ import annotations

import json
import stat

import pytest

from gateway.store import audit
from gateway.store.db import open_database
from gateway.store.devices import device_key
from gateway.store.models import AccessRecord
from tools.cli.main import main


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_new_board_gets_a_fresh_key_registered_and_written(tmp_path, capsys):
    data = str(tmp_path / "data")
    code, out, _ = _run(capsys, "--data", data, "provision", "new", "cam-front", "--board-type",
                        "openmv", "--name", "front", "--pinmap",
                        "hardware/pinmaps/openmv-h7-plus.json", "--json")
    assert code == 0
    result = json.loads(out)
    path = tmp_path / "data" / "keys" / "boards" / "cam-front" / "config.json"
    assert result["config_path"] == str(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    config = json.loads(path.read_text())
    assert config["board_type"] == "openmv" and config["trigger_pin"] == "P7"
    assert config["trigger_active_high"] is False and config["pinmap"] == "pinmap.json"
    key = bytes.fromhex(config["key_hex"])
    assert len(key) == 32
    assert config["key_hex"] not in out  # never printed; only the fingerprint
    db = open_database(tmp_path / "data" / "alpr.db")
    try:
        assert device_key("cam-front") == key
        assert audit.verify().ok
        rec = AccessRecord.select().where(AccessRecord.action == "device.provision").get()
        assert rec.query == "cam-front" and result["key_fingerprint"] in rec.detail
        assert config["key_hex"] not in rec.detail
    finally:
        db.close()


def test_keys_differ_and_rekey_needs_to_be_asked_for(tmp_path, capsys):
    data = str(tmp_path / "data")
    path = tmp_path / "data" / "keys" / "boards" / "b1" / "config.json"
    assert _run(capsys, "--data", data, "provision", "new", "b1", "--board-type", "sim")[0] == 0
    first = json.loads(path.read_text())["key_hex"]
    code, _, err = _run(capsys, "--data", data, "provision", "new", "b1", "--board-type", "sim")
    assert code == 1 and "--rekey" in err
    assert json.loads(path.read_text())["key_hex"] == first
    assert _run(capsys, "--data", data, "provision", "new", "b1", "--board-type", "sim",
                "--rekey")[0] == 0
    assert json.loads(path.read_text())["key_hex"] != first


def test_revoke_stops_the_key_and_deletes_the_file(tmp_path, capsys):
    data = str(tmp_path / "data")
    _run(capsys, "--data", data, "provision", "new", "cam-x", "--board-type", "esp32s3",
         "--pinmap", "hardware/pinmaps/xiao-esp32s3-sense.json")
    code, out, _ = _run(capsys, "--data", data, "provision", "revoke", "cam-x", "--json")
    assert code == 0 and json.loads(out)["config_removed"] is True
    assert not (tmp_path / "data" / "keys" / "boards" / "cam-x").exists()
    code, out, _ = _run(capsys, "--data", data, "provision", "list", "--json")
    rows = json.loads(out)
    assert [r["board_id"] for r in rows] == ["cam-x"] and rows[0]["revoked_at"]
    assert "key_hex" not in rows[0]
    db = open_database(tmp_path / "data" / "alpr.db")
    try:
        assert device_key("cam-x") is None
        actions = [r.action for r in AccessRecord.select().order_by(AccessRecord.id)]
        assert actions[-2:] == ["device.provision", "device.revoke"]
    finally:
        db.close()


def test_bad_input_is_refused_and_leaves_nothing(tmp_path, capsys):
    data = str(tmp_path / "data")
    bad_pinmap = tmp_path / "bad.json"
    bad_pinmap.write_text('{"board": "x", "pins": {"flux_capacitor": "P1"}}')
    cases = [
        (["new", "../etc", "--board-type", "sim"], "board id"),
        (["new", "..", "--board-type", "sim"], "board id"),
        (["new", "ok-id", "--board-type", "sim", "--pinmap", str(bad_pinmap)], "unknown pin"),
        (["new", "ok-id", "--board-type", "sim", "--set", "burst=99"], "burst"),
        (["revoke", "nobody"], "no board"),
    ]
    for argv, words in cases:
        code, _, err = _run(capsys, "--data", data, "provision", *argv)
        assert code == 1 and words in err, (argv, err)
    code, out, _ = _run(capsys, "--data", data, "provision", "list", "--json")
    assert json.loads(out) == []
    assert not (tmp_path / "data" / "keys" / "boards").exists() or \
        not any((tmp_path / "data" / "keys" / "boards").iterdir())


def test_without_pinmap_the_reference_builds_map_is_used(tmp_path, capsys):
    data = str(tmp_path / "data")
    code, out, _ = _run(capsys, "--data", data, "provision", "new", "cam-r", "--board-type",
                        "openmv", "--json")
    assert code == 0 and json.loads(out)["pinmap"].endswith("hardware/pinmaps/openmv-h7-plus.json")
    board = tmp_path / "data" / "keys" / "boards" / "cam-r"
    assert json.loads((board / "config.json").read_text())["trigger_pin"] == "P7"
    assert json.loads((board / "pinmap.json").read_text())["board"] == "openmv-h7"


@pytest.mark.parametrize("make,message", [
    (lambda p: p.write_bytes(b"\x00\x81\xfe firmware image"), "not a board config .*--board-id"),
    (lambda p: None, r"`alpr provision new BOARD_ID --board-type"),
    (lambda p: p.mkdir(), "is a folder"),
])
def test_a_config_file_that_is_not_one_is_named(tmp_path, make, message):
    from tools.provision import boardconfig

    path = tmp_path / "garbage.bin"
    make(path)
    with pytest.raises(boardconfig.BoardConfigError, match=message):
        boardconfig.read(path)


def test_a_provisioned_config_gone_names_its_board(tmp_path):
    from tools.provision import boardconfig

    with pytest.raises(boardconfig.BoardConfigError, match="provision new cam-front --board-type"):
        boardconfig.read(tmp_path / "keys" / "boards" / "cam-front" / "config.json")


@pytest.mark.parametrize("setting", ["board_id=other", 'board_type="sim"',
                                     "key_hex=" + "ab" * 32])
def test_set_cannot_change_what_provisioning_registers(tmp_path, capsys, setting):
    # The config must say hello with the id, type and key the car's device list holds.
    data = str(tmp_path / "data")
    code, _, err = _run(capsys, "--data", data, "provision", "new", "cam-z", "--board-type",
                        "openmv", "--set", setting)
    assert code == 1 and "set by provisioning itself" in err, err
    code, out, _ = _run(capsys, "--data", data, "provision", "list", "--json")
    assert json.loads(out) == []
    assert not (tmp_path / "data" / "keys" / "boards" / "cam-z").exists()


@pytest.mark.parametrize("board_type,pinmap", [
    ("esp32s3", "hardware/pinmaps/openmv-h7-plus.json"),
    ("esp32s3", "hardware/pinmaps/openmv-rt1062.json"),
    ("openmv", "hardware/pinmaps/xiao-esp32s3-sense.json"),
])
def test_a_pin_map_for_the_other_board_is_refused(tmp_path, capsys, board_type, pinmap):
    # An OpenMV map on an ESP32 gives machine.Pin("P7"), an ESP32 map on an OpenMV Pin(1):
    # the board would boot with no trigger. Refused on the laptop, nothing written.
    data = str(tmp_path / "data")
    code, _, err = _run(capsys, "--data", data, "provision", "new", "cam-w", "--board-type",
                        board_type, "--pinmap", pinmap)
    assert code == 1 and f"not for an {board_type} board" in err, err
    assert "trigger" in err
    code, out, _ = _run(capsys, "--data", data, "provision", "list", "--json")
    assert json.loads(out) == []


@pytest.mark.parametrize("board_type,pinmap", [
    ("openmv", "hardware/pinmaps/openmv-h7-plus.json"),
    ("openmv", "hardware/pinmaps/openmv-rt1062.json"),
    ("esp32s3", "hardware/pinmaps/xiao-esp32s3-sense.json"),
    ("sim", "hardware/pinmaps/openmv-h7-plus.json"),
])
def test_every_reference_pin_map_fits_its_board(tmp_path, capsys, board_type, pinmap):
    code, _, err = _run(capsys, "--data", str(tmp_path / "data"), "provision", "new", "cam-r",
                        "--board-type", board_type, "--pinmap", pinmap)
    assert code == 0, err


def test_frame_difference_trigger_is_refused_for_an_esp32s3(tmp_path, capsys):
    # Its camera driver cannot difference frames: the board would boot with no trigger.
    data = str(tmp_path / "data")
    code, _, err = _run(capsys, "--data", data, "provision", "new", "cam-e", "--board-type",
                        "esp32s3", "--set", "trigger=diff")
    assert code == 1 and "OpenMV boards only" in err, err
    code, _, err = _run(capsys, "--data", data, "provision", "new", "cam-o", "--board-type",
                        "openmv", "--set", "trigger=diff")
    assert code == 0, err


def test_rekey_keeps_the_boards_own_pin_map_and_settings(tmp_path, capsys):
    # A board wired by its own pin map (bom.md: a Freenove board, a copy of the XIAO map with
    # its pins) is re-keyed: the new config must keep its pins and settings, not fall back to
    # the reference build's.
    own = json.loads(open("hardware/pinmaps/xiao-esp32s3-sense.json").read())
    own["board"], own["pins"]["trigger"] = "freenove-s3", 2
    own_path = tmp_path / "freenove.json"
    own_path.write_text(json.dumps(own))
    data = str(tmp_path / "data")
    board = tmp_path / "data" / "keys" / "boards" / "cam-f"
    assert _run(capsys, "--data", data, "provision", "new", "cam-f", "--board-type", "esp32s3",
                "--pinmap", str(own_path), "--set", "burst=5")[0] == 0
    old_key = json.loads((board / "config.json").read_text())["key_hex"]
    code, _, err = _run(capsys, "--data", data, "provision", "new", "cam-f", "--board-type",
                        "esp32s3", "--rekey", "--set", "jpeg_quality=70")
    assert code == 0, err
    config = json.loads((board / "config.json").read_text())
    assert config["key_hex"] != old_key
    assert (config["burst"], config["jpeg_quality"], config["trigger_pin"]) == (5, 70, "2")
    assert json.loads((board / "pinmap.json").read_text())["board"] == "freenove-s3"
    # a pin map given with --rekey replaces it
    assert _run(capsys, "--data", data, "provision", "new", "cam-f", "--board-type", "esp32s3",
                "--rekey", "--pinmap", "hardware/pinmaps/xiao-esp32s3-sense.json")[0] == 0
    assert json.loads((board / "config.json").read_text())["trigger_pin"] == "1"
