"""Seeded synthetic US licence plates, clean and straight-on.

    import numpy as np
    from models.synth.plates import render_plate
    from models.synth.camera import camera_view

    rng = np.random.default_rng(7)
    plate, text, meta = render_plate(rng)            # clean plate, BGR uint8, 2:1
    crop = camera_view(rng, plate)                   # as a car camera + detector cut it

`render_plate(rng, text=None, style=None) -> (image_bgr, text, meta)`

- `rng` is a `numpy.random.Generator`; the same seed gives the same plate on
  the same set of fonts (`models.synth.fonts.available_faces()`).
- `text` (optional) is the registration to draw, upper case, at most 8
  characters, spaces splitting groups (`"ABC 1234"`); by default one is drawn
  at random in a common US format.
- `style` (optional) is a dict that overrides any of the random choices
  listed in `meta` (`kind`: "standard" | "vanity" | "motorcycle", `state`,
  `bg`, `ink`, `embossed`, `stack`, `separator`, ...).
- The image is the plate alone, edge to edge, 120 pixels high (240 wide for
  a standard plate, about 200 for a motorcycle plate), no perspective or
  camera effects: a scene generator pastes it with its own geometry.
- The returned `text` is the label an OCR must read: the large registration
  characters only, without spaces, separators, stacked small characters,
  stickers, state name or slogan (the convention of the us-crops labels).
- `meta` holds the choices made, plus `char_box` = (x0, y0, x1, y1), the box
  around the registration characters in plate pixels.

Only numpy, OpenCV and Pillow are used (no TensorFlow).
"""

from __future__ import annotations

import cv2
import numpy as np

from models.synth import fonts, texts

PLATE_H = 120

# (background BGR, ink BGR) pairs seen on US plates; light backgrounds dominate.
_SCHEMES = (
    ((245, 245, 245), (120, 40, 10)), ((240, 240, 240), (20, 20, 20)), ((250, 250, 250), (30, 30, 160)),
    ((235, 240, 245), (40, 90, 10)), ((120, 215, 250), (20, 20, 20)), ((60, 200, 240), (100, 40, 10)),
    ((240, 235, 225), (100, 30, 60)), ((230, 230, 220), (10, 70, 10)), ((210, 225, 240), (30, 30, 140)),
    ((120, 60, 10), (235, 235, 235)), ((40, 90, 20), (240, 240, 240)), ((20, 20, 20), (240, 240, 240)),
    ((30, 30, 120), (240, 240, 240)), ((200, 160, 60), (60, 30, 10)), ((245, 248, 250), (60, 60, 60)),
)


def _rand_color(rng, light: bool) -> np.ndarray:
    base = rng.integers(170, 256, 3) if light else rng.integers(0, 150, 3)
    return base.astype(np.float32)


def _background(rng, h: int, w: int, bg: np.ndarray) -> np.ndarray:
    img = np.empty((h, w, 3), np.float32)
    img[:] = bg
    kind = rng.integers(0, 5)
    yy = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    xx = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
    other = _rand_color(rng, light=bool(bg.mean() > 128))
    if kind == 1:  # vertical gradient (sky to white)
        img = img * (1 - yy * 0.8) + other * yy * 0.8 if rng.random() < 0.5 else img * yy + other * (1 - yy)
    elif kind == 2:  # horizontal gradient
        img = img * (1 - xx * 0.6) + other * xx * 0.6
    if rng.random() < 0.55:  # landscape art: hills or mountains along the bottom
        pts = [(0, h)]
        n = int(rng.integers(3, 9))
        base_y = rng.uniform(0.55, 0.95) * h
        for i in range(n + 1):
            pts.append((int(i * w / n), int(base_y - rng.uniform(0, 0.35) * h)))
        pts.append((w, h))
        art = img.copy()
        cv2.fillPoly(art, [np.array(pts, np.int32)], _rand_color(rng, rng.random() < 0.6).tolist())
        alpha = rng.uniform(0.25, 0.9)
        img = img * (1 - alpha) + art * alpha
    if rng.random() < 0.35:  # a central emblem or faint picture behind the text
        art = img.copy()
        center = (int(rng.uniform(0.2, 0.8) * w), int(rng.uniform(0.3, 0.7) * h))
        axes = (int(rng.uniform(0.08, 0.3) * w), int(rng.uniform(0.15, 0.45) * h))
        cv2.ellipse(art, center, axes, float(rng.uniform(0, 180)), 0, 360, _rand_color(rng, rng.random() < 0.5).tolist(), -1)
        alpha = rng.uniform(0.15, 0.6)
        img = img * (1 - alpha) + art * alpha
    if rng.random() < 0.5:  # printed texture
        noise = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), rng.uniform(1, 6))
        img += noise[:, :, None] * rng.uniform(3, 14)
    return img


