"""The study grid and run identity (`config/unsupervised_study_v1/sweep.py`; study/grid.py)."""

import pytest
import yaml

from disentangle.params import ParamsError, load
from disentangle.vocabulary import paper_datasets, paper_grid
from disentangle.study.grid import Study, grid_point, make_run, model_num

TRAINING = {"steps": 300_000, "batch_size": 64, "latent_dim": 10, "encoder_kernel": 2,
            "factor_vae_double_step": True, "eval_batches": 1000, "log_every": 1000,
            "checkpoint_every": 10_000, "models_per_batch": 1}
EVALUATION = {"settings": "paper", "metrics": ["mig", "dci"], "representations": ["mean", "sampled"]}


def test_model_num_matches_the_reference_sweep():
    # `config/unsupervised_study_v1/sweep.py`: model 0 = dSprites beta-VAE beta=1 seed 0; 1800 = Color-dSprites, same config
    assert model_num("dsprites", "beta_vae", 1, 0) == 0
    assert model_num("color_dsprites", "beta_vae", 1, 0) == 1800
    # method chain order beta_vae, factor_vae, dip_vae_i, dip_vae_ii, beta_tc_vae, annealed_vae
    grid = paper_grid()
    starts = [model_num("dsprites", m, grid[m][0], 0) for m in grid]
    assert starts == [0, 300, 600, 900, 1200, 1500]
    assert model_num("dsprites", "beta_vae", 16, 49) == 299
    assert model_num("shapes3d", "annealed_vae", 100, 49) == 12_599
    assert model_num("smallnorb", "dip_vae_ii", 5, 3) == 4 * 1800 + 3 * 300 + 2 * 50 + 3


def test_grid_point_inverts_model_num_over_the_whole_grid():
    grid = paper_grid()
    nums = [model_num(d, m, v, s) for d in paper_datasets() for m in grid for v in grid[m] for s in range(50)]
    assert nums == list(range(12_600))
    for n in (0, 1, 299, 1800, 7777, 12_599):
        assert model_num(*grid_point(n)) == n
    with pytest.raises(ValueError, match="model_num"):
        grid_point(12_600)


def test_model_num_rejects_points_outside_the_paper_grid():
    with pytest.raises(ValueError, match="not in the paper grid"):
        model_num("dsprites", "beta_vae", 3, 0)
    with pytest.raises(ValueError, match="seed"):
        model_num("dsprites", "beta_vae", 1, 50)
    with pytest.raises(ValueError, match="unknown dataset"):
        model_num("mpi3d", "beta_vae", 1, 0)


def _study(tmp_path, study_section):
    (tmp_path / "_toc.yml").write_text("format: jb-book\n")
    (tmp_path / "_config.yml").write_text("title: t\n")
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({"shared": {"scale": "ci", "results_dir": "res"}, "study": study_section}))
    return Study(load(path))


def test_paper_params_define_the_12600_run_grid(project_root, tmp_path):
    raw = yaml.safe_load((project_root / "params" / "paper.yaml").read_text())
    study = _study(tmp_path, raw["study"])
    grid = study.grid()
    assert len(grid) == 7 * 6 * 6 * 50 == 12_600
    assert [model_num(*p) for p in grid] == list(range(12_600))
    assert study.training["steps"] == 300_000


def test_a_subset_keeps_the_reference_model_nums(tmp_path):
    # listed out of order on purpose: the reference's order is kept
    study = _study(tmp_path, {"datasets": ["color_dsprites", "dsprites"], "methods": ["annealed_vae", "beta_vae"],
                              "values": {"beta_vae": [16, 1], "annealed_vae": [5]}, "seeds": [3, 0]})
    nums = [model_num(*p) for p in study.grid()]
    assert nums == [0, 3, 250, 253, 1500, 1503, 1800, 1803, 2050, 2053, 3300, 3303]
    runs = study.runs(lambda name, source, root: source)
    assert [r.model_num for r in runs] == nums
    assert runs[2].value == 16.0 and runs[2].value_index == 5 and runs[2].hyperparameter == "beta"


def test_bad_study_params_fail_before_any_work(tmp_path):
    with pytest.raises(ParamsError, match="study.seeds"):
        _study(tmp_path, {"datasets": ["dsprites"], "methods": ["beta_vae"], "seeds": [-1]})
    with pytest.raises(ParamsError, match="must be positive numbers"):
        _study(tmp_path, {"datasets": ["dsprites"], "methods": ["beta_vae"], "values": {"beta_vae": [-3]}, "seeds": [0]})
    with pytest.raises(ParamsError, match="unknown entries"):
        _study(tmp_path, {"datasets": ["mnist"], "methods": ["beta_vae"], "seeds": [0]})


