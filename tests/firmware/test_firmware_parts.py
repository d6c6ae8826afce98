"""Firmware parts under MicroPython: frame pool, triggers, sender, camera, LED, one board."""

from __future__ import annotations

from _mp_helpers import REPO, run_mp


def test_frame_pool_drops_the_oldest_and_counts_it(micropython_bin):
    out = run_mp(micropython_bin, """
from framepool import FramePool
p = FramePool(2, 16)
a = p.take(); p.commit(a, 1, "first")
b = p.take(); p.commit(b, 1, "second")
c = p.take()            # full: the oldest waiting frame ("first") makes room
p.commit(c, 1, "third")
s = p.next()
print(p.drops, p.meta[s], p.meta[p.next()])
""")
    assert out.split() == ["1", "second", "third"]


def test_triggers_debounce_and_difference(micropython_bin):
    out = run_mp(micropython_bin, """
import trigger
t = trigger.SimTrigger(0)
print(t.poll(0), end=" ")
t.fire()
print(t.poll(0), t.poll(1), end=" ")
frames = [bytes(16), bytes(16), bytes([100] * 16), bytes([100] * 16), bytes(16)]
i = [0]
def grab(buf):
    buf[:] = frames[min(i[0], len(frames) - 1)]
    i[0] += 1
d = trigger.FrameDiffTrigger(grab, size=16, threshold=12, every_ms=0)
print([d.poll(k) for k in range(5)])
""")
    assert out.strip() == "None 1.0 None [None, None, 1.0, None, 1.0]"


def test_sim_camera_reads_jpegs_into_a_preallocated_buffer(micropython_bin):
    out = run_mp(micropython_bin, f"""
import capture as camera
c = camera.SimCamera({str(REPO / "tools/sim/frames")!r})
buf = bytearray(65536)
n = c.capture_into(buf)
print(n, buf[0], buf[1], buf[n - 2], buf[n - 1])
small = bytearray(100)
try:
    c.capture_into(small)
except camera.CameraError:
    print("too big")
""")
    n, *marker, last = out.splitlines()[0].split()
    assert int(n) > 10_000 and marker == ["255", "216", "255"] and last == "217"
    assert out.splitlines()[1] == "too big"


def test_led_patterns_and_software_watchdog(micropython_bin):
    out = run_mp(micropython_bin, """
import status
led = status.Led()
led.set_state("error"); led.tick(100); a = led.lit
led.set_state("linkdown"); led.tick(500); b = led.lit
w = status.Watchdog(); w.arm(1000)
print(a, b, w.armed, w.hardware)
""")
    assert out.split() == ["True", "False", "True", "False"]


def test_board_answers_commands_over_a_loopback(micropython_bin, tmp_path):
    # A whole Board on a loopback transport; the "gateway" end is the shared decoder/encoder.
    out = run_mp(micropython_bin, f"""
import asyncio, json
import config, status, transport, trigger
import capture as camera
from board import Board
from shared import cbor, messages
from shared.framing import FrameEncoder, FrameDecoder
from shared.hmac256 import Hmac
from shared.session import session_key
key = bytes(range(32))
cfg = config.validate({{"board_id": "t1", "key_hex": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                        "sim_trigger_ms": 0, "frames_dir": {str(REPO / "tools/sim/frames")!r}}})
a, b = transport.loopback_pair()
board = Board(cfg, {str(tmp_path / "cfg.json")!r}, a, camera.SimCamera(cfg["frames_dir"]),
              trigger.SimTrigger(0), status.Led(), status.Watchdog())
gw = FrameEncoder(key, from_gateway=True)
dec = FrameDecoder()
mac = Hmac(key)
seen = []
def on(d):
    if d.check_mac(mac) and d.mtype != messages.CHUNK:
        seen.append((d.mtype, cbor.loads(bytes(d.payload))))
buf = bytearray(4096)
def drain():
    while True:
        n = b.readinto(buf)
        if not n:
            break
        dec.feed(buf, on, n)
async def scenario():
    global mac
    t = asyncio.create_task(board.main())
    await asyncio.sleep_ms(50)
    drain()                      # the hello, signed with the board key
    hello = seen[0][1]
    gw_nonce = b"gatewayN"
    b.write(gw.encode(messages.WELCOME, cbor.dumps({{"nonce": gw_nonce, "hello_nonce": hello["nonce"],
                                                    "time": 1.5e9}}), None, 0, mac))
    skey = session_key(key, hello["nonce"], gw_nonce)
    gw.set_key(skey)
    mac = Hmac(skey)
    await asyncio.sleep_ms(50)
    for i, (cmd, args) in enumerate((("status", {{}}), ("config_set", {{"burst": 2}}),
                                     ("config_set", {{"burst": 99}}), ("self_test", {{}}),
                                     ("nonsense", {{}}))):
        b.write(gw.encode(messages.COMMAND, cbor.dumps({{"id": i, "cmd": cmd, "args": args}})))
    await asyncio.sleep_ms(300)
    drain()
    board.running = False
    await t
asyncio.run(scenario())
replies = dict((m["id"], m) for t, m in seen if t == messages.REPLY)
print(seen[0][0] == messages.HELLO, replies[0]["result"]["board_id"], replies[1]["result"]["config"]["burst"],
      replies[2]["ok"], replies[3]["result"]["ok"], replies[4]["ok"], board.cfg["burst"])
""")
    assert out.split() == ["True", "t1", "2", "False", "True", "False", "2"]


def test_unprovisioned_board_refuses_to_start(micropython_bin, tmp_path):
    import json
    import subprocess

    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"board_id": "x"}))  # no key
    proc = subprocess.run([micropython_bin, str(REPO / "firmware" / "main.py"), str(cfg)],
                          capture_output=True, timeout=30, cwd=tmp_path)
    assert proc.returncode == 2
    assert b"not provisioned" in proc.stderr


def test_a_numbered_trigger_pin_is_a_gpio_number(micropython_bin):
    # `alpr provision` writes an ESP32's trigger pin from its pin map as text ("1"), and the
    # XIAO diagram shows it so; the ESP32's machine.Pin takes numbers only.
    out = run_mp(micropython_bin, """
import sys
made = []
class Pin:
    IN = 0
    PULL_UP = 1
    PULL_DOWN = 2
    def __init__(self, pin, *args):
        made.append(pin)
    def value(self):
        return 1
class M:
    pass
m = M()
m.Pin = Pin
sys.modules["machine"] = m
import config, trigger
cfg = dict(config.DEFAULTS)
cfg["trigger"] = "gpio"
for name in ("1", "P7"):
    cfg["trigger_pin"] = name
    trigger.make_trigger(cfg)
print(repr(made))
""")
    assert out.strip() == "[1, 'P7']"
