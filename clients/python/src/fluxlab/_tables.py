"""Results as tables and arrays: ``result.networks`` of an ``mi`` job flattened to one row per
network, metric series as a DataFrame, ``model.json`` as typed NumPy arrays, IDX files from arrays."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np
import pandas as pd

#: Columns from `sampled` (the simulation's estimates and their standard errors), always present.
SAMPLED_COLUMNS = {
    "mi_plugin_bits": "mi_plugin_bits",
    "mi_miller_madow_bits": "mi_miller_madow_bits",
    "mi_gaussian_bits": "mi_gaussian_bits",
    "stderr_bits": "mi_stderr_bits",
    "correlation_stderr": "correlation_stderr",
    "samples": "sampled_samples",
    "distinct_transitions": "sampled_distinct_transitions",
    "runs": "sampled_runs",
    "steps": "sampled_steps",
    "burn_in": "sampled_burn_in",
}
#: Columns from `attractors` (its list of cycles stays out), always present.
ATTRACTOR_COLUMNS = {
    "method": "attractors_method",
    "count": "attractors_count",
    "mean_period": "mean_period",
    "mean_period_state_weighted": "mean_period_state_weighted",
    "max_period": "max_period",
    "cycle_state_fraction": "cycle_state_fraction",
    "starts": "attractors_starts",
    "unresolved_starts": "attractors_unresolved_starts",
}
CONVERGENCE_COLUMNS = {
    "solver": "solver",
    "iterations": "solver_iterations",
    "residual_l1": "solver_residual_l1",
    "converged": "solver_converged",
}
SCALAR_COLUMNS = [
    "n",
    "replicate",
    "method",
    "mi_bits",
    "state_entropy_bits",
    "conditional_entropy_bits",
    "correlation_rms",
    "matrices_omitted",
]


def networks_frame(networks: list[dict[str, Any]], matrices: bool = False) -> pd.DataFrame:
    """One row per network, in result order (index ``network``): the swept parameters as their
    own columns, ``replicate``, ``method``, I (``mi_bits``), C (``correlation_rms``), the entropies,
    the sampled estimates with their standard errors, the solver's convergence and the attractor
    summary; ``warnings`` lists the network's and the sampler's warnings. With ``matrices``,
    ``weights``, ``correlation_matrix`` and ``mean_activity`` are added as arrays (None beyond
    the size the server writes out)."""
    rows = []
    param_names: list[str] = []
    for net in networks:
        row: dict[str, Any] = {}
        for key, value in (net.get("params") or {}).items():
            if key not in param_names:
                param_names.append(key)
            row[key] = value
        for key in SCALAR_COLUMNS:
            row[key] = net.get(key)
        for part, names in (
            ("sampled", SAMPLED_COLUMNS),
            ("attractors", ATTRACTOR_COLUMNS),
            ("convergence", CONVERGENCE_COLUMNS),
        ):
            doc = net.get(part) or {}
            for key, column in names.items():
                row[column] = doc.get(key)
        warnings = list(net.get("warnings") or [])
        for text in (net.get("sampled") or {}).get("warnings") or []:
            if text not in warnings:
                warnings.append(text)
        row["warnings"] = warnings
        if matrices:
            for key in ("weights", "correlation_matrix", "mean_activity"):
                value = net.get(key)
                row[key] = None if value is None else np.asarray(value, dtype=np.float64)
        rows.append(row)
    columns = param_names + SCALAR_COLUMNS + list(SAMPLED_COLUMNS.values())
    columns += list(ATTRACTOR_COLUMNS.values()) + list(CONVERGENCE_COLUMNS.values()) + ["warnings"]
    if matrices:
        columns += ["weights", "correlation_matrix", "mean_activity"]
    frame = pd.DataFrame(rows, columns=columns)
    for column in columns:
        values = frame[column]
        if values.dtype == object and all(
            v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in values
        ):
            frame[column] = values.astype("float64")
    frame.index.name = "network"
    return frame


def metrics_frame(series: list[dict[str, Any]]) -> pd.DataFrame:
    """The metric rows of a job, one row each, nested objects flattened to ``a.b`` columns."""
    if not series:
        return pd.DataFrame()
    return pd.json_normalize(series)


@dataclass
class Layer:
    """One layer of a trained spiking network. ``weights`` has shape (inputs, units):
    ``weights[i, j]`` connects input i to unit j. ``leak`` holds one value per unit for LIF
    layers, none for dense layers and one shared value for the read-out."""

    type: str
    inputs: int
    units: int
    weights: np.ndarray
    bias: np.ndarray
    leak: np.ndarray

    def __repr__(self) -> str:
        return (
            f"<Layer {self.type}: weights {self.weights.shape}, bias {self.bias.shape}, "
            f"leak {self.leak.shape}>"
        )


@dataclass
class LifModel:
    """``model.json`` of a finished ``lif`` job, as arrays."""

    layers: list[Layer]
    readout: Layer
    inputs: int
    classes: int
    input_values: Optional[int]
    epochs_trained: Optional[int]
    spec: dict[str, Any]
    config: dict[str, Any]
    raw: dict[str, Any] = field(repr=False)

    def __repr__(self) -> str:
        shapes = ", ".join(
            f"{layer.type} {layer.weights.shape}" for layer in [*self.layers, self.readout]
        )
        return f"<LifModel {self.inputs} inputs → {self.classes} classes: {shapes}>"

    @property
    def leaks(self) -> list[np.ndarray]:
        """The leak of every hidden layer that has one (one value per unit)."""
        return [layer.leak for layer in self.layers if layer.leak.size]


def _tensor(values: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
    array = np.asarray(values if values is not None else [], dtype=np.float32)
    if array.size != int(np.prod(shape)):
        raise ValueError(f"model.json: {what} has {array.size} values, expected shape {shape}")
    return array.reshape(shape)


def _layer(doc: dict[str, Any], kind: str, what: str) -> Layer:
    inputs, units = int(doc["inputs"]), int(doc["units"])
    weights = _tensor(doc.get("weights"), (inputs, units), f"{what}.weights")
    bias = _tensor(doc.get("bias"), (len(doc.get("bias") or []),), f"{what}.bias")
    leak = _tensor(doc.get("leak"), (len(doc.get("leak") or []),), f"{what}.leak")
    return Layer(kind, inputs, units, weights, bias, leak)


def lif_model(doc: dict[str, Any]) -> LifModel:
    """Parses ``model.json``; checks every tensor's size against its stated shape."""
    model = doc["model"]
    spec = doc.get("spec") or {}
    specs = spec.get("layers") or []
    layers = []
    for k, layer in enumerate(model.get("layers") or []):
        kind = str(specs[k].get("type", "lif")) if k < len(specs) else "lif"
        layers.append(_layer(layer, kind, f"model.layers[{k}]"))
    return LifModel(
        layers=layers,
        readout=_layer(model["readout"], "readout", "model.readout"),
        inputs=int(model["inputs"]),
        classes=int(model["classes"]),
        input_values=doc.get("input_values"),
        epochs_trained=doc.get("epochs_trained"),
        spec=spec,
        config=doc.get("config") or {},
        raw=doc,
    )


