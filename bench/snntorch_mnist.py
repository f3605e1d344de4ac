"""snnTorch baseline for the LIF benchmark (benches/lif.rs, results in bench/results/lif.md).

The same task as the Rust benchmark: the mnist10k split (first 8,000 digits for training, last
2,000 for testing, read from the same IDX files), 784-256-10, 25 time steps, Adam with lr 1e-3,
batch 128, 10 epochs, 2 CPU threads. The hidden layer is snnTorch's `Leaky` neuron with one
trainable decay per neuron (beta = 1 - leak, leak initialised uniform in [0, 0.1] as in the Rust
engine); the read-out is a non-spiking `Leaky` (no reset, trainable decay starting at 1, i.e. a
perfect integrator) whose membrane at the last step is the class score for the cross-entropy.

Setup (throwaway venv):
    python3 -m venv /tmp/snnvenv && /tmp/snnvenv/bin/pip install torch snntorch
Run:
    /tmp/snnvenv/bin/python bench/snntorch_mnist.py --coding poisson
    /tmp/snnvenv/bin/python bench/snntorch_mnist.py --coding constant
"""

import argparse
import gzip
import json
import os
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import snntorch as snn
from snntorch import spikegen, surrogate

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "mnist10k")


def read_idx(path):
    """An IDX file of unsigned bytes as a numpy array (gzip or raw)."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = raw[3]
    shape = struct.unpack(">" + "I" * dims, raw[4 : 4 + 4 * dims])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_split(data_dir):
    """(train_x, train_y, test_x, test_y): first 8,000 and last 2,000 digits, pixels in [0, 1]."""
    images = read_idx(os.path.join(data_dir, "images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(data_dir, "labels-idx1-ubyte.gz"))
    x = torch.tensor(images.reshape(len(images), -1), dtype=torch.float32) / 255.0
    y = torch.tensor(labels, dtype=torch.long)
    return x[:8000], y[:8000], x[-2000:], y[-2000:]


class Net(nn.Module):
    """784-256 LIF - 10 leaky-integrator read-out."""

    def __init__(self, spike_grad):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        beta1 = 1.0 - 0.1 * torch.rand(256)
        self.lif1 = snn.Leaky(beta=beta1, learn_beta=True, spike_grad=spike_grad)
        self.fc2 = nn.Linear(256, 10)
        self.out = snn.Leaky(beta=torch.ones(10), learn_beta=True, reset_mechanism="none")

    def forward(self, inputs):
        """inputs: (steps, batch, 784) → class scores (batch, 10) = read-out membrane at the end."""
        mem1 = self.lif1.init_leaky()
        mem2 = self.out.init_leaky()
        for x in inputs:
            spk1, mem1 = self.lif1(self.fc1(x), mem1)
            _, mem2 = self.out(self.fc2(spk1), mem2)
        return mem2


def encode(x, coding, steps):
    if coding == "poisson":
        return spikegen.rate(x, num_steps=steps)
    return x.unsqueeze(0).expand(steps, *x.shape)


def evaluate(net, x, y, coding, steps):
    net.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), 500):
            scores = net(encode(x[i : i + 500], coding, steps))
            correct += (scores.argmax(1) == y[i : i + 500]).sum().item()
    net.train()
    return correct / len(x)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--coding", choices=["poisson", "constant"], default="poisson")
    p.add_argument("--surrogate", choices=["atan", "fast_sigmoid"], default="atan")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--steps", type=int, default=25)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--data", default=DATA)
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    spike_grad = surrogate.atan() if a.surrogate == "atan" else surrogate.fast_sigmoid(slope=10)
    train_x, train_y, test_x, test_y = load_split(a.data)
    net = Net(spike_grad)
    opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    loss_fn = nn.CrossEntropyLoss()
    history = []
    for epoch in range(1, a.epochs + 1):
        order = torch.randperm(len(train_x))
        start = time.perf_counter()
        total, correct = 0.0, 0
        for i in range(0, len(order), a.batch):
            idx = order[i : i + a.batch]
            scores = net(encode(train_x[idx], a.coding, a.steps))
            loss = loss_fn(scores, train_y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            correct += (scores.argmax(1) == train_y[idx]).sum().item()
        seconds = time.perf_counter() - start
        test_acc = evaluate(net, test_x, test_y, a.coding, a.steps)
        row = {
            "epoch": epoch,
            "train_loss": total / len(order),
            "train_accuracy": correct / len(order),
            "test_accuracy": test_acc,
            "samples_per_second": len(order) / seconds,
        }
        history.append(row)
        print(
            f"snntorch {a.coding:8} {a.surrogate:12} epoch {epoch:2}: train loss {row['train_loss']:.4f} "
            f"acc {row['train_accuracy']:.4f} | test acc {test_acc:.4f} | "
            f"{row['samples_per_second']:.0f} samples/s",
            flush=True,
        )
    speeds = [h["samples_per_second"] for h in history]
    summary = {
        "coding": a.coding,
        "surrogate": a.surrogate,
        "epochs": a.epochs,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "snntorch": snn.__version__,
        "test_accuracy_last": history[-1]["test_accuracy"],
        "test_accuracy_best": max(h["test_accuracy"] for h in history),
        "samples_per_second_mean": sum(speeds) / len(speeds),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
