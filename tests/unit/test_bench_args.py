"""The benches refuse values that would divide by zero, index an empty list or never end, and
the upload bench's 0 kbit/s means no cap (as upload.bandwidth_kbps 0 does) instead of a hang."""

from __future__ import annotations

import socket
import threading

import pytest
from _store_helpers import new_read

from gateway.errors import ConfigError
from gateway.store.images import ImageStore
from gateway.store.models import Read
from gateway.store.reads import save_read
from gateway.upload.throttle import TokenBucket
from tools.bench import link, upload
from tools.cli.main import main
from tools.regional.linksim import LinkSim


@pytest.mark.parametrize("argv,message", [
    (["bench", "hotlist", "--entries", "0"], "--entries: 0 is too small: 1 or more"),
    (["bench", "hotlist", "--reads", "0"], "--reads: 0 is too small: 1 or more"),
    (["bench", "link", "--baud", "0"], "--baud: 0 is too small: 9600 or more"),
    (["bench", "upload", "--reads", "0"], "--reads: 0 is too small: 1 or more"),
    (["bench", "upload", "--bandwidth-kbps", "-1"], "--bandwidth-kbps: -1 is too small"),
    (["bench", "upload", "--reset-rate", "1"], "--reset-rate: 1 is a share of requests"),
    (["bench", "pipeline", "--trigger-ms", "0"], "--trigger-ms: 0 is too small: 100 or more"),
    (["bench", "pipeline", "--boards", "0"], "--boards: 0 is too small: 1 or more"),
    # the interpreter's refusal blamed the model file ("model file ... cannot be loaded")
    (["bench", "ocr", "--threads", "0"], "--threads: 0 is too small: 1 or more"),
    (["bench", "ocr", "--plates", "-5"], "--plates: -5 is too small: 1 or more"),
    (["bench", "ocr", "--seed", "-1"], "--seed: -1 is too small: 0 or more"),  # numpy's ValueError traceback
    (["eval", "distant", "x", "--out", "o", "--width", "40", "--seed", "-1"], "--seed: -1 is too small: 0 or more"),
])
def test_values_without_a_figure_are_refused_by_name(capsys, argv, message):
    with pytest.raises(SystemExit):
        main(argv)
    assert message in capsys.readouterr().err


def test_link_measure_refuses_a_line_without_a_rate():
    with pytest.raises(ConfigError, match="9600 baud or more"):
        link.measure(0, 0.0, 1, [b"\xff\xd8jpeg"])


def test_a_bucket_that_never_refills_is_refused():
    with pytest.raises(ValueError, match="rate above 0"):
        TokenBucket(0)


def test_linksim_without_a_cap_relays_at_once():
    server = socket.create_server(("127.0.0.1", 0))

    def echo():
        conn, _ = server.accept()
        with conn:
            conn.sendall(conn.recv(1024))

    threading.Thread(target=echo, daemon=True).start()
    sim = LinkSim(server.getsockname()[1], bandwidth_bps=0, rtt_s=0.0).start()
    try:
        with socket.create_connection(("127.0.0.1", sim.port), timeout=5) as client:
            client.sendall(b"plate")
            assert client.recv(1024) == b"plate"  # a rate-0 bucket killed the relay: a timeout
    finally:
        sim.stop()
        server.close()


def test_upload_bench_stops_when_the_uploader_dies(db, datadir):
    save_read(new_read("ABC123"), ImageStore(datadir.images))
    dead = threading.Thread(target=lambda: None)
    dead.start()
    dead.join()
    with pytest.raises(upload.UploadBenchError, match="uploader stopped with 1 reads pending"):
        upload._wait_for_drain(Read, dead, None)
