"""The flashing procedure as a list of steps, each printed before it runs.

`--dry-run` prints every step with what it would do and runs only the ones
that stay on the laptop (checking the tools, compiling with mpy-cross into a
temporary folder, reading the board's provisioned config); it never opens a
port.
"""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from gateway.errors import AlprError
from tools.flash import build
from tools.flash.boards import BoardProfile
from tools.provision import boardconfig

logger = logging.getLogger(__name__)

CONFIG_ON_BOARD = "config.json"


class FlashError(AlprError):
    """A flashing step failed; the message says which and what to do."""


@dataclass
class Step:
    number: int
    where: str  # laptop | board | manual
    action: str
    detail: str = ""
    status: str = "planned"  # done | would | skipped | manual | failed

    def as_dict(self) -> dict:
        return {"step": self.number, "where": self.where, "action": self.action,
                "detail": self.detail, "status": self.status}


@dataclass
class FlashJob:
    profile: BoardProfile
    port: str
    dry_run: bool = False
    board_config: Path | None = None  # <data>/keys/boards/<id>/config.json
    pinmap: Path | None = None
    micropython_image: Path | None = None
    mpy_compat: str | None = None
    reset: bool = True
    service_first: bool = True
    on_step: Callable[[Step], None] = lambda step: None
    steps: list[Step] = field(default_factory=list)
    built: list[build.BuiltFile] = field(default_factory=list)
    verified: dict[str, str] = field(default_factory=dict)

    # -- step bookkeeping ---------------------------------------------------

    def _step(self, where: str, action: str, run: Callable[[], str] | None,
              would: str = "") -> Step:
        step = Step(len(self.steps) + 1, where, action)
        self.steps.append(step)
        if where == "manual":
            step.status, step.detail = "manual", would
        elif run is None or (self.dry_run and where == "board"):
            step.status, step.detail = ("would" if self.dry_run else "skipped"), would
        else:
            try:
                step.detail = run()
                step.status = "done"
            except AlprError as exc:
                step.status, step.detail = "failed", str(exc)
                self.on_step(step)
                raise
        self.on_step(step)
        return step

    # -- the procedure ------------------------------------------------------

    def run(self) -> list[Step]:
        with tempfile.TemporaryDirectory(prefix="alpr-flash-") as tmp:
            out = Path(tmp)
            # The provisioned config first: a wrong board id fails before anything slow.
            config, pinmap = self._board_files()
            self._step("laptop", "check the tools", self._check_tools)
            self._step("laptop", "compile the firmware to .mpy with mpy-cross",
                       lambda: self._compile(out))
            self._micropython_steps()
            if self.service_first and config is not None:
                self._step("board", "ask the running camera firmware for service mode",
                           lambda: self._service_mode(config),
                           would=f"link protocol on {self.port}: command service_mode "
                                 "{on: true}, so the firmware stops and frees the REPL")
            board = None
            try:
                board = self._connect_step()
                self._step("board", "check the board loads this .mpy version",
                           (lambda: self._check_mpy(board)) if board else None,
                           would=f"compare sys.implementation._mpy with the build's v"
                                 f"{self._built_version()}")
                names = [b.dest for b in self.built]
                self._step("board", "remove old .py files that would shadow the .mpy modules",
                           (lambda: self._remove_stale(board)) if board else None,
                           would=", ".join(n[:-4] + ".py" for n in names if n.endswith(".mpy")))
                self._step("board", f"copy {len(self.built)} firmware files",
                           (lambda: self._copy(board, self.built)) if board else None,
                           would=", ".join(names))
                extra = self._extra_files(out, config, pinmap)
                self._step("board", "write the board's config and key"
                           if extra else "keep the board's config",
                           (lambda: self._copy(board, extra)) if (board and extra) else None,
                           would=(", ".join(f.dest for f in extra) + " (key redacted here)")
                           if extra else "no --board-id: config.json on the board is left as it is")
                self._step("board", "verify: read back the SHA-256 of every file",
                           (lambda: self._verify(board, self.built + extra)) if board else None,
                           would=f"hashlib.sha256 on the board for {len(self.built + extra)} "
                                 "files, compared with the local files")
                self._step("board", "reset the board to start the new firmware",
                           (lambda: self._reset(board)) if (board and self.reset) else None,
                           would="machine.reset()" if self.reset else "not asked (--no-reset)")
            finally:
                if board is not None:
                    board.close()
        return self.steps

    def _check_tools(self) -> str:
        parts = [build.mpy_cross_version(self.mpy_compat)]
        for dist in ("mpremote", "esptool") if self.profile.needs_micropython_image \
                else ("mpremote",):
            try:
                parts.append(f"{dist} {metadata.version(dist)}")
            except metadata.PackageNotFoundError:
                raise FlashError(f"{dist} is not installed: `pip install {dist}`") from None
        return "; ".join(parts)

    def _compile(self, out: Path) -> str:
        self.built = build.compile_all(out / "build", self.profile.march, self.mpy_compat)
        total = sum(b.size for b in self.built)
        return (f"{len(self.built)} files, {total} bytes, -march={self.profile.march}, "
                f".mpy v{self._built_version()}, into {out / 'build'}")

    def _built_version(self) -> str:
        for b in self.built:
            if b.dest.endswith(".mpy"):
                major, _sub = build.mpy_version_of(b.local)
                return str(major)
        return "?"

    def _board_files(self) -> tuple[dict | None, dict | None]:
        holder: dict = {}

        def read() -> str:
            config = boardconfig.read(self.board_config)
            if config.get("board_type") != self.profile.board_type:
                raise FlashError(
                    f"{self.board_config} is for a {config.get('board_type')} board, not "
                    f"{self.profile.board_type}: check --board and --board-id")
            pin_path = self.pinmap or (self.board_config.parent / boardconfig.PINMAP_ON_BOARD)
            pinmap = None
            if pin_path.exists():
                pinmap = boardconfig.load_pinmap(pin_path, self.profile.board_type)
                config["pinmap"] = boardconfig.PINMAP_ON_BOARD
            holder["config"], holder["pinmap"] = config, pinmap
            fp = hashlib.sha256(bytes.fromhex(config["key_hex"])).hexdigest()[:16]
            return (f"board {config['board_id']}, key fingerprint {fp}, pin map "
                    f"{pinmap['board'] if pinmap else 'none'}")

        if self.board_config is None:
            self._step("laptop", "read the board's provisioned config", None,
                       would="no --board-id given: firmware only")
            return None, None
        self._step("laptop", "read the board's provisioned config", read)
        return holder["config"], holder["pinmap"]

    def _micropython_steps(self) -> None:
        p = self.profile
        if not p.needs_micropython_image:
            self._step("manual", "MicroPython", None, would=p.micropython_route)
            return
        image = self.micropython_image
        if image is None and not self.dry_run:
            self._step("board", "MicroPython: keep the one on the board", None,
                       would="no --micropython FILE: the board must already run a MicroPython "
                             "with the camera module (checked when connecting). "
                             + p.micropython_route)
            return
        if image is not None and not image.is_file():
            raise FlashError(f"--micropython {image}: no such file")
        if image is None:
            self._step("manual", "MicroPython image", None,
                       would="the next three steps run only with --micropython FILE.bin; "
                             "without it the board must already run MicroPython. "
                             + p.micropython_route)
            image = Path("MICROPYTHON.bin")
        if self.micropython_image is not None:
            self._step("laptop", "check the MicroPython image is for an ESP32-S3",
                       lambda: check_esp32s3_image(image))
        esptool = [sys.executable, "-m", "esptool", "--chip", "esp32s3", "--port", self.port]
        new = _esptool_major() >= 5
        erase = esptool + ["erase-flash" if new else "erase_flash"]
        write = esptool + ["--baud", "460800", "write-flash" if new else "write_flash", "0x0",
                           str(image)]
        self._step("board", "erase the flash (esptool)", lambda: _run(erase),
                   would=" ".join(erase))
        self._step("board", "write MicroPython (esptool)", lambda: _run(write),
                   would=" ".join(write))
        self._step("board", "wait for the board to come back with MicroPython",
                   lambda: _wait_for_port(self.port, 20.0),
                   would=f"wait up to 20 s for {self.port} to reappear")

    def _service_mode(self, config: dict) -> str:
        from gateway.link.session import BoardSession

        try:
            with BoardSession.open(self.port, key=bytes.fromhex(config["key_hex"])) as s:
                s.wait_hello(timeout=5.0)
                reply = s.command("service_mode", {"on": True}, timeout=3.0)
        except AlprError as exc:
            return f"no answer on the link ({exc}); assuming no camera firmware is running"
        return f"service mode: {reply.get('result')}"

    def _connect_step(self):
        from tools.flash.device import BoardFiles

        holder: dict = {}

        def connect() -> str:
            holder["board"] = BoardFiles(self.port)
            return holder["board"].platform()

        self._step("board", f"connect to the MicroPython prompt on {self.port} (mpremote)",
                   connect, would=f"mpremote raw REPL on {self.port}")
        return holder.get("board")

    def _check_mpy(self, board) -> str:
        major, sub = board.mpy_version()
        want = self._built_version()
        if str(major) != want:
            raise FlashError(
                f"the board loads .mpy v{major}.{sub}, the build is v{want}: give "
                f"--mpy-compat with the board's MicroPython version (e.g. 1.22), or update "
                "its MicroPython")
        return f"board .mpy v{major}.{sub}, build v{want}"

    def _remove_stale(self, board) -> str:
        removed = [b.dest[:-4] + ".py" for b in self.built
                   if b.dest.endswith(".mpy") and board.remove_if_present(b.dest[:-4] + ".py")]
        return "removed " + ", ".join(removed) if removed else "none found"

    def _copy(self, board, files: list[build.BuiltFile]) -> str:
        for f in files:
            board.write(f.dest, f.local.read_bytes())
        return f"{len(files)} files, {sum(f.size for f in files)} bytes"

    def _extra_files(self, out: Path, config: dict | None,
                     pinmap: dict | None) -> list[build.BuiltFile]:
        files = []
        for dest, content in ((CONFIG_ON_BOARD, config), (boardconfig.PINMAP_ON_BOARD, pinmap)):
            if content is None:
                continue
            path = out / "board" / dest
            path.parent.mkdir(parents=True, exist_ok=True)
            data = json.dumps(content, sort_keys=True).encode()
            path.write_bytes(data)
            files.append(build.BuiltFile(dest, path, len(data), hashlib.sha256(data).hexdigest()))
        return files

    def _verify(self, board, files: list[build.BuiltFile]) -> str:
        bad = []
        for f in files:
            got = board.sha256(f.dest)
            self.verified[f.dest] = got
            if got != f.sha256:
                bad.append(f"{f.dest} (board {got[:12] or 'missing'}, expected {f.sha256[:12]})")
        if bad:
            raise FlashError("verification failed for " + ", ".join(bad)
                             + ": the flash may be full or failing; run `alpr flash` again")
        return f"verified: {len(files)} files match"

    def _reset(self, board) -> str:
        board.reset()
        return "reset sent"


