"""What determines a training run (`methods/unsupervised/train.py`, `shared.gin`): :class:`TrainConfig` and the
seeds derived from it. The bottom of the training package: it imports nothing
from it (``engine.py`` trains a list of these configs).

The params files' ``study.training`` section maps onto :class:`TrainConfig` by
field name (:meth:`TrainConfig.from_params`): a new training setting is one
field here plus one entry in ``params.py``'s schema.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..models import method_config


#: training precisions (see ``TrainConfig``)
PRECISIONS = ("fp32", "bf16")

#: keys of the params' ``study.training`` section that are not ``TrainConfig`` fields:
#: a scheduling knob (how many runs one stacked network trains, ``study/executors.py``)
#: and method hyperparameters set study-wide (see ``TRAINING_HYPERPARAMS``)
STUDY_ONLY_TRAINING_KEYS = ("models_per_batch", "annealed_vae_iteration_threshold")
#: study-only keys that become a method's hyperparameter: key -> (method, hyperparameter).
#: Added only where the value differs from the method config's default (the reference's), so
#: runs trained before the setting existed keep their ``train_config.json``.
TRAINING_HYPERPARAMS = {"annealed_vae_iteration_threshold": ("annealed_vae", "iteration_threshold")}
#: fields each run sets itself (from the grid and the shared params), never the training section
PER_RUN_FIELDS = ("method", "hyperparams", "seed", "device", "progress")


@dataclass
class TrainConfig:
    """Everything that determines a training run (defaults: `methods/unsupervised/train.py`, `shared.gin`).

    ``steps`` counts *global* steps as the reference does. Every method does one
    parameter update per global step, except FactorVAE with
    ``factor_vae_double_step`` (the default): the reference's two
    ``minimize(global_step=...)`` calls advance the global step twice per
    iteration, so its "300,000 steps" are 150,000 updates (book/design.md,
    "FactorVAE's double step"). We replicate that by default because it is what produced the paper's
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
    ``lr_warmup`` and ``lr_final`` schedule the VAE's learning rate (the reference's is
    constant: 0 and None, :meth:`learning_rate`); FactorVAE's discriminator keeps its own.
    """

    method: str
    hyperparams: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    steps: int = 300_000
    batch_size: int = 64
    latent_dim: int = 10
    encoder_kernel: int = 2
    lr: float = 1e-4
    lr_warmup: int = 0
    lr_final: float | None = None
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    log_every: int = 100
    checkpoint_every: int = 5_000
    eval_batches: int = 1_000
    device: str = "auto"
    factor_vae_double_step: bool = True
    precision: str = "fp32"
    progress: bool = True

    #: schedule fields added after runs existed: left out of ``to_dict`` at these defaults
    #: (the reference's constant rate), so earlier runs keep their ``train_config.json``
    SCHEDULE_DEFAULTS = {"lr_warmup": 0, "lr_final": None}
    #: fields that do not change the trained numbers (may differ on resume)
    OPERATIONAL = ("log_every", "checkpoint_every", "device", "progress")

    def __post_init__(self) -> None:
        self.betas = tuple(float(b) for b in self.betas)
        self.lr, self.eps = float(self.lr), float(self.eps)
        self.hyperparams = dict(self.hyperparams)
        method_config(self.method, **self.hyperparams)  # validates method and hyperparameter names
        for name in ("steps", "batch_size", "latent_dim", "log_every", "checkpoint_every"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"TrainConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"TrainConfig.precision must be one of {PRECISIONS}, got {self.precision!r}")
        self.lr_warmup = int(self.lr_warmup)
        if self.lr_warmup < 0 or (self.lr_warmup and self.lr_warmup >= self.iterations):
            raise ValueError(f"TrainConfig.lr_warmup must be >= 0 and below the {self.iterations} updates, "
                             f"got {self.lr_warmup}")
        if self.lr_final is not None:
            self.lr_final = float(self.lr_final)
            if not 0 < self.lr_final:
                raise ValueError(f"TrainConfig.lr_final must be > 0 (or None: constant), got {self.lr_final}")
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

    def learning_rate(self, update: int) -> float:
        """The VAE's learning rate for update ``update`` (0-based): a linear warm-up from
        ``lr / lr_warmup`` to ``lr`` over the first ``lr_warmup`` updates, then ``lr``, or,
        with ``lr_final``, a cosine from ``lr`` down to ``lr_final`` at the last update."""
        if update < self.lr_warmup:
            return self.lr * (update + 1) / self.lr_warmup
        if self.lr_final is None:
            return self.lr
        span = max(1, self.iterations - 1 - self.lr_warmup)
        t = min(1.0, (update - self.lr_warmup) / span)
        return self.lr_final + 0.5 * (self.lr - self.lr_final) * (1 + math.cos(math.pi * t))

    @property
    def constant_lr(self) -> bool:
        return self.lr_warmup == 0 and self.lr_final is None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["betas"] = list(d["betas"])
        for name, default in self.SCHEDULE_DEFAULTS.items():
            if d[name] == default:
                del d[name]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    @classmethod
    def from_params(cls, training: Mapping[str, Any], *, method: str, hyperparams: Mapping[str, Any], seed: int,
                    device: str = "auto", progress: bool = False) -> "TrainConfig":
        """The config of one run of a study: every key of the params' ``study.training``
        section that names a field becomes that field; of the study-only keys,
        ``models_per_batch`` is left to the scheduler and ``TRAINING_HYPERPARAMS`` join
        ``hyperparams`` (for their method, when not the default). Any other key is an error."""
        settable = [f.name for f in fields(cls) if f.name not in PER_RUN_FIELDS]
        unknown = sorted(set(training) - set(settable) - set(STUDY_ONLY_TRAINING_KEYS))
        if unknown:
            raise ValueError(f"study.training: {unknown} is neither a TrainConfig field ({settable}) nor a study-only "
                             f"key {list(STUDY_ONLY_TRAINING_KEYS)}; a new training setting needs a TrainConfig field "
                             f"of the same name (training/config.py)")
        hyperparams = dict(hyperparams)
        for key, (for_method, name) in TRAINING_HYPERPARAMS.items():
            default = getattr(method_config(for_method), name)
            if method == for_method and key in training and type(default)(training[key]) != default:
                hyperparams[name] = type(default)(training[key])
        return cls(method=method, hyperparams=hyperparams, seed=seed, device=device, progress=progress,
                   **{k: v for k, v in training.items() if k in settable})

    def identity(self) -> dict[str, Any]:
        """The fields that determine the result (for resume / finished-run checks)."""
        return {k: v for k, v in self.to_dict().items() if k not in self.OPERATIONAL}


def derive_seeds(seed: int) -> tuple[int, int]:
    """``(data_seed, eval_data_seed)``: the first two ``randint(2**32)`` of
    ``RandomState(seed)`` (`methods/unsupervised/train.py`, `shared.gin`)."""
    rs = np.random.RandomState(seed)
    return int(rs.randint(2**32)), int(rs.randint(2**32))
