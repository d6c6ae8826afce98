"""The board application: trigger, burst capture, and the link, on asyncio.

Board(cfg, ...) owns the preallocated buffers, the protocol encoder and
decoder, and five tasks: receive, heartbeat (1 Hz, with hello while the link
is down), trigger, sender, and LED. It needs only the backend interfaces
(capture.py, trigger.py, transport.py), so it runs unchanged on an OpenMV
Cam, an ESP32-S3 and the Unix port.
"""

import binascii
import gc
import hashlib
import sys
import time

import asyncio
import config as fwconfig
from capture import CameraError
from framepool import FramePool
from micropython import const

from shared import PROTOCOL_VERSION, cbor, messages
from shared.framing import FLAG_FROM_GATEWAY, FrameDecoder, FrameEncoder, seq_newer
from shared.hmac256 import Hmac
from shared.session import new_nonce, session_key
from shared.transfer import Sender

FIRMWARE_VERSION = "0.1.0"
EXIT_REBOOT = const(75)
# A task that keeps failing is restarted this many times within _TASK_WINDOW_MS;
# one more failure and the board reboots rather than run without it.
_TASK_RESTARTS = const(5)
_TASK_WINDOW_MS = const(60000)


def _temperature():
    try:
        import esp32

        return float(esp32.mcu_temperature())
    except (ImportError, AttributeError):
        return None


