"""Single-model training: seeding, determinism, resume, finished runs, model folders (`methods/unsupervised/train.py`, `shared.gin`)."""

import json

import numpy as np
import pytest
import torch

from disentangle.data.toy import DummyImages
from disentangle.training import TrainConfig, TrainingStopped, derive_seeds, load_model, train
from disentangle.training.engine import Stack

DATA = DummyImages(channels=1, size=16)


def _config(method="beta_vae", hp=None, **kw):
    base = dict(seed=7, steps=12, batch_size=8, log_every=4, checkpoint_every=6, eval_batches=2,
                device="cpu", progress=False)
    base.update(kw)
    return TrainConfig(method, hp if hp is not None else {"beta": 4}, **base)


def _weights(out_dir):
    return torch.load(out_dir / "model" / "model.pt", weights_only=True)


def _assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name


def test_seeds_come_from_randomstate_in_reference_order():
    rs = np.random.RandomState(3)
    assert derive_seeds(3) == (rs.randint(2**32), rs.randint(2**32))
    assert derive_seeds(0) == (2357136044, 2546248239)  # RandomState(0)'s first two draws (`methods/unsupervised/train.py: train`)


def test_training_stream_is_uniform_factor_sampling_from_the_data_seed(tmp_path):
    config = _config()
    stack = Stack([config], DATA, [tmp_path])
    expected = DATA.sample(8, np.random.RandomState(derive_seeds(7)[0]))[1]
    assert torch.equal(stack.next_batch(), torch.from_numpy(expected).permute(0, 3, 1, 2))


def test_config_validation():
    with pytest.raises(ValueError, match="precision"):
        TrainConfig("beta_vae", precision="fp16")
    with pytest.raises(ValueError, match="unknown method"):
        TrainConfig("vae")
    with pytest.raises(ValueError, match="bad hyperparameters"):
        TrainConfig("beta_vae", {"c_max": 3})
    with pytest.raises(ValueError, match="steps"):
        TrainConfig("beta_vae", steps=0)
    assert TrainConfig.from_dict(_config().to_dict()) == _config()


def test_same_seed_gives_identical_weights_and_record(tmp_path):
    r1 = train(_config(), DATA, tmp_path / "a")
    r2 = train(_config(), DATA, tmp_path / "b")
    _assert_same_weights(_weights(tmp_path / "a"), _weights(tmp_path / "b"))
    assert {k: v for k, v in r1.items() if k != "elapsed_time"} == {k: v for k, v in r2.items() if k != "elapsed_time"}
    train(_config(seed=8), DATA, tmp_path / "c")
    assert not torch.equal(_weights(tmp_path / "a")["encoder.e1.weight"], _weights(tmp_path / "c")["encoder.e1.weight"])


def test_record_log_and_folder_layout(tmp_path):
    record = train(_config(), DATA, tmp_path)
    assert set(record) == {"loss", "reconstruction_loss", "kl_loss", "regularizer", "elbo", "global_step", "elapsed_time"}
    assert record["global_step"] == 12
    assert record["elbo"] == pytest.approx(-(record["reconstruction_loss"] + record["kl_loss"]), rel=1e-5)
    assert record["loss"] == pytest.approx(record["reconstruction_loss"] + 4 * record["kl_loss"], rel=1e-5)
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [e["iteration"] for e in log] == [4, 8, 12]
    assert {"loss", "reconstruction_loss", "kl_loss", "regularizer", "elbo"} <= set(log[0])
    assert json.loads((tmp_path / "train_results.json").read_text()) == record
    assert not (tmp_path / "checkpoints").exists()
    assert json.loads((tmp_path / "model" / "config.json").read_text())["hyperparams"] == {"beta": 4}


# FactorVAE's checkpoints hold a 6M-parameter discriminator: fewer, shorter
# beta_vae: the step-30 checkpoint falls inside a log interval (log_every 4)
@pytest.mark.parametrize("method, hp, iterations, every, log_every", [
    ("beta_vae", {"beta": 2}, 60, 10, 4), ("factor_vae", {"gamma": 10}, 20, 10, 5)])