_IDX_TYPES = {
    np.dtype(np.uint8): 0x08,
    np.dtype(np.int8): 0x09,
    np.dtype(">i2"): 0x0B,
    np.dtype(">i4"): 0x0C,
    np.dtype(">f4"): 0x0D,
    np.dtype(">f8"): 0x0E,
}


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file (the MNIST format) of ``array``: magic, big-endian dimensions, the values."""
    array = np.ascontiguousarray(array)
    if array.dtype.kind in "iu" and array.dtype.itemsize > 1:
        array = array.astype(">i4")
    elif array.dtype.kind == "f":
        array = array.astype(">f8" if array.dtype.itemsize == 8 else ">f4")
    code = _IDX_TYPES.get(array.dtype)
    if code is None:
        raise TypeError(f"no IDX type for arrays of {array.dtype}")
    if array.ndim < 1 or array.ndim > 255:
        raise ValueError("an IDX array needs 1 to 255 dimensions")
    header = struct.pack(">BBBB", 0, 0, code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def images_as_bytes(images: np.ndarray) -> np.ndarray:
    """Images as unsigned bytes: integer arrays must lie in 0..255, float arrays in [0, 1]
    (scaled by 255 and rounded)."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    if images.dtype.kind in "iu":
        if images.size and (images.min() < 0 or images.max() > 255):
            raise ValueError("integer images must lie in 0..255")
        return images.astype(np.uint8)
    if images.dtype.kind == "f":
        if images.size and (not np.isfinite(images).all() or images.min() < 0 or images.max() > 1):
            raise ValueError("float images must lie in [0, 1]")
        return np.rint(images * 255.0).astype(np.uint8)
    raise TypeError(f"images of dtype {images.dtype} are neither integers nor floats")


def labels_as_bytes(labels: np.ndarray) -> np.ndarray:
    """Class labels as unsigned bytes (0..255)."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be one-dimensional, got shape {labels.shape}")
    if labels.dtype.kind not in "iu" and labels.size and not np.array_equal(labels, np.rint(labels)):
        raise ValueError("labels must be whole numbers")
    if labels.size and (labels.min() < 0 or labels.max() > 255):
        raise ValueError("labels must lie in 0..255")
    return labels.astype(np.uint8)
