"""The plate detector network: a small fully-convolutional centre-net.

A MobileNet-like backbone of depthwise-separable blocks down to 1/32 of the
input (enough receptive field for a plate a third of the frame wide), a
light top-down path back to 1/4 (so that a plate 20 pixels wide still spans
five cells), and one head with the channels described in geometry.py. Only
ops TFLite runs natively with XNNPACK: Conv2D, DepthwiseConv2D, ReLU6, Add,
nearest-neighbour resize.

No batch normalisation: with small batches of very different crops (flat
letterbox padding next to busy streets) its batch statistics differ so much
from the running ones that the trained network found nothing at inference;
plain biases with He initialisation train as fast here and behave the same
in training and inference.
"""

from __future__ import annotations

import math

import keras
from keras import layers

from models.detector.geometry import CHANNELS


def _conv(x, filters, kernel=3, stride=1):
    x = layers.Conv2D(filters, kernel, strides=stride, padding="same", kernel_initializer="he_normal")(x)
    return layers.ReLU(6.0)(x)


def _sep(x, filters, stride=1):
    inp = x
    x = layers.DepthwiseConv2D(3, strides=stride, padding="same", depthwise_initializer="he_normal")(x)
    x = layers.ReLU(6.0)(x)
    x = layers.Conv2D(filters, 1, kernel_initializer="he_normal")(x)
    if stride == 1 and inp.shape[-1] == filters:
        return layers.Add()([inp, x])
    return layers.ReLU(6.0)(x)


def build(width: float = 1.0) -> keras.Model:
    """The detector; input float32 BGR 0..255 of any size divisible by 32."""
    c = [max(8, int(round(n * width))) for n in (16, 24, 40, 64, 96, 128)]
    inp = keras.Input((None, None, 3), name="image")
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0)(inp)
    x = _conv(x, c[0], stride=2)  # /2
    x = _sep(x, c[1], stride=2)  # /4
    c4 = _sep(x, c[1])
    x = _sep(c4, c[2], stride=2)  # /8
    c8 = _sep(x, c[2])
    x = _sep(c8, c[3], stride=2)  # /16
    x = _sep(x, c[3])
    c16 = _sep(x, c[3])
    x = _sep(c16, c[4], stride=2)  # /32
    x = _sep(x, c[5])
    x = _sep(x, c[5])
    # Top-down: upsample, add the lateral feature, refine.
    top = c[2]
    p = _conv(x, top, kernel=1)
    p = layers.UpSampling2D(2, interpolation="nearest")(p)
    p = layers.Add()([p, _conv(c16, top, kernel=1)])
    p = _sep(p, top)
    p = layers.UpSampling2D(2, interpolation="nearest")(p)
    p = layers.Add()([p, _conv(c8, top, kernel=1)])
    p = _sep(p, top)
    p = layers.UpSampling2D(2, interpolation="nearest")(p)
    p = layers.Add()([p, _conv(c4, top, kernel=1)])
    p = _sep(p, top)
    p = _sep(p, top)
    heat = layers.Conv2D(1, 1, activation="sigmoid", name="heat",
                         bias_initializer=keras.initializers.Constant(-math.log((1 - 0.05) / 0.05)))(p)
    regr = layers.Conv2D(CHANNELS - 1, 1, name="regr")(p)
    out = layers.Concatenate(name="out")([heat, regr])
    return keras.Model(inp, out, name="plate_detector")
