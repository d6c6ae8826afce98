# MicroPython: bytes allocated per chunk, poll and ACK as the board does them.
import gc

from shared import cbor, messages
from shared.framing import FrameDecoder, FrameEncoder
from shared.hmac256 import Hmac
from shared.transfer import Sender

KEY = bytes(range(32))
enc = FrameEncoder(KEY, 2054)
jpeg = bytearray(30000)
for i in range(30000):
    jpeg[i] = (i * 7) & 0xFF
s = Sender(enc, 2048)
s.start(1, cbor.dumps({"xfer": 1}), memoryview(jpeg), 30000)
s.next_frame()
gc.collect()
gc.disable()
a = gc.mem_alloc()
for i in range(10):
    s.next_frame()
print("chunk", (gc.mem_alloc() - a) // 10)
s._ranges = []
a = gc.mem_alloc()
s.next_frame()
print("poll", gc.mem_alloc() - a)
mac = Hmac(KEY)
gw = FrameEncoder(KEY, from_gateway=True)
wire = bytes(gw.encode(messages.ACK, cbor.dumps({"xfer": 1, "offset": 30000, "round": 0})))
rx = bytearray(512)
rx[:len(wire)] = wire
dec = FrameDecoder(2048)
got = []


def on(d):
    if d.check_mac(mac):
        got.append(cbor.loads(d.payload))


def nothing(d):
    pass


dec.feed(rx, on, len(wire))
gc.collect()
a = gc.mem_alloc()
for i in range(10):
    dec.feed(rx, on, len(wire))
print("ack", (gc.mem_alloc() - a) // 10)
a = gc.mem_alloc()
for i in range(10):
    dec.feed(rx, nothing, len(wire))
print("read", (gc.mem_alloc() - a) // 10)
gc.enable()
