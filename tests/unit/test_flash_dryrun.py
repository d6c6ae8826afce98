"""`alpr flash --dry-run` prints every step, compiles for real and opens no port."""

from __future__ import annotations

import json

import pytest

from tools.cli.main import main
from tools.flash import build


@pytest.mark.parametrize("board,march", [("openmv", "armv7emdp"), ("esp32s3", "xtensawin")])
def test_dry_run_lists_every_step_and_exits_0(board, march, capsys, tmp_path):
    port = str(tmp_path / "no-such-port")
    assert main(["--data", str(tmp_path / "data"), "flash", "--board", board, "--dry-run",
                 "--port", port]) == 0
    out = capsys.readouterr().out
    for words in ("compile the firmware to .mpy", f"-march={march}", "firmware files",
                  "verify: read back the SHA-256", "dry run complete"):
        assert words in out
    if board == "esp32s3":
        assert "erase-flash" in out or "erase_flash" in out
        assert "write-flash 0x0" in out or "write_flash 0x0" in out
    else:
        assert "OpenMV IDE" in out and "dfu-util" in out


def test_dry_run_json_has_ordered_steps_and_real_build(capsys, tmp_path):
    assert main(["--data", str(tmp_path / "data"), "flash", "--board", "openmv", "--dry-run",
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    numbers = [s["step"] for s in result["steps"]]
    assert numbers == list(range(1, len(numbers) + 1))
    by_action = {s["action"]: s for s in result["steps"]}
    assert by_action["compile the firmware to .mpy with mpy-cross"]["status"] == "done"
    assert all(s["status"] in ("would", "manual", "done") for s in result["steps"])
    dests = {f["dest"] for f in result["files"]}
    assert "main.py" in dests and "board.mpy" in dests and "shared/cbor.mpy" in dests
    assert result["verified"] is False


def test_dry_run_with_a_provisioned_board_reads_its_config(capsys, tmp_path):
    data = str(tmp_path / "data")
    assert main(["--data", data, "provision", "new", "cam-a", "--board-type", "esp32s3",
                 "--pinmap", "hardware/pinmaps/xiao-esp32s3-sense.json"]) == 0
    capsys.readouterr()
    assert main(["--data", data, "flash", "--board", "esp32s3", "--board-id", "cam-a",
                 "--dry-run", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    read = next(s for s in result["steps"] if s["action"].startswith("read the board"))
    assert read["status"] == "done" and "cam-a" in read["detail"]
    assert "xiao-esp32s3-sense" in read["detail"]
    written = next(s for s in result["steps"] if s["action"].startswith("write the board"))
    assert "config.json" in written["detail"] and "pinmap.json" in written["detail"]


def test_wrong_board_type_is_refused_with_a_hint(capsys, tmp_path):
    data = str(tmp_path / "data")
    main(["--data", data, "provision", "new", "cam-b", "--board-type", "openmv"])
    assert main(["--data", data, "flash", "--board", "esp32s3", "--board-id", "cam-b",
                 "--dry-run"]) == 1
    assert "is for a openmv board" in capsys.readouterr().err


def test_unprovisioned_board_id_names_the_provision_command(capsys, tmp_path):
    assert main(["--data", str(tmp_path / "data"), "flash", "--board", "openmv", "--board-id",
                 "ghost", "--dry-run"]) == 1
    assert "alpr provision new ghost" in capsys.readouterr().err


def test_micropython_image_only_for_esp32(capsys, tmp_path):
    assert main(["--data", str(tmp_path / "data"), "flash", "--board", "openmv", "--dry-run",
                 "--micropython", str(tmp_path / "x.bin")]) == 1
    assert "ESP32-S3" in capsys.readouterr().err


def test_compiled_modules_carry_the_mpy_header(tmp_path):
    built = build.compile_all(tmp_path, march="armv7emdp")
    mpys = [b for b in built if b.dest.endswith(".mpy")]
    assert mpys and all(build.mpy_version_of(b.local)[0] == 6 for b in mpys)
    assert not any(b.dest.endswith("main.mpy") for b in built)


def test_a_pin_map_for_the_other_board_is_refused_before_flashing(capsys, tmp_path):
    data = str(tmp_path / "data")
    assert main(["--data", data, "provision", "new", "cam-c", "--board-type", "openmv"]) == 0
    capsys.readouterr()
    assert main(["--data", data, "flash", "--board", "openmv", "--board-id", "cam-c",
                 "--pinmap", "hardware/pinmaps/xiao-esp32s3-sense.json", "--dry-run"]) == 1
    assert "not for an openmv board" in capsys.readouterr().err


def _esp_image(path, chip_id: int) -> str:
    # ESP-IDF image header: magic 0xE9, ..., chip id at bytes 12-13 (little-endian)
    path.write_bytes(bytes([0xE9, 3, 2, 0x20]) + bytes(8) + chip_id.to_bytes(2, "little")
                     + bytes(1010))
    return str(path)


@pytest.mark.parametrize("make,message", [
    (lambda p: (p.write_text("not an image"), str(p))[1], "not an ESP32 firmware image"),
    (lambda p: _esp_image(p, 0), "another ESP32 chip"),  # an ESP32 (not S3) build
])
def test_a_micropython_image_for_another_chip_is_refused_before_erasing(make, message, capsys,
                                                                        tmp_path):
    # Erasing first and then failing to write leaves a board with no MicroPython at all.
    image = make(tmp_path / "firmware.bin")
    assert main(["--data", str(tmp_path / "data"), "flash", "--board", "esp32s3", "--dry-run",
                 "--micropython", image]) == 1
    out = capsys.readouterr()
    assert message in out.err and "flash was not touched" in out.err
    assert "erase the flash" not in out.out


def test_an_esp32s3_micropython_image_passes_the_check(capsys, tmp_path):
    image = _esp_image(tmp_path / "s3.bin", 9)
    assert main(["--data", str(tmp_path / "data"), "flash", "--board", "esp32s3", "--dry-run",
                 "--micropython", image, "--json"]) == 0
    steps = json.loads(capsys.readouterr().out)["steps"]
    check = next(s for s in steps if s["action"].startswith("check the MicroPython image"))
    assert check["status"] == "done" and "ESP32-S3 image" in check["detail"]
