"""A whole Board on a loopback transport under MicroPython, with a minimal gateway.

BOARD_HARNESS is MicroPython source: prepend it to a test script. It defines
make_board(**settings), then `await connect()` (hello, welcome, session),
`command(cmd, args)`, `await pump(ms)` (drains the board's output, ACKs every
POLL for a frame whose chunks all arrived) and the lists `seen` (mtype, msg)
and `frames` (xfer, bytes received) the gateway side collected.
"""

from __future__ import annotations

from _mp_helpers import REPO

BOARD_HARNESS = f"""
import asyncio
import config, status, transport, trigger
import capture as camera
from board import Board
from shared import cbor, messages
from shared.framing import FrameEncoder, FrameDecoder
from shared.hmac256 import Hmac
from shared.session import session_key
KEY = bytes(range(32))
gw = FrameEncoder(KEY, from_gateway=True)
dec = FrameDecoder()
mac = [Hmac(KEY)]
seen = []
frames = []
metas = {{}}
got = {{}}
def on(d):
    if not d.check_mac(mac[0]):
        return
    if d.mtype == messages.CHUNK:
        xfer, off = messages.unpack_chunk_head(d.payload)
        got[xfer] = got.get(xfer, 0) + len(d.payload) - messages.CHUNK_HEAD_LEN
        return
    msg = cbor.loads(bytes(d.payload))
    seen.append((d.mtype, msg))
    if d.mtype == messages.FRAME:
        metas[msg["xfer"]] = msg["total"]
    elif d.mtype == messages.POLL:
        total = metas.get(msg["xfer"], -1)
        if total >= 0 and got.get(msg["xfer"], 0) >= total:
            if (msg["xfer"], total) not in frames:
                frames.append((msg["xfer"], total))
            gb.write(gw.encode(messages.ACK, cbor.dumps({{"xfer": msg["xfer"], "offset": total,
                                                          "round": msg["round"]}})))
_buf = bytearray(8192)
def drain():
    while True:
        n = gb.readinto(_buf)
        if not n:
            break
        dec.feed(_buf, on, n)
def make_board(path, **settings):
    global gb
    raw = {{"board_id": "t1", "key_hex": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
           "sim_trigger_ms": 0, "frames_dir": {str(REPO / "tools/sim/frames")!r}}}
    raw.update(settings)
    cfg = config.validate(raw)
    a, gb = transport.loopback_pair()
    return Board(cfg, path, a, camera.SimCamera(cfg["frames_dir"]), trigger.SimTrigger(0),
                 status.Led(), status.Watchdog())
async def connect():
    await asyncio.sleep_ms(50)
    drain()
    hello = seen[0][1]
    gw_nonce = b"gatewayN"
    gb.write(gw.encode(messages.WELCOME, cbor.dumps({{"nonce": gw_nonce, "hello_nonce": hello["nonce"],
                                                     "time": 1.5e9}}), None, 0, mac[0]))
    skey = session_key(KEY, hello["nonce"], gw_nonce)
    gw.set_key(skey)
    mac[0] = Hmac(skey)
    await asyncio.sleep_ms(50)
_ids = [100]
def command(cmd, args=None):
    _ids[0] += 1
    gb.write(gw.encode(messages.COMMAND, cbor.dumps({{"id": _ids[0], "cmd": cmd, "args": args or {{}}}})))
    return _ids[0]
def reply(cid):
    for t, m in seen:
        if t == messages.REPLY and m["id"] == cid:
            return m
async def pump(ms):
    for _ in range(ms // 10):
        drain()
        await asyncio.sleep_ms(10)
def logs():
    return [m["text"] for t, m in seen if t == messages.LOG]
"""
