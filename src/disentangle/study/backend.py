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

    def train_config(self, run: Run, device: str) -> Any:
        from ..training import TrainConfig

        t = run.training
        hyperparams = {run.hyperparameter: run.value}
        threshold = int(t.get("annealed_vae_iteration_threshold", 100_000))
        if run.method == "annealed_vae" and threshold != 100_000:  # the config's default is the reference's
            hyperparams["iteration_threshold"] = threshold
        return TrainConfig(method=run.method, hyperparams=hyperparams, seed=run.seed, lr=float(t.get("lr", 1e-4)),
                           steps=t["steps"], batch_size=t["batch_size"], latent_dim=t["latent_dim"],
                           encoder_kernel=t["encoder_kernel"], log_every=t["log_every"],
                           checkpoint_every=t["checkpoint_every"], eval_batches=t["eval_batches"],
                           device=device, factor_vae_double_step=t["factor_vae_double_step"],
                           precision=t.get("precision", "fp32"), progress=False)

    def train(self, runs: Sequence[Run], dataset: Any, out_dirs: Sequence[Path], device: str) -> list[dict]:
        """Train (or resume) the runs, all of one (dataset, method); one train record each."""
        from ..training import train, train_batched

        configs = [self.train_config(r, device) for r in runs]
        if len(runs) == 1:
            return [train(configs[0], dataset, out_dirs[0])]
        return train_batched(configs, dataset, out_dirs)

    def load_model(self, model_dir: Path, device: str) -> Any:
        """The trained model, with ``represent_mean(x)`` and ``represent_sampled(x, rng)``."""
        from ..training import load_model

        return load_model(model_dir, device=None if device == "auto" else device)

    def evaluation_seeds(self, representation: str) -> dict[str, int]:
        """Per-metric-config evaluation seeds, the same for every model (study.md §7.2; pinned in
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
