"""fluxlab: the Python client of the fluxlab job server.

    import fluxlab
    client = fluxlab.Client("http://127.0.0.1:8080")
    job = client.mi({"ensemble": {"n": 8, "replicates": 3}, "sweep": {"param": "std", "values": [0.5, 1, 2]}})
    job.wait()                  # a progress bar fed by the job's event stream
    job.networks()              # one row per network: params, replicate, I, C, entropies, …
"""

from ._client import Client, Predictions
from ._errors import FieldError, FluxlabError, ProblemError, ResponseTooLarge, WaitTimeout
from ._job import Job, Svg
from ._sse import Event
from ._tables import Layer, LifModel

__all__ = [
    "Client",
    "Event",
    "FieldError",
    "FluxlabError",
    "Job",
    "Layer",
    "LifModel",
    "Predictions",
    "ProblemError",
    "ResponseTooLarge",
    "Svg",
    "WaitTimeout",
]
__version__ = "0.1.0"
