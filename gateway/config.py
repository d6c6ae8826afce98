"""The car's configuration: one validated place, every field with a default.

Read from `<data>/config.json`; a missing file means all defaults. A bad file
names the field and the problem (ConfigError) and the gateway does not start.
Each section belongs to one subsystem; add fields to your own section only.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gateway.errors import ConfigError

logger = logging.getLogger(__name__)

# Fields earlier versions defined and wrote into every saved config.json (Config.save
# writes all fields), and why they went. A file that still has one loads, with a
# warning; it is not rejected as unknown, or an old car's gateway would not start.
RETIRED = {
    ("recognition", "min_confidence"): "no code ever read it: every read is matched against the hotlists and "
                                       "an alert is verified through CLETS before anyone acts (policy 462); "
                                       "recognition.min_read is the floor for what counts as a read",
}


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class AgencyConfig(Section):
    agency: str = Field("SLPD", description="Agency recorded in every access record")
    terminal: str = Field("car-1", description="This car's terminal id, recorded in every access record")


class LinkConfig(Section):
    ports: list[str] = Field(default_factory=list, description="Serial ports to open; empty = discover")
    discover: bool = Field(True, description="Scan serial.tools.list_ports for boards")
    baud: int = Field(921600, ge=9600, le=12_000_000, description="UART line rate")
    max_frame_bytes: int = Field(256 * 1024, ge=4096, le=4 * 1024 * 1024, description="Largest JPEG accepted")
    frame_queue: int = Field(64, ge=1, le=10_000, description="Bound of the queue to recognition")
    keep_frames: int = Field(20, ge=0, le=10_000, description="Latest frames kept per board for the devices page")


class RecognitionConfig(Section):
    detector: str = Field("tflite", description="Detector backend name")
    ocr: str = Field("tflite", description="OCR backend name")
    threads: int = Field(1, ge=1, le=64, description="Interpreter threads per model")
    fine_pass: bool = Field(True, description="A second, finer detector pass for small and distant plates, on "
                                              "windows around faint ones (roughly doubles the time per frame)")
    closer_look: bool = Field(True, description="Look again around a plate whose reading is unsure, at the "
                                                "size the detector sees best (about 3.5 ms a plate looked at)")
    min_read: float = Field(0.02, ge=0.0, le=1.0,
                            description="A detection whose best reading ranks below this is not a read at all (a "
                                        "sign, a grille, a light; a tenth of it for a detection the detector is "
                                        "sure of); higher: fewer false reads, more plates missed")
    distant_ocr_below_px: int = Field(100, ge=0, le=2000,
                                      description="Plate cuts narrower than this are read by the OCR and by its "
                                                  "second file trained on distant plates, averaged (about 0.5 ms "
                                                  "more a plate); 0 = the first file alone")
    pass_gap_s: float = Field(3.0, ge=0.0, le=60.0, description="Bursts of the same plate closer than this are one pass")


class GpsConfig(Section):
    source: Literal["none", "nmea", "gpsd"] = Field("none", description="Where positions come from")
    port: str = Field("", description="Serial port of an NMEA receiver")
    baud: int = Field(4800, ge=1200, le=921600)
    gpsd_host: str = Field("127.0.0.1")
    gpsd_port: int = Field(2947, ge=1, le=65535)


class AlertsConfig(Section):
    repeat_window_s: int = Field(
        300, ge=0, le=24 * 3600,
        description="A hit on the same hotlist entry within this many seconds of its open alert's last "
                    "sighting is shown as a sighting of that alert, not sounded as a new one; 0 = every "
                    "hit alerts")


class StoreConfig(Section):
    image_cache_days: int = Field(7, ge=0, le=365, description="Days the car keeps delivered images")
    retention_days: int = Field(365, ge=1, le=3650, description="Reads are purged on day retention_days+1")
    min_free_mb: int = Field(500, ge=10, description="Below this free space, delivered images are pruned and the officer warned")


class UploadConfig(Section):
    enabled: bool = Field(False, description="Send reads to the regional server")
    server_url: str = Field("", description="https://... of the regional server")
    client_cert: str = Field("", description="PEM of this car's client certificate (mutual TLS)")
    client_key: str = Field("", description="PEM of this car's private key")
    server_pin_sha256: str = Field("", description="SHA-256 of the server certificate (pinning)")
    ca_cert: str = Field("", description="CA that signed the server certificate")
    batch_size: int = Field(200, ge=1, le=10_000)
    bandwidth_kbps: int = Field(0, ge=0, description="Cap for metered links; 0 = no cap")
    hotlist_sync_minutes: int = Field(60, ge=1, le=24 * 60)
    connections: int = Field(2, ge=1, le=16, description="Parallel HTTPS connections; keeps a long link full")
    retry_base_s: float = Field(0.5, ge=0.01, le=60.0, description="First retry delay; doubles per failure, with jitter")
    retry_max_s: float = Field(300.0, ge=0.1, le=3600.0, description="Longest wait between retries")
    timeout_s: float = Field(30.0, ge=1.0, le=600.0, description="Connect and read timeout of one request")


class WebConfig(Section):
    host: str = Field("0.0.0.0", description="Address the officer's UI listens on")
    port: int = Field(8443, ge=1, le=65535)
    tls: bool = Field(True, description="HTTPS with a certificate generated on first run")
    idle_lock_minutes: int = Field(30, ge=0, le=24 * 60, description="Screen lock after idle; 0 = never (agency exemption)")
    reauth_hours: int = Field(12, ge=1, le=12)


class Config(Section):
    agency: AgencyConfig = Field(default_factory=AgencyConfig)
    link: LinkConfig = Field(default_factory=LinkConfig)
    recognition: RecognitionConfig = Field(default_factory=RecognitionConfig)
    gps: GpsConfig = Field(default_factory=GpsConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    upload: UploadConfig = Field(default_factory=UploadConfig)
    web: WebConfig = Field(default_factory=WebConfig)

    @classmethod
    def load(cls, path: Path) -> Config:
        if not path.exists():
            return cls()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: not valid JSON at line {exc.lineno}: {exc.msg}") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: not a text file (byte {exc.start} is not UTF-8); restore "
                              "the configuration from a backup, or move the file aside to start "
                              "from the defaults") from None
        except IsADirectoryError:
            raise ConfigError(f"{path} is a folder, not a file: move it aside to start from the "
                              "defaults, or put the car's config.json in its place") from None
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror}; check its permissions "
                              "(ls -l) or choose another data folder with --data DIR") from None
        _drop_retired(raw, path)
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
            )
            raise ConfigError(f"{path}: {problems}") from None

    def override(self, field: str, value, option: str) -> None:
        """Set `field` ("web.port") from a command-line `option`, checked against the same bounds as
        the file; a value out of bounds is a ConfigError naming the option, not a pydantic trace."""
        section_name, name = field.split(".")
        try:
            setattr(getattr(self, section_name), name, value)
        except ValidationError as exc:
            problems = "; ".join(err["msg"] for err in exc.errors())
            raise ConfigError(f"{option} {value!r}: {problems} (the limit of {field})") from None

    def save(self, path: Path) -> None:
        # Write-then-rename so a power cut never leaves half a config file.
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".config-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(self.model_dump_json(indent=2))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)


def _drop_retired(raw, path: Path) -> None:
    if not isinstance(raw, dict):
        return  # validation names the problem
    for (section, name), why in RETIRED.items():
        fields = raw.get(section)
        if isinstance(fields, dict) and name in fields:
            del fields[name]
            logger.warning("%s: %s.%s is no longer used and was ignored (%s); saving the configuration drops it",
                           path, section, name, why)
