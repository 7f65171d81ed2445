"""The paper's vocabulary defined once (``vocabulary.py``) and the open grid (``study/grid.py``):
every registry matches the vocabulary, no other module keeps its own list of names, the paper's
12,600 runs keep their ``model_num`` and evaluation seeds, and a run outside the paper's grid gets
an identity that meets no other."""

from __future__ import annotations

import ast
import inspect
import random
from pathlib import Path

import numpy as np
import pytest
import yaml

import disentangle
from disentangle import vocabulary
from disentangle.study.grid import grid_point, in_paper_grid, model_num, run_id

PACKAGE = Path(disentangle.__file__).parent
#: the only modules allowed a literal collection of >= 3 method, dataset or metric-config names: the
#: vocabulary, the metric runner registry and the claims registry (a claim names the methods the paper's
#: statement speaks of, e.g. C3a's β-VAE, β-TCVAE and FactorVAE; ``Claim`` refuses a name not in the vocabulary)
ALLOWED = {"vocabulary.py", "metrics/evaluate.py", "analysis/paper_claims.py"}


def _vocabulary_names() -> set[str]:
    return (set(vocabulary.METHODS) | set(vocabulary.DATASETS) | set(vocabulary.METRIC_CONFIGS)
            | {d.dlib_name for d in vocabulary.DATASETS.values() if d.dlib_name})


def _name_collections(tree: ast.AST, names: set[str]):
    """(line, names) of every list/tuple/set literal or dict literal's keys with >= 3 vocabulary
    names; ``__all__`` (names of Python objects, e.g. the function ``dci``) is not a vocabulary list."""
    skip = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)}
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            elements = node.elts
        elif isinstance(node, ast.Dict):
            elements = node.keys
        else:
            continue
        found = {e.value for e in elements if isinstance(e, ast.Constant) and e.value in names}
        if len(found) >= 3:
            yield node.lineno, sorted(found)


def test_only_the_vocabulary_and_the_runner_registry_list_names():
    names = _vocabulary_names()
    offenders = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        hits = list(_name_collections(ast.parse(path.read_text(encoding="utf-8")), names))
        if hits:
            offenders[rel] = hits
    assert set(offenders) <= ALLOWED, {k: v for k, v in offenders.items() if k not in ALLOWED}
    assert "analysis/paper_claims.py" in offenders and "metrics/evaluate.py" in offenders  # the scan sees lists


def test_the_ast_scan_catches_a_copied_list():
    tree = ast.parse('X = ("beta_vae", "factor_vae", "dip_vae_i")\nY = {"mig": 1, "dci": 2, "sap_score": 3}\n'
                     '__all__ = ["dci", "mig", "sap_score"]\nZ = ("beta_vae", "x", "y")')
    assert [line for line, _ in _name_collections(tree, _vocabulary_names())] == [1, 2]