def test_resume_after_interruption_is_bit_identical(tmp_path, method, hp, iterations, every, log_every):
    steps = iterations * (2 if method == "factor_vae" else 1)
    config = _config(method, hp, steps=steps, checkpoint_every=every, log_every=log_every)
    straight = train(config, DATA, tmp_path / "straight")
    with pytest.raises(TrainingStopped):
        train(config, DATA, tmp_path / "resumed", stop_after=iterations // 2)
    assert sorted(p.name for p in (tmp_path / "resumed" / "checkpoints").iterdir()) == [
        f"iteration-{iterations // 2:08d}.pt"]
    assert not (tmp_path / "resumed" / "model").exists()
    resumed = train(config, DATA, tmp_path / "resumed")
    _assert_same_weights(_weights(tmp_path / "straight"), _weights(tmp_path / "resumed"))
    drop = lambda r: {k: v for k, v in r.items() if k != "elapsed_time"}  # noqa: E731
    assert drop(straight) == drop(resumed)
    logs = [[drop(json.loads(line)) for line in (tmp_path / d / "log.jsonl").read_text().splitlines()]
            for d in ("straight", "resumed")]
    assert logs[0] == logs[1] and len(logs[0]) == iterations // log_every


def test_finished_run_is_not_retrained(tmp_path):
    record = train(_config(), DATA, tmp_path)
    mtime = (tmp_path / "model" / "model.pt").stat().st_mtime_ns
    assert train(_config(progress=True, log_every=1), DATA, tmp_path) == record  # operational fields may differ
    assert (tmp_path / "model" / "model.pt").stat().st_mtime_ns == mtime
    with pytest.raises(ValueError, match="different run"):
        train(_config(seed=1), DATA, tmp_path)


def test_factor_vae_global_step_advances_twice_per_iteration(tmp_path):
    double = train(_config("factor_vae", {"gamma": 10}, steps=8), DATA, tmp_path / "double")
    single = train(_config("factor_vae", {"gamma": 10}, steps=8, factor_vae_double_step=False), DATA, tmp_path / "single")
    last = lambda d: json.loads((tmp_path / d / "log.jsonl").read_text().splitlines()[-1])  # noqa: E731
    assert double["global_step"] == single["global_step"] == 8
    assert (last("double")["iteration"], last("single")["iteration"]) == (4, 8)
    assert _config("factor_vae", {"gamma": 10}, steps=300_000).iterations == 150_000
    assert _config(steps=300_000).iterations == 300_000


def test_loaded_model_representations(tmp_path):
    train(_config(), DATA, tmp_path)
    model = load_model(tmp_path / "model", device="cpu")
    x = DATA.sample(10, np.random.default_rng(0))[1]
    mean = model.represent_mean(x, batch_size=3)
    assert mean.shape == (10, 10) and mean.dtype == np.float32
    enc_mean, enc_logvar = model.model.encoder(torch.from_numpy(x).permute(0, 3, 1, 2))
    assert np.allclose(mean, enc_mean[0].detach().numpy(), atol=1e-6)
    assert np.allclose(model.represent_mean(torch.from_numpy(x)), mean, atol=1e-6)  # torch NHWC too
    s1 = model.represent_sampled(x, np.random.default_rng(1))
    s2 = model.represent_sampled(x, np.random.default_rng(1))
    rng = np.random.default_rng(2)
    s3, s4 = model.represent_sampled(x, rng), model.represent_sampled(x, rng)
    assert np.array_equal(s1, s2) and not np.allclose(s3, s4)
    eps = np.random.default_rng(1).standard_normal((10, 10)).astype(np.float32)
    assert np.allclose(s1, mean + np.exp(enc_logvar[0].detach().numpy() / 2) * eps, atol=1e-5)
    assert model.represent_sampled(x, torch.Generator().manual_seed(0)).shape == (10, 10)
    recon = model.reconstruct(x)
    assert recon.shape == x.shape and recon.min() >= 0 and recon.max() <= 1
    assert model.decode(np.zeros((4, 10))).shape == (4, 16, 16, 1)
    with pytest.raises(ValueError, match="expected images"):
        model.represent_mean(np.zeros((2, 64, 64, 1)))
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "nowhere")


