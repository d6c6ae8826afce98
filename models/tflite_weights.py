"""Load the weights of a shipped `.tflite` file back into its Keras network.

Training checkpoints (`build/.../*.weights.h5`) live outside the repository,
so a fresh checkout could only retrain from nothing. The `.tflite` files we
ship hold every weight (float16 or int8 with per-channel scales), so they
are the checkpoint of record: this module reads them with the TFLite runtime
and writes them into a freshly built Keras model of the same architecture,
so that a later run can continue training from the shipped model.

How the layers are paired: every convolution and dense op of the file names
the Keras layer it came from (`.../conv2d_3_1/convolution`: layer `conv2d_3`
plus a tracing suffix). Keras numbers the auto-named layers of a class in
the order they were created, so sorting both sides by that number pairs
them; the shapes must then agree, or the file belongs to another design.

Batch normalisation is folded into the convolution before it in the file.
The layer is unfolded so that the network computes the same function in
inference mode *and*, approximately, in training mode: the folded kernel
goes into the convolution, and the batch-norm layer gets the mean and spread
of that convolution's output over `calibration` images as its moving
statistics and as its scale and offset, so that normalising by batch
statistics undoes itself.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

WEIGHT_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"}
_LAYER = re.compile(r"/((?:depthwise_)?conv[12]d|dense|logits|heat|regr)((?:_\d+)*)/")


class TfliteWeightsError(ValueError):
    """The .tflite file does not fit the network it should be loaded into."""


def _layer_key(tensor_name: str) -> tuple[str, int] | None:
    """(layer class name, creation number) from a weight tensor's name; None if it names none."""
    for part in tensor_name.split(";"):
        m = _LAYER.search(part + "/")
        if m:
            base, suffix = m.group(1), m.group(2)
            numbers = [int(n) for n in suffix.split("_")[1:]]
            # the last number is the tracing suffix; what is left is the layer's own number
            own = numbers[:-1]
            return base, (own[0] if own else 0)
    return None


def read_weight_ops(path: Path | str, scope: str | None = None) -> list[dict]:
    """Every weight-carrying op of the file: layer key, kernel (float32, TFLite layout) and bias.

    `scope`: in a file that joins several networks (models.ocr.ensemble), only
    the ops of the one with this name (e.g. `plate_ocr_1`).
    """
    from gateway.recognition.litert import interpreter

    interp = interpreter(Path(path))
    details = {d["index"]: d for d in interp.get_tensor_details()}
    ops = interp._get_ops_details()  # noqa: SLF001 - the runtime's only view of the graph
    # float16 weights reach their op through a DEQUANTIZE op
    dequantized = {int(o["outputs"][0]): int(o["inputs"][0]) for o in ops if o["op_name"] == "DEQUANTIZE"}

    def constant(index: int) -> np.ndarray:
        index = dequantized.get(index, index)
        d = details[index]
        value = interp.get_tensor(index)
        if value.dtype == np.int8:
            scales = np.asarray(d["quantization_parameters"]["scales"], np.float32)
            axis = int(d["quantization_parameters"]["quantized_dimension"])
            shape = [1] * value.ndim
            shape[axis] = -1
            return value.astype(np.float32) * (scales.reshape(shape) if scales.size > 1 else scales)
        return value.astype(np.float32)

    out = []
    for op in ops:
        if op["op_name"] not in WEIGHT_OPS:
            continue
        w_index = int(op["inputs"][1])
        name = details[dequantized.get(w_index, w_index)]["name"]
        if scope and f"/{scope}_" not in name:
            continue
        key = _layer_key(name)
        if key is None:
            raise TfliteWeightsError(f"{path}: cannot tell which layer the weights {name!r} belong to")
        bias = constant(int(op["inputs"][2])) if len(op["inputs"]) > 2 and op["inputs"][2] >= 0 else None
        out.append({"op": op["op_name"], "key": key, "kernel": constant(w_index), "bias": bias})
    return out


def _keras_kernel(op: str, kernel: np.ndarray, target_shape: tuple) -> np.ndarray:
    if op == "FULLY_CONNECTED":
        k = kernel.T  # (out, in) -> (in, out)
        if len(target_shape) == 3:  # a Conv1D run as a matmul
            k = k.reshape(target_shape)
        return k
    if op == "DEPTHWISE_CONV_2D":
        return np.transpose(kernel, (1, 2, 3, 0))  # (1, kh, kw, C) -> (kh, kw, C, 1)
    k = np.transpose(kernel, (1, 2, 3, 0))  # (out, kh, kw, in) -> (kh, kw, in, out)
    if len(target_shape) == 3:  # Conv1D exported as a 1 x k Conv2D
        k = k.reshape(target_shape)
    return k


# Keras layer classes that hold a kernel, and the base of their automatic names
AUTO_NAMES = {"Conv2D": "conv2d", "DepthwiseConv2D": "depthwise_conv2d", "Conv1D": "conv1d", "Dense": "dense"}


