"""Models trained together (one ``train`` call with a list of configs) equal each model trained
alone (`methods/unsupervised/train.py`, `shared.gin`)."""

import json

import pytest
import torch

from disentangle.data.toy import DummyImages
from disentangle.training import TrainConfig, TrainingStopped, load_model, train
from disentangle.training.engine import Stack

DATA = DummyImages(channels=3, size=16)


def _config(method, hp, seed, **kw):
    base = dict(steps=8, batch_size=8, log_every=4, checkpoint_every=4, eval_batches=2, device="cpu", progress=False)
    base.update(kw)
    return TrainConfig(method, hp, seed=seed, **base)


def _weights(out_dir):
    return torch.load(out_dir / "model" / "model.pt", weights_only=True)


def _assert_same_training(wa, wb, config):
    """Equal up to float rounding. Adam divides by sqrt(second moment), so a weight
    whose gradient is pure rounding noise (e.g. behind a dead ReLU) can still move by
    up to ~lr per step in either run: allow that for a tiny fraction of weights."""
    flat_a = torch.cat([wa[n].flatten() for n in wa])
    flat_b = torch.cat([wb[n].flatten() for n in wa])
    close = torch.isclose(flat_a, flat_b, rtol=0, atol=1e-5)
    assert float(close.float().mean()) > 0.9995, f"{int((~close).sum())} of {close.numel()} weights differ"
    assert float((flat_a - flat_b).abs().max()) <= 2 * config.lr * config.iterations


@pytest.mark.parametrize("method, hps", [
    ("beta_vae", [{"beta": 1}, {"beta": 4}, {"beta": 16}]),
    ("factor_vae", [{"gamma": 10}, {"gamma": 100}]),
    ("annealed_vae", [{"c_max": 5}, {"c_max": 100}, {"c_max": 100}]),
])
def test_batched_models_match_models_trained_alone(tmp_path, method, hps):
    configs = [_config(method, hp, seed=s) for hp, s in zip(hps, [3, 1, 4])]
    # shards=1: all models in one grouped network (the CPU default, one network per model, is
    # compared with it in test_shard_count_changes_only_rounding)
    batched = train(configs, DATA, [tmp_path / f"batched{k}" for k in range(len(configs))], shards=1)
    for k, config in enumerate(configs):
        alone = train(config, DATA, tmp_path / f"alone{k}")
        wa, wb = _weights(tmp_path / f"alone{k}"), _weights(tmp_path / f"batched{k}")
        assert wa.keys() == wb.keys()
        _assert_same_training(wa, wb, config)
        for key in ("loss", "reconstruction_loss", "kl_loss", "regularizer", "elbo"):
            assert batched[k][key] == pytest.approx(alone[key], rel=1e-4, abs=1e-3), key
        assert batched[k]["global_step"] == alone["global_step"]
    # the models really differ from each other
    assert not torch.allclose(_weights(tmp_path / "batched0")["encoder.e1.weight"],
                              _weights(tmp_path / "batched1")["encoder.e1.weight"])
    assert load_model(tmp_path / "batched1" / "model", device="cpu").config["hyperparams"] == {
        **load_model(tmp_path / "alone1" / "model", device="cpu").config["hyperparams"]}


def test_shard_count_changes_only_rounding(tmp_path):
    configs = [_config("dip_vae_i", {"lambda_od": v}, seed=s, steps=4) for v, s in [(1, 0), (5, 1), (20, 2)]]
    train(configs, DATA, [tmp_path / f"one{k}" for k in range(3)], shards=1)
    train(configs, DATA, [tmp_path / f"three{k}" for k in range(3)], shards=3)
    for k in range(3):
        _assert_same_training(_weights(tmp_path / f"one{k}"), _weights(tmp_path / f"three{k}"), configs[k])
    with pytest.raises(ValueError, match="shards"):
        train(configs, DATA, [tmp_path / f"bad{k}" for k in range(3)], shards=4)


def test_matmul_convolutions_change_only_rounding(tmp_path):
    """The GPU default (im2col + batched GEMM) trains the same models as grouped convolutions."""
    configs = [_config("beta_tc_vae", {"beta": v}, seed=s, steps=4) for v, s in [(1, 0), (6, 1)]]
    train(configs, DATA, [tmp_path / f"grouped{k}" for k in range(2)], shards=1, conv_impl="grouped")
    train(configs, DATA, [tmp_path / f"matmul{k}" for k in range(2)], shards=1, conv_impl="matmul")
    for k in range(2):
        _assert_same_training(_weights(tmp_path / f"grouped{k}"), _weights(tmp_path / f"matmul{k}"), configs[k])


