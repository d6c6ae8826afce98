"""The gateway: the stages of one car, started in order, stopped together.

    gw = Gateway(config, datadir, extra_ports=sim.gateway_ports)
    gw.start()            # store, retention, link, recognition, upload, hotlist sync, web
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
from gateway.events import bus
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
        self.store = None
        self.link = None
        self.recognition = None
        self.upload = None
        self.web = None
        # the devices page names the stages the supervisor gave up on
        self.services: dict[str, object] = {"supervisor": self.supervisor}

    def start(self) -> Gateway:
        self.init_store()
        self.start_retention()
        self.start_link()
        self.start_recognition()
        self.start_upload()
        self.start_hotlist_sync()
        self.start_web()
        return self

    def init_store(self) -> None:
        if self.db is None:
            from gateway.hotlist.match import refresh
            from gateway.store.setup import open_store

            self.store = open_store(self.datadir, self.config)
            self.db = self.store.db
            # Build the match index now so that the first read does not wait for it.
            refresh()

    def start_retention(self) -> None:
        from gateway.store.retention import RetentionStage

        stage = RetentionStage(self.store.images, self.config.store)
        self.services["retention"] = stage
        self.supervisor.start(stage)

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
        self.upload = UploadStage(self.config, self.datadir, bus)
        self.services["upload"] = self.upload
        self.supervisor.start(self.upload)

    def start_hotlist_sync(self) -> None:
        from gateway.upload.hotlist_sync import HotlistSyncStage

        stage = HotlistSyncStage(self.config, self.datadir, bus)
        self.services["hotlist_sync"] = stage
        self.supervisor.start(stage)

    def start_web(self) -> None:
        try:
            from gateway.web.server import WebStage
        except ImportError as exc:
            logger.warning("the officer's UI is not available (%s)", exc)
            return
        web = WebStage(self.config, self.datadir, self.services)
        web.listen_host()  # plain HTTP on a network address is refused here, not in a dead stage
        self.web = web
        self.services["web"] = self.web
        self.supervisor.start(self.web)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the gateway is asked to stop; True if it was."""
        return self.stop_event.wait(timeout)

    def stop(self) -> None:
        self.stop_event.set()
        self.supervisor.join(10.0)
        # A frame the link delivered after recognition had drained its queue is counted, not lost silently.
        if self.recognition is not None and not self.frames.empty():
            logger.error("stopping: %d received frames were left unread in the queue", self.frames.qsize())
        if self.db is not None:
            self.db.close()
            self.db = None

    def status(self) -> dict[str, str]:
        return self.supervisor.status()