def test_vocabulary_imports_nothing_of_the_package_and_no_torch():
    tree = ast.parse((PACKAGE / "vocabulary.py").read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names} | \
               {n.module or "." for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported <= {"__future__", "dataclasses", "typing"}, imported


def test_names_are_unique_identifiers_without_dashes():
    # run ids of runs outside the paper grid join names with "-" (study.grid)
    for table in (vocabulary.METHODS, vocabulary.DATASETS, vocabulary.METRIC_CONFIGS):
        for key, entry in table.items():
            assert key == entry.name and key.isidentifier() and "-" not in key


# --------------------------------------------------------------------------- registries match the vocabulary


def test_model_registry_matches_the_vocabulary():
    from disentangle import models

    assert list(models.MODEL_CLASSES) == list(vocabulary.paper_methods())
    for name, entry in vocabulary.METHODS.items():
        cls = models.method_class(name)
        assert cls.name == name
        assert entry.hyperparameter in cls.Config.__dataclass_fields__
    with pytest.raises(ValueError, match="unknown method 'mnist_vae'"):
        models.method_class("mnist_vae")


def test_every_vocabulary_dataset_resolves_to_a_loader(tmp_path):
    from disentangle import data
    from disentangle.data import download

    for name, entry in vocabulary.DATASETS.items():
        module = data._module(name)
        assert hasattr(module, "make") or hasattr(module, "load"), name
        if entry.procedural:
            ds = data.get_dataset(name, source="procedural", root=tmp_path)
            assert ds.name == name and len(ds.factor_sizes) == entry.num_factors
        files = data.expected_files(name, tmp_path)
        assert files and {tmp_path / r.dest for r in download.resources_for(name)} == set(files)
        if entry.dlib_name:
            assert download.resources_for(entry.dlib_name) == download.resources_for(name)


def test_metric_runner_registry_matches_the_vocabulary():
    import importlib

    ev = importlib.import_module("disentangle.metrics.evaluate")  # the module (the package exports the function)

    assert set(ev._RUNNERS) == set(vocabulary.METRIC_CONFIGS)
    assert ev.ALL == tuple(sorted(vocabulary.METRIC_CONFIGS))
    for name, config in vocabulary.METRIC_CONFIGS.items():
        accepted = inspect.signature(ev._RUNNERS[name]).parameters
        for which in vocabulary.SETTINGS_NAMES:
            assert ev.SETTINGS[which][name] == config.settings(which)
            assert set(config.settings(which)) <= set(accepted), name
        assert set(config.fast_changes) <= set(config.paper_settings)
        # the vocabulary says which configs fit logistic regressions / parallel classifiers
        assert not config.logistic or "classifiers" in accepted, name
        assert not config.parallel or "n_jobs" in accepted, name
    assert {n for n, c in vocabulary.METRIC_CONFIGS.items() if c.logistic} == {
        "beta_vae_sklearn", "modularity_explicitness", "downstream_task_logistic_regression"}
    assert {n for n, c in vocabulary.METRIC_CONFIGS.items() if c.parallel} == {
        "dci", "downstream_task_boosted_trees", "downstream_task_logistic_regression", "sap_score"}


def test_overridable_keys_exist_in_each_configs_settings():
    for name, config in vocabulary.METRIC_CONFIGS.items():
        assert config.overridable, name
        for key in config.overridable:
            assert key in config.paper_settings and key in config.settings("fast")
        assert vocabulary.check_overrides({name: {k: ([7] if isinstance(config.paper_settings[k], tuple) else 7)
                                                  for k in config.overridable}}) is None
    assert "not an overridable setting" in vocabulary.check_overrides({"dci": {"classifier": 3}})
    assert "unknown metric config" in vocabulary.check_overrides({"dcii": {"num_train": 3}})


# --------------------------------------------------------------------------- seeds and numbers are pinned

#: the reference's evaluation seeds (`bin/dlib_reproduce: main`), written out
PINNED_SEEDS = {
    "mean": {"beta_vae_sklearn": 3071714933, "dci": 3626093760, "downstream_task_boosted_trees": 2588848963,
             "downstream_task_logistic_regression": 3684848379, "factor_vae_metric": 2340255427,
             "mig": 3638918503, "modularity_explicitness": 1819583497, "sap_score": 2678185683,
             "unsupervised": 2774094101},
    "sampled": {"beta_vae_sklearn": 1650906866, "dci": 1879422756, "downstream_task_boosted_trees": 1277901399,
                "downstream_task_logistic_regression": 3830135878, "factor_vae_metric": 243580376,
                "mig": 4138900056, "modularity_explicitness": 1171049868, "sap_score": 1646868794,
                "unsupervised": 2051556033},
}


def test_pinned_seeds_are_the_reference_draw_from_random_state_0():
    # postprocess mean, sampled, then the 9 configs (sorted) for mean, then for sampled
    master = np.random.RandomState(0)
    post = {rep: int(master.randint(2**32)) for rep in ("mean", "sampled")}
    drawn = {rep: {name: int(master.randint(2**32)) for name in sorted(PINNED_SEEDS["mean"])}
             for rep in ("mean", "sampled")}
    assert post == vocabulary.POSTPROCESS_SEEDS
    assert drawn == PINNED_SEEDS
    for rep in ("mean", "sampled"):
        assert vocabulary.evaluation_seeds(rep) == PINNED_SEEDS[rep]
        from disentangle.metrics import evaluation_seeds, reference_evaluation_seeds

        assert reference_evaluation_seeds(rep) == evaluation_seeds(0, rep) == PINNED_SEEDS[rep]


#: the reference sweep's orders and strides (`config/unsupervised_study_v1/sweep.py`), written here independently
SWEEP_DATASETS = ("dsprites", "color_dsprites", "noisy_dsprites", "scream_dsprites", "smallnorb", "cars3d",
                  "shapes3d")
SWEEP_METHODS = {"beta_vae": (1, 2, 4, 6, 8, 16), "factor_vae": (10, 20, 30, 40, 50, 100),
                 "dip_vae_i": (1, 2, 5, 10, 20, 50), "dip_vae_ii": (1, 2, 5, 10, 20, 50),
                 "beta_tc_vae": (1, 2, 4, 6, 8, 10), "annealed_vae": (5, 10, 25, 50, 75, 100)}


def _paper_runs():
    for d, dataset in enumerate(SWEEP_DATASETS):
        for m, (method, values) in enumerate(SWEEP_METHODS.items()):
            for v, value in enumerate(values):
                for seed in range(50):
                    yield (dataset, method, value, seed), 1800 * d + 300 * m + 50 * v + seed


def test_all_12600_paper_runs_keep_their_model_num():
    runs = list(_paper_runs())
    assert len(runs) == 12_600
    for point, expected in runs:
        assert model_num(*point) == expected
        assert run_id(*point) == f"{expected:05d}"
    for point, expected in runs[::97]:
        assert grid_point(expected) == point


def _shuffled(table: dict, rng: random.Random) -> dict:
    items = list(table.items())
    rng.shuffle(items)
    return dict(items)


def test_reordering_the_vocabulary_renumbers_nothing(monkeypatch):
    rng = random.Random(3)
    for attr in ("METHODS", "DATASETS", "METRIC_CONFIGS"):
        monkeypatch.setattr(vocabulary, attr, _shuffled(getattr(vocabulary, attr), rng))
    assert list(vocabulary.METHODS) != list(SWEEP_METHODS) or list(vocabulary.DATASETS)[:7] != list(SWEEP_DATASETS)
    for point, expected in _paper_runs():
        assert model_num(*point) == expected
    for rep in ("mean", "sampled"):
        assert vocabulary.evaluation_seeds(rep) == PINNED_SEEDS[rep]


def test_extending_the_vocabulary_renumbers_nothing(monkeypatch):
    from toy_method import ENTRY

    monkeypatch.setattr(vocabulary, "METHODS", {ENTRY.name: ENTRY, **vocabulary.METHODS})
    extra = vocabulary.METRIC_CONFIGS["mig"].__class__(
        "aaa_metric", "a metric sorted first", {"num_train": 10}, seeds={"mean": 1, "sampled": 2})
    monkeypatch.setattr(vocabulary, "METRIC_CONFIGS", {"aaa_metric": extra, **vocabulary.METRIC_CONFIGS})
    for point, expected in list(_paper_runs())[::7]:
        assert model_num(*point) == expected
    for rep in ("mean", "sampled"):
        seeds = vocabulary.evaluation_seeds(rep)
        assert {k: v for k, v in seeds.items() if k != "aaa_metric"} == PINNED_SEEDS[rep]


def test_runs_outside_the_paper_grid_get_identities_that_meet_no_other(monkeypatch):
    from toy_method import ENTRY

    monkeypatch.setitem(vocabulary.METHODS, ENTRY.name, ENTRY)
    paper_ids = {f"{n:05d}" for _, n in _paper_runs()}
    points = [(d, m, v, s)
              for d in ("dsprites", "cars3d", "mpi3d_toy", "mpi3d_real")
              for m in ("beta_vae", "dip_vae_i", "toy_vae")
              for v in (1, 1.5, 3, 1e-05, 1.0000000000000002, 100)
              for s in (0, 49, 50, 123)]
    outside = [p for p in points if not in_paper_grid(*p)]
    ids = [run_id(*p) for p in outside]
    assert len(outside) > 200 and len(set(ids)) == len(ids)
    assert not set(ids) & paper_ids and all(i.startswith("x-") for i in ids)
    assert run_id("dsprites", "beta_vae", 1, 50) == "x-dsprites-beta_vae-1.0-s50"
    assert run_id("mpi3d_toy", "beta_vae", 1, 0) == "x-mpi3d_toy-beta_vae-1.0-s0"
    for p in outside[:5]:
        with pytest.raises(ValueError, match="paper.s grid|not in the paper grid"):
            model_num(*p)
    with pytest.raises(ValueError, match="unknown dataset"):
        run_id("mnist", "beta_vae", 1, 0)


# --------------------------------------------------------------------------- a 7th method in a tiny study


def test_a_toy_seventh_method_trains_next_to_beta_vae(tmp_path, monkeypatch):
    from toy_method import ENTRY, ToyVAE

    from disentangle.models import method_class
    from disentangle.study import run_study
    from disentangle.study.grid import Study
    from test_study_e2e import DummyDataBackend

    monkeypatch.setitem(vocabulary.METHODS, ENTRY.name, ENTRY)  # the one vocabulary entry
    assert method_class("toy_vae") is ToyVAE
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    (tmp_path / "_config.yml").write_text("title: test\n")
    params = tmp_path / "toy.yaml"
    params.write_text(yaml.safe_dump({
        "shared": {"scale": "ci", "results_dir": str(tmp_path / "results"), "data_source": "procedural",
                   "device": "cpu"},
        "study": {"datasets": ["dsprites"], "methods": ["beta_vae", "toy_vae"],
                  "values": {"beta_vae": [1], "toy_vae": [0.5]}, "seeds": [0],
                  "training": {"steps": 20, "eval_batches": 1, "log_every": 10, "checkpoint_every": 20},
                  "evaluation": {"settings": "fast", "metrics": ["mig", "unsupervised"], "representations": ["mean"],
                                 "overrides": {"mig": {"num_train": 100}, "unsupervised": {"num_train": 100}}},
                  "executor": {"kind": "sequential"}},
    }))
    df = run_study(params, progress=False, backend=DummyDataBackend())
    assert list(df["method"]) == ["beta_vae", "toy_vae"]
    assert list(df["run_id"]) == ["00000", "x-dsprites-toy_vae-0.5-s0"]
    assert df["model_num"].iloc[0] == 0 and df["model_num"].isna().iloc[1]
    assert df["hyperparameter"].tolist() == ["beta", "weight"] and set(df["train.global_step"]) == {20}
    assert np.isfinite(df["mig.discrete_mig"].astype(float)).all()
    names = sorted(p.name for p in Study.from_params(params).runs_dir.iterdir())
    assert len(names) == 2 and names[0].startswith("00000-") and names[1].startswith("x-dsprites-toy_vae-0.5-s0-")


def test_labels_come_from_the_vocabulary_and_unknown_names_pass_through():
    assert vocabulary.method_label("beta_tc_vae") == "β-TCVAE"
    assert vocabulary.dataset_label("color_dsprites") == "Color-dSprites"
    assert vocabulary.method_label("toy_vae") == "toy_vae" and vocabulary.dataset_label("x") == "x"
    assert vocabulary.dsprites_variants() == ("dsprites", "color_dsprites", "noisy_dsprites", "scream_dsprites")


def test_sweep_position_lists_names_in_the_papers_order_and_others_after():
    assert sorted(["cars3d", "mpi3d_toy", "dsprites", "shapes3d"], key=vocabulary.sweep_position) == \
        ["dsprites", "cars3d", "shapes3d", "mpi3d_toy"]
    assert sorted(["toy_vae", "annealed_vae", "beta_vae"], key=vocabulary.sweep_position) == \
        ["beta_vae", "annealed_vae", "toy_vae"]
