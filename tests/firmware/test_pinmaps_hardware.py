"""The pin maps in hardware/pinmaps/ load in the firmware's configuration under MicroPython."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _mp_helpers import REPO, run_mp

PINMAPS = sorted((REPO / "hardware" / "pinmaps").glob("*.json"))
ESP32_STRAPPING = {0, 3, 45, 46}

CHECK = """
import json, config
for path in %r:
    p = config.load_pinmap(path)
    print(json.dumps({"path": path, "board": p["board"], "pins": p["pins"]}))
"""


def test_there_is_a_pin_map_for_each_board_type():
    names = {p.name for p in PINMAPS}
    assert {"openmv-h7-plus.json", "openmv-rt1062.json", "xiao-esp32s3-sense.json"} <= names


def test_every_pin_map_loads_in_the_firmware(micropython_bin):
    out = run_mp(micropython_bin, CHECK % [str(p) for p in PINMAPS])
    loaded = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [Path(m["path"]).name for m in loaded] == [p.name for p in PINMAPS]
    for m in loaded:
        pins = m["pins"]
        assert "trigger" in pins and "ir_enable" in pins, m["path"]
        header = [v for k, v in pins.items() if not k.startswith("led")]
        assert len(header) == len(set(header)), f"{m['path']}: a pin wired to two jobs"
        if m["board"].startswith("xiao-esp32s3"):
            assert not ESP32_STRAPPING & {v for v in pins.values() if isinstance(v, int)}


@pytest.mark.parametrize("pinmap,svg,labels", [
    ("openmv-h7-plus.json", "openmv-h7-plus.svg", {"trigger": "trigger P7",
                                                  "ir_enable": "ir_enable P8"}),
    ("xiao-esp32s3-sense.json", "xiao-esp32s3-sense.svg", {"trigger": "D0 = GPIO1",
                                                          "ir_enable": "D3 = GPIO4"}),
])
def test_wiring_diagram_agrees_with_the_pin_map(pinmap, svg, labels):
    pins = json.loads((REPO / "hardware" / "pinmaps" / pinmap).read_text())["pins"]
    drawing = (REPO / "hardware" / "wiring" / svg).read_text()
    for label in labels.values():
        assert label in drawing
    if "openmv" in pinmap:
        assert (pins["trigger"], pins["ir_enable"]) == ("P7", "P8")
    else:
        assert (pins["trigger"], pins["ir_enable"]) == (1, 4)


def test_a_wrong_pin_map_is_refused_by_the_firmware(micropython_bin, tmp_path):
    bad = tmp_path / "bad.json"
    good = json.loads(PINMAPS[0].read_text())
    good["pins"]["ignition"] = "P9"
    bad.write_text(json.dumps(good))
    with pytest.raises(AssertionError, match="unknown pin ignition"):
        run_mp(micropython_bin, CHECK % [str(bad)])


def test_svg_files_are_well_formed():
    from xml.dom import minidom

    for svg in (REPO / "hardware" / "wiring").glob("*.svg"):
        doc = minidom.parse(str(svg))
        assert doc.documentElement.tagName == "svg"
        assert doc.getElementsByTagName("title"), f"{svg.name} has no <title>"


def test_hardware_docs_link_to_files_that_exist():
    import re

    for md in (REPO / "hardware").glob("*.md"):
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", md.read_text()):
            if "://" in target:
                continue
            assert (md.parent / target).exists(), f"{md.name} links to missing {target}"



def test_hardware_docs_name_project_files_that_exist():
    import re

    for md in (REPO / "hardware").glob("*.md"):
        for path in re.findall(r"`((?:firmware|tools|gateway|shared)/[\w/.-]+\.py)`",
                               md.read_text()):
            assert (REPO / path).exists(), f"{md.name} names missing {path}"


def test_install_checklist_asks_only_for_exposure_the_firmware_can_set():
    import importlib.util

    spec = importlib.util.spec_from_file_location("fwcfg", REPO / "firmware" / "config.py")
    fw = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fw)
    install = (REPO / "hardware" / "install.md").read_text()
    if not any("exposure" in name for name in fw.SCHEMA):
        # firmware 0.1.0: automatic exposure (optics.md); a checklist box the technician
        # cannot tick would send them hunting for a setting that does not exist
        assert "Exposure stays at" not in install
        assert "automatic exposure" in install
