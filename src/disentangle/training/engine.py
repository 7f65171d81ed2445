"""Training (`methods/unsupervised/train.py`, `shared.gin`): :func:`train`, the one entry point, and its engine,
K models of one method trained in lock-step (K = 1 is ordinary single-model training).

Each model keeps everything it would have alone: its seed, its data stream
``RandomState(data_seed)``, its eval stream, its ``torch.Generator`` (init,
reparameterisation noise, FactorVAE permutations), its own Adam moments, log,
checkpoints and output folder. Only the arithmetic is shared, so model k of a
stack matches the same model trained alone up to float rounding, and its folder
loads with :func:`~disentangle.training.load_model`.

The K models are split into "shards", each a stack of models along a model
axis: convolutions become one grouped convolution (``groups=k``), dense layers
one batched matmul (``models/architecture.py``). On GPU one shard holds all K;
on CPU the default is one shard per model, stepped concurrently by one
single-threaded worker per core, which measured fastest there
(``benchmarks/train_throughput.py``: grouped convolutions give no per-model gain
on a CPU, and single-threaded workers avoid OpenMP barrier stalls when the cores
are shared).

Checkpoints are per model, in the single-model format, under
``<out_dir>/checkpoints/iteration-XXXXXXXX.pt``; the previous one is deleted
only after every model's new one is written, so a killed stack always has a
common iteration to resume from.
"""

from __future__ import annotations

import json
import shutil
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from ..data.base import GroundTruthDataset
from ..devices import host_to_device, resolve_device
from ..io import DamagedFileError, atomic_path, atomic_write_json, atomic_write_text, read_json, set_aside
from ..models import GaussianVAE, build_stacked_model
from ..models.architecture import set_conv_impl, set_conv_micro_batch
from .config import TrainConfig, derive_seeds
from .saved_model import load_weights, save_model

CHECKPOINT_FORMAT = 1
RECORD_KEYS = ("loss", "reconstruction_loss", "kl_loss", "regularizer", "elbo")
#: threads drawing the models' batches when training on an accelerator
DATA_THREADS = 8


def paper_update(model, optimisers: dict[str, torch.optim.Optimizer], x: torch.Tensor, *, step: int,
                 generators: Sequence[torch.Generator], precision, vae_lr: float | None = None):
    """One update of the paper's training algorithm (`methods/unsupervised/vae.py: BaseVAE.model_fn`,
    `methods/unsupervised/train.py`), for every model stacked in ``model``:

    1. loss = reconstruction + regulariser, per model (FactorVAE: its discriminator's loss too,
       minimised by the discriminator's own optimiser);
    2. the gradients of every model's loss, all taken at the current parameters;
    3. one Adam step per optimiser.

    The knobs that do not change the algorithm: ``precision`` (the autocast context of the
    forward pass, ``Engine.autocast``), ``vae_lr`` (a schedule's rate for this update; None
    keeps the constant rate; the discriminator keeps its own). Summing the models' losses
    leaves each model's gradient its own (the models share no parameter). Returns the
    forward pass's loss parts."""
    with precision:
        out = model(x, step=step, generators=generators)
    loss = out.loss.sum()  # reconstruction + regulariser, summed over the stacked models
    if out.discriminator_loss is not None:
        loss = loss + out.discriminator_loss.sum()
    for optimiser in optimisers.values():
        optimiser.zero_grad(set_to_none=True)
    loss.backward()
    if vae_lr is not None:
        for group in optimisers["vae"].param_groups:
            group["lr"] = vae_lr
    for optimiser in optimisers.values():
        optimiser.step()
    return out


class TrainingStopped(RuntimeError):
    """Raised by the ``stop_after`` hook once the requested checkpoint is written."""


