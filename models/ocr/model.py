"""The plate OCR network: a small CNN read out by CTC (Keras 3).

Input: 32 x 128 grey (see gateway.recognition.ocr_input). Five 3x3
convolution blocks (16-96 channels, about 30 M multiply-adds in all)
shrink the height to 2 and the width to 32; each of the
32 columns becomes one CTC time step (about 3-4 steps per character of an
8-character plate, enough for CTC's blanks between repeated letters). A
1-D convolution across neighbouring columns gives each step the context to
tell a large registration character from a stacked small one or a
separator. No recurrent layer: it would cost latency on one core and the
CNN context already spans a character and its neighbours.
"""

from __future__ import annotations

import keras
from keras import layers

from gateway.recognition.ocr_input import INPUT_H, INPUT_W, NUM_CLASSES


def _block(x, filters: int, pool):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    if pool:
        x = layers.MaxPooling2D(pool)(x)
    return x


def build(width: float = 1.0, name: str = "plate_ocr") -> keras.Model:
    """The network returning logits (batch, time, NUM_CLASSES)."""
    f = [max(8, int(c * width)) for c in (16, 32, 64, 64, 96)]
    inp = keras.Input((INPUT_H, INPUT_W, 1), name="image")
    x = _block(inp, f[0], (2, 2))  # 16 x 64
    x = _block(x, f[1], (2, 2))  # 8 x 32
    x = _block(x, f[2], None)
    x = _block(x, f[3], (2, 1))  # 4 x 32
    x = _block(x, f[4], (2, 1))  # 2 x 32
    x = layers.Permute((2, 1, 3))(x)  # width first: (32, 2, C)
    x = layers.Reshape((INPUT_W // 4, 2 * f[4]))(x)
    x = layers.Conv1D(int(128 * width), 3, padding="same", activation="relu")(x)
    x = layers.Dropout(0.2)(x)
    logits = layers.Dense(NUM_CLASSES, name="logits")(x)
    return keras.Model(inp, logits, name=name)


def for_inference(model: keras.Model) -> keras.Model:
    """The trained network with a softmax on top: per-step class probabilities."""
    inp = keras.Input((INPUT_H, INPUT_W, 1), batch_size=1, name="image")
    probs = layers.Softmax(name="probs")(model(inp, training=False))
    return keras.Model(inp, probs, name="plate_ocr_infer")
