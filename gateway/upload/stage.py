"""The uploader as a gateway stage: wakes on every `read` event, drains the
backlog, and reports its status to the devices page."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from gateway.config import Config
from gateway.events import EventBus
from gateway.events import bus as default_bus
from gateway.upload.status import upload_status
from gateway.upload.transport import TransportConfigError, make_session
from gateway.upload.uploader import Uploader

logger = logging.getLogger(__name__)


class UploadStage:
    name = "upload"

    def __init__(self, config: Config, datadir, bus: EventBus | None = None):
        self.config = config
        self.root = Path(getattr(datadir, "root", datadir))
        self.bus = bus or default_bus
        self.uploader = Uploader(config, self.root)
        self.config_error = ""

    def run(self, stop: threading.Event) -> None:
        if not self.config.upload.enabled:
            logger.info("upload disabled in the configuration (upload.enabled)")
            stop.wait()
            return
        # A misconfigured car keeps its reads and says why, instead of dying.
        while not stop.is_set():
            try:
                make_session(self.config.upload, self.root)[0].close()
                self.config_error = ""
                break
            except TransportConfigError as exc:
                if str(exc) != self.config_error:
                    logger.error("upload cannot start: %s", exc)
                self.config_error = str(exc)
                stop.wait(60)
        if stop.is_set():
            return
        waker = threading.Thread(target=self._wake_on_reads, args=(stop,), name="upload-wake",
                                 daemon=True)
        waker.start()
        self.uploader.run(stop)
        waker.join(timeout=2)

    def _wake_on_reads(self, stop: threading.Event) -> None:
        with self.bus.subscribe(maxsize=64) as sub:
            while not stop.is_set():
                event = sub.get(timeout=1.0)
                if event is not None and event.kind == "read":
                    self.uploader.wake.set()

    def status(self) -> dict:
        out = upload_status()
        out["enabled"] = self.config.upload.enabled
        out["server_url"] = self.config.upload.server_url
        out["config_error"] = self.config_error
        out.update({f"session_{k}": v for k, v in self.uploader.snapshot().items()})
        return out
