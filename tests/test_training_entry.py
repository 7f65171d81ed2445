"""The one training entry point and the params -> ``TrainConfig`` mapping (`methods/unsupervised/train.py`, `shared.gin`).

``train`` takes one config and one folder (one record back) or a sequence of each
(the models trained together, records in order); ``TrainConfig.from_params`` maps
the params' ``study.training`` section onto the config by field name.
"""

import json
from dataclasses import fields

import pytest
import torch

from disentangle.data.toy import DummyImages
from disentangle.params import STUDY_SCHEMA
from disentangle.training import TrainConfig, TrainingStopped, train
from disentangle.training.config import PER_RUN_FIELDS, STUDY_ONLY_TRAINING_KEYS
from disentangle.training.engine import _claim_folder

DATA = DummyImages(channels=1, size=16)
TINY = dict(steps=6, batch_size=8, log_every=3, checkpoint_every=3, eval_batches=2, device="cpu", progress=False)


def _weights(out_dir):
    return torch.load(out_dir / "model" / "model.pt", weights_only=True)


def _without_time(record):
    return {k: v for k, v in record.items() if k != "elapsed_time"}


def test_one_config_or_a_list_of_one_train_the_same_model(tmp_path):
    config = TrainConfig("beta_vae", {"beta": 4}, seed=5, **TINY)
    record = train(config, DATA, tmp_path / "one")
    records = train([config], DATA, [tmp_path / "listed"])
    assert isinstance(record, dict) and isinstance(records, list) and len(records) == 1
    assert _without_time(record) == _without_time(records[0])
    a, b = _weights(tmp_path / "one"), _weights(tmp_path / "listed")
    assert all(torch.equal(a[n], b[n]) for n in a)
    assert train(config, DATA, str(tmp_path / "one")) == record  # finished: the stored record comes back


def test_same_seed_gives_a_byte_identical_model_file(tmp_path):
    """Not only equal weights: the file holds no trace of the temporary name it was written under
    (checkpoints hold wall times in their logs, so only their numbers are compared elsewhere)."""
    config = TrainConfig("beta_vae", {"beta": 4}, seed=5, **TINY)
    for name in ("a", "b"):
        with pytest.raises(TrainingStopped):
            train(config, DATA, tmp_path / name, stop_after=3)
        train(config, DATA, tmp_path / name)  # resumes and finishes
    assert (tmp_path / "a/model/model.pt").read_bytes() == (tmp_path / "b/model/model.pt").read_bytes()


def test_two_configs_train_together_as_each_would_alone(tmp_path):
    """One network per model (shards=2) on one thread: each model's own arithmetic, so bit-identical
    (one grouped network differs by rounding only: test_training_batched.py)."""
    configs = [TrainConfig("dip_vae_ii", {"lambda_od": v}, seed=s, **TINY) for v, s in ((1, 0), (10, 1))]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        together = train(configs, DATA, [tmp_path / "a", tmp_path / "b"], shards=2)
        alone = [train(config, DATA, tmp_path / f"alone-{folder}") for config, folder in zip(configs, "ab")]
    finally:
        torch.set_num_threads(threads)
    assert len(together) == 2
    for record, single, folder in zip(together, alone, "ab"):
        assert _without_time(single) == _without_time(record)
        a, b = _weights(tmp_path / folder), _weights(tmp_path / f"alone-{folder}")
        assert all(torch.equal(a[n], b[n]) for n in a)


def test_configs_and_folders_must_match(tmp_path):
    config = TrainConfig("beta_vae", {"beta": 1}, **TINY)
    with pytest.raises(ValueError, match="one config and one output folder, or a sequence of each"):
        train(config, DATA, [tmp_path / "a"])
    with pytest.raises(ValueError, match="one config and one output folder, or a sequence of each"):
        train([config], DATA, tmp_path / "a")
    with pytest.raises(ValueError, match="at least one config"):
        train([], DATA, [])
    with pytest.raises(ValueError, match="2 configs but 1 output folders"):
        train([config, config], DATA, [tmp_path / "a"])
    assert not (tmp_path / "a").exists()  # nothing was written


# -- params -> TrainConfig ------------------------------------------------------------------------

#: a value differing from the default for every field the training section may set
NON_DEFAULTS = {"steps": 1234, "batch_size": 32, "latent_dim": 6, "encoder_kernel": 4, "lr": 3e-4,
                "betas": (0.5, 0.9), "eps": 1e-7, "log_every": 7, "checkpoint_every": 11, "eval_batches": 3,
                "factor_vae_double_step": False, "precision": "bf16", "lr_warmup": 100, "lr_final": 1e-5}


