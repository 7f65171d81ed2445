"""Params files: every shipped file validates; every kind of mistake names file and key."""

import json
import shutil
from pathlib import Path

import pytest
import yaml

from disentangle import params, vocabulary

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["ci", "default", "overnight", "paper"])
def test_shipped_params_validate(name):
    p = params.load(ROOT / "params" / f"{name}.yaml")
    assert p.shared["scale"] == name
    assert Path(p.shared["results_dir"]).is_absolute()
    assert set(p.chapters) <= set(params.toc_chapters(ROOT))


def test_paper_params_are_the_full_study():
    s = params.load(ROOT / "params" / "paper.yaml").study
    assert s["datasets"] == list(vocabulary.paper_datasets())
    assert s["methods"] == list(vocabulary.paper_grid())
    assert s["values"] == {} and len(s["seeds"]) == 50 and s["training"]["steps"] == 300_000


@pytest.fixture
def tmp_project(tmp_path):
    """A copy of the project's book config with one params file to mutate."""
    for f in ("_config.yml", "_toc.yml"):
        shutil.copy2(ROOT / f, tmp_path / f)
    shutil.copytree(ROOT / "book", tmp_path / "book")
    (tmp_path / "params").mkdir()
    base = yaml.safe_load((ROOT / "params" / "ci.yaml").read_text())

    def write(mutate):
        data = json.loads(json.dumps(base))
        mutate(data)
        path = tmp_path / "params" / "x.yaml"
        path.write_text(yaml.safe_dump(data))
        return path

    return write


def _error(path) -> str:
    with pytest.raises(params.ParamsError) as e:
        params.load(path)
    return str(e.value)


def test_unknown_key_names_file_and_key(tmp_project):
    msg = _error(tmp_project(lambda d: d["shared"].update(sede=1)))
    assert "x.yaml" in msg and "shared.sede: unknown key" in msg


def test_unknown_nested_key(tmp_project):
    msg = _error(tmp_project(lambda d: d["study"]["training"].update(stepz=3)))
    assert "study.training.stepz: unknown key" in msg


def test_unknown_top_level_key(tmp_project):
    assert "shard: unknown top-level key" in _error(tmp_project(lambda d: d.update(shard={})))


def test_wrong_type(tmp_project):
    msg = _error(tmp_project(lambda d: d["study"]["training"].update(steps="many")))
    assert "study.training.steps: wrong type: expected int, got str" in msg


def test_bool_is_not_an_int(tmp_project):
    assert "shared.seed: wrong type" in _error(tmp_project(lambda d: d["shared"].update(seed=True)))


def test_out_of_range(tmp_project):
    assert "study.training.steps: must be >= 1" in _error(tmp_project(lambda d: d["study"]["training"].update(steps=0)))


def test_bad_choice(tmp_project):
    assert "shared.device: must be one of" in _error(tmp_project(lambda d: d["shared"].update(device="tpu")))
    assert "study.training.precision: must be one of" in _error(
        tmp_project(lambda d: d["study"]["training"].update(precision="fp16")))
    assert "study.evaluation.classifiers: must be one of" in _error(
        tmp_project(lambda d: d["study"]["evaluation"].update(classifiers="multinomial")))


def test_values_outside_the_paper_grid_must_be_positive_numbers(tmp_project):
    # a value outside the paper grid is an extension run (study.grid); zero, negatives and text are not values
    params.load(tmp_project(lambda d: d["study"].update(values={"beta_vae": [3, 1]})))
    msg = _error(tmp_project(lambda d: d["study"].update(values={"beta_vae": [0, -2, "x"]})))
    assert "study.values: beta_vae: values [0, -2, 'x'] must be positive numbers" in msg
    assert "must not repeat values" in _error(tmp_project(lambda d: d["study"].update(values={"beta_vae": [4, 4.0]})))


def test_seeds_must_be_distinct_non_negative_integers(tmp_project):
    params.load(tmp_project(lambda d: d["study"].update(seeds=[50, 0])))  # seed 50: a run outside the paper grid
    assert "study.seeds: must be distinct integers >= 0" in _error(tmp_project(lambda d: d["study"].update(seeds=[-1])))
    assert "study.seeds: must be distinct integers >= 0" in _error(tmp_project(lambda d: d["study"].update(seeds=[1, 1])))


def test_missing_required_key(tmp_project):
    assert "shared.results_dir: missing required key" in _error(tmp_project(lambda d: d["shared"].pop("results_dir")))


def test_unknown_chapter(tmp_project):
    assert "chapters.99_nope: not a chapter in _toc.yml" in _error(tmp_project(lambda d: d["chapters"].update({"99_nope": {}})))


def test_all_errors_reported_together(tmp_project):
    def mutate(d):
        d["shared"]["seed"] = -1
        d["study"]["methods"] = ["vae"]

    msg = _error(tmp_project(mutate))
    assert "shared.seed" in msg and "study.methods" in msg


