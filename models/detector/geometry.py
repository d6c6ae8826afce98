"""The detector's fixed geometry, shared by training (models.detector) and the
gateway's decoder (gateway.recognition.detector_tflite reads the same numbers
from the model's output shape, so this module is the training side's copy).

The network sees the frame letterboxed to INPUT_W x INPUT_H and predicts on a
grid STRIDE times coarser, per cell:

    0      the share of the cell a plate covers (sigmoid): the plate mask
    1, 2   log of the plate's box width and height, in grid cells
    3, 4   the plate's centre from the cell's centre, as (dx / w, dy / h)
    5..12  the four corners (TL, TR, BR, BL) as (dx / w, dy / h) from the plate's centre

Channels 1-12 are meaningful only on cells of the mask; the decoder averages
them over each connected region of the mask.
"""

INPUT_W = 640
INPUT_H = 384
STRIDE = 4
CHANNELS = 13