def _run(**changes):
    training = {**TRAINING, **changes.pop("training", {})}
    evaluation = {**EVALUATION, **changes.pop("evaluation", {})}
    args = {"dataset": "dsprites", "dataset_source": "file", "method": "beta_vae", "value": 4, "seed": 1, **changes}
    return make_run(args["dataset"], args["dataset_source"], args["method"], args["value"], args["seed"],
                    training, evaluation)


def test_hash_covers_what_changes_the_results():
    base = _run()
    assert base.name == f"00101-{base.train_hash[:8]}"
    for changed in (_run(seed=2), _run(value=6), _run(dataset_source="procedural"),
                    _run(training={"steps": 1000}), _run(training={"encoder_kernel": 4}),
                    _run(training={"factor_vae_double_step": False}), _run(training={"eval_batches": 10})):
        assert changed.train_hash != base.train_hash and changed.name != base.name
        assert changed.config_hash != base.config_hash


def test_precision_is_hashed_only_when_not_the_reference_fp32():
    base = _run()
    assert _run(training={"precision": "fp32"}).train_hash == base.train_hash  # old fp32 runs keep their folder
    bf16 = _run(training={"precision": "bf16"})
    assert bf16.train_hash != base.train_hash and bf16.name != base.name
    from disentangle.study.backend import Backend

    assert Backend().train_config(bf16, "cpu").precision == "bf16"
    assert Backend().train_config(base, "cpu").precision == "fp32"


def test_operational_settings_do_not_change_the_hash():
    base = _run()
    for same in (_run(training={"log_every": 7}), _run(training={"checkpoint_every": 3}),
                 _run(training={"models_per_batch": 6}), _run(value=4.0)):
        assert (same.train_hash, same.config_hash) == (base.train_hash, base.config_hash)


def test_evaluation_settings_change_the_config_but_not_the_model_folder():
    base = _run()
    for changed in (_run(evaluation={"settings": "fast"}), _run(evaluation={"metrics": ["mig"]})):
        assert changed.train_hash == base.train_hash and changed.name == base.name
        assert changed.eval_hash != base.eval_hash and changed.config_hash != base.config_hash
    reps = _run(evaluation={"representations": ["mean"]})
    assert reps.eval_hash == base.eval_hash and reps.config_hash != base.config_hash
    # metric order is irrelevant
    assert _run(evaluation={"metrics": ["dci", "mig"]}).config_hash == base.config_hash


def test_learning_rate_and_capacity_ramp_are_hashed_only_when_not_the_reference():
    from disentangle.study.backend import Backend

    base = _run()
    assert _run(training={"lr": 1e-4}).train_hash == base.train_hash  # earlier runs keep their folders
    fast = _run(training={"lr": 1e-3})
    assert fast.train_hash != base.train_hash
    assert Backend().train_config(fast, "cpu").lr == 1e-3 and Backend().train_config(base, "cpu").lr == 1e-4
    # the capacity ramp is AnnealedVAE's alone: other methods keep their hash
    assert _run(training={"annealed_vae_iteration_threshold": 500}).train_hash == base.train_hash
    annealed = _run(method="annealed_vae", value=25)
    ramped = _run(method="annealed_vae", value=25, training={"annealed_vae_iteration_threshold": 500})
    assert ramped.train_hash != annealed.train_hash
    assert Backend().train_config(ramped, "cpu").hyperparams == {"c_max": 25.0, "iteration_threshold": 500}
    assert Backend().train_config(annealed, "cpu").hyperparams == {"c_max": 25.0}


def test_auto_precision_resolves_by_the_hardware_before_hashing(tmp_path, monkeypatch):
    from disentangle import devices

    study = _study(tmp_path, {"datasets": ["dsprites"], "methods": ["beta_vae"], "values": {"beta_vae": [4]},
                              "seeds": [0], "training": {"precision": "auto"}})
    for native, expected in ((True, "bf16"), (False, "fp32")):
        monkeypatch.setattr(devices, "native_bf16", lambda device, native=native: native)
        assert study.training["precision"] == expected
        run = study.runs(lambda name, source, root: source)[0]
        assert run.training["precision"] == expected
        assert run.train_hash == make_run("dsprites", run.dataset_source, "beta_vae", 4, 0,
                                          {**study.training, "precision": expected}, study.evaluation).train_hash
    with pytest.raises(ValueError, match="must be resolved first"):
        make_run("dsprites", "procedural", "beta_vae", 4, 0, {**TRAINING, "precision": "auto"}, EVALUATION)