# The ESP-IDF image header at offset 0 of a full MicroPython .bin: magic 0xE9, then at bytes
# 12-13 the chip id (little-endian), 9 for the ESP32-S3 (0 ESP32, 2 ESP32-S2, 5 ESP32-C3).
ESP_IMAGE_MAGIC = 0xE9
ESP32S3_CHIP_ID = 9


def check_esp32s3_image(image: Path) -> str:
    """Refuse, before the flash is erased, a file that is not a whole ESP32-S3 image."""
    try:
        with image.open("rb") as fh:
            head = fh.read(16)
        size = image.stat().st_size
    except OSError as exc:
        raise FlashError(f"--micropython {image}: cannot read it ({exc.strerror})") from None
    hint = ("download the ESP32-S3 MicroPython build with the camera module (a .bin that "
            "starts at 0x0); the board's flash was not touched")
    if len(head) < 16 or head[0] != ESP_IMAGE_MAGIC:
        raise FlashError(f"--micropython {image}: not an ESP32 firmware image (a .uf2, .dfu "
                         f"or .elf?): {hint}")
    chip = int.from_bytes(head[12:14], "little")
    if chip != ESP32S3_CHIP_ID:
        raise FlashError(f"--micropython {image}: an image for another ESP32 chip (chip id "
                         f"{chip}, the ESP32-S3 is {ESP32S3_CHIP_ID}): {hint}")
    return f"ESP32-S3 image, {size} bytes"


def _esptool_major() -> int:
    try:
        return int(metadata.version("esptool").split(".")[0])
    except (metadata.PackageNotFoundError, ValueError):
        return 0


def _run(cmd: list[str]) -> str:
    logger.info("running %s", " ".join(cmd))
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise FlashError(f"{' '.join(cmd[1:4])}... failed: {' / '.join(tail)}; hold BOOT while "
                         "plugging the board in and try again")
    return (proc.stdout.strip().splitlines() or ["ok"])[-1]


def _wait_for_port(port: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Path(port).exists():
            time.sleep(1.0)  # let USB enumeration settle before opening it
            return f"{port} is back"
        time.sleep(0.5)
    raise FlashError(f"{port} did not come back within {timeout:.0f} s: unplug and replug the "
                     "board, then run `alpr flash` again without --micropython")