def load_weights(model, path: Path | str, calibration: np.ndarray | None = None, scope: str | None = None) -> None:
    """Weights from a Keras checkpoint (`.weights.h5`) or, through `load_into`, a shipped `.tflite`."""
    if str(path).endswith(".tflite"):
        load_into(model, path, calibration, scope)
    else:
        model.load_weights(str(path))


def load_into(model, path: Path | str, calibration: np.ndarray | None = None, scope: str | None = None) -> None:
    """Set `model`'s weights from the .tflite file at `path` (see the module docstring).

    `scope`: the member to take from a file that joins several networks.
    `calibration`: a batch of model inputs. Without it a batch-norm layer is
    exact in inference mode only (enough to export or evaluate, not to train).
    """
    import keras

    ops = read_weight_ops(path, scope)
    if not ops:
        raise TfliteWeightsError(f"{path}: no weights" + (f" of a network named {scope!r}" if scope else ""))
    # Named layers (logits, heat, regr) pair by name; auto-named ones by class and creation number.
    groups: dict[str, list] = defaultdict(list)
    for lyr in model.layers:
        auto = AUTO_NAMES.get(type(lyr).__name__)
        if auto is None:
            continue
        m = re.fullmatch(rf"{auto}(?:_(\d+))?", lyr.name)
        if m:
            groups[auto].append((int(m.group(1) or 0), lyr))
        else:
            groups[lyr.name].append((0, lyr))
    file_groups: dict[str, list] = defaultdict(list)
    for op in ops:
        file_groups[op["key"][0]].append((op["key"][1], op))
    pairs = []
    for base, members in groups.items():
        found = sorted(file_groups.get(base, []), key=lambda t: t[0])
        if len(found) != len(members):
            raise TfliteWeightsError(f"{path}: {len(found)} '{base}' layers in the file, {len(members)} in the network "
                                     "(the file was made from another architecture)")
        pairs += [(lyr, op) for (_, lyr), (_, op) in zip(sorted(members, key=lambda t: t[0]), found, strict=True)]
    if len(pairs) != len(ops):
        raise TfliteWeightsError(f"{path}: {len(ops)} weight layers in the file, {len(pairs)} matched in the network")

    followers = _batch_norm_after(model)
    for lyr, op in pairs:
        kernel_shape = tuple(lyr.kernel.shape)
        kernel = _keras_kernel(op["op"], op["kernel"], kernel_shape)
        if kernel.shape != kernel_shape:
            raise TfliteWeightsError(f"{path}: layer {lyr.name} wants a {kernel_shape} kernel, the file has {kernel.shape}")
        bias = op["bias"] if op["bias"] is not None else np.zeros(kernel_shape[-1] if op["op"] != "DEPTHWISE_CONV_2D"
                                                                  else kernel_shape[2], np.float32)
        if lyr.use_bias:
            lyr.set_weights([kernel, bias])
        else:
            bn = followers.get(lyr.name)
            if bn is None:
                raise TfliteWeightsError(f"{path}: layer {lyr.name} has no bias and no batch normalisation to take it")
            lyr.set_weights([kernel])
            # identity normalisation plus the folded bias: exact in inference mode
            eps = bn.epsilon
            bn.set_weights([np.ones_like(bias), bias, np.zeros_like(bias), np.full_like(bias, 1.0 - eps)])
    if followers and calibration is not None:
        _calibrate(keras, model, followers, calibration)
    logger.info("loaded %d layers from %s", len(pairs), path)


def _batch_norm_after(model) -> dict:
    """{convolution layer name: the BatchNormalization layer fed by it}."""
    out = {}
    for lyr in model.layers:
        if type(lyr).__name__ != "BatchNormalization":
            continue
        src = lyr._inbound_nodes[0].input_tensors[0]._keras_history.operation  # noqa: SLF001
        out[src.name] = lyr
    return out


def _calibrate(keras, model, followers: dict, calibration: np.ndarray) -> None:
    """Give each batch-norm layer its input's statistics (see the module docstring)."""
    convs = [model.get_layer(name) for name in followers]
    probe = keras.Model(model.inputs, [c.output for c in convs])
    outputs = probe.predict(calibration, batch_size=256, verbose=0)
    if not isinstance(outputs, list):
        outputs = [outputs]
    for conv, z in zip(convs, outputs, strict=True):
        bn = followers[conv.name]
        axes = tuple(range(z.ndim - 1))
        mu = z.mean(axis=axes).astype(np.float32)
        var = np.maximum(z.var(axis=axes), 1e-6).astype(np.float32)
        _, beta, _, _ = bn.get_weights()  # the folded bias
        sigma = np.sqrt(var + bn.epsilon)
        bn.set_weights([sigma, beta + mu, mu, var])