class Board:
    def __init__(self, cfg, cfg_path, transport, camera, trigger, led, wdt, problems=()):
        self.cfg = cfg
        self.cfg_path = cfg_path
        self.problems = list(problems)
        self.transport = transport
        self.camera = camera
        self.trigger = trigger
        self.led = led
        self.wdt = wdt
        key = binascii.unhexlify(cfg["key_hex"])
        self.enc = FrameEncoder(key, fwconfig.encoder_payload(cfg["chunk_bytes"]))
        self.dec = FrameDecoder(fwconfig.CONTROL_MAX)
        self.key = key
        self.board_mac = Hmac(key)  # hello and welcome
        self.mac = None  # the session's, once welcomed
        self.hello_nonce = b""
        self.rx_seq = 0
        self.pending_logs = []
        self.sender = Sender(self.enc, cfg["chunk_bytes"])
        self.pool = FramePool(cfg["frame_slots"], cfg["max_frame_bytes"])
        self.rx = bytearray(512)
        self.boot_id = int.from_bytes(hashlib.sha256(str(time.ticks_us()).encode()).digest()[:4], "big")
        self.started = time.ticks_ms()
        self.epoch_base = float(time.time())
        self.ticks_base = self.started
        self.link_up = False
        self.last_rx = self.started
        self.running = True
        self.exit_code = 0
        self.service = cfg["service_mode"]
        self.trigger_id = 0
        self.test_pending = False
        self.in_transfer = False  # from taking a frame until it is counted sent or dropped
        self.xfer = 0
        self.c = {"triggers": 0, "frames": 0, "sent": 0, "drops": 0, "camera_errors": 0,
                  "tx_frames": 0, "retransmits": 0, "write_errors": 0, "task_errors": 0,
                  "malformed": 0}

    # --- time and output --------------------------------------------------

    def now(self):
        return self.epoch_base + time.ticks_diff(time.ticks_ms(), self.ticks_base) / 1000

    def _write(self, wire):
        try:
            self.transport.write(wire)
            self.c["tx_frames"] += 1
        except OSError:
            self.c["write_errors"] += 1

    def send(self, mtype, msg):
        # Without a session the gateway could not verify it: only hellos go out.
        if self.link_up:
            self._write(self.enc.encode(mtype, cbor.dumps(msg)))

    def log(self, level, text):
        if self.link_up:
            self.send(messages.LOG, {"level": level, "text": text})
        elif len(self.pending_logs) < 8:
            self.pending_logs.append((level, text))  # said once the link is up

    def hello(self):
        self.hello_nonce = new_nonce()
        msg = cbor.dumps({
            "board_id": self.cfg["board_id"], "board_type": self.cfg["board_type"],
            "firmware": FIRMWARE_VERSION, "protocol": PROTOCOL_VERSION,
            "caps": ["jpeg", "burst", "resume", self.camera.name, self.trigger.name],
            "boot_id": self.boot_id, "nonce": self.hello_nonce,
        })
        self._write(self.enc.encode(messages.HELLO, msg, None, 0, self.board_mac))

    def state(self):
        if self.service:
            return "service"
        if not self.link_up:
            return "linkdown"
        return "sending" if self.in_transfer else "ok"

    def status(self):
        gc.collect()
        st = {"uptime_ms": time.ticks_diff(time.ticks_ms(), self.started),
              "mem_free": gc.mem_free(), "temp_c": _temperature(),
              "link_errors": self.dec.error_count(), "queued": len(self.pool.waiting),
              "sending": self.in_transfer, "state": self.state()}
        for k in self.c:
            st[k] = self.c[k]
        st["drops"] = self.c["drops"] + self.pool.drops
        return st

    # --- receiving ----------------------------------------------------------

    def _on_frame(self, dec):
        if not dec.flags & FLAG_FROM_GATEWAY:
            dec.errors["mac"] += 1  # our own frames echoed back: never act on them
            return
        mtype = dec.mtype
        if mtype == messages.WELCOME:
            self._welcome(dec)
            return
        if self.mac is None or not dec.check_mac(self.mac):
            return
        if not seq_newer(dec.seq, self.rx_seq):
            dec.errors["replay"] += 1
            return
        self.rx_seq = dec.seq
        self.last_rx = time.ticks_ms()
        self.link_up = True
        try:
            msg = cbor.loads(dec.payload)  # the view: bytes() would copy the payload
        except cbor.CborError:
            dec.errors["cobs"] += 1
            return
        if mtype == messages.ACK or mtype == messages.NACK or mtype == messages.COMMAND:
            # Keys and types: a list where a number belongs would raise in the sender.
            try:
                messages.check(mtype, msg)
            except messages.MessageError:
                self.c["malformed"] += 1
                return
        elif not isinstance(msg, dict):
            return
        if mtype == messages.ACK:
            self.sender.on_ack(msg.get("xfer"), msg.get("offset", 0), msg.get("round"))
        elif mtype == messages.NACK:
            self.sender.on_nack(msg.get("xfer"), msg.get("offset", 0), msg.get("missing") or [],
                                msg.get("round"))
        elif mtype == messages.HEARTBEAT:
            t = msg.get("time")
            if isinstance(t, (int, float)):
                self.set_time(t)
        elif mtype == messages.COMMAND:
            self.command(msg)

    def _welcome(self, dec):
        if not dec.check_mac(self.board_mac):
            return
        try:
            msg = cbor.loads(bytes(dec.payload))
        except cbor.CborError:
            return
        if not isinstance(msg, dict) or msg.get("hello_nonce") != self.hello_nonce:
            dec.errors["replay"] += 1  # a welcome to an older hello, or a replayed one
            return
        skey = session_key(self.key, self.hello_nonce, msg.get("nonce", b""))
        self.mac = Hmac(skey)
        self.enc.set_key(skey)
        self.rx_seq = dec.seq
        self.last_rx = time.ticks_ms()
        self.link_up = True
        t = msg.get("time")
        if isinstance(t, (int, float)):
            self.set_time(t)
        while self.pending_logs:
            level, text = self.pending_logs.pop(0)
            self.log(level, text)

    def set_time(self, t):
        self.epoch_base = float(t)
        self.ticks_base = time.ticks_ms()

    # --- commands -------------------------------------------------------------

    def command(self, msg):
        cmd = msg.get("cmd")
        args = msg.get("args")
        if not isinstance(args, dict):
            args = {}
        handler = getattr(self, "do_" + str(cmd), None)
        if cmd not in messages.COMMANDS or handler is None:
            ok, result = False, {"error": "unknown command " + str(cmd)}
        else:
            try:
                ok, result = True, handler(args)
            except (ValueError, TypeError, KeyError, OSError, CameraError) as exc:
                ok, result = False, {"error": str(exc)}
        self.send(messages.REPLY, {"id": msg.get("id"), "ok": ok, "result": result})
        if cmd == "reboot" and ok:
            self.running = False
            self.exit_code = EXIT_REBOOT

    def do_status(self, args):
        st = self.status()
        st["board_id"] = self.cfg["board_id"]
        st["firmware"] = FIRMWARE_VERSION
        st["time"] = self.now()
        st["watchdog"] = self.wdt.armed
        st["config_problems"] = self.problems
        return st

    def do_config_get(self, args):
        return fwconfig.redacted(self.cfg)

    def do_config_set(self, args):
        new = fwconfig.validate(args, self.cfg)
        fwconfig.save(self.cfg_path, new)
        reboot = [k for k in args if k in fwconfig.NEEDS_REBOOT]
        for k in args:
            if k not in fwconfig.NEEDS_REBOOT:
                self.cfg[k] = new[k]
        if "jpeg_quality" in args:
            self.camera.quality(new["jpeg_quality"])
        return {"config": fwconfig.redacted(new), "reboot_needed": reboot}

    def do_trigger_test(self, args):
        self.test_pending = True
        return {"fired": True}

    def do_test_frame(self, args):
        n = self.capture(0, 0, 1)
        return {"bytes": n, "queued": len(self.pool.waiting)}

    def do_self_test(self, args):
        return self.self_test()

    def do_reboot(self, args):
        return {"rebooting": True}

    def do_time_sync(self, args):
        t = args.get("time")
        if not isinstance(t, (int, float)):
            raise ValueError("time_sync needs a 'time' in seconds since the epoch")
        before = self.now()
        self.set_time(t)
        return {"offset_s": t - before}

    def do_service_mode(self, args):
        on = args.get("on")
        if on is not True and on is not False:
            raise ValueError("service_mode needs 'on': true or false")
        self.cfg["service_mode"] = on
        fwconfig.save(self.cfg_path, self.cfg)
        if on and self.wdt.armed and self.wdt.hardware:
            # A hardware watchdog cannot be stopped: come back up in service mode.
            self.running = False
            self.exit_code = EXIT_REBOOT
            return {"service": True, "rebooting": True}
        self.service = on
        self.transport.allow_interrupt(on)
        if not on:
            self.wdt.arm(self.cfg["watchdog_ms"])
        return {"service": on, "watchdog": self.wdt.armed}

    def self_test(self):
        checks = {}
        checks["config"] = "ok" if not self.problems else "; ".join(self.problems)
        checks["key"] = "ok" if len(self.cfg["key_hex"]) >= 32 else "key shorter than 16 bytes"
        h = Hmac(b"key").digest(b"The quick brown fox jumps over the lazy dog")
        checks["hmac"] = "ok" if binascii.hexlify(h)[:16] == b"f7bc83f430538424" else "wrong digest"
        slot = self.pool.take()
        if slot < 0:
            checks["camera"] = "no free buffer"
        else:
            try:
                n = self.camera.capture_into(self.pool.bufs[slot])
                b = self.pool.bufs[slot]
                good = n > 4 and b[0] == 0xFF and b[1] == 0xD8 and b[n - 2] == 0xFF and b[n - 1] == 0xD9
                checks["camera"] = "ok" if good else "not a JPEG"
            except CameraError as exc:
                checks["camera"] = str(exc)
            self.pool.release(slot)
        gc.collect()
        checks["memory"] = "ok" if gc.mem_free() > 16384 else "low: " + str(gc.mem_free())
        ok = True
        for k in checks:
            if checks[k] != "ok":
                ok = False
        return {"ok": ok, "checks": checks}

    # --- capture ---------------------------------------------------------------

    def capture(self, trigger_id, index, burst):
        slot = self.pool.take()
        if slot < 0:
            return 0
        try:
            n = self.camera.capture_into(self.pool.bufs[slot])
        except CameraError as exc:
            self.pool.release(slot)
            self.c["camera_errors"] += 1
            self.log("error", "camera: " + str(exc))
            return 0
        self.c["frames"] += 1
        self.pool.commit(slot, n, {
            "trigger_id": trigger_id, "index": index, "burst": burst, "total": n,
            "captured_at": self.now(), "exposure_us": self.camera.exposure_us,
            "gain_db": float(self.camera.gain_db), "chunk": self.cfg["chunk_bytes"],
        })
        return n

    # --- tasks -----------------------------------------------------------------

    async def rx_task(self):
        while self.running:
            n = self.transport.readinto(self.rx)
            if n:
                self.dec.feed(self.rx, self._on_frame, n)
                await asyncio.sleep_ms(0)
            else:
                await asyncio.sleep_ms(5)

    async def heartbeat_task(self):
        while self.running:
            if self.link_up and time.ticks_diff(time.ticks_ms(), self.last_rx) > self.cfg["link_timeout_ms"]:
                self.link_up = False
            if not self.link_up:
                self.hello()
            else:
                self.send(messages.HEARTBEAT, self.status())
            if self.wdt.armed:
                self.wdt.feed()
            await asyncio.sleep_ms(self.cfg["heartbeat_ms"])

    async def trigger_task(self):
        while self.running:
            if self.test_pending:
                self.test_pending = False
                await self.burst("test", 1.0)
            else:
                strength = self.trigger.poll(time.ticks_ms())
                if strength is not None and not self.service:
                    await self.burst(self.trigger.name, strength)
            await asyncio.sleep_ms(10)

    async def burst(self, source, strength):
        self.trigger_id += 1
        self.c["triggers"] += 1
        tid = self.trigger_id
        self.send(messages.TRIGGER, {"trigger_id": tid, "time": self.now(), "source": source,
                                     "strength": float(strength)})
        burst = self.cfg["burst"]
        for i in range(burst):
            self.capture(tid, i, burst)
            if i + 1 < burst:
                await asyncio.sleep_ms(self.cfg["burst_interval_ms"])

    async def sender_task(self):
        while self.running:
            if not self.link_up:
                await asyncio.sleep_ms(50)
                continue
            slot = self.pool.next()
            if slot < 0:
                await asyncio.sleep_ms(10)
                continue
            self.in_transfer = True
            try:
                ok = await self._transfer(slot)
            except Exception:
                self._transfer_done(slot, False)  # the frame is counted, its slot freed
                raise
            self._transfer_done(slot, ok)

    async def _transfer(self, slot):
        s = self.sender
        gc.collect()
        self.xfer = (self.xfer + 1) & 0xFFFF
        meta = self.pool.meta[slot]
        meta["xfer"] = self.xfer
        n = self.pool.lens[slot]
        s.start(self.xfer, cbor.dumps(meta), self.pool.views[slot], n)
        deadline = 0
        while self.running and not s.finished():
            wire = s.next_frame()
            if wire is not None:
                self._write(wire)
                await asyncio.sleep_ms(0)
                deadline = time.ticks_add(time.ticks_ms(), self.cfg["ack_timeout_ms"])
                continue
            await asyncio.sleep_ms(2)
            if not self.link_up:
                # Wait for the gateway and resume where the transfer stopped.
                deadline = time.ticks_add(time.ticks_ms(), self.cfg["ack_timeout_ms"])
            elif s.waiting() and time.ticks_diff(time.ticks_ms(), deadline) > 0:
                s.poll()
        return s.succeeded()

    def _transfer_done(self, slot, ok):
        s = self.sender
        self.c["retransmits"] += s.retransmits
        if ok:
            self.c["sent"] += 1
        else:
            self.c["drops"] += 1
            self.log("warning", "frame " + str(self.xfer) + " undeliverable; dropped")
        s.active = False
        self.pool.release(slot)
        self.in_transfer = False

    async def led_task(self):
        while self.running:
            self.led.set_state(self.state())
            self.led.tick(time.ticks_ms())
            await asyncio.sleep_ms(50)

    async def _supervise(self, name, make):
        """Run make() until the board stops, restarting it when it raises.

        A dead task would leave the board up but deaf, or holding frames it
        never sends: each failure is logged and counted (task_errors), the
        task restarted, and a task failing over and over reboots the board.
        """
        failures = []
        while self.running:
            try:
                await make()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - whatever killed it, the board goes on
                self.c["task_errors"] += 1
                now = time.ticks_ms()
                failures = [t for t in failures if time.ticks_diff(now, t) < _TASK_WINDOW_MS]
                failures.append(now)
                text = name + " task failed: " + type(exc).__name__ + ": " + str(exc)
                report(text)
                if len(failures) > _TASK_RESTARTS:
                    self.log("error", text + "; rebooting")
                    self.running = False
                    self.exit_code = EXIT_REBOOT
                    return
                self.log("error", text + "; restarted")
                await asyncio.sleep_ms(100)

    async def main(self):
        if not self.service:
            self.wdt.arm(self.cfg["watchdog_ms"])
        else:
            self.transport.allow_interrupt(True)
        tasks = [asyncio.create_task(self._supervise(name, make)) for name, make in (
            ("rx", self.rx_task), ("heartbeat", self.heartbeat_task),
            ("trigger", self.trigger_task), ("sender", self.sender_task), ("led", self.led_task))]
        while self.running:
            await asyncio.sleep_ms(50)
        for t in tasks:
            t.cancel()
        await asyncio.sleep_ms(0)


def run(board):
    """Run until a reboot command; return the exit code (EXIT_REBOOT or 0)."""
    try:
        asyncio.run(board.main())
    except KeyboardInterrupt:
        pass
    return board.exit_code


def report(text):
    sys.stderr.write(text + "\n") if hasattr(sys, "stderr") else print(text)