_KILLABLE = """
import sys
import torch
torch.set_num_threads(1)  # same thread count as the resuming process: bitwise equality needs it
from disentangle.data.toy import DummyImages
from disentangle.training import TrainConfig, train
config = TrainConfig.from_dict(__import__("json").loads(sys.argv[1]))
train(config, DummyImages(channels=1, size=16), sys.argv[2])
"""


def test_resume_after_sigkill_is_bit_identical(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    import torch

    config = _config(steps=120, checkpoint_every=5, log_every=10)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    proc = subprocess.Popen([sys.executable, "-c", _KILLABLE, json.dumps(config.to_dict()), str(tmp_path / "killed")])
    try:
        deadline = time.monotonic() + 120
        while not list((tmp_path / "killed" / "checkpoints").glob("iteration-*.pt")):
            assert proc.poll() is None and time.monotonic() < deadline, "no checkpoint appeared"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert not (tmp_path / "killed" / "train_results.json").exists()
    try:
        train(config, DATA, tmp_path / "killed")
        train(config, DATA, tmp_path / "straight")
    finally:
        torch.set_num_threads(threads)
    _assert_same_weights(_weights(tmp_path / "straight"), _weights(tmp_path / "killed"))


def test_bf16_mixed_precision_is_deterministic_resumable_and_really_in_use(tmp_path):
    """precision="bf16": encoder/decoder under autocast, losses in float32 (TrainConfig docstring)."""
    bf16 = _config(precision="bf16")
    first = train(bf16, DATA, tmp_path / "a")
    again = train(bf16, DATA, tmp_path / "b")
    _assert_same_weights(_weights(tmp_path / "a"), _weights(tmp_path / "b"))  # same seed => same numbers
    with pytest.raises(TrainingStopped):
        train(bf16, DATA, tmp_path / "c", stop_after=6)
    train(bf16, DATA, tmp_path / "c")
    _assert_same_weights(_weights(tmp_path / "a"), _weights(tmp_path / "c"))  # resume is bit-identical
    fp32 = train(_config(), DATA, tmp_path / "fp32")
    assert {k: v for k, v in first.items() if k != "elapsed_time"} == {
        k: v for k, v in again.items() if k != "elapsed_time"}
    w16, w32 = _weights(tmp_path / "a"), _weights(tmp_path / "fp32")
    assert not torch.equal(w16["encoder.e2.weight"], w32["encoder.e2.weight"])  # the low precision is in use
    assert float((w16["encoder.e2.weight"] - w32["encoder.e2.weight"]).abs().max()) <= 2 * bf16.lr * bf16.iterations
    assert first["reconstruction_loss"] == pytest.approx(fp32["reconstruction_loss"], rel=1e-2)
    for w in _weights(tmp_path / "a").values():
        assert w.dtype == torch.float32  # weights and Adam stay float32
    assert load_model(tmp_path / "a" / "model", device="cpu").config["precision"] == "bf16"


# --------------------------------------------------------------------------- fault injection


def test_a_corrupt_checkpoint_is_set_aside_and_training_restarts(tmp_path):
    """Before: a corrupt checkpoint failed every resume with `PytorchStreamReader
    failed ...`, naming no file, until deleted by hand."""
    config = _config()
    straight = train(config, DATA, tmp_path / "straight")
    with pytest.raises(TrainingStopped):
        train(config, DATA, tmp_path / "resumed", stop_after=6)
    ckpt = tmp_path / "resumed" / "checkpoints" / "iteration-00000006.pt"
    ckpt.write_bytes(ckpt.read_bytes()[:200])  # a disk or copy error cut it
    with pytest.warns(UserWarning, match=f"{ckpt}: damaged.*resuming from an older checkpoint or from the start"):
        resumed = train(config, DATA, tmp_path / "resumed")
    _assert_same_weights(_weights(tmp_path / "straight"), _weights(tmp_path / "resumed"))
    assert {k: v for k, v in resumed.items() if k != "elapsed_time"} == \
        {k: v for k, v in straight.items() if k != "elapsed_time"}
    assert (tmp_path / "resumed" / "damaged" / "checkpoints" / ckpt.name).exists()  # set aside, not lost


def test_train_results_without_their_model_are_trained_again(tmp_path):
    """Before: `train_results.json` without `model/` short-circuited training, and every
    later use failed with `no trained model in .../model`."""
    record = train(_config(), DATA, tmp_path)
    weights = _weights(tmp_path)
    (tmp_path / "model" / "model.pt").unlink()
    with pytest.warns(UserWarning, match=r"train_results\.json: its model is incomplete \(missing model/model\.pt\)"):
        again = train(_config(), DATA, tmp_path)
    _assert_same_weights(weights, _weights(tmp_path))
    assert {k: v for k, v in again.items() if k != "elapsed_time"} == \
        {k: v for k, v in record.items() if k != "elapsed_time"}


@pytest.mark.parametrize("damage", ["config.json", "model.pt"])
def test_a_damaged_model_folder_names_the_file(tmp_path, damage):
    """Before: a truncated config.json raised a bare JSONDecodeError, a corrupt model.pt a
    `PytorchStreamReader failed ...`; neither named the file."""
    from disentangle.io import DamagedFileError

    train(_config(), DATA, tmp_path)
    path = tmp_path / "model" / damage
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(DamagedFileError, match=str(path)):
        load_model(tmp_path / "model", device="cpu")


# -- learning-rate schedule (TrainConfig.lr_warmup / lr_final) ---------------------------------

def test_learning_rate_schedule_values():
    constant = _config(lr=1e-3, steps=100)
    assert constant.constant_lr and {constant.learning_rate(i) for i in range(100)} == {1e-3}
    warm = _config(lr=1e-3, steps=100, lr_warmup=10)
    assert [warm.learning_rate(i) for i in (0, 4, 9, 10, 99)] == pytest.approx([1e-4, 5e-4, 1e-3, 1e-3, 1e-3])
    decay = _config(lr=1e-3, steps=101, lr_final=1e-4)
    assert decay.learning_rate(0) == pytest.approx(1e-3) and decay.learning_rate(100) == pytest.approx(1e-4)
    assert decay.learning_rate(50) == pytest.approx(5.5e-4)  # the cosine's midpoint
    assert all(decay.learning_rate(i) >= decay.learning_rate(i + 1) for i in range(100))
    both = _config(lr=1e-3, steps=110, lr_warmup=10, lr_final=1e-4)
    assert both.learning_rate(9) == pytest.approx(1e-3) and both.learning_rate(109) == pytest.approx(1e-4)


def test_schedule_validation_and_unchanged_config_files():
    with pytest.raises(ValueError, match="lr_warmup"):
        _config(steps=10, lr_warmup=10)
    with pytest.raises(ValueError, match="lr_warmup"):
        _config(lr_warmup=-1)
    with pytest.raises(ValueError, match="lr_final"):
        _config(lr_final=0.0)
    # a constant rate (the reference's) leaves the stored config as it was before the schedule existed
    assert "lr_warmup" not in _config().to_dict() and "lr_final" not in _config().to_dict()
    scheduled = _config(lr_warmup=3, lr_final=1e-5)
    assert TrainConfig.from_dict(scheduled.to_dict()) == scheduled


def test_a_schedule_changes_training_and_resumes_bit_identically(tmp_path):
    config = _config(steps=20, checkpoint_every=10, lr=1e-3, lr_warmup=5, lr_final=1e-4)
    straight = train(config, DATA, tmp_path / "straight")
    with pytest.raises(TrainingStopped):
        train(config, DATA, tmp_path / "resumed", stop_after=10)
    train(config, DATA, tmp_path / "resumed")
    _assert_same_weights(_weights(tmp_path / "straight"), _weights(tmp_path / "resumed"))
    constant = train(_config(steps=20, checkpoint_every=10, lr=1e-3), DATA, tmp_path / "constant")
    assert constant["loss"] != straight["loss"]
