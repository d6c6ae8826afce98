"""The console's commands, one method each: `do_<name>(args) -> (result, text)`.

The result is what `--json` prints; the text is what a technician reads.
Commands travel over the link protocol (gateway.link.session); the board
validates everything again, so the console's checks are for early, clear
messages and the diff shown before saving.
"""

from __future__ import annotations

import json
import logging
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from gateway.link.session import SessionError
from tools.console import sharpness
from tools.console.logtap import LogTap
from tools.console.target import ConsoleError, Target
from tools.provision.firmware_config import module as firmware_config

logger = logging.getLogger(__name__)

NOT_COUNTERS = {"uptime_ms", "mem_free", "temp_c", "time"}
ALIASES = {"selftest": "self-test", "trigger-test": "trigger", "test-frame": "frame",
           "service-mode": "service", "logs": "log", "timesync": "time-sync"}
HELP = {
    "status": "status                 board id, firmware, uptime, counters, link health",
    "watch": "watch [SECONDS]        live status and log lines (Ctrl-C to stop)",
    "log": "log [N]                the last N log lines from the board, with levels",
    "config": "config get [NAME...]   the board's settings (the key is never shown)\n"
              "config set NAME=VALUE  check, show the change, ask, then save on the board",
    "trigger": "trigger                fire a test trigger: the board captures a burst",
    "self-test": "self-test              the board checks its config, key, HMAC, camera, memory",
    "reboot": "reboot                 restart the board",
    "time-sync": "time-sync              set the board's clock from this computer",
    "frame": "frame [FILE.jpg]       take one picture and save it as JPEG",
    "aim": "aim [--roi x,y,w,h] [--count N]\n"
           "                       aiming helper: frame rate, exposure, gain, sharpness",
    "service": "service on|off         service mode: no triggers, watchdog off",
    "repl": "repl                   service mode, then the MicroPython REPL (mpremote)",
}