def test_invalid_yaml(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("shared: [unclosed\n")
    with pytest.raises(params.ParamsError, match="bad.yaml: not valid YAML"):
        params.load(bad, root=ROOT)


def test_missing_file():
    with pytest.raises(params.ParamsError, match="params file not found"):
        params.load(ROOT / "params" / "nope.yaml")


# ---- chapter sections are checked against the notebook's parameters cell


def _nb(source: str) -> dict:
    return {
        "cells": [{"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": source, "outputs": [], "execution_count": None}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    }


def test_notebook_parameter_rules(tmp_path):
    nb = tmp_path / "n.ipynb"
    nb.write_text(json.dumps(_nb(
        'alpha = 0.3  # in (0, 0.5)\n'
        'dims = 3  # in [2, 64]\n'
        'n = 10  # >= 1\n'
        'mode = "a"  # one of: a|b\n'
        'names = ["a"]  # each one of: a|b\n'
        'flag = True\n'
    )))
    ps = params.notebook_parameters(nb)
    assert ps["alpha"].check(0.49) is None and "out of range" in ps["alpha"].check(0.5)
    assert "out of range" in ps["alpha"].check(0)
    assert ps["dims"].check(64) is None and "out of range" in ps["dims"].check(65)
    assert "wrong type" in ps["dims"].check(2.5)
    assert ps["alpha"].check(0.25) is None and ps["alpha"].check(0) is not None
    assert "must be >= 1" in ps["n"].check(0)
    assert "must be one of" in ps["mode"].check("c")
    assert ps["names"].check(["a", "b"]) is None and "must be one of" in ps["names"].check(["a", "z"])
    assert "wrong type" in ps["flag"].check(1)


def test_chapter_section_checked_against_notebook(tmp_project):
    chapter = params.toc_chapters(ROOT)[0]
    declared = params.notebook_parameters(ROOT / "book" / f"{chapter}.ipynb")
    msg = _error(tmp_project(lambda d: d["chapters"].update({chapter: {"not_a_param": 1}})))
    assert f"chapters.{chapter}.not_a_param: unknown key" in msg
    assert "params_file" in declared, "every chapter declares params_file so it runs standalone"
    msg = _error(tmp_project(lambda d: d["chapters"].update({chapter: {"seed": 1}})))
    assert f"chapters.{chapter}.seed: set in 'shared'" in msg


def test_every_chapter_declares_the_shared_keys():
    for chapter in params.toc_chapters(ROOT):
        declared = params.notebook_parameters(ROOT / "book" / f"{chapter}.ipynb")
        missing = (set(params.SHARED_SCHEMA) | {"params_file"}) - set(declared)
        assert not missing, f"{chapter} parameters cell lacks {missing}"


def test_chapter_parameters_merge_shared_and_section():
    p = params.load(ROOT / "params" / "ci.yaml")
    name = next(iter(p.chapters))
    injected = p.chapter_parameters(name)
    assert injected["scale"] == "ci" and injected["params_file"] == str(p.path)
    for k, v in p.chapters[name].items():
        assert injected[k] == v


def test_learning_rate_written_as_yaml_text_gets_a_hint(tmp_project):
    path = tmp_project(lambda d: d["study"]["training"].update(lr=0.001))
    assert params.load(path).study["training"]["lr"] == 0.001
    path.write_text(path.read_text().replace("lr: 0.001", "lr: 1e-3"))
    msg = _error(path)
    assert "study.training.lr: wrong type: expected float, got str ('1e-3')" in msg and "write 0.001" in msg
    assert "study.training.lr: must be > 0" in _error(tmp_project(lambda d: d["study"]["training"].update(lr=0)))


# --------------------------------------------------------------------------- fault injection


def test_a_params_file_outside_the_project_works(tmp_path, monkeypatch):
    """Before: a params file copied outside the repository (as the README invites)
    failed with a traceback ending `no _config.yml/_toc.yml found above ...`.
    Relative paths in such a file resolve against its own folder, whatever the
    working directory; inside a project they resolve against the project root."""
    data = yaml.safe_load((ROOT / "params" / "ci.yaml").read_text())
    data.pop("chapters")
    data["shared"]["data_root"] = "data"
    outside = tmp_path / "elsewhere" / "my.yaml"
    outside.parent.mkdir()
    outside.write_text(yaml.safe_dump(data))
    monkeypatch.chdir(tmp_path)  # not a project either
    p = params.load(outside)
    assert p.shared["results_dir"] == str(outside.parent / "_build" / "study" / "ci")
    assert p.shared["data_root"] == str(outside.parent / "data")
    with pytest.raises(params.ParamsError, match="no book project"):
        p.root
    monkeypatch.chdir(ROOT)  # from the project, its chapters can be checked and the book run
    data["chapters"] = {"01_impossibility": {}}
    outside.write_text(yaml.safe_dump(data))
    p = params.load(outside)
    assert p.root == ROOT and p.shared["results_dir"] == str(outside.parent / "_build" / "study" / "ci")
    inside = params.load(ROOT / "params" / "ci.yaml")
    assert inside.shared["results_dir"] == str(ROOT / "_build" / "study" / "ci")


def test_a_duplicate_key_is_an_error(tmp_project):
    """Before: a key written twice was accepted silently, the last one winning."""
    path = tmp_project(lambda d: None)
    path.write_text(path.read_text().replace("  seed: 0\n", "  seed: 0\n  seed: 3\n", 1))
    msg = _error(path)
    assert "x.yaml" in msg and "duplicate key 'seed'" in msg


def test_values_for_a_method_not_in_methods_are_an_error(tmp_project):
    """Before: `values` given for a method missing from `methods` were silently ignored."""
    msg = _error(tmp_project(lambda d: d["study"]["values"].update(factor_vae=[10])))
    assert "study.values.factor_vae: values given for a method not in study.methods" in msg
