"""The plate OCR model: training code (needs TensorFlow) and the shipped ocr.tflite."""
