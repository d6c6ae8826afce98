"""The board application's robustness under MicroPython: settings applied at reboot,
tasks that fail are restarted and counted, frames are never lost silently."""

from __future__ import annotations

from _board_harness import BOARD_HARNESS
from _mp_helpers import run_mp


def test_chunk_bytes_applies_at_reboot_and_frames_still_go(micropython_bin, tmp_path):
    # The encoder is sized at boot: a larger chunk_bytes taken at once made every
    # chunk too long for it and killed the sender (0 of 3 frames, no drop counted).
    out = run_mp(micropython_bin, BOARD_HARNESS + f"""
board = make_board({str(tmp_path / "cfg.json")!r})
async def scenario():
    t = asyncio.create_task(board.main())
    await connect()
    cid = command("config_set", {{"chunk_bytes": 4096}})
    await pump(100)
    r = reply(cid)
    command("trigger_test")
    await pump(3000)
    board.running = False
    await t
    print(r["ok"], r["result"]["reboot_needed"], board.sender.max_chunk, board.cfg["chunk_bytes"])
    print(len(frames), board.c["sent"], board.c["drops"], board.c["task_errors"], board.state())
asyncio.run(scenario())
print(config.load({str(tmp_path / "cfg.json")!r})["chunk_bytes"])
""")
    lines = out.splitlines()
    assert lines[0] == "True ['chunk_bytes'] 2048 2048"
    assert lines[1] == "3 3 0 0 ok"
    assert lines[2] == "4096"  # saved, for the next boot


def test_a_failing_task_is_logged_counted_and_restarted(micropython_bin, tmp_path):
    out = run_mp(micropython_bin, BOARD_HARNESS + f"""
board = make_board({str(tmp_path / "cfg.json")!r}, burst=1)
real = board.sender.next_frame
calls = [0]
def flaky():
    calls[0] += 1
    if calls[0] == 2:
        raise ValueError("payload too long")
    return real()
board.sender.next_frame = flaky
async def scenario():
    t = asyncio.create_task(board.main())
    await connect()
    command("trigger_test")
    await pump(1500)
    command("trigger_test")
    await pump(1500)
    board.running = False
    await t
    print(len(frames), board.c["sent"], board.c["drops"], board.c["task_errors"], board.state(),
          board.in_transfer, len(board.pool.free))
    print([x for x in logs() if "sender task failed" in x])
asyncio.run(scenario())
""")
    lines = out.splitlines()
    # the first frame is dropped and counted, the sender restarted, the second sent
    assert lines[0] == "1 1 1 1 ok False 4"
    assert "ValueError: payload too long; restarted" in lines[1]


def test_a_task_failing_over_and_over_reboots_the_board(micropython_bin, tmp_path):
    out = run_mp(micropython_bin, BOARD_HARNESS + f"""
board = make_board({str(tmp_path / "cfg.json")!r})
def broken():
    raise OSError(5)
board.trigger.poll = lambda now: broken()
async def scenario():
    try:
        await asyncio.wait_for_ms(board.main(), 5000)
    except asyncio.TimeoutError:
        print("still running with a dead task")
        return
    print(board.running, board.exit_code, board.c["task_errors"])
asyncio.run(scenario())
""")
    assert out.split() == ["False", "75", "6"]


def test_wrongly_typed_answers_are_counted_not_raised(micropython_bin, tmp_path):
    out = run_mp(micropython_bin, BOARD_HARNESS + f"""
board = make_board({str(tmp_path / "cfg.json")!r}, burst=1)
async def scenario():
    t = asyncio.create_task(board.main())
    await connect()
    gb.write(gw.encode(messages.ACK, cbor.dumps({{"xfer": 1, "offset": [0]}})))
    gb.write(gw.encode(messages.NACK, cbor.dumps({{"xfer": 1, "offset": 0, "missing": [["a", 1]]}})))
    command("trigger_test")
    await pump(1500)
    board.running = False
    await t
    print(board.c["malformed"], board.c["task_errors"], len(frames))
asyncio.run(scenario())
""")
    assert out.split() == ["2", "0", "1"]
