"""A NumPy forward pass of a fluxlab `lif` model read from its model.json layout.

Reads a JSON file {"model": <model.json's "model">, "inputs": [[...], ...], "steps": T,
"gain": g} for a network of dense ReLU hidden layers with constant coding and a leaky-integrator
read-out decoded at the last step, and prints the softmax class probabilities of each input as
JSON. The weights are taken as the README documents them: flat, input-major,
weights[i * units + j] = input i -> unit j, so W = reshape(inputs, units) and a = x @ W + bias.
"""

import json
import sys

import numpy as np


def forward(model, x, steps, gain):
    h = (np.asarray(x, dtype=np.float32) * np.float32(gain)).astype(np.float32)
    for layer in model["layers"]:
        w = np.asarray(layer["weights"], dtype=np.float64).reshape(layer["inputs"], layer["units"])
        h = np.maximum(0.0, h @ w + np.asarray(layer["bias"], dtype=np.float64))
    out = model["readout"]
    w = np.asarray(out["weights"], dtype=np.float64).reshape(out["inputs"], out["units"])
    a = h @ w + np.asarray(out["bias"], dtype=np.float64)
    q = 1.0 - out["leak"][0]
    v = np.zeros_like(a)
    for _ in range(steps):
        v = np.maximum(0.0, a + q * v)
    e = np.exp(v - v.max())
    return (e / e.sum()).tolist()


def main():
    with open(sys.argv[1]) as f:
        job = json.load(f)
    print(json.dumps([forward(job["model"], x, job["steps"], job["gain"]) for x in job["inputs"]]))


if __name__ == "__main__":
    main()