def test_conv_micro_batches_change_only_rounding(tmp_path):
    """CPU default: float32 convolutions over 32 images at a time; any split trains the same models."""
    assert Stack([_config("beta_vae", {"beta": 1}, seed=0)], DATA, [tmp_path / "d"]).conv_micro_batch == 32
    bf16 = _config("beta_vae", {"beta": 1}, seed=0, precision="bf16")
    assert Stack([bf16], DATA, [tmp_path / "e"]).conv_micro_batch is None
    configs = [_config("factor_vae", {"gamma": v}, seed=s, steps=4) for v, s in [(10, 0), (30, 1)]]
    train(configs, DATA, [tmp_path / f"whole{k}" for k in range(2)], conv_micro_batch=None)
    train(configs, DATA, [tmp_path / f"split{k}" for k in range(2)], conv_micro_batch=3)  # 8 = 3+3+2
    for k in range(2):
        _assert_same_training(_weights(tmp_path / f"whole{k}"), _weights(tmp_path / f"split{k}"), configs[k])
    with pytest.raises(ValueError, match="micro-batch"):
        train(configs, DATA, [tmp_path / f"bad{k}" for k in range(2)], conv_micro_batch=0)


def test_batched_resume_is_bit_identical(tmp_path):
    configs = [_config("beta_tc_vae", {"beta": b}, seed=s, steps=12) for b, s in [(2, 0), (6, 1)]]
    straight = [tmp_path / f"s{k}" for k in range(2)]
    resumed = [tmp_path / f"r{k}" for k in range(2)]
    train(configs, DATA, straight)
    with pytest.raises(TrainingStopped):
        train(configs, DATA, resumed, stop_after=4)
    train(configs, DATA, resumed)
    for a, b in zip(straight, resumed):
        wa, wb = _weights(a), _weights(b)
        assert all(torch.equal(wa[n], wb[n]) for n in wa)
        assert [json.loads(x)["loss"] for x in (a / "log.jsonl").read_text().splitlines()] == \
               [json.loads(x)["loss"] for x in (b / "log.jsonl").read_text().splitlines()]


def test_resume_uses_the_newest_checkpoint_all_models_have(tmp_path):
    configs = [_config("beta_vae", {"beta": 1}, seed=s, steps=12) for s in (0, 1)]
    dirs = [tmp_path / "a", tmp_path / "b"]
    with pytest.raises(TrainingStopped):
        train(configs, DATA, dirs, stop_after=8)
    # simulate a kill between writing model a's and model b's iteration-8 checkpoint
    (dirs[1] / "checkpoints" / "iteration-00000008.pt").unlink()
    with pytest.raises(TrainingStopped):
        train(configs, DATA, dirs, stop_after=4)  # nothing common: restarts from scratch
    train(configs, DATA, dirs)
    straight = [tmp_path / "c", tmp_path / "d"]
    train(configs, DATA, straight)
    for a, b in zip(dirs, straight):
        wa, wb = _weights(a), _weights(b)
        assert all(torch.equal(wa[n], wb[n]) for n in wa)


def test_finished_runs_in_a_batch_are_skipped(tmp_path):
    configs = [_config("beta_vae", {"beta": b}, seed=0) for b in (1, 2)]
    first = train(configs[0], DATA, tmp_path / "a")
    records = train(configs, DATA, [tmp_path / "a", tmp_path / "b"])
    assert records[0] == first
    assert records[1] == json.loads((tmp_path / "b" / "train_results.json").read_text())


def test_incompatible_batches_are_rejected(tmp_path):
    a = _config("beta_vae", {"beta": 1}, seed=0)
    with pytest.raises(ValueError, match="must agree on"):
        train([a, _config("beta_vae", {"beta": 1}, seed=1, steps=9)], DATA, [tmp_path / "a", tmp_path / "b"])
    with pytest.raises(ValueError, match="own output folder"):
        train([a, a], DATA, [tmp_path / "c", tmp_path / "c"])
    with pytest.raises(ValueError, match="folders"):
        train([a], DATA, [])


@pytest.mark.parametrize("channels", [1, 3])
def test_staged_batches_for_accelerators_equal_the_plain_ones(tmp_path, channels):
    """The threaded staging path (used on GPUs) draws exactly the numbers of the plain path."""
    data = DummyImages(channels=channels, size=16)
    configs = [TrainConfig("beta_vae", {"beta": 1.0}, seed=s, batch_size=5, device="cpu", progress=False)
               for s in (3, 1, 4)]
    plain = Stack(configs, data, [tmp_path / f"p{s}" for s in range(3)])
    staged = Stack(configs, data, [tmp_path / f"s{s}" for s in range(3)])
    staged.staged_data = True
    for _ in range(3):  # the streams advance alike
        a, b = plain.next_batch(), staged.next_batch()
        assert a.shape == b.shape == (5, 3 * channels, 16, 16)
        assert b.is_contiguous(memory_format=torch.channels_last)
        assert torch.equal(a, b)
    for models in (range(1, 3), range(2, 3)):  # a pooled draw and a single model's
        assert torch.equal(plain.batch(models, plain.data_rngs), staged.batch(models, staged.data_rngs))
