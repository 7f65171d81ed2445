"""Training one model (study.md §2.4): config, seeding, and the ``train`` entry point.

``train`` is the K = 1 case of the stacked engine (``training/engine.py``),
so a model trained alone and the same model trained in a batch go through the
same code.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data.base import GroundTruthDataset
from ..models import method_config


#: training precisions (see ``TrainConfig``)
PRECISIONS = ("fp32", "bf16")


@dataclass
class TrainConfig:
    """Everything that determines a training run (defaults: study.md §2.4).

    ``steps`` counts *global* steps as the reference does. Every method does one
    parameter update per global step, except FactorVAE with
    ``factor_vae_double_step`` (the default): the reference's two
    ``minimize(global_step=...)`` calls advance the global step twice per
    iteration, so its "300,000 steps" are 150,000 updates (study.md §1.4 NOTE,
    §8.1). We replicate that by default because it is what produced the paper's
    FactorVAE numbers; set it False to give FactorVAE ``steps`` updates.
    ``log_every`` and ``checkpoint_every`` count iterations (updates).
    ``eval_batches``: batches of the second data stream for the final record
    (reference: 1000). ``device``: "auto" (cuda > mps > cpu) or a torch device.
    ``precision``: "fp32" (the reference's) or "bf16" — mixed precision: the
    encoder's and decoder's convolutions and dense layers run in bfloat16 under
    ``torch.autocast``; weights, Adam, latents, losses and regularisers
    (FactorVAE's discriminator included) stay float32. It changes the trained
    numbers (so it is part of the run's identity) and pays off on CPUs with
    AMX/AVX-512-BF16 (1.7x here, benchmarks/train_throughput.py) and on GPUs.
    """

    method: str
    hyperparams: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    steps: int = 300_000
    batch_size: int = 64
    latent_dim: int = 10
    encoder_kernel: int = 2
    lr: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    log_every: int = 100
    checkpoint_every: int = 5_000
    eval_batches: int = 1_000
    device: str = "auto"
    factor_vae_double_step: bool = True
    precision: str = "fp32"
    progress: bool = True

    #: fields that do not change the trained numbers (may differ on resume)
    OPERATIONAL = ("log_every", "checkpoint_every", "device", "progress")

    def __post_init__(self) -> None:
        self.betas = tuple(float(b) for b in self.betas)
        self.hyperparams = dict(self.hyperparams)
        method_config(self.method, **self.hyperparams)  # validates method and hyperparameter names
        for name in ("steps", "batch_size", "latent_dim", "log_every", "checkpoint_every"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"TrainConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"TrainConfig.precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.eval_batches < 0:
            raise ValueError(f"TrainConfig.eval_batches must be >= 0, got {self.eval_batches}")
        if not 0 <= int(self.seed) < 2**32:
            raise ValueError(f"seed must be in [0, 2**32), got {self.seed}")
        if self.iterations < 1:
            raise ValueError(f"{self.steps} global steps give no FactorVAE iteration (double step)")

    @property
    def step_increment(self) -> int:
        """Global steps per iteration: 2 for FactorVAE with the double step, else 1."""
        return 2 if self.method == "factor_vae" and self.factor_vae_double_step else 1

    @property
    def iterations(self) -> int:
        """Parameter updates this run performs."""
        return self.steps // self.step_increment

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["betas"] = list(d["betas"])
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    def identity(self) -> dict[str, Any]:
        """The fields that determine the result (for resume / finished-run checks)."""
        return {k: v for k, v in self.to_dict().items() if k not in self.OPERATIONAL}


def derive_seeds(seed: int) -> tuple[int, int]:
    """``(data_seed, eval_data_seed)``: the first two ``randint(2**32)`` of
    ``RandomState(seed)`` (study.md §2.4)."""
    rs = np.random.RandomState(seed)
    return int(rs.randint(2**32)), int(rs.randint(2**32))


def train(config: TrainConfig, dataset: GroundTruthDataset, out_dir: str | Path, *,
          stop_after: int | None = None) -> dict[str, Any]:
    """Train one model into ``out_dir`` and return its train-results record.

    Resumes from the last checkpoint in ``out_dir``; a finished run is not
    retrained (its stored record is returned). ``stop_after``: raise
    :class:`TrainingStopped` right after the checkpoint at that iteration.
    Layout of ``out_dir``: ``train_config.json``, ``log.jsonl``,
    ``checkpoints/`` (removed when done), ``model/`` (see ``load_model``),
    ``train_results.json``.
    """
    from .engine import run_stack

    return run_stack([config], dataset, [Path(out_dir)], stop_after=stop_after)[0]


def read_results(out_dir: str | Path) -> dict[str, Any] | None:
    """The stored train-results record of a finished run, else ``None``.

    A run counts as finished only with its model (``model/model.pt`` and
    ``model/config.json``); a ``train_results.json`` without them, or one that is
    not valid JSON, is moved to ``damaged/`` and the run is trained again (a
    warning names the file)."""
    from ..io import DamagedFileError, read_json, set_aside

    out_dir = Path(out_dir)
    path = out_dir / "train_results.json"
    try:
        record = read_json(path)
        why = None
    except DamagedFileError as e:
        record, why = None, str(e)
    if record is not None:
        missing = [n for n in ("model.pt", "config.json") if not (out_dir / "model" / n).is_file()]
        if not missing:
            return record
        why = f"{path}: its model is incomplete (missing {', '.join(f'model/{n}' for n in missing)})"
    if why is not None:
        warnings.warn(f"{why}; set aside as {set_aside(path, out_dir)}, training again", stacklevel=2)
    return None
