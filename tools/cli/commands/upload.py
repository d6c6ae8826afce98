"""`alpr upload ...`: the car's side of delivery, for technicians and tests.

    alpr upload status          backlog, oldest unsent read, last upload, hotlist age
    alpr upload run [--until-drained]   run the uploader in the foreground
    alpr upload sync-hotlists   fetch changed hotlists from the regional server now
"""

from __future__ import annotations

import threading
import time

from tools.cli.common import add_json, config, datadir, emit


def register(subparsers) -> None:
    parser = subparsers.add_parser("upload", help="send reads to the regional server; status")
    sub = parser.add_subparsers(dest="upload", metavar="ACTION")
    sub.required = True
    p = sub.add_parser("status", help="backlog, oldest unsent read, last upload, hotlist age")
    add_json(p)
    p.set_defaults(func=do_status)
    p = sub.add_parser("run", help="run the uploader in the foreground")
    p.add_argument("--until-drained", action="store_true",
                   help="stop once every read and image is confirmed")
    add_json(p)
    p.set_defaults(func=do_run)
    p = sub.add_parser("sync-hotlists", help="fetch changed hotlists now")
    add_json(p)
    p.set_defaults(func=do_sync)


def _open(args):
    from gateway.store.db import open_database

    data = datadir(args)
    return data, config(args), open_database(data.database)


def do_status(args) -> int:
    from gateway.upload.status import upload_status

    _data, cfg, _db = _open(args)
    status = upload_status()
    status["enabled"] = cfg.upload.enabled
    status["server_url"] = cfg.upload.server_url
    emit(status, args.json, "\n".join(f"{k}: {v}" for k, v in status.items()))
    return 0


def do_run(args) -> int:
    from gateway.upload.stage import UploadStage
    from gateway.upload.status import upload_status
    from gateway.upload.transport import make_session

    data, cfg, _db = _open(args)
    if not cfg.upload.enabled:
        from gateway.errors import ConfigError

        raise ConfigError("upload.enabled is false in the configuration: nothing to run")
    make_session(cfg.upload, data.root)  # a bad configuration fails here, with its reason
    stage = UploadStage(cfg, data)
    stop = threading.Event()
    thread = threading.Thread(target=stage.run, args=(stop,), name="upload", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            time.sleep(0.2)
            if args.until_drained:
                status = upload_status()
                if status["backlog"] == 0 and status["images_backlog"] == 0:
                    break
    finally:
        stop.set()
        thread.join(cfg.upload.timeout_s + 5)
    emit(stage.status(), args.json)
    return 0


def do_sync(args) -> int:
    from gateway.upload.hotlist_sync import HotlistSync

    data, cfg, _db = _open(args)
    result = HotlistSync(cfg, data.root).sync_once()
    emit(result.as_dict(), args.json)
    return 0 if result.ok else 1
