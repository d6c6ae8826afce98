"""The detector's fixed geometry, shared by training (models.detector) and the
gateway's decoder (gateway.recognition.detector_tflite reads the same numbers
from the model's output shape, so this module is the training side's copy).

The network sees the frame letterboxed to INPUT_W x INPUT_H and predicts on a
grid STRIDE times coarser, per cell:

    0      plate-centre heatmap (sigmoid)
    1, 2   log of the box width and height, in grid cells
    3, 4   offset of the centre inside its cell, 0..1
    5..12  the four corners (TL, TR, BR, BL) as (dx / w, dy / h) from the centre
"""

INPUT_W = 640
INPUT_H = 384
STRIDE = 4
CHANNELS = 13