def test_native_bf16_follows_the_cpu_probes(monkeypatch):
    import torch

    from disentangle import devices

    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX512")
    for avx512, amx, expected in ((True, False, True), (False, True, True), (False, False, False)):
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda v=avx512: v, raising=False)
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda v=amx: v, raising=False)
        assert devices.native_bf16("cpu") is expected
        assert devices.resolve_precision("auto", "cpu") == ("bf16" if expected else "fp32")
    assert devices.resolve_precision("fp32", "cpu") == "fp32"


def test_precision_auto_respects_an_isa_cap_below_avx512(monkeypatch):
    """An AVX-512-BF16 CPU emulating an AVX2 laptop (ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2)
    trains in float32, as that laptop would."""
    import torch

    from disentangle import devices

    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True, raising=False)
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX512")
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    assert devices.resolve_precision("auto", "cpu") == "bf16"
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    assert devices.resolve_precision("auto", "cpu") == "fp32"
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA")
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX2")
    assert devices.resolve_precision("auto", "cpu") == "fp32"


def test_classifier_semantics_are_hashed_in_the_evaluation_even_at_the_default():
    from disentangle.study.grid import RUN_PROTOCOL, stable_hash

    base = _run()
    assert _run(evaluation={"classifiers": "paper"}).config_hash == base.config_hash  # the default
    modern = _run(evaluation={"classifiers": "modern"})
    assert modern.train_hash == base.train_hash and modern.name == base.name  # the trained model is kept
    assert modern.eval_hash != base.eval_hash and modern.config_hash != base.config_hash
    # a record evaluated before the key existed (today's multinomial fits) is stale, not reused
    old = {"protocol": RUN_PROTOCOL, "settings": base.evaluation["settings"],
           "metrics": sorted(base.evaluation["metrics"])}
    assert stable_hash(old) != base.eval_hash


def test_a_study_mixing_paper_and_other_runs_keeps_the_paper_numbers(tmp_path):
    # beta_vae=3 and seed 50 are outside the paper grid: no model_num, an x- identity, own folders
    study = _study(tmp_path, {"datasets": ["dsprites"], "methods": ["beta_vae"],
                              "values": {"beta_vae": [3, 1]}, "seeds": [50, 0]})
    runs = study.runs(lambda name, source, root: source)
    assert [r.run_id for r in runs] == ["00000", "x-dsprites-beta_vae-1.0-s50", "x-dsprites-beta_vae-3.0-s0",
                                        "x-dsprites-beta_vae-3.0-s50"]
    assert [r.model_num for r in runs] == [0, None, None, None]
    assert [r.value_index for r in runs] == [0, 0, None, None]
    assert runs[0].name == f"00000-{runs[0].train_hash[:8]}"
    assert len({r.name for r in runs}) == 4 and all(r.name.startswith(r.run_id + "-") for r in runs)


#: train hashes (first 16 hex digits) of runs with settings added after runs existed, as
#: computed before the deviations from the reference moved to ``params.reference_deviations``
_PINNED_TRAIN_HASHES = [
    ("beta_vae", 4, {}, "e686f6e5676ae71c"),
    ("beta_vae", 4, {"lr": 1e-3}, "aaac5c2aabbe4f74"),
    ("beta_vae", 4, {"lr_warmup": 100}, "7fba4669783aca6f"),
    ("beta_vae", 4, {"lr_final": 1e-5}, "b0c6f2ccbd3a3daa"),
    ("beta_vae", 4, {"precision": "bf16"}, "95efa09c8a153d32"),
    ("beta_vae", 4, {"annealed_vae_iteration_threshold": 500}, "e686f6e5676ae71c"),
    ("annealed_vae", 25, {"annealed_vae_iteration_threshold": 500}, "0b865298cf0cc92a"),
    ("factor_vae", 30, {"lr": 3e-4, "lr_warmup": 50, "lr_final": 1e-5, "precision": "bf16", "steps": 1200},
     "069cf384a8e6e2e5"),
]


@pytest.mark.parametrize("method,value,changes,expected", _PINNED_TRAIN_HASHES)
def test_run_identity_reads_the_deviations_from_the_reference_and_keeps_its_hashes(method, value, changes,
                                                                                   expected):
    from disentangle.params import reference_deviations
    from disentangle.study.grid import HASHED_TRAINING

    run = make_run("dsprites", "procedural", method, value, 0, {**TRAINING, **changes}, EVALUATION)
    assert run.train_hash[:16] == expected
    # what the book's scale box lists is what the identity hashes beyond the always-hashed settings
    deviations = reference_deviations({**TRAINING, **changes}, (method,))
    assert set(deviations) - set(HASHED_TRAINING) == set(changes) - set(HASHED_TRAINING) - (
        {"annealed_vae_iteration_threshold"} if method != "annealed_vae" else set())
