"""Test doubles for the study orchestration tests (no tests here).

``FakeBackend`` trains "models" that are a few numbers, with the trainer's
contract: checkpoints every ``checkpoint_every`` steps (atomically, with the
``checkpoint_write`` kill point inside the write), resume from the last
checkpoint, ``model/`` + ``train_results.json`` at the end. Every call to
``train`` appends a line ``<start step>`` to ``<run>/train_calls.log`` — the
marker the tests use to prove finished runs are never retrained.
Importable from subprocesses via ``PYTHONPATH=tests``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import yaml

from disentangle.io import (DamagedFileError, atomic_path, atomic_write_bytes, atomic_write_json,
                            atomic_write_text, read_json)
from disentangle.params import load
from disentangle.vocabulary import paper_grid
from disentangle.study.killpoints import kill_point

METRICS = ("mig", "sap_score")


class FakeDataset:
    def __init__(self, name: str, source: str):
        self.name, self.source = name, source
        self.label = f"{name} ({source})"


class FakeModel:
    def __init__(self, weight: float):
        self.weight = weight

    def represent_mean(self, x: np.ndarray) -> np.ndarray:
        return self.weight * x

    def represent_sampled(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self.weight * x + rng.normal(size=x.shape)


class FakeBackend:
    """Picklable stand-in for :class:`disentangle.study.Backend`."""

    def __init__(self, fail_model_nums: tuple[int, ...] = (), step_sleep: float = 0.0):
        self.fail_model_nums = tuple(fail_model_nums)
        self.step_sleep = step_sleep

    def resolve_source(self, name, source, root):
        return "procedural" if source == "auto" else source

    def dataset(self, name, source, root):
        return FakeDataset(name, source)

    def train(self, runs, dataset, out_dirs, device):
        group_log = Path(out_dirs[0]).parent.parent / "train_groups.log"
        with open(group_log, "a") as f:
            f.write(" ".join(str(r.model_num) for r in runs) + "\n")
        return [self._train_one(r, Path(d)) for r, d in zip(runs, out_dirs)]

    def _train_one(self, run, out_dir: Path) -> dict:
        if run.model_num in self.fail_model_nums:
            raise RuntimeError(f"fake failure of model {run.model_num}")
        ckpt = out_dir / "checkpoint.json"
        step = json.loads(ckpt.read_text())["step"] if ckpt.exists() else 0
        with open(out_dir / "train_calls.log", "a") as f:
            f.write(f"{step}\n")
        atomic_write_json(out_dir / "threads.json", {"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")})
        steps, every = run.training["steps"], run.training["checkpoint_every"]
        log = []
        while step < steps:
            step += 1
            time.sleep(self.step_sleep)
            if step % 5 == 0 or step == steps:  # what the study's progress line reads
                log.append(json.dumps({"global_step": step, "loss": run.value + 1.0 / step}) + "\n")
                atomic_write_text(out_dir / "log.jsonl", "".join(log))
            if step % every == 0 and step < steps:
                with atomic_path(ckpt) as tmp:
                    tmp.write_text(json.dumps({"step": step}))
                    kill_point("checkpoint_write")
        weight = run.value + run.seed / 100
        atomic_write_bytes(out_dir / "model" / "model.pt", repr(weight).encode())  # the trainer's layout
        atomic_write_json(out_dir / "model" / "config.json", {"weight": weight})
        record = {"loss": weight, "reconstruction_loss": weight / 2, "kl_loss": 1.0, "regularizer": 2.0,
                  "elbo": -weight, "global_step": steps, "elapsed_time": 0.01}
        atomic_write_json(out_dir / "train_results.json", record)
        ckpt.unlink(missing_ok=True)
        return record

    def load_model(self, model_dir, device):
        """As ``training.load_model``: a file that cannot be read raises DamagedFileError naming it."""
        config = read_json(Path(model_dir) / "config.json")
        if config is None:
            raise FileNotFoundError(f"no trained model in {model_dir}")
        try:
            weight = float((Path(model_dir) / "model.pt").read_text())
        except ValueError:
            raise DamagedFileError(f"{Path(model_dir) / 'model.pt'}: damaged model file") from None
        return FakeModel(weight)

    def evaluation_seeds(self, representation):
        base = {"mean": 100, "sampled": 200}[representation]
        return {m: base + i for i, m in enumerate(METRICS)}

    def evaluate(self, dataset, represent_for, metrics, seeds, settings, overrides=None, classifiers="paper"):
        out = {}
        for metric in metrics:
            x = np.random.default_rng(seeds[metric]).normal(size=(8, 3))
            out.update({f"{metric}.score": float(np.mean(represent_for(metric, seeds[metric])(x))),
                        f"{metric}.elapsed_time": 0.001})
        return out

    def prepare_dataset(self, name, source, root, workers):
        return 0.0

    def twin_representations(self, dataset, model, seed):
        """``(standardised, rotated twin)``: the codes and their mirror image (a rotation by pi)."""
        return model.represent_mean, lambda x: -model.represent_mean(x)

    def untrained_model(self, dataset, training, seed, device):
        return FakeModel(0.001 * (seed + 1))

    def resolved_device(self, device):
        return "cpu"

    def versions(self):
        return {"version.disentangle": "test", "version.torch": "x", "version.numpy": "x",
                "version.sklearn": "x", "version.python": "x"}


def write_params(folder: Path, *, results_dir: Path | None = None, methods=("beta_vae", "beta_tc_vae"),
                 values=None, seeds=(0, 1), steps: int = 6, checkpoint_every: int = 2, models_per_batch: int = 1,
                 metrics=METRICS, executor=None, data_source: str = "procedural", name: str = "study.yaml",
                 settings: str = "fast", eval_batches: int = 1) -> Path:
    """A params file for a small study in ``folder`` (which also gets the
    ``_toc.yml`` / ``_config.yml`` markers of a project root)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    (folder / "_config.yml").write_text("title: test\n")
    study = {
        "datasets": ["dsprites"], "methods": list(methods),
        "values": values if values is not None else {m: [paper_grid()[m][0]] for m in methods},
        "seeds": list(seeds),
        "training": {"steps": steps, "checkpoint_every": checkpoint_every, "log_every": 1,
                     "eval_batches": eval_batches, "models_per_batch": models_per_batch},
        "evaluation": {"settings": settings, "metrics": list(metrics)},
        "executor": executor or {"kind": "sequential"},
    }
    raw = {"shared": {"scale": "ci", "results_dir": str(results_dir or folder / "results"),
                      "data_source": data_source, "device": "cpu"},
           "study": study}
    path = folder / name
    path.write_text(yaml.safe_dump(raw))
    load(path)  # fail here, not in the test, if the file is invalid
    return path


def train_calls(run_dir: Path) -> list[int]:
    """Start steps of every ``train`` call on this run."""
    path = run_dir / "train_calls.log"
    return [int(x) for x in path.read_text().split()] if path.exists() else []
