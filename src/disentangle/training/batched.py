"""Batched multi-model training: K runs of one method advancing in lock-step.

The K models (different seeds and/or hyperparameter values) are split into
"shards", each a stack of models along a model axis: convolutions become one
grouped convolution (``groups=k``), dense layers one batched matmul
(``models/architecture.py``). On GPU one shard holds all K; on CPU the default
is one shard per model, stepped concurrently by one single-threaded worker
per core, which measured fastest there (``benchmarks/train_throughput.py``:
grouped convolutions give no per-model gain on a CPU, and single-threaded
workers avoid OpenMP barrier stalls when the cores are shared). Each model keeps
its own data stream, eval stream, ``torch.Generator``, Adam moments, log,
checkpoints and output folder, so its result equals training it alone with
:func:`~disentangle.training.train` up to float rounding, and its folder can be
loaded with :func:`~disentangle.training.load_model`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from ..data.base import GroundTruthDataset
from .engine import run_stack
from .trainer import TrainConfig


def train_batched(configs: Sequence[TrainConfig], dataset: GroundTruthDataset,
                  out_dirs: Sequence[str | Path], *, stop_after: int | None = None,
                  shards: int | None = None, conv_impl: str | None = None,
                  conv_micro_batch: int | None | str = "auto") -> list[dict[str, Any]]:
    """Train every config into its own folder; returns the records in order.

    All configs must share the method and every setting except ``seed`` and
    ``hyperparams``. Finished runs are skipped (their stored records returned);
    unfinished ones resume from the newest checkpoint they all have.
    ``shards``: how many stacked networks the models are split into, stepped
    concurrently by single-threaded workers (default: one per model on CPU, a
    single grouped network on GPU); ``conv_impl``: ``"grouped"`` or ``"matmul"``
    convolutions (default :data:`~disentangle.training.engine.DEFAULT_CONV_IMPL`);
    ``conv_micro_batch``: images per convolution pass (``"auto"``:
    :func:`~disentangle.training.engine.default_conv_micro_batch`; ``None``: the
    whole batch). All three change float rounding only.
    """
    if not configs:
        raise ValueError("train_batched needs at least one config")
    return run_stack(list(configs), dataset, [Path(d) for d in out_dirs], stop_after=stop_after, shards=shards,
                     conv_impl=conv_impl, conv_micro_batch=conv_micro_batch)
