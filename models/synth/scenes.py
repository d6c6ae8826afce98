"""Synthetic street scenes with licence plates, for training and testing the detector.

Everything here is drawn procedurally from a seeded `numpy.random.Generator`:
sky, buildings, road, vehicles seen from behind or in front, signs with
text (distractors the detector must ignore), and on each vehicle a plate
from the plate generator (`models.synth.plates.render_plate`), warped with
perspective, tilt and yaw. Scenes have several vehicles, small and far ones
included, and day or night lighting. No photograph is copied in.

`render_scene(rng, width, height)` returns the BGR image and a list of
`ScenePlate` (text, four corners, box); the same seed gives the same scene.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from models.draws import log_uniform

logger = logging.getLogger(__name__)

_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
_DIGITS = "0123456789"


@dataclass
class ScenePlate:
    text: str
    corners: np.ndarray  # (4, 2) float32: top-left, top-right, bottom-right, bottom-left
    box: tuple[int, int, int, int]  # x, y, w, h of the corners' bounding rectangle


def _fallback_plate(rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """A plain plate (7 characters on a light ground) for when the generator is absent."""
    text = "".join(rng.choice(list(_DIGITS if c == "9" else _LETTERS)) for c in
                   rng.choice(["9AAA999", "AAA9999", "999AAA9", "9AAA99"]))
    h, w = 120, 240
    ground = rng.integers(200, 256, 3)
    img = np.empty((h, w, 3), np.uint8)
    img[:] = ground
    ink = tuple(int(v) for v in rng.integers(0, 90, 3))
    cv2.rectangle(img, (3, 3), (w - 4, h - 4), ink, 3)
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_DUPLEX, 1.0, 4)
    scale = min(0.85 * w / tw, 0.55 * h / th)
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_DUPLEX, scale, 4)
    cv2.putText(img, text, ((w - tw) // 2, (h + th) // 2 + 4), cv2.FONT_HERSHEY_DUPLEX, scale, ink, 4,
                cv2.LINE_AA)
    return img, text


def plate_image(rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """One plate image and its text, from the plate generator where it is installed."""
    try:
        from models.synth.plates import render_plate
    except ImportError:
        return _fallback_plate(rng)
    img, text, _meta = render_plate(rng)
    return img, text


def _sky_and_ground(rng, width, height, horizon, night):
    img = np.empty((height, width, 3), np.float32)
    top = rng.uniform(150, 255, 3) if not night else rng.uniform(5, 40, 3)
    bottom = rng.uniform(120, 240, 3) if not night else rng.uniform(10, 60, 3)
    t = np.linspace(0, 1, horizon, dtype=np.float32)[:, None, None]
    img[:horizon] = top * (1 - t) + bottom * t
    road = rng.uniform(60, 140) if not night else rng.uniform(15, 45)
    img[horizon:] = road + rng.normal(0, 6, (height - horizon, 1, 1))
    return img


def _buildings(rng, img, horizon, night):
    height, width = img.shape[:2]
    x = int(rng.integers(-50, 0))
    while x < width:
        bw = int(rng.integers(width // 12, width // 4))
        bh = int(rng.integers(horizon // 4, max(horizon // 4 + 1, horizon)))
        colour = rng.uniform(40, 220, 3) * (0.25 if night else 1.0)
        cv2.rectangle(img, (x, horizon - bh), (x + bw, horizon), colour.tolist(), -1)
        win = rng.uniform(20, 255, 3) * (1.0 if night and rng.random() < 0.5 else 0.6)
        step = int(rng.integers(12, 30))
        for wy in range(horizon - bh + 6, horizon - 10, step):
            for wx in range(x + 6, x + bw - 10, step):
                if rng.random() < 0.7:
                    cv2.rectangle(img, (wx, wy), (wx + step // 2, wy + step // 2), win.tolist(), -1)
        x += bw + int(rng.integers(0, 30))


def _lanes(rng, img, horizon):
    height, width = img.shape[:2]
    vx = int(rng.integers(width // 4, 3 * width // 4))
    colour = (200, 200, 200) if rng.random() < 0.6 else (40, 190, 220)
    for bx in rng.uniform(-width, 2 * width, int(rng.integers(2, 5))):
        cv2.line(img, (vx, horizon), (int(bx), height), colour, int(rng.integers(2, 8)), cv2.LINE_AA)


def _text_sign(rng, img, night):
    """Text on a panel: shop signs and stickers look like plates to a careless detector."""
    height, width = img.shape[:2]
    words = "".join(rng.choice(list(_LETTERS + _DIGITS + "  ")) for _ in range(int(rng.integers(3, 9))))
    scale = float(rng.uniform(0.4, 2.5))
    (tw, th), _ = cv2.getTextSize(words, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
    ground = rng.uniform(0, 255, 3) * (0.4 if night else 1.0)
    patch = np.empty((th + 12, tw + 10, 3), np.uint8)
    patch[:] = ground.astype(np.uint8)
    cv2.putText(patch, words, (5, th + 5), cv2.FONT_HERSHEY_SIMPLEX, scale, (255 - ground).tolist(), 2,
                cv2.LINE_AA)
    ph, pw = patch.shape[:2]
    if pw >= width or ph >= height:
        return
    x = int(rng.integers(0, width - pw))
    y = int(rng.integers(0, height - ph))
    img[y:y + ph, x:x + pw] = patch


def _warp_plate(rng, img, plate, cx, cy, pw):
    """Draw `plate` centred at (cx, cy), pw wide, with tilt, yaw and pitch; return its corners."""
    ph, pwi = plate.shape[:2]
    aspect = ph / pwi * rng.uniform(0.85, 1.15)
    w, h = pw, pw * aspect
    corners = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]], np.float32)
    # Yaw: the far side of the plate is shorter and nearer the centre.
    yaw = rng.uniform(-0.35, 0.35)
    corners[:, 0] *= 1 - abs(yaw) * 0.5
    side = corners[:, 0] * np.sign(yaw) > 0
    corners[side, 1] *= 1 - abs(yaw) * 0.4
    pitch = rng.uniform(-0.15, 0.15)
    corners[:2, 0] *= 1 + pitch
    corners[2:, 0] *= 1 - pitch
    angle = np.deg2rad(rng.uniform(-12, 12) if rng.random() < 0.8 else rng.uniform(-25, 25))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], np.float32)
    corners = corners @ rot.T + np.array([cx, cy], np.float32)
    src = np.array([[0, 0], [pwi, 0], [pwi, ph], [0, ph]], np.float32)
    matrix = cv2.getPerspectiveTransform(src, corners)
    height, width = img.shape[:2]
    warped = cv2.warpPerspective(plate.astype(np.float32), matrix, (width, height), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.ones((ph, pwi), np.float32), matrix, (width, height), flags=cv2.INTER_LINEAR)
    img *= 1 - mask[..., None]
    img += warped * mask[..., None]
    return corners


def _vehicle(rng, img, cx, base_y, vw, night):
    """A vehicle body seen from behind or ahead; returns where its plate goes (cx, cy)."""
    vh = vw * rng.uniform(0.6, 0.95)
    x0, x1 = int(cx - vw / 2), int(cx + vw / 2)
    y0, y1 = int(base_y - vh), int(base_y)
    body = rng.uniform(10, 245, 3) * (0.35 if night else 1.0)
    cv2.ellipse(img, (int(cx), y1), (int(vw * 0.55), int(vh * 0.12) + 1), 0, 0, 360,
                (body * 0.2).tolist(), -1)
    cv2.rectangle(img, (x0, int(y0 + vh * 0.35)), (x1, y1), body.tolist(), -1)
    roof = np.array([[x0 + vw * 0.12, y0 + vh * 0.38], [x0 + vw * 0.25, y0],
                     [x1 - vw * 0.25, y0], [x1 - vw * 0.12, y0 + vh * 0.38]], np.int32)
    cv2.fillPoly(img, [roof], body.tolist())
    glass = np.array([[x0 + vw * 0.17, y0 + vh * 0.36], [x0 + vw * 0.28, y0 + vh * 0.05],
                      [x1 - vw * 0.28, y0 + vh * 0.05], [x1 - vw * 0.17, y0 + vh * 0.36]], np.int32)
    cv2.fillPoly(img, [glass], rng.uniform(10, 80, 3).tolist())
    lamp = (30, 30, 220) if rng.random() < 0.7 else (220, 230, 240)
    lamp = tuple(v * (1.3 if night else 1.0) for v in lamp)
    ly = int(y0 + vh * 0.45)
    cv2.rectangle(img, (x0 + 2, ly), (int(x0 + vw * 0.18), int(ly + vh * 0.12)), lamp, -1)
    cv2.rectangle(img, (int(x1 - vw * 0.18), ly), (x1 - 2, int(ly + vh * 0.12)), lamp, -1)
    bumper = (body * rng.uniform(0.3, 0.8)).tolist()
    cv2.rectangle(img, (x0, int(y1 - vh * 0.18)), (x1, y1), bumper, -1)
    return cx + vw * rng.uniform(-0.08, 0.08), y0 + vh * rng.uniform(0.62, 0.74)


def _finish(rng, img, night):
    if night:
        img *= rng.uniform(0.4, 0.9)
    else:
        img *= rng.uniform(0.7, 1.25)
        img += rng.uniform(-25, 25)
    if rng.random() < 0.5:
        k = int(rng.integers(1, 3)) * 2 + 1
        img = cv2.GaussianBlur(img, (k, k), 0)
    if rng.random() < 0.25:
        n = int(rng.integers(3, 9))
        kernel = np.zeros((n, n), np.float32)
        kernel[n // 2] = 1.0 / n
        img = cv2.filter2D(img, -1, kernel)
    img += rng.normal(0, rng.uniform(1, 10 if night else 5), img.shape).astype(np.float32)
    out = np.clip(img, 0, 255).astype(np.uint8)
    quality = int(rng.integers(45, 95))
    ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else out


def render_scene(
    rng: np.random.Generator,
    width: int = 1280,
    height: int = 720,
    n_plates: int | None = None,
    min_plate_px: float = 24.0,
    max_plate_px: float | None = None,
    night: bool | None = None,
) -> tuple[np.ndarray, list[ScenePlate]]:
    """One scene, `width` x `height`, with `n_plates` plated vehicles (random 0-4 if None)."""
    night = bool(rng.random() < 0.25) if night is None else night
    if n_plates is None:
        n_plates = int(rng.choice([0, 1, 1, 2, 2, 3, 4]))
    horizon = int(height * rng.uniform(0.2, 0.5))
    img = _sky_and_ground(rng, width, height, horizon, night)
    _buildings(rng, img, horizon, night)
    _lanes(rng, img, horizon)
    for _ in range(int(rng.integers(0, 4))):
        _text_sign(rng, img, night)
    max_plate_px = max_plate_px or min(width * 0.3, 360.0)
    widths = log_uniform(rng, min_plate_px, max_plate_px, n_plates)
    # Far (small) vehicles first so that near ones are drawn over them.
    plates: list[ScenePlate] = []
    taken: list[tuple[float, float, float]] = []
    for pw in sorted(widths):
        vw = pw / rng.uniform(0.2, 0.32)
        for _attempt in range(10):
            cx = rng.uniform(pw, width - pw)
            base = rng.uniform(horizon + vw * 0.3, height + vw * 0.15)
            if all(abs(cx - tx) > (tw + pw) * 0.8 or abs(base - ty) > vw * 0.5 for tx, ty, tw in taken):
                break
        else:
            continue
        px, py = _vehicle(rng, img, cx, base, vw, night)
        plate, text = plate_image(rng)
        corners = _warp_plate(rng, img, plate, px, py, pw)
        inside = (corners[:, 0].min() >= 0 and corners[:, 1].min() >= 0
                  and corners[:, 0].max() < width and corners[:, 1].max() < height)
        if not inside:
            continue
        # A nearer vehicle may hide an earlier plate: drop plates it covers.
        plates = [p for p in plates if not _covered(p, cx, base, vw)]
        taken.append((cx, base, pw))
        x0, y0 = corners.min(axis=0)
        x1, y1 = corners.max(axis=0)
        plates.append(ScenePlate(text, corners, (int(x0), int(y0), int(round(x1 - x0)), int(round(y1 - y0)))))
    return _finish(rng, img, night), plates


def render_scenes(seed: int, count: int, width: int = 1280, height: int = 720,
                  **options) -> list[tuple[np.ndarray, list[ScenePlate]]]:
    """`count` scenes drawn from `seed` (`render_scene`'s options): the same set on every call,
    as the tests' and checks' fixed sets need."""
    rng = np.random.default_rng(seed)
    return [render_scene(rng, width, height, **options) for _ in range(count)]


def _covered(plate: ScenePlate, cx: float, base: float, vw: float) -> bool:
    x, y, w, h = plate.box
    vh = vw * 0.95
    return (x + w > cx - vw / 2 and x < cx + vw / 2 and y + h > base - vh and y < base)


def write_scene_set(folder, count: int, seed: int = 0, width: int = 1280, height: int = 720) -> None:
    """A folder of scenes with `labels.tsv` as the real datasets have (file, x, y, w, h, plate)."""
    from pathlib import Path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(count):
        img, plates = render_scene(rng, width, height, n_plates=int(rng.integers(1, 4)))
        name = f"scene{i:04d}.jpg"
        cv2.imwrite(str(folder / name), img, [cv2.IMWRITE_JPEG_QUALITY, 92])
        lines += [f"{name}\t{p.box[0]}\t{p.box[1]}\t{p.box[2]}\t{p.box[3]}\t{p.text}" for p in plates]
    (folder / "labels.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def approach(rng: np.random.Generator, text: str | None = None, frames: int = 3, width: int = 640,
             height: int = 480, start_px: float = 70.0, end_px: float = 110.0,
             night: bool = False) -> tuple[list[np.ndarray], str, list[ScenePlate]]:
    """One vehicle coming closer over a burst of `frames`: the same plate, growing.

    Returns the frames, the plate text and each frame's plate. Used for the
    simulated boards' sample frames and for testing burst fusion end to end.
    """
    horizon = int(height * rng.uniform(0.3, 0.4))
    ground = _sky_and_ground(rng, width, height, horizon, night)
    _buildings(rng, ground, horizon, night)
    _lanes(rng, ground, horizon)
    try:
        from models.synth.plates import render_plate

        plate, text, _meta = render_plate(rng, text=text)
    except ImportError:
        plate, text = _fallback_plate(rng)
    body_seed = int(rng.integers(0, 2**31))
    plate_seed = int(rng.integers(0, 2**31))
    cx = width * rng.uniform(0.4, 0.6)
    out, plates = [], []
    for i in range(frames):
        pw = start_px + (end_px - start_px) * i / max(1, frames - 1)
        vw = pw / 0.27
        img = ground.copy()
        # Same body and plate pose every frame: only the distance changes.
        px, py = _vehicle(np.random.default_rng(body_seed), img, cx, height * 0.62 + vw * 0.35, vw, night)
        corners = _warp_plate(np.random.default_rng(plate_seed), img, plate, px, py, pw)
        x0, y0 = corners.min(axis=0)
        x1, y1 = corners.max(axis=0)
        plates.append(ScenePlate(text, corners, (int(x0), int(y0), int(round(x1 - x0)), int(round(y1 - y0)))))
        out.append(_finish(np.random.default_rng(plate_seed), img, night))
    return out, text, plates