def train(configs: TrainConfig | Sequence[TrainConfig], dataset: GroundTruthDataset,
          out_dirs: str | Path | Sequence[str | Path], *, stop_after: int | None = None, shards: int | None = None,
          conv_impl: str | None = None, conv_micro_batch: int | None | str = "auto",
          ) -> dict[str, Any] | list[dict[str, Any]]:
    """Train each config into its own folder and return its train-results record.

    One config and one folder give one record; a sequence of configs and a sequence
    of folders (same length) give the records in order, the models trained together
    (one stack). Configs trained together must share the method and every setting
    except ``seed`` and ``hyperparams``.

    Finished runs are not retrained (their stored records are returned); the others
    resume from the newest checkpoint they all have. ``stop_after``: raise
    :class:`TrainingStopped` right after the checkpoint at that iteration. Layout of
    each folder: ``train_config.json``, ``log.jsonl``, ``checkpoints/`` (removed when
    done), ``model/`` (see ``load_model``), ``train_results.json``.

    Engine knobs, which change float rounding only: ``shards``, how many stacked
    networks the models are split into (default :func:`default_shards`);
    ``conv_impl``, ``"grouped"`` or ``"matmul"`` convolutions (default
    :data:`DEFAULT_CONV_IMPL`); ``conv_micro_batch``, images per convolution pass
    (``"auto"``: :func:`default_conv_micro_batch`; ``None``: the whole batch).
    """
    one = isinstance(configs, TrainConfig)
    if one != isinstance(out_dirs, (str, Path)):
        raise ValueError("train takes one config and one output folder, or a sequence of each "
                         f"(got {type(configs).__name__} and {type(out_dirs).__name__})")
    configs, out_dirs = ([configs], [out_dirs]) if one else (list(configs), list(out_dirs))
    if not configs:
        raise ValueError("train needs at least one config")
    if len(configs) != len(out_dirs):
        raise ValueError(f"{len(configs)} configs but {len(out_dirs)} output folders")
    out_dirs = [Path(d) for d in out_dirs]
    if len({d.resolve() for d in out_dirs}) != len(out_dirs):
        raise ValueError("every model needs its own output folder")
    for config, out_dir in zip(configs, out_dirs):
        _claim_folder(config, out_dir)
    results: list[dict[str, Any] | None] = [read_results(d) for d in out_dirs]
    todo = [i for i, r in enumerate(results) if r is None]
    if todo:
        stack = Stack([configs[i] for i in todo], dataset, [out_dirs[i] for i in todo], shards=shards,
                      conv_impl=conv_impl, conv_micro_batch=conv_micro_batch)
        for i, record in zip(todo, stack.run(stop_after)):
            results[i] = record
    return results[0] if one else results


def read_results(out_dir: str | Path) -> dict[str, Any] | None:
    """The stored train-results record of a finished run, else ``None``.

    A run counts as finished only with its model (``model/model.pt`` and
    ``model/config.json``); a ``train_results.json`` without them, or one that is
    not valid JSON, is moved to ``damaged/`` and the run is trained again (a
    warning names the file)."""
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


def _claim_folder(config: TrainConfig, out_dir: Path) -> None:
    """Write ``train_config.json``, or check that the stored one describes the same run
    (a damaged one is set aside, with a warning naming it, and written again)."""
    path = out_dir / "train_config.json"
    try:
        read_json(path)
    except DamagedFileError as e:
        aside = set_aside(path, out_dir)
        warnings.warn(f"{e}; set aside as {aside} and written again", stacklevel=3)
    if path.exists():
        stored = TrainConfig.from_dict(json.loads(path.read_text()))
        if stored.identity() != config.identity():
            diff = {k: (v, config.identity()[k]) for k, v in stored.identity().items() if config.identity()[k] != v}
            raise ValueError(f"{out_dir} holds a different run (stored vs requested: {diff})")
    else:
        atomic_write_json(path, config.to_dict())


def _check_stackable(configs: Sequence[TrainConfig]) -> None:
    shared = [k for k in configs[0].identity() if k not in ("hyperparams", "seed")]
    for c in configs[1:]:
        bad = [k for k in shared if getattr(c, k) != getattr(configs[0], k)]
        if bad:
            raise ValueError(f"models trained together must agree on {bad} (only seed and hyperparams may differ)")


def _rng_state(rs: np.random.RandomState) -> dict[str, Any]:
    st = rs.get_state(legacy=False)
    return {"key": torch.from_numpy(st["state"]["key"].astype(np.int64)), "pos": int(st["state"]["pos"]),
            "has_gauss": int(st["has_gauss"]), "gauss": float(st["gauss"])}


def _set_rng_state(rs: np.random.RandomState, st: dict[str, Any]) -> None:
    rs.set_state({"bit_generator": "MT19937",
                  "state": {"key": st["key"].numpy().astype(np.uint32), "pos": st["pos"]},
                  "has_gauss": st["has_gauss"], "gauss": st["gauss"]})


def images_to_tensor(images: np.ndarray) -> torch.Tensor:
    """NHWC numpy images -> NCHW float32 tensor."""
    return torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)).permute(0, 3, 1, 2)