def test_every_settable_field_round_trips_through_the_params_mapping():
    settable = [f.name for f in fields(TrainConfig) if f.name not in PER_RUN_FIELDS]
    assert sorted(NON_DEFAULTS) == sorted(settable)  # a new field needs a value here too
    default = TrainConfig("factor_vae", {"gamma": 10})
    assert all(getattr(default, k) != v for k, v in NON_DEFAULTS.items())
    config = TrainConfig.from_params(dict(NON_DEFAULTS, models_per_batch=4), method="factor_vae",
                                     hyperparams={"gamma": 10}, seed=9, device="cpu")
    assert config == TrainConfig("factor_vae", {"gamma": 10}, seed=9, device="cpu", progress=False, **NON_DEFAULTS)
    # and back: the config's own fields are a valid training section giving the same config
    section = {k: v for k, v in config.to_dict().items() if k not in PER_RUN_FIELDS}
    assert TrainConfig.from_params(section, method="factor_vae", hyperparams={"gamma": 10}, seed=9,
                                   device="cpu") == config


def test_every_params_training_key_is_a_field_or_a_known_study_only_key():
    keys = set(STUDY_SCHEMA["training"])
    field_names = {f.name for f in fields(TrainConfig)} - set(PER_RUN_FIELDS)
    assert keys - field_names == set(STUDY_ONLY_TRAINING_KEYS)  # no stale study-only key either
    # the schema's defaults map without error for every method
    defaults = {k: spec.default for k, spec in STUDY_SCHEMA["training"].items()}
    assert TrainConfig.from_params(defaults, method="annealed_vae", hyperparams={"c_max": 5}, seed=0).steps == 300_000


def test_unknown_or_per_run_training_keys_fail_with_a_clear_message():
    with pytest.raises(ValueError, match=r"study.training: \['stepz'\] is neither a TrainConfig field"):
        TrainConfig.from_params({"stepz": 3}, method="beta_vae", hyperparams={"beta": 1}, seed=0)
    with pytest.raises(ValueError, match=r"\['seed'\] is neither"):  # a run's seed comes from the grid
        TrainConfig.from_params({"seed": 3}, method="beta_vae", hyperparams={"beta": 1}, seed=0)


def test_the_capacity_ramp_joins_annealed_vae_hyperparams_only_when_not_the_reference():
    def hyperparams(method, hp, threshold):
        return TrainConfig.from_params({"annealed_vae_iteration_threshold": threshold}, method=method,
                                       hyperparams=hp, seed=0).hyperparams

    assert hyperparams("annealed_vae", {"c_max": 5.0}, 100_000) == {"c_max": 5.0}
    assert hyperparams("annealed_vae", {"c_max": 5.0}, 500) == {"c_max": 5.0, "iteration_threshold": 500}
    assert hyperparams("beta_vae", {"beta": 4.0}, 500) == {"beta": 4.0}


def test_stored_train_config_of_a_study_run_is_unchanged(tmp_path):
    """``train_config.json`` as the hand-listed mapping wrote it before ``from_params``
    existed (ci training section, AnnealedVAE with a ramp): same bytes, so existing run
    folders resume."""
    section = {"steps": 40, "batch_size": 64, "latent_dim": 10, "encoder_kernel": 2, "factor_vae_double_step": True,
               "eval_batches": 2, "log_every": 10, "checkpoint_every": 20, "models_per_batch": 2, "lr": 0.0001,
               "annealed_vae_iteration_threshold": 133, "precision": "fp32"}
    config = TrainConfig.from_params(section, method="annealed_vae", hyperparams={"c_max": 5.0}, seed=3, device="cpu")
    stored = ('{"method": "annealed_vae", "hyperparams": {"c_max": 5.0, "iteration_threshold": 133}, "seed": 3, '
              '"steps": 40, "batch_size": 64, "latent_dim": 10, "encoder_kernel": 2, "lr": 0.0001, '
              '"betas": [0.9, 0.999], "eps": 1e-08, "log_every": 10, "checkpoint_every": 20, "eval_batches": 2, '
              '"device": "cpu", "factor_vae_double_step": true, "precision": "fp32", "progress": false}')
    assert json.dumps(config.to_dict()) == stored
    (tmp_path / "train_config.json").write_text(stored)
    _claim_folder(config, tmp_path)  # resume accepts the folder
    with pytest.raises(ValueError, match="holds a different run"):
        _claim_folder(TrainConfig.from_params(dict(section, steps=41), method="annealed_vae",
                                              hyperparams={"c_max": 5.0}, seed=3), tmp_path)


def test_training_modules_import_only_downwards():
    """config.py <- saved_model.py <- engine.py: no circle (engine and the old trainer imported each other)."""
    import ast
    from pathlib import Path

    import disentangle.training as package

    order = ["config", "saved_model", "engine"]
    folder = Path(package.__file__).parent
    for i, name in enumerate(order):
        tree = ast.parse((folder / f"{name}.py").read_text())
        imported = {node.module for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module}
        assert imported <= set(order[:i]), f"training/{name}.py imports {sorted(imported - set(order[:i]))}"
