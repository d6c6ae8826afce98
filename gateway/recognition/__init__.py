"""Plate recognition on the gateway: detect plates in a frame, straighten and read them.

Backends are plugins: `detector` and `ocr` hold the abstract classes and
registries, `detector_tflite` and `ocr_tflite` the TFLite runtimes. Nothing
here imports TensorFlow.
"""