@dataclass
class Shard:
    """A contiguous range of the stack's models held in one stacked network."""

    models: range
    model: GaussianVAE
    optimisers: dict[str, torch.optim.Optimizer]
    param_names: dict[torch.nn.Parameter, str]


def default_shards(num_models: int, device: torch.device) -> int:
    """How many stacked networks to split K models into by default.

    On CPU: one per model. Single-threaded workers (one per torch thread) then
    step the models concurrently, which measured faster per model than one
    grouped network on all threads (benchmarks/train_throughput.py:
    two 1-thread streams beat one 2-thread stream). On GPUs: 1,
    a single grouped network that fills the device.
    """
    return num_models if device.type == "cpu" else 1


#: How stacked convolutions run unless ``conv_impl`` says otherwise (``models/architecture.py``).
#: Measured (benchmarks/train_throughput.py): on a 2-core CPU "matmul" is 0.4x; on an H200 it is
#: 0.87x at K = 32 and 1.14x at K = 128, so pass ``conv_impl="matmul"`` for very large GPU stacks.
DEFAULT_CONV_IMPL = "grouped"


def default_conv_micro_batch(device: torch.device, precision: str = "fp32") -> int | None:
    """Images per convolution pass unless ``conv_micro_batch`` says otherwise
    (``models/architecture.py``): 32 (of the 64) for float32 on CPU, else the whole batch.

    Measured on 2 cores, K = 8 (benchmarks/train_throughput.py): float32 1.08x faster with
    glibc's default malloc thresholds, which page-fault whole-batch float32 buffers back in
    every step, and equal once they are pinned; bfloat16 (half-size buffers) 5% slower. GPUs
    are filled best by the whole batch."""
    return 32 if device.type == "cpu" and precision == "fp32" else None


def use_deterministic_kernels(device: torch.device) -> None:
    """Same seed + same device => same numbers: on CUDA, cuDNN may otherwise pick
    non-deterministic convolution algorithms (measured: the same run twice then
    differs by ~1e-3 in the weights; with this, bit-identical at no speed cost)."""
    if device.type == "cuda":
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False


@contextmanager
def _restoring_thread_count() -> Iterator[None]:
    """Restore torch's intra-op thread count afterwards (workers set their own)."""
    before = torch.get_num_threads()
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _optimiser_slice(opt: torch.optim.Optimizer, names: dict[torch.nn.Parameter, str],
                     j: int) -> dict[str, dict[str, torch.Tensor]]:
    """Model ``j``'s optimiser state, keyed by parameter name (scalars such as Adam's step are shared)."""
    return {names[p]: {n: t.clone() if t.dim() == 0 else t[j:j + 1].detach().cpu().clone() for n, t in st.items()}
            for p, st in opt.state.items()}


