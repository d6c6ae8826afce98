"""One labelled photo's plate, made small in another frame: for stand-ins and training samples.

- `swap_plate` puts a plate crop (a us-crops image, say) over a photo's
  plate, so that real plates of one kind are seen on real vehicles of
  another set;
- `paste_distant` scales the plate with the rear of its vehicle (a region
  of about 8 x 6 plate widths around it, cut to the photo) so that the plate
  is a given width, and pastes it at a random place into a background frame;
- `distant_frame` does both for a training sample, at a drawn width, and
  passes the frame through JPEG as a camera board sends it.

`alpr eval distant` makes evaluation folders with them; `models.ocr.pasted_crops`
makes OCR training samples the same way from the crops the OCR trains on.
"""

from __future__ import annotations

import cv2
import numpy as np

from models.draws import log_uniform

REGION_SIDE = 3.5  # plate widths of the vehicle left and right of the plate
REGION_ABOVE, REGION_BELOW = 3.0, 1.5  # plate widths above the box and below its bottom
US_ASPECT = (1.6, 2.6)  # width / height of a plate box that a US plate (about 2:1) may be put into
JPEG_QUALITY = 90  # as a camera board sends its frames


def us_shaped(box, min_width: float = 0.0) -> bool:
    """A plate box a US plate crop may go into: about 2:1, at least `min_width` wide (so that
    the crop put there is only ever scaled down)."""
    w, h = box[2], box[3]
    return w >= min_width and h > 0 and US_ASPECT[0] <= w / h <= US_ASPECT[1]


def paste_distant(photo: np.ndarray, box, width: int, background: np.ndarray,
                  rng: np.random.Generator) -> tuple[np.ndarray, tuple[int, int, int, int], tuple[int, int, int, int]]:
    """`background` with the vehicle around `box` pasted in so that the plate is `width` px wide;
    returns the frame, the plate's box in it and the pasted region's box."""
    x, y, w, h = box
    s = width / w
    x0, y0 = max(0, int(x - REGION_SIDE * w)), max(0, int(y - REGION_ABOVE * w))
    x1 = min(photo.shape[1], int(x + w + REGION_SIDE * w))
    y1 = min(photo.shape[0], int(y + h + REGION_BELOW * w))
    region = cv2.resize(photo[y0:y1, x0:x1], None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    fh, fw = background.shape[:2]
    rh, rw = min(region.shape[0], fh), min(region.shape[1], fw)
    region = region[:rh, :rw]
    # vehicles stand on the road: not in the top quarter of the frame where there is room
    ox = int(rng.integers(0, fw - rw + 1))
    oy = min(int(rng.integers(fh // 4, max(fh // 4, fh - rh) + 1)), fh - rh)
    frame = background.copy()
    frame[oy:oy + rh, ox:ox + rw] = region
    plate = (int(round((x - x0) * s + ox)), int(round((y - y0) * s + oy)), int(round(w * s)), int(round(h * s)))
    return frame, plate, (ox, oy, rw, rh)


def distant_frame(rng: np.random.Generator, crop: np.ndarray, photo: np.ndarray, box, background: np.ndarray,
                  size: tuple[int, int], widths: tuple[float, float]):
    """`crop` over `photo`'s plate `box` (in place), pasted with its vehicle at a width drawn
    log-uniformly in `widths` into `background` scaled to `size` (w, h), through JPEG:
    (frame, plate box, pasted region box)."""
    back = cv2.resize(background, size, interpolation=cv2.INTER_AREA)
    plate_box = swap_plate(photo, box, crop)
    width = int(round(min(log_uniform(rng, *widths), plate_box[2])))
    frame, plate, region = paste_distant(photo, plate_box, width, back, rng)
    ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return cv2.imdecode(jpeg, cv2.IMREAD_COLOR), plate, region


def swap_plate(photo: np.ndarray, box, crop: np.ndarray) -> tuple[int, int, int, int]:
    """Resize `crop` into `photo`'s plate `box` (in place); the plate's box as whole pixels."""
    fh, fw = photo.shape[:2]
    x, y = max(0, int(round(box[0]))), max(0, int(round(box[1])))
    w, h = min(fw - x, int(round(box[2]))), min(fh - y, int(round(box[3])))
    photo[y:y + h, x:x + w] = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA)
    return x, y, w, h