def _paste(img: np.ndarray, mask: np.ndarray, x: int, y: int, color, alpha: float = 1.0) -> None:
    """Alpha-blend `color` through a uint8 `mask` at (x, y), clipped to the image."""
    h, w = mask.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, img.shape[1]), min(y + h, img.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    m = mask[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.float32)[:, :, None] * (alpha / 255.0)
    region = img[y0:y1, x0:x1]
    region[:] = region * (1 - m) + np.asarray(color, np.float32) * m


def _decor_text(rng, img, text: str, y_frac: float, h_frac: float, color, centered=True) -> None:
    h, w = img.shape[:2]
    face = fonts.available_faces(decorative=True)[int(rng.integers(len(fonts.available_faces(True))))]
    mask = fonts.text_mask(face, text, int(h * h_frac))
    if mask.shape[1] > 0.92 * w:
        mask = cv2.resize(mask, (int(0.92 * w), mask.shape[0]), interpolation=cv2.INTER_AREA)
    x = (w - mask.shape[1]) // 2 if centered else int(rng.uniform(0.03, 0.5) * w)
    _paste(img, mask, x, int(y_frac * h), color)


def _char_line(rng, groups, face, char_h: int, squeeze: float, weight: int):
    """Masks and x offsets of the registration line (before placement)."""
    items = []  # (mask, dx) where dx is the gap before the item
    spacing = max(1, int(char_h * rng.uniform(0.04, 0.12)))
    for gi, group in enumerate(groups):
        for ci, ch in enumerate(group):
            g = fonts.glyph(face, ch, weight)
            width = max(2, int(g.shape[1] * char_h / g.shape[0] * squeeze))
            if ch in "1I":
                width = max(2, int(width * rng.uniform(0.9, 1.1)))
            mask = cv2.resize(g, (width, char_h), interpolation=cv2.INTER_AREA)
            gap = spacing if ci else (0 if gi == 0 else int(char_h * rng.uniform(0.35, 0.75)))
            items.append((mask, gap, gi > 0 and ci == 0))
    return items


def _separator_mask(rng, kind: str, char_h: int) -> np.ndarray | None:
    if kind == "dash":
        m = np.zeros((char_h, int(char_h * 0.35)), np.uint8)
        cv2.rectangle(m, (1, int(char_h * 0.45)), (m.shape[1] - 2, int(char_h * 0.55)), 255, -1)
        return m
    if kind == "dot":
        m = np.zeros((char_h, int(char_h * 0.3)), np.uint8)
        cv2.circle(m, (m.shape[1] // 2, char_h // 2), max(2, char_h // 12), 255, -1)
        return m
    if kind == "emblem":  # a small state shape, star, heart or logo between the groups
        s = int(char_h * rng.uniform(0.5, 0.9))
        m = np.zeros((char_h, s), np.uint8)
        shape = rng.integers(0, 3)
        if shape == 0:
            cv2.circle(m, (s // 2, char_h // 2), s // 2 - 1, 255, -1)
        elif shape == 1:
            pts = [(s // 2, char_h // 2 - s // 2), (s - 1, char_h // 2), (s // 2, char_h // 2 + s // 2), (0, char_h // 2)]
            cv2.fillPoly(m, [np.array(pts, np.int32)], 255)
        else:
            cv2.rectangle(m, (1, char_h // 2 - s // 3), (s - 2, char_h // 2 + s // 3), 255, 2)
        return m
    return None


def _emboss(img: np.ndarray, mask: np.ndarray, rng) -> np.ndarray:
    """Light from the top left: a bright edge above and a dark edge below each stroke."""
    m = mask.astype(np.float32) / 255.0
    d = max(1, int(rng.integers(1, 3)))
    shade = np.roll(m, (-d, -d), (0, 1)) - np.roll(m, (d, d), (0, 1))
    return img + (shade * rng.uniform(25, 70))[:, :, None]


def render_plate(rng: np.random.Generator, text: str | None = None, style: dict | None = None):
    """Draw one clean plate; see the module docstring for the contract."""
    style = dict(style or {})
    kind = style.get("kind") or str(rng.choice(["standard", "vanity", "motorcycle"], p=[0.78, 0.14, 0.08]))
    h = PLATE_H
    w = int(h * (1.7 if kind == "motorcycle" else rng.uniform(1.95, 2.05)))
    if text is None:
        groups = texts.serial(rng, kind)
    else:
        groups = [g for g in text.upper().split(" ") if g]
    label = "".join(groups)
    if not label or len(label) > 10 or any(c not in texts.ALPHABET for c in label):
        raise ValueError("plate text must be 1-10 characters from 0-9 and A-Z")

    light = [i for i, (b, _) in enumerate(_SCHEMES) if sum(b) > 384]
    dark = [i for i in range(len(_SCHEMES)) if i not in light]
    pool = light if rng.random() < 0.85 else dark
    bg_c, ink_c = _SCHEMES[pool[int(rng.integers(len(pool)))]]
    bg = np.array(style.get("bg", bg_c), np.float32) + rng.normal(0, 8, 3).astype(np.float32)
    ink = np.array(style.get("ink", ink_c), np.float32) + rng.normal(0, 10, 3).astype(np.float32)
    if rng.random() < 0.15:  # a random ink with enough contrast to the background
        ink = _rand_color(rng, light=bool(bg.mean() < 128))
    img = _background(rng, h, w, bg)
    state = style.get("state") or texts.STATES[int(rng.integers(len(texts.STATES)))]
    meta = {"kind": kind, "state": state, "bg": bg.round().tolist(), "ink": ink.round().tolist()}

    header_c = ink if rng.random() < 0.5 else _rand_color(rng, light=bool(bg.mean() < 128))
    if rng.random() < 0.25:  # header band
        band_h = int(h * rng.uniform(0.15, 0.24))
        img[:band_h] = img[:band_h] * 0.2 + _rand_color(rng, light=bool(bg.mean() < 128)) * 0.8
        header_c = bg
    header_h = rng.uniform(0.11, 0.2) if kind != "motorcycle" else rng.uniform(0.14, 0.2)
    if rng.random() < 0.93:
        name = state.title() if rng.random() < 0.4 else state
        _decor_text(rng, img, name, rng.uniform(0.03, 0.07), header_h, header_c)
    if rng.random() < 0.75:
        slogan = texts.SLOGANS[int(rng.integers(len(texts.SLOGANS)))]
        if rng.random() < 0.15:
            slogan = texts.COUNTIES[int(rng.integers(len(texts.COUNTIES)))] + " COUNTY"
        _decor_text(rng, img, slogan, rng.uniform(0.82, 0.87), rng.uniform(0.07, 0.11), header_c)

    # the registration line
    faces = fonts.available_faces()
    face = style.get("face") or faces[int(rng.integers(len(faces)))]
    char_h = int(h * (rng.uniform(0.42, 0.55) if kind != "motorcycle" else rng.uniform(0.45, 0.56)))
    squeeze = rng.uniform(0.7, 1.15)
    weight = int(rng.integers(0, 3))
    separator = style.get("separator") or str(rng.choice(["gap", "dash", "dot", "emblem"], p=[0.5, 0.2, 0.15, 0.15]))
    items = _char_line(rng, groups, face, char_h, squeeze, weight)
    stack = style.get("stack", rng.random() < 0.18)
    stack_text = texts.small_stack(rng) if stack else ""
    sep_mask = _separator_mask(rng, separator, char_h)
    parts = []  # (mask, gap_before, is_registration)
    stack_pos = int(rng.integers(0, 2))  # 0: left of the text, 1: between groups
    if stack_text and stack_pos == 0:
        parts.append((_stack_mask(rng, face, stack_text, char_h), 0, False))
    for mask, gap, new_group in items:
        if new_group and stack_text and stack_pos == 1:
            parts.append((_stack_mask(rng, face, stack_text, char_h), gap // 2, False))
            gap = gap // 2
        elif new_group and sep_mask is not None:
            parts.append((sep_mask, gap // 3, False))
            gap = gap // 3
        parts.append((mask, gap if parts else 0, True))
    total = sum(m.shape[1] + g for m, g, _ in parts)
    max_w = int(w * rng.uniform(0.8, 0.92))
    scale = min(1.0, max_w / total)
    y0 = int(h * rng.uniform(0.24, 0.32)) if kind != "motorcycle" else int(h * rng.uniform(0.3, 0.36))
    x = (w - int(total * scale)) // 2 + int(rng.normal(0, w * 0.01))
    text_layer = np.zeros((h, w), np.uint8)
    reg_x0, reg_x1 = w, 0
    for mask, gap, is_reg in parts:
        x += int(gap * scale)
        mw = max(2, int(mask.shape[1] * scale))
        m = cv2.resize(mask, (mw, mask.shape[0]), interpolation=cv2.INTER_AREA)
        sub = text_layer[y0 : y0 + m.shape[0], max(x, 0) : x + mw]
        np.maximum(sub, m[: sub.shape[0], : sub.shape[1]], out=sub)
        if is_reg:
            reg_x0, reg_x1 = min(reg_x0, x), max(reg_x1, x + mw)
        x += mw
    embossed = style.get("embossed", rng.random() < 0.5)
    if rng.random() < 0.12:  # outlined characters
        outline = cv2.dilate(text_layer, np.ones((3, 3), np.uint8))
        _paste(img, outline, 0, 0, _rand_color(rng, light=bool(ink.mean() < 128)))
    _paste(img, text_layer, 0, 0, ink)
    if embossed:
        img = _emboss(img, text_layer, rng)
    meta.update(face=face.name, embossed=bool(embossed), separator=separator, stack=stack_text,
                char_box=(int(reg_x0), int(y0), int(reg_x1), int(y0 + char_h)))

    _furniture(rng, img, ink)
    return np.clip(img, 0, 255).astype(np.uint8), label, meta


def _stack_mask(rng, face, chars: str, char_h: int) -> np.ndarray:
    small_h = int(char_h / len(chars) * 0.85)
    cols = []
    for ch in chars:
        g = fonts.glyph(face, ch)
        cols.append(cv2.resize(g, (max(2, int(g.shape[1] * small_h / g.shape[0] * 0.9)), small_h)))
    cw = max(c.shape[1] for c in cols)
    out = np.zeros((char_h, cw + 4), np.uint8)
    step = char_h // len(chars)
    for i, c in enumerate(cols):
        out[i * step : i * step + small_h, 2 : 2 + c.shape[1]] = c
    return out


def _furniture(rng, img: np.ndarray, ink: np.ndarray) -> None:
    """Border, screw holes and registration stickers, drawn in place."""
    h, w = img.shape[:2]
    if rng.random() < 0.45:
        t = int(rng.integers(1, 5))
        cv2.rectangle(img, (t // 2 + 1, t // 2 + 1), (w - t // 2 - 2, h - t // 2 - 2), (ink * rng.uniform(0.6, 1.0)).tolist(), t)
    if rng.random() < 0.7:
        r = int(rng.integers(3, 6))
        xs = (int(w * rng.uniform(0.12, 0.25)), int(w * rng.uniform(0.75, 0.88)))
        ys = (int(h * rng.uniform(0.07, 0.14)),) + ((int(h * rng.uniform(0.86, 0.93)),) if rng.random() < 0.4 else ())
        metal = rng.uniform(60, 200)
        for sx in xs:
            for sy in ys:
                cv2.circle(img, (sx, sy), r, (metal, metal, metal), -1)
                cv2.circle(img, (sx - 1, sy - 1), max(1, r // 2), (metal + 40,) * 3, -1)
    for _ in range(int(rng.choice([0, 1, 2], p=[0.35, 0.45, 0.2]))):
        sw, sh = int(w * rng.uniform(0.09, 0.16)), int(h * rng.uniform(0.12, 0.2))
        sx = int(rng.choice([rng.uniform(0.01, 0.06), rng.uniform(0.8, 0.88)]) * w)
        sy = int(rng.choice([rng.uniform(0.02, 0.08), rng.uniform(0.74, 0.82)]) * h)
        color = _rand_color(rng, light=rng.random() < 0.5)
        cv2.rectangle(img, (sx, sy), (sx + sw, sy + sh), color.tolist(), -1)
        label = texts.MONTHS[int(rng.integers(12))] if rng.random() < 0.5 else str(int(rng.integers(10, 30)))
        mask = np.zeros((sh, sw), np.uint8)
        font = cv2.FONT_HERSHEY_SIMPLEX
        cv2.putText(mask, label, (1, sh - 3), font, cv2.getFontScaleFromHeight(font, max(4, sh - 8), 1),
                    255, 1, cv2.LINE_AA)
        _paste(img, mask, sx, sy, 255 - color)