class Console:
    def __init__(self, target: Target, confirm: Callable[[str], bool] | None = None,
                 out: Callable[[str], None] | None = None, frames_dir: Path = Path(".")):
        self.target = target
        self.session = target.session
        self.confirm = confirm  # None: changes need --yes
        self.out = out or (lambda text: None)
        self.frames_dir = frames_dir
        self.tap = LogTap().attach()
        self.log_seen = 0
        self.stop_after_repl = False

    def close(self) -> None:
        self.tap.detach()

    # -- dispatch -------------------------------------------------------------

    def run_line(self, line: str, yes: bool = False) -> tuple[dict, str]:
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise ConsoleError(f"cannot read the command: {exc}") from None
        if not words:
            return {}, ""
        name = words[0].lower().replace("_", "-")
        name = ALIASES.get(name, name)
        handler = getattr(self, "do_" + name.replace("-", "_"), None)
        if handler is None:
            raise ConsoleError(f"unknown command {words[0]!r}; commands: "
                               + ", ".join(sorted(HELP)))
        return handler(words[1:], yes=yes)

    def _command(self, cmd: str, args: dict | None = None, timeout: float = 5.0) -> dict:
        try:
            reply = self.session.command(cmd, args, timeout=timeout)
        except SessionError as exc:
            raise ConsoleError(str(exc)) from None
        if not reply.get("ok"):
            error = (reply.get("result") or {}).get("error", "no reason given")
            raise ConsoleError(f"the board refused {cmd}: {error}")
        return reply.get("result") or {}

    def new_log_lines(self) -> list[dict]:
        lines = self.tap.since(self.log_seen)
        self.log_seen = self.tap.last_seq
        return lines

    # -- status and logs --------------------------------------------------------

    def do_status(self, args, yes=False):
        raw = self._command("status")
        stats = self.session.conn.stats()
        counters = {k: v for k, v in raw.items()
                    if isinstance(v, int) and not isinstance(v, bool) and k not in NOT_COUNTERS}
        uptime_ms = int(raw.get("uptime_ms", 0))
        result = {
            "board_id": raw.get("board_id") or self.session.board_id,
            "firmware_version": raw.get("firmware") or stats.get("firmware"),
            "uptime": round(uptime_ms / 1000.0, 1),
            "uptime_ms": uptime_ms,
            "state": raw.get("state"),
            "counters": counters,
            "mem_free": raw.get("mem_free"),
            "temp_c": raw.get("temp_c"),
            "board_time": raw.get("time"),
            "clock_offset_s": (round(raw["time"] - time.time(), 3)
                               if isinstance(raw.get("time"), (int, float)) else None),
            "watchdog": raw.get("watchdog"),
            "config_problems": raw.get("config_problems") or [],
            "link": {"port": self.target.port, "health": stats.get("health"),
                     "errors": {k: v for k, v in (stats.get("errors") or {}).items() if v}},
        }
        text = (f"board {result['board_id']}  firmware {result['firmware_version']}  "
                f"up {_duration(result['uptime'])}  state {result['state']}\n"
                f"counters: " + "  ".join(f"{k} {v}" for k, v in counters.items()) + "\n"
                f"memory free {result['mem_free']}  temperature {result['temp_c']}  "
                f"clock offset {result['clock_offset_s']} s  link {result['link']['health']}"
                + (f"  errors {result['link']['errors']}" if result["link"]["errors"] else ""))
        if result["config_problems"]:
            text += "\nCONFIG PROBLEMS: " + "; ".join(map(str, result["config_problems"]))
        return result, text

    def do_log(self, args, yes=False):
        count = _int_arg(args, 20, "log [N]")
        lines = list(self.tap.lines)[-count:]
        self.log_seen = self.tap.last_seq
        return {"lines": lines}, "\n".join(format_log(line) for line in lines) or "(no log lines yet)"

    def do_watch(self, args, yes=False):
        seconds = _int_arg(args, 0, "watch [SECONDS]")
        deadline = time.monotonic() + seconds if seconds else None
        shown = 0
        try:
            while deadline is None or time.monotonic() < deadline:
                for line in self.new_log_lines():
                    self.out(format_log(line))
                hb = self.session.conn.last_heartbeat
                if hb:
                    self.out(f"[status] up {_duration(hb.get('uptime_ms', 0) / 1000)}  "
                             f"state {hb.get('state')}  triggers {hb.get('triggers')}  "
                             f"frames {hb.get('frames')}  sent {hb.get('sent')}  "
                             f"drops {hb.get('drops')}  queued {hb.get('queued')}  "
                             f"link errors {hb.get('link_errors')}  "
                             f"health {self.session.conn.health()}")
                    shown += 1
                time.sleep(1.0)
        except KeyboardInterrupt:
            pass
        return {"status_lines": shown}, ""

    # -- configuration -------------------------------------------------------------

    def do_config(self, args, yes=False):
        if not args or args[0] not in ("get", "set"):
            raise ConsoleError("config get [NAME...] or config set NAME=VALUE [NAME=VALUE...]")
        if args[0] == "get":
            cfg = self._command("config_get")
            names = args[1:]
            unknown = [n for n in names if n not in cfg]
            if unknown:
                raise ConsoleError(f"no setting {', '.join(unknown)}; settings: "
                                   + ", ".join(sorted(cfg)))
            shown = {k: cfg[k] for k in (names or sorted(cfg))}
            return shown, "\n".join(f"{k} = {json.dumps(v)}" for k, v in shown.items())
        return self._config_set(args[1:], yes)

    def _config_set(self, pairs, yes):
        fw = firmware_config()
        if not pairs:
            raise ConsoleError("config set NAME=VALUE [NAME=VALUE...], e.g. config set burst=5")
        wanted = {}
        for pair in pairs:
            name, sep, text = pair.partition("=")
            if not sep or not name:
                raise ConsoleError(f"{pair!r}: write NAME=VALUE, e.g. burst=5")
            if name in fw.SECRET:
                raise ConsoleError(f"{name} is the board's key: change it with `alpr provision "
                                   "new BOARD --rekey` and `alpr flash`, never by hand")
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                value = text  # bare words are text: trigger=diff
            try:
                wanted[name] = fw.check_value(name, value)
            except fw.ConfigError as exc:
                raise ConsoleError(f"not saved: {exc}") from None
        current = self._command("config_get")
        diff = [{"name": k, "old": current.get(k), "new": v} for k, v in wanted.items()
                if current.get(k) != v]
        reboot = [d["name"] for d in diff if d["name"] in fw.NEEDS_REBOOT]
        text = "\n".join(f"  {d['name']}: {json.dumps(d['old'])} -> {json.dumps(d['new'])}"
                         + ("   (after reboot)" if d["name"] in reboot else "") for d in diff)
        result = {"diff": diff, "saved": False, "reboot_needed": reboot}
        if not diff:
            return result, "nothing to change: the board already has these values"
        if not yes:
            if self.confirm is None:
                return result, text + "\nnot saved: repeat with --yes to save"
            if not self.confirm(text + "\nsave on the board? [y/N] "):
                return result, "not saved"
        reply = self._command("config_set", {d["name"]: d["new"] for d in diff})
        result["saved"] = True
        result["reboot_needed"] = reply.get("reboot_needed", reboot)
        note = ("; reboot the board to apply " + ", ".join(result["reboot_needed"])
                if result["reboot_needed"] else "")
        return result, text + "\nsaved" + note

    # -- actions ----------------------------------------------------------------------

    def do_trigger(self, args, yes=False):
        before = len(self.session.frames)
        result = self._command("trigger_test")
        burst = int(self._command("config_get").get("burst", 1))
        frames = self._wait_frames(before, burst, timeout=15.0)
        result.update({"frames_received": len(frames),
                       "frame_bytes": [len(f.jpeg) for f in frames]})
        return result, (f"trigger fired: {len(frames)} of {burst} burst frames received "
                        f"({sum(len(f.jpeg) for f in frames)} bytes)")

    def do_self_test(self, args, yes=False):
        result = self._command("self_test", timeout=15.0)
        lines = [f"  {k}: {v}" for k, v in (result.get("checks") or {}).items()]
        return result, ("self-test passed" if result.get("ok") else "SELF-TEST FAILED") + \
            ("\n" + "\n".join(lines) if lines else "")

    def do_reboot(self, args, yes=False):
        result = self._command("reboot")
        return result, "the board is restarting; it says hello again within a few seconds"

    def do_time_sync(self, args, yes=False):
        result = self._command("time_sync", {"time": time.time()})
        return result, f"clock set; it was off by {result.get('offset_s', 0):+.3f} s"

    def do_service(self, args, yes=False):
        if not args or args[0] not in ("on", "off"):
            raise ConsoleError("service on|off")
        result = self._command("service_mode", {"on": args[0] == "on"})
        return result, ("service mode on: no triggers, watchdog off" if args[0] == "on"
                        else "service mode off: the board triggers again")

    def do_frame(self, args, yes=False):
        path = Path(args[0]) if args else self.frames_dir / \
            f"frame-{self.session.board_id}-{time.strftime('%Y%m%d-%H%M%S')}.jpg"
        frame = self.test_frames(1)[0]
        gray = sharpness.decode(frame.jpeg)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(frame.jpeg)
        except OSError as exc:
            # A mistyped path must not end an interactive console (the shell shows AlprErrors).
            raise ConsoleError(f"cannot save the frame as {path}: {exc.strerror or exc}; give "
                               "another FILE.jpg (or --frames-dir DIR) and take it again") from None
        result = {"path": str(path), "bytes": len(frame.jpeg), "width": int(gray.shape[1]),
                  "height": int(gray.shape[0]), "exposure_us": frame.exposure_us,
                  "gain_db": frame.gain_db, "sha256": frame.sha256}
        return result, (f"saved {path} ({result['width']}x{result['height']}, "
                        f"{result['bytes']} bytes, exposure {frame.exposure_us} us, "
                        f"gain {frame.gain_db:.1f} dB)")

    def do_aim(self, args, yes=False):
        roi, count, per_round = None, 0, 3
        i = 0
        while i < len(args):
            if args[i] == "--roi" and i + 1 < len(args):
                roi = sharpness.parse_roi(args[i + 1])
                i += 2
            elif args[i] == "--count" and i + 1 < len(args):
                count = _int_arg([args[i + 1]], 0, "aim --count N")
                i += 2
            else:
                raise ConsoleError("aim [--roi x,y,w,h] [--count N]")
        rounds, best = [], 0.0
        self.out("aiming: turn the lens slowly; stop where sharpness peaks (Ctrl-C to stop)")
        try:
            while not count or len(rounds) < count:
                frames = self.test_frames(per_round)
                last = frames[-1]
                figures = sharpness.score(sharpness.decode(last.jpeg), roi)
                span = frames[-1].captured_at - frames[0].captured_at
                fps = round((len(frames) - 1) / span, 1) if span > 0 else None
                best = max(best, figures["sharpness"])
                row = {"fps": fps, "exposure_us": last.exposure_us, "gain_db": last.gain_db,
                       **figures, "best_sharpness": best}
                rounds.append(row)
                bar = "#" * int(30 * figures["sharpness"] / best) if best else ""
                self.out(f"fps {fps if fps is not None else '-':>5}  exposure "
                         f"{last.exposure_us:>6} us  gain {last.gain_db:4.1f} dB  "
                         f"brightness {figures['brightness']:5.1f}  "
                         f"sharpness {figures['sharpness']:8.1f} (best {best:.1f}) {bar}")
        except KeyboardInterrupt:
            pass
        return {"rounds": rounds, "best_sharpness": best}, \
            f"{len(rounds)} readings; best sharpness {best:.1f}"

    def do_repl(self, args, yes=False):
        if self.target.sim:
            raise ConsoleError("a simulated board has no MicroPython REPL on its link; its "
                               f"firmware log is {self.target.notes.get('firmware_log')}")
        self._command("service_mode", {"on": True})
        self.target.close()
        self.stop_after_repl = True
        self.out("service mode on; starting mpremote. Press Ctrl-C for the >>> prompt, "
                 "Ctrl-] to leave. If no prompt comes, the firmware still holds the port: "
                 "unplug, replug and run `alpr flash` to recover.")
        code = subprocess.call([sys.executable, "-m", "mpremote", "connect", self.target.port,
                                "repl"])
        return {"mpremote_exit": code}, "left the REPL; run `alpr console` again to reconnect"

    # -- frames -------------------------------------------------------------------------

    def test_frames(self, count: int) -> list:
        before = len(self.session.frames)
        for _ in range(count):
            self._command("test_frame")
        return self._wait_frames(before, count, timeout=10.0 + 2.0 * count)

    def _wait_frames(self, before: int, count: int, timeout: float) -> list:
        deadline = time.monotonic() + timeout
        while len(self.session.frames) - before < count:
            if time.monotonic() > deadline:
                got = len(self.session.frames) - before
                raise ConsoleError(f"only {got} of {count} frames arrived in {timeout:.0f} s: "
                                   "check `status` (queued, drops) and the link errors")
            time.sleep(0.05)
        return self.session.frames[before:before + count]


def format_log(line: dict) -> str:
    stamp = time.strftime("%H:%M:%S", time.localtime(line["at"]))
    return f"{stamp} {line['level'].upper():<7} {line['source']}: {line['text']}"


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


def _int_arg(args, default: int, usage: str) -> int:
    if not args:
        return default
    try:
        value = int(args[0])
    except ValueError:
        raise ConsoleError(f"usage: {usage}") from None
    if value < 0:
        raise ConsoleError(f"usage: {usage} (a number from 0)")
    return value
