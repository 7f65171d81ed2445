"""What a study calls to do the work: data, training, model loading, metrics.

:class:`Backend` is the seam between orchestration (locks, records,
executors) and the library: the default one calls ``disentangle.data``,
``disentangle.training`` and ``disentangle.metrics``; tests pass a small fake
with the same methods. A backend must be picklable (it travels to worker
processes and Slurm tasks).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .grid import Run


class Backend:
    """The library's real data, trainer and metrics (imported lazily)."""

    def resolve_source(self, name: str, source: str, root: str | None) -> str:
        """The source a dataset request resolves to (``auto`` → ``file`` or ``procedural``)."""
        if source != "auto":
            return source
        return self.dataset(name, source, root).source

    def dataset(self, name: str, source: str, root: str | None) -> Any:
        from ..data import get_dataset

        return get_dataset(name, source=source, root=root)

    def prepare_dataset(self, name: str, source: str, root: str | None, workers: int) -> float:
        """One-time preparation a dataset offers (``prepare(workers)``, e.g. procedural dSprites'
        grid), done before the workers start; seconds spent."""
        prepare = getattr(self.dataset(name, source, root), "prepare", None)
        return prepare(workers) if prepare is not None else 0.0

    def train_config(self, run: Run, device: str) -> Any:
        """The run's ``TrainConfig``: its grid point plus the params' training section."""
        from ..training import TrainConfig

        return TrainConfig.from_params(run.training, method=run.method, hyperparams={run.hyperparameter: run.value},
                                       seed=run.seed, device=device, progress=False)

    def train(self, runs: Sequence[Run], dataset: Any, out_dirs: Sequence[Path], device: str) -> list[dict]:
        """Train (or resume) the runs, all of one (dataset, method), together; one train record each."""
        from ..training import train

        return train([self.train_config(r, device) for r in runs], dataset, out_dirs)

    def load_model(self, model_dir: Path, device: str) -> Any:
        """The trained model, with ``represent_mean(x)`` and ``represent_sampled(x, rng)``."""
        from ..training import load_model

        return load_model(model_dir, device=None if device == "auto" else device)

    def evaluation_seeds(self, representation: str) -> dict[str, int]:
        """Per-metric-config evaluation seeds, the same for every model (`bin/dlib_reproduce: main`; pinned in
        ``vocabulary``)."""
        from .. import vocabulary

        return vocabulary.evaluation_seeds(representation)

    def evaluate(self, dataset: Any, represent_for: Callable[[str, int], Callable[[np.ndarray], np.ndarray]],
                 metrics: Sequence[str], seeds: dict[str, int], settings: str, overrides: dict | None = None,
                 classifiers: str = "paper") -> dict[str, Any]:
        """The metric configs on one representation → ``{"<metric>.<key>": value, ...,
        "<metric>.elapsed_time": s}``; ``represent_for(metric, seed)`` gives each its representation."""
        import torch

        from ..metrics import evaluate

        # n_jobs: classifier-fit threads within this worker's thread budget (values do not depend on it)
        return evaluate(dataset, represent_for=represent_for, metrics=metrics, seed=seeds, settings=settings,
                        n_jobs=torch.get_num_threads(), overrides=overrides, classifiers=classifiers)

    def twin_representations(self, dataset: Any, model: Any, seed: int) -> tuple[Callable, Callable]:
        """``(standardised, rotated twin)`` of ``model``'s mean codes (``study/controls.py``)."""
        from ..metrics.controls import twin_pair
        from .controls import MOMENTS_SEED, ROTATION_SEED

        return twin_pair(dataset, model.represent_mean, seed=MOMENTS_SEED, rotation_seed=[ROTATION_SEED, seed])

    def untrained_model(self, dataset: Any, training: dict[str, Any], seed: int, device: str) -> Any:
        """The reference encoder/decoder at initialisation for ``seed`` (as a run of that seed starts)."""
        import tempfile

        from ..training import TrainConfig, load_model
        from ..training.engine import Stack
        from ..training.saved_model import save_model
        from .controls import UNTRAINED_METHOD

        config = TrainConfig.from_params(training, method=UNTRAINED_METHOD, hyperparams={}, seed=seed, device=device)
        with tempfile.TemporaryDirectory(prefix="untrained-") as tmp:
            stack = Stack([config], dataset, [Path(tmp) / "run"])
            shard, j = stack.shard_and_slot[0]
            save_model(shard.model, j, Path(tmp) / "model", seed=seed, dataset=dataset.label)
            return load_model(Path(tmp) / "model", device=None if device == "auto" else device)

    def resolved_device(self, device: str) -> str:
        from ..devices import resolve_device

        return str(resolve_device(device))

    def versions(self) -> dict[str, str]:
        """Package versions recorded in every row."""
        import platform

        import numpy
        import sklearn
        import torch

        from .. import __version__

        return {"version.disentangle": __version__, "version.torch": torch.__version__,
                "version.numpy": numpy.__version__, "version.sklearn": sklearn.__version__,
                "version.python": platform.python_version()}
