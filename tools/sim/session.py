"""Run a simulation against the gateway's link for a while and summarise it.

Used by `alpr sim` and the integration tests: boards trigger for `seconds`,
then are put in service mode (no more triggers) and drained, and the summary
compares what each board says it sent with what the gateway received, and
checks every received JPEG byte for byte against the source folder.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time

from gateway.config import LinkConfig
from gateway.link.manager import LinkManager
from tools.sim.runner import SimError, Simulation, check_frames


def run_simulation(sim: Simulation, seconds: float, drain_s: float = 20.0) -> dict:
    if not seconds > 0:  # also refuses NaN; time.sleep would raise on a negative value
        raise SimError(f"--seconds {seconds}: the boards need more than 0 seconds to trigger")
    sources = {hashlib.sha256(p.read_bytes()).hexdigest() for p in check_frames(sim.frames_dir)}
    frames: queue.Queue = queue.Queue(10_000)
    sim.start()
    link = LinkManager(LinkConfig(discover=False, frame_queue=10_000), frames,
                       extra_ports=sim.gateway_ports)
    stop = threading.Event()
    thread = threading.Thread(target=link.run, args=(stop,), name="link", daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        time.sleep(seconds)
        final = _drain(link, [b.board_id for b in sim.boards], drain_s)
    finally:
        stop.set()
        thread.join(5)
        sim.stop()
    received: dict[str, list] = {}
    while True:
        try:
            f = frames.get_nowait()
        except queue.Empty:
            break
        received.setdefault(f.board_id, []).append(f)
    stats = link.stats()
    lines = sim.line_stats()
    boards = {}
    for b in sim.boards:
        st = final.get(b.board_id) or {}
        got = received.get(b.board_id, [])
        link_st = stats.get(b.board_id, {})
        boards[b.board_id] = {
            "frames_captured": st.get("frames", 0),
            "frames_sent": st.get("sent", 0),
            "frames_received": len(got),
            "frames_intact": sum(1 for f in got if f.sha256 in sources),
            "frames_dropped": st.get("drops", 0),
            "triggers": st.get("triggers", 0),
            "jpeg_bytes": sum(len(f.jpeg) for f in got),
            "retransmitted_bytes": st.get("retransmits", 0),
            "gateway_link_errors": {k: v for k, v in link_st.get("errors", {}).items() if v},
            "board_link_errors": st.get("link_errors", 0),
            "health": link_st.get("health", "down"),
            "line": lines.get(b.board_id, {}),
            "drained": bool(st),
        }
    problems = [p for b in sim.boards for p in _problems(b.board_id, boards[b.board_id], b.log_path)]
    return {"boards": boards, "seconds": round(time.monotonic() - started, 1),
            "queue_full": link.counters["queue_full"],
            "ok": not problems, "problems": problems}


def _problems(board_id: str, b: dict, log_path) -> list[str]:
    """Why a board's run is not ok, in words: `ok: false` alone sent the reader to guess."""
    if b["frames_sent"] == 0:
        return [f"{board_id} sent no frames (triggers: {b['triggers']}); its firmware log is "
                f"{log_path}"]
    found = []
    if b["frames_received"] != b["frames_sent"]:
        found.append(f"{board_id} sent {b['frames_sent']} frames, the gateway received "
                     f"{b['frames_received']}")
    if b["frames_intact"] != b["frames_received"]:
        found.append(f"{board_id}: {b['frames_received'] - b['frames_intact']} received frames "
                     "differ from every source JPEG")
    return found


def _drain(link: LinkManager, board_ids: list[str], drain_s: float) -> dict[str, dict]:
    """Stop triggering, wait for each board's queue to empty; its final status.

    A status counts as final only once the board says it is in service mode
    (no more triggers): on a noisy line the service_mode command or its reply
    can be lost, and a board still triggering would send a burst after its
    "final" counts. So the command is sent again until the board is in it.
    """
    deadline = time.monotonic() + drain_s
    final: dict[str, dict] = {}
    while time.monotonic() < deadline and len(final) < len(board_ids):
        for board_id in board_ids:
            if board_id in final:
                continue
            reply = link.command(board_id, "status", timeout=2.0)
            if not (reply and reply.get("ok")):
                continue
            st = reply["result"]
            if st.get("state") != "service":
                link.command(board_id, "service_mode", {"on": True})
            elif st.get("queued") == 0 and st.get("sending") is False:
                final[board_id] = st
        time.sleep(0.3)
    return final
