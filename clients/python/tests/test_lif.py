"""lif jobs: model.json as typed arrays, predictions from arrays, datasets from arrays and IDX."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import fluxlab

from conftest import ROOT

COINCIDENCE = {"synthetic": {"task": "coincidence", "channels": 4, "steps": 20, "window": 2}}


@pytest.fixture(scope="module")
def trained(server) -> fluxlab.Job:  # type: ignore[no-untyped-def]
    with fluxlab.Client(server.url, token=server.token) as c:
        job = c.lif(
            COINCIDENCE, encoding={"type": "raster", "steps": 20},
            layers=[{"type": "lif", "units": 16}], epochs=2, batch_size=64, seed=1,
        )
        job.wait(progress=False)
        return job


def test_model_has_typed_arrays_with_shapes(client: fluxlab.Client, trained: fluxlab.Job) -> None:
    job = client.job(trained.id)
    assert job.status == "succeeded"
    model = job.model()
    assert isinstance(model, fluxlab.LifModel)
    assert model.inputs == 4 and model.classes == 2 and model.epochs_trained == 2
    assert model.input_values == 80
    (layer,) = model.layers
    assert layer.type == "lif"
    assert layer.weights.shape == (4, 16) and layer.weights.dtype == np.float32
    assert layer.bias.shape == (16,) and layer.leak.shape == (16,)
    assert model.readout.weights.shape == (16, 2) and model.readout.leak.shape == (1,)
    assert [leak.shape for leak in model.leaks] == [(16,)]
    # The leaks in the model are the ones the result's histogram counts.
    histogram = job.result()["leak"]["histogram"]
    assert sum(histogram["counts"]) == 16
    assert "16)" in repr(model)


def test_predict_from_an_array(client: fluxlab.Client, trained: fluxlab.Job) -> None:
    rng = np.random.default_rng(0)
    x = (rng.random((5, 80)) < 0.2).astype(np.float64)
    p = client.predict(trained, x)
    assert p.classes.shape == (5,) and p.probabilities.shape == (5, 2)
    np.testing.assert_allclose(p.probabilities.sum(axis=1), 1.0, atol=1e-6)
    assert (p.classes == p.probabilities.argmax(axis=1)).all()
    # By id, and 3-D inputs are flattened per sample; the same inputs give the same answers.
    again = client.predict(trained.id, x.reshape(5, 4, 20))
    np.testing.assert_array_equal(again.classes, p.classes)
    with pytest.raises(fluxlab.ProblemError) as e:
        client.predict(trained, np.zeros((2, 79)))
    assert e.value.status == 422 and e.value.errors[0].field == "inputs[0]"


def test_upload_dataset_from_arrays_and_idx_files(client: fluxlab.Client, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    images = rng.random((40, 6, 6))  # floats in [0, 1]
    labels = np.arange(40) % 3
    ds = client.upload_dataset(images, labels, name="tiny")
    assert ds["count"] == 40 and ds["shape"] == [6, 6] and ds["classes"] == 3
    assert ds["id"] in [d["id"] for d in client.datasets()]
    job = client.lif(ds["id"], layers=[{"type": "lif", "units": 8}], epochs=1,
                     encoding={"type": "constant", "steps": 4})
    assert job.wait(progress=False).status == "succeeded", job.error
    assert job.model().layers[0].weights.shape == (36, 8)
    client.delete_dataset(ds["id"])
    with pytest.raises(fluxlab.ProblemError) as e:
        client.delete_dataset(ds["id"])
    assert e.value.status == 404

    mnist = ROOT / "data" / "mnist10k"
    ds = client.upload_dataset(mnist / "images-idx3-ubyte.gz", mnist / "labels-idx1-ubyte.gz", name="digits")
    assert ds["count"] == 10000 and ds["shape"] == [28, 28] and ds["classes"] == 10
    client.delete_dataset(ds["id"])

    with pytest.raises(ValueError):
        client.upload_dataset(np.full((2, 3, 3), 2.0), [0, 1])  # floats beyond [0, 1]
    with pytest.raises(fluxlab.ProblemError) as e:
        client.upload_dataset(np.zeros((3, 4, 4), np.uint8), [0, 1])  # 3 images, 2 labels
    assert e.value.status == 422 and e.value.errors
