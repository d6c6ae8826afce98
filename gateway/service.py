"""The gateway: the stages of one car, started in order, stopped together.

    gw = Gateway(config, datadir, extra_ports=sim.gateway_ports)
    gw.start()            # store, link, recognition, upload, web
    gw.wait()             # until stop() (or a signal handler) sets gw.stop_event
    gw.stop()

Stages that are not installed (an ImportError) are skipped with a warning:
until recognition exists, frames simply stay in the link's latest frames.
The constructor calls of the other stages are all in this file, in the
start_x() methods, so that their signatures are adjusted in one place.
"""

from __future__ import annotations

import logging
import queue
import threading

from gateway.config import Config
from gateway.datadir import DataDir
from gateway.stages import Supervisor

logger = logging.getLogger(__name__)


class Gateway:
    def __init__(self, config: Config, datadir: DataDir, extra_ports: list[str] | None = None):
        self.config = config
        self.datadir = datadir
        self.extra_ports = list(extra_ports or [])
        self.stop_event = threading.Event()
        self.supervisor = Supervisor(self.stop_event)
        self.frames: queue.Queue = queue.Queue(config.link.frame_queue)
        self.db = None
        self.link = None
        self.recognition = None
        self.upload = None
        self.web = None
        self.services: dict[str, object] = {}

    def start(self) -> Gateway:
        self.init_store()
        self.start_link()
        self.start_recognition()
        self.start_upload()
        self.start_web()
        return self

    def init_store(self) -> None:
        if self.db is None:
            from gateway.store.db import open_database

            self.db = open_database(self.datadir.database)

    def start_link(self) -> None:
        from gateway.link.manager import LinkManager

        self.link = LinkManager(self.config.link, self.frames, extra_ports=self.extra_ports)
        self.services["link"] = self.link
        self.supervisor.start(self.link)

    def start_recognition(self) -> None:
        try:
            from gateway.recognition.stage import RecognitionStage
        except ImportError as exc:
            logger.warning("recognition is not available (%s); frames stay on the devices page", exc)
            return
        self.recognition = RecognitionStage(self.config, self.datadir, self.frames)
        self.services["recognition"] = self.recognition
        self.supervisor.start(self.recognition)

    def start_upload(self) -> None:
        try:
            from gateway.upload.stage import UploadStage
        except ImportError as exc:
            logger.warning("upload is not available (%s); reads stay in the car", exc)
            return
        self.upload = UploadStage(self.config, self.datadir)
        self.services["upload"] = self.upload
        self.supervisor.start(self.upload)

    def start_web(self) -> None:
        try:
            from gateway.web.server import WebStage
        except ImportError as exc:
            logger.warning("the officer's UI is not available (%s)", exc)
            return
        self.web = WebStage(self.config, self.datadir, self.services)
        self.services["web"] = self.web
        self.supervisor.start(self.web)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the gateway is asked to stop; True if it was."""
        return self.stop_event.wait(timeout)

    def stop(self) -> None:
        self.stop_event.set()
        self.supervisor.join(10.0)
        if self.db is not None:
            self.db.close()
            self.db = None

    def status(self) -> dict[str, str]:
        return self.supervisor.status()
