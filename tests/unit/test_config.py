import json

import pytest

from gateway.config import Config
from gateway.errors import ConfigError


def test_defaults_when_no_file(tmp_path):
    cfg = Config.load(tmp_path / "config.json")
    assert cfg.web.idle_lock_minutes == 30
    assert cfg.store.retention_days == 365


def test_bad_field_is_named(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"link": {"baud": 5}}))
    with pytest.raises(ConfigError, match="link.baud"):
        Config.load(path)


def test_unknown_field_rejected(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"web": {"colour": "red"}}))
    with pytest.raises(ConfigError, match="web.colour"):
        Config.load(path)


def test_save_round_trip(tmp_path):
    path = tmp_path / "config.json"
    cfg = Config()
    cfg.link.baud = 115200
    cfg.save(path)
    assert Config.load(path).link.baud == 115200


def test_recognition_section_sets_up_the_recognizer(tmp_path):
    from gateway.recognition import recognizer

    path = tmp_path / "config.json"
    path.write_text(json.dumps({"recognition": {"min_read": 0.3, "closer_look": False, "fine_pass": False}}))
    rec = recognizer.Recognizer.from_config(Config.load(path).recognition)
    assert rec.min_read == 0.3 and not rec.closer_look and len(rec.detector.passes) == 1
    # the config's default is the recognizer's own, so every command reads the same plates
    default = recognizer.Recognizer.from_config(Config.load(tmp_path / "none.json").recognition)
    assert default.min_read == recognizer.MIN_READ and default.closer_look and len(default.detector.passes) == 2
    path.write_text(json.dumps({"recognition": {"min_read": 1.5}}))
    with pytest.raises(ConfigError, match="recognition.min_read"):
        Config.load(path)


def test_retired_field_loads_with_a_warning_and_is_not_saved_again(tmp_path, caplog):
    # Config.save wrote every field, so provisioned cars have recognition.min_confidence,
    # which was never used; such a file must still start the gateway.
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"recognition": {"min_confidence": 0.5, "min_read": 0.03}}))
    with caplog.at_level("WARNING", logger="gateway.config"):
        cfg = Config.load(path)
    assert cfg.recognition.min_read == 0.03
    assert "recognition.min_confidence is no longer used" in caplog.text
    cfg.save(path)
    assert "min_confidence" not in json.loads(path.read_text())["recognition"]
    # anything else unknown is still an error
    path.write_text(json.dumps({"recognition": {"min_confidenc": 0.5}}))
    with pytest.raises(ConfigError, match="recognition.min_confidenc"):
        Config.load(path)
