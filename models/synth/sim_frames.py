"""The simulated boards' sample frames: vehicles with readable plates, a burst each.

    .venv/bin/python -m models.synth.sim_frames [--out tools/sim/frames] [--vehicles 2] [--burst 3]

A simulated board sends the folder's JPEGs in name order, `burst` per
trigger (the firmware's default burst is 3), so each run of `burst` files
shows one vehicle coming closer: the gateway fuses them into one read. The
plate texts are written to `plates.txt` next to the frames (vehicle order).
Seeded: the same command writes the same frames.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from models.synth.scenes import approach

FRAMES = Path(__file__).resolve().parents[2] / "tools" / "sim" / "frames"
MAX_BYTES = 60 * 1024  # the firmware's default max_frame_bytes is 64 KiB


def standard_text(rng: np.random.Generator, n: int) -> str:
    """A plate text in a common US format (California's, then New York's, in turn)."""
    letters, digits = "ABCDEFGHJKLMNPRSTUVWXYZ", "0123456789"
    fmt = ("9AAA999", "AAA9999")[n % 2]
    return "".join(str(rng.choice(list(digits if c == "9" else letters))) for c in fmt)


def make(out: Path, vehicles: int = 2, burst: int = 3, seed: int = 462) -> list[str]:
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    texts, n = [], 0
    for v in range(vehicles):
        frames, text, _ = approach(rng, standard_text(rng, v), frames=burst, start_px=85, end_px=130,
                                   night=(v % 3 == 2))
        texts.append(text)
        for frame in frames:
            quality = 85
            while True:
                ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
                if not ok:
                    raise RuntimeError("OpenCV could not encode a JPEG")
                if jpeg.size <= MAX_BYTES or quality <= 40:
                    break
                quality -= 10
            (out / f"frame-{n:02d}.jpg").write_bytes(jpeg.tobytes())
            n += 1
    (out / "plates.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=FRAMES)
    parser.add_argument("--vehicles", type=int, default=2)
    parser.add_argument("--burst", type=int, default=3)
    parser.add_argument("--seed", type=int, default=462)
    args = parser.parse_args()
    for text in make(args.out, args.vehicles, args.burst, args.seed):
        print(text)


if __name__ == "__main__":
    main()