class Stack:
    """K runs of one method advancing together; see the module docstring.

    The K models are split into ``shards`` stacked networks (default
    :func:`default_shards`), stepped concurrently by worker threads; their
    convolutions run over micro-batches of ``conv_micro_batch`` images (default
    :func:`default_conv_micro_batch`; ``None``: the whole batch). Neither changes
    which numbers a model sees, only the float rounding.
    """

    def __init__(self, configs: Sequence[TrainConfig], dataset: GroundTruthDataset, out_dirs: Sequence[Path],
                 shards: int | None = None, conv_impl: str | None = None,
                 conv_micro_batch: int | None | str = "auto"):
        _check_stackable(configs)
        self.configs, self.dataset, self.out_dirs = list(configs), dataset, list(out_dirs)
        c = self.configs[0]
        shape = tuple(dataset.observation_shape)
        if len(shape) != 3 or shape[0] != shape[1]:
            raise ValueError(f"training needs square (H, W, C) images, dataset gives {shape}")
        self.device = resolve_device(c.device)
        use_deterministic_kernels(self.device)
        self.conv_impl = DEFAULT_CONV_IMPL if conv_impl is None else conv_impl
        self.conv_micro_batch = (default_conv_micro_batch(self.device, c.precision) if conv_micro_batch == "auto"
                                 else conv_micro_batch)
        seeds = [derive_seeds(cfg.seed) for cfg in self.configs]
        self.data_rngs = [np.random.RandomState(s[0]) for s in seeds]
        self.eval_seeds = [s[1] for s in seeds]
        self.generators = [torch.Generator().manual_seed(cfg.seed) for cfg in self.configs]
        num_shards = default_shards(len(configs), self.device) if shards is None else shards
        if not 1 <= num_shards <= len(configs):
            raise ValueError(f"shards must be in [1, {len(configs)}], got {num_shards}")
        self.shards = [self._build_shard(range(int(r[0]), int(r[-1]) + 1), shape)
                       for r in np.array_split(np.arange(len(configs)), num_shards)]
        #: model k of the stack is model ``slot`` of ``shard``'s network: ``shard_and_slot[k] == (shard, slot)``
        self.shard_and_slot = [(shard, j) for shard in self.shards for j in range(len(shard.models))]
        # accelerators: draw batches in threads into a staging buffer (see _staged_batch)
        self.staged_data = self.device.type != "cpu"
        self._pool: ThreadPoolExecutor | None = None
        self.iteration = 0
        self.elapsed = 0.0  # seconds spent in this run so far, across resumes
        self.logs: list[list[dict[str, float]]] = [[] for _ in self.configs]
        # loss-part sums since the last log entry (checkpointed, so resumed logs match)
        self.pending: dict[str, torch.Tensor] = {}
        self.pending_count = 0
        self._resume()

    def _build_shard(self, models: range, shape: tuple[int, ...]) -> Shard:
        c = self.configs[0]
        model = build_stacked_model(c.method, [self.configs[k].hyperparams for k in models],
                                    num_channels=shape[2], image_size=shape[0],
                                    latent_dim=c.latent_dim, encoder_kernel=c.encoder_kernel)
        model.init_weights([self.generators[k] for k in models])
        set_conv_impl(model, self.conv_impl)
        set_conv_micro_batch(model, self.conv_micro_batch)
        model.to(self.device)
        return Shard(models, model, model.optimisers(c.lr, c.betas, c.eps),
                     {p: n for n, p in model.named_parameters()})

    def _map_shards(self, fn) -> list:
        """``fn(shard)`` for every shard; with several shards, by one single-threaded
        worker per torch intra-op thread."""
        workers = min(len(self.shards), torch.get_num_threads())
        if workers == 1:
            return [fn(shard) for shard in self.shards]
        def single_threaded(shard: Shard):
            torch.set_num_threads(1)  # per OS thread for OpenMP: set it inside the worker
            return fn(shard)

        with _restoring_thread_count(), ThreadPoolExecutor(workers) as pool:
            return list(pool.map(single_threaded, self.shards))

    # -- data -------------------------------------------------------------------------------
    def batch(self, models: range, rngs: Sequence[np.random.RandomState]) -> torch.Tensor:
        """``(B, k*C, H, W)`` (channels-last): one batch of uniformly sampled factors
        from each listed model's stream."""
        if self.staged_data:
            return self._staged_batch(models, rngs)
        b = self.configs[0].batch_size
        parts = [images_to_tensor(self.dataset.sample(b, rngs[k])[1]) for k in models]
        x = host_to_device(torch.cat(parts, dim=1), self.device)
        return x.contiguous(memory_format=torch.channels_last)

    def _staged_batch(self, models: range, rngs: Sequence[np.random.RandomState]) -> torch.Tensor:
        """:meth:`batch` for accelerators: the models' batches are drawn by a thread
        pool straight into one (pinned, on CUDA) ``(k, B, H, W, C)`` buffer, copied to
        the device without blocking, and interleaved into ``(B, k*C, H, W)`` there.
        Each model reads only its own stream, so the numbers are those of :meth:`batch`."""
        b, (h, w, c) = self.configs[0].batch_size, self.dataset.observation_shape
        staging = torch.empty((len(models), b, h, w, c), dtype=torch.float32,
                              pin_memory=self.device.type == "cuda")
        buffer = staging.numpy()

        def fill(j: int) -> None:
            buffer[j] = self.dataset.sample(b, rngs[models[j]])[1]

        if len(models) == 1:
            fill(0)
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(DATA_THREADS, thread_name_prefix="batches")
            list(self._pool.map(fill, range(len(models))))
        x = staging.to(self.device, non_blocking=True)  # the host allocator keeps it until copied
        x = x.permute(1, 2, 3, 0, 4).reshape(b, h, w, len(models) * c).contiguous()  # (B, H, W, k*C)
        return x.permute(0, 3, 1, 2)  # channels-last strides

    def next_batch(self) -> torch.Tensor:
        """The next training batch of every model, ``(B, K*C, H, W)``."""
        return self.batch(range(len(self.configs)), self.data_rngs)

    @property
    def global_step(self) -> int:
        return self.iteration * self.configs[0].step_increment

    def autocast(self):
        """The configured precision for a forward pass (``TrainConfig.precision``);
        enter it in the thread that computes (autocast state is per thread)."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.configs[0].precision == "bf16")

    # -- one update -------------------------------------------------------------------------
    def _shard_step(self, shard: Shard) -> dict[str, torch.Tensor]:
        """:func:`paper_update` of one shard's models on their next batches."""
        c = self.configs[0]
        out = paper_update(shard.model, shard.optimisers, self.batch(shard.models, self.data_rngs),
                           step=self.global_step, generators=[self.generators[k] for k in shard.models],
                           precision=self.autocast(),
                           vae_lr=None if c.constant_lr else c.learning_rate(self.iteration))
        return {k: v.detach() for k, v in out.parts().items()}

    def train_step(self) -> dict[str, torch.Tensor]:
        """One update of every model; loss parts of shape ``(K,)``."""
        parts = self._map_shards(self._shard_step)
        self.iteration += 1
        return {k: torch.cat([p[k] for p in parts]) for k in parts[0]}

    def run(self, stop_after: int | None = None) -> list[dict[str, Any]]:
        c = self.configs[0]
        total = c.iterations
        bar = tqdm(total=total, initial=self.iteration, disable=not c.progress, dynamic_ncols=True,
                   desc=f"{c.method} x{len(self.configs)}")
        start = time.perf_counter() - self.elapsed
        while self.iteration < total:
            parts = self.train_step()
            for k, v in parts.items():  # summed where computed: no GPU sync per step
                self.pending[k] = self.pending[k] + v if k in self.pending else v
            self.pending_count += 1
            bar.update(1)
            self.elapsed = time.perf_counter() - start
            if self.iteration % c.log_every == 0 or self.iteration == total:
                means = {k: (v.cpu() / self.pending_count).tolist() for k, v in self.pending.items()}
                self._log(means)
                bar.set_postfix({k: f"{np.mean(v):.2f}" for k, v in means.items() if k != "elbo"})
                self.pending, self.pending_count = {}, 0
            if self.iteration % c.checkpoint_every == 0 or self.iteration == total:
                self._checkpoint()
                if stop_after is not None and self.iteration >= stop_after and self.iteration < total:
                    bar.close()
                    raise TrainingStopped(f"stopped after the checkpoint at iteration {self.iteration}")
        bar.close()
        records = self._evaluate()
        for k, out_dir in enumerate(self.out_dirs):
            records[k]["elapsed_time"] = time.perf_counter() - start
            shard, j = self.shard_and_slot[k]
            save_model(shard.model, j, out_dir / "model", seed=self.configs[k].seed, dataset=self.dataset.label,
                       precision=self.configs[k].precision)
            atomic_write_json(out_dir / "train_results.json", records[k])
            shutil.rmtree(out_dir / "checkpoints")
        return records

    # -- evaluation -------------------------------------------------------------------------
    def _evaluate(self) -> list[dict[str, Any]]:
        """Mean loss parts over ``eval_batches`` batches of each model's second
        stream, at the final global step (`methods/unsupervised/train.py`, `shared.gin`)."""
        c = self.configs[0]
        eval_rngs = [np.random.RandomState(s) for s in self.eval_seeds]

        def shard_sums(shard: Shard) -> dict[str, torch.Tensor]:
            sums = {k: torch.zeros(len(shard.models)) for k in RECORD_KEYS}
            with torch.no_grad(), self.autocast():  # grad mode is per thread: set it in the worker
                for _ in range(c.eval_batches):
                    x = self.batch(shard.models, eval_rngs)
                    out = shard.model(x, step=self.global_step, generators=[self.generators[k] for k in shard.models])
                    for k in RECORD_KEYS:
                        sums[k] += getattr(out, k).cpu()
            return sums

        per_shard = self._map_shards(shard_sums)
        sums = {k: torch.cat([s[k] for s in per_shard]) for k in RECORD_KEYS}
        n = max(c.eval_batches, 1)
        return [{**{k: float(sums[k][i]) / n if c.eval_batches else float("nan") for k in RECORD_KEYS},
                 "global_step": self.global_step} for i in range(len(self.configs))]

    # -- logging and checkpoints ------------------------------------------------------------
    def _log(self, means: dict[str, list[float]]) -> None:
        for k, out_dir in enumerate(self.out_dirs):
            entry = {"iteration": self.iteration, "global_step": self.global_step,
                     "elapsed_time": self.elapsed, **{name: v[k] for name, v in means.items()}}
            self.logs[k].append(entry)
            atomic_write_text(out_dir / "log.jsonl", "".join(json.dumps(e) + "\n" for e in self.logs[k]))

    @staticmethod
    def _checkpoint_files(out_dir: Path) -> list[Path]:
        return sorted((out_dir / "checkpoints").glob("iteration-*.pt"))

    def _checkpoint(self) -> None:
        olds = [self._checkpoint_files(d) for d in self.out_dirs]
        for k, out_dir in enumerate(self.out_dirs):
            shard, j = self.shard_and_slot[k]
            state = {
                "format": CHECKPOINT_FORMAT, "iteration": self.iteration, "elapsed_time": self.elapsed,
                "config": self.configs[k].to_dict(),
                "model": {n: t[j:j + 1].detach().cpu().clone() for n, t in shard.model.state_dict().items()},
                "optimisers": {name: _optimiser_slice(opt, shard.param_names, j)
                               for name, opt in shard.optimisers.items()},
                "data_rng": _rng_state(self.data_rngs[k]),
                "torch_rng": self.generators[k].get_state(),
                "log": self.logs[k],
                "pending_log": {"count": self.pending_count, "sums": {n: float(v[k]) for n, v in self.pending.items()}},
            }
            with atomic_path(out_dir / "checkpoints" / f"iteration-{self.iteration:08d}.pt") as tmp, \
                    open(tmp, "wb") as f:
                torch.save(state, f)  # a file object: same state, same bytes (no temp name inside)
        for files in olds:  # only now is every model's new checkpoint on disk
            for f in files:
                if f.name != f"iteration-{self.iteration:08d}.pt":
                    f.unlink()

    def _resume(self) -> None:
        """Load the newest iteration checkpointed by *every* model, if any. A checkpoint
        that cannot be read is set aside (``<out_dir>/damaged/``, with a warning naming
        it) and training resumes from an older common one, or starts over."""
        available = [{int(f.stem.split("-")[1]): f for f in self._checkpoint_files(d)} for d in self.out_dirs]
        while True:
            common = set.intersection(*(set(a) for a in available)) if available else set()
            if not common:
                return
            it = max(common)
            states = []
            for k, a in enumerate(available):
                try:
                    st = load_weights(a[it])
                except DamagedFileError as e:
                    aside = set_aside(a.pop(it), self.out_dirs[k])
                    warnings.warn(f"{e}; set aside as {aside}; resuming from an older checkpoint or from the start",
                                  stacklevel=2)
                    break
                if st["format"] != CHECKPOINT_FORMAT:
                    raise ValueError(f"{a[it]}: unsupported checkpoint format {st['format']}")
                states.append(st)
            else:
                break
        for shard in self.shards:
            own = [states[k] for k in shard.models]
            with torch.no_grad():
                for n, t in shard.model.state_dict().items():
                    t.copy_(torch.cat([st["model"][n] for st in own]))
            for name, opt in shard.optimisers.items():
                for group in opt.param_groups:
                    for p in group["params"]:
                        pieces = [st["optimisers"][name].get(shard.param_names[p]) for st in own]
                        if pieces[0] is None:
                            continue
                        # Adam's step count is shared (fused Adam keeps it on the parameters' device)
                        step_device = p.device if group.get("fused") else torch.device("cpu")
                        opt.state[p] = {n: t.to(step_device, copy=True) if t.dim() == 0
                                        else torch.cat([pc[n] for pc in pieces]).to(p.device)
                                        for n, t in pieces[0].items()}
        for k, st in enumerate(states):
            _set_rng_state(self.data_rngs[k], st["data_rng"])
            self.generators[k].set_state(st["torch_rng"])
            self.logs[k] = list(st["log"])
        self.iteration = it
        self.elapsed = float(states[0]["elapsed_time"])
        self.pending_count = states[0]["pending_log"]["count"]
        self.pending = {n: torch.tensor([st["pending_log"]["sums"][n] for st in states], device=self.device)
                        for n in states[0]["pending_log"]["sums"]}
