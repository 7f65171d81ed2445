"""The papermill runner: parameters injected, failures named, nothing stale rendered."""

import json
import shutil
from pathlib import Path

import pytest
import yaml

from disentangle import book, params

ROOT = Path(__file__).resolve().parents[1]


def _notebook(*sources: str) -> dict:
    cells = [{"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": sources[0], "outputs": [], "execution_count": None}]
    cells += [{"cell_type": "code", "metadata": {}, "source": s, "outputs": [], "execution_count": None} for s in sources[1:]]
    return {"cells": [dict(c, id=f"c{i}") for i, c in enumerate(cells)], "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


SHARED_DEFAULTS = 'scale = "ci"\nseed = 0\ndevice = "auto"\nresults_dir = "r"\ndata_root = None\ndata_source = "procedural"\nparams_file = ""\n'


@pytest.fixture
def project(tmp_path):
    shutil.copy2(ROOT / "_config.yml", tmp_path / "_config.yml")
    (tmp_path / "_toc.yml").write_text(yaml.safe_dump(
        {"format": "jb-book", "root": "book/intro", "chapters": [{"file": "book/01_good"}, {"file": "book/02_bad"}]}))
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "intro.md").write_text("# Intro\n\n<!-- SCALE -->\n")
    (tmp_path / "book" / "01_good.ipynb").write_text(json.dumps(_notebook(
        SHARED_DEFAULTS + 'x = 1  # in [0, 10]\nresults = ""  # a results table; empty: results_dir\n',
        "import json, pathlib\npathlib.Path('seen.json').write_text(json.dumps({'x': x, 'seed': seed}))",
    )))
    (tmp_path / "book" / "02_bad.ipynb").write_text(json.dumps(_notebook(
        SHARED_DEFAULTS, "a = 1", "raise ValueError('boom in cell two')",
    )))
    ci = yaml.safe_load((ROOT / "params" / "ci.yaml").read_text())
    ci["shared"]["seed"] = 7
    ci["chapters"] = {"01_good": {"x": 3}, "02_bad": {}}
    (tmp_path / "params").mkdir()
    path = tmp_path / "params" / "t.yaml"
    path.write_text(yaml.safe_dump(ci))
    return tmp_path, path


def test_parameters_injected_and_failure_named(project):
    root, path = project
    with pytest.raises(book.ChapterFailed) as e:
        book.run(path, build=False, log=lambda *_: None)
    msg = str(e.value)
    assert "'02_bad'" in msg and "cell 3 of book/02_bad.ipynb" in msg and "boom in cell two" in msg
    seen = json.loads((root / "book" / "seen.json").read_text())
    assert seen == {"x": 3, "seed": 7}, "shared + chapter section injected"
    assert (root / "_build" / "executed" / "01_good.ipynb").is_file()
    assert not (root / "_build" / "executed" / "02_bad.ipynb").exists(), "a failed chapter leaves no executed copy"
    assert (root / "_build" / "failed" / "02_bad.ipynb").is_file()


def test_failed_rerun_removes_stale_copy_and_stages_placeholder(project):
    root, path = project
    executed = root / "_build" / "executed"
    executed.mkdir(parents=True)
    (executed / "02_bad.ipynb").write_text("{}")  # a stale, previously successful run
    with pytest.raises(book.ChapterFailed):
        book.run(path, only=["02_bad"], build=False, log=lambda *_: None)
    assert not (executed / "02_bad.ipynb").exists()
    stage = book.stage_source(params.load(path))
    assert (stage / "book" / "02_bad.md").is_file() and not (stage / "book" / "02_bad.ipynb").exists()
    assert "not executed" in (stage / "book" / "02_bad.md").read_text()
    assert "Scale of this build" in (stage / "book" / "intro.md").read_text()


def test_only_rejects_unlisted_chapter(project):
    _, path = project
    with pytest.raises(params.ParamsError, match="not listed"):
        book.run(path, only=["03_missing"], build=False)


def test_notebook_executed_with_other_params_is_not_staged(project):
    root, path = project
    book.execute_chapter(params.load(path), "01_good", log=lambda *_: None)
    data = yaml.safe_load(path.read_text())
    data["chapters"]["01_good"]["x"] = 4
    path.write_text(yaml.safe_dump(data))
    stage = book.stage_source(params.load(path))
    assert (stage / "book" / "01_good.md").is_file(), "changed params make the executed copy stale"


def test_summary_pages_execute_after_the_chapters():
    names = ["00_verdict", "01_impossibility", "02_training"]
    assert book.execution_order(names) == ["01_impossibility", "02_training", "00_verdict"]
    assert book.execution_order(["02_training", "01_impossibility"]) == ["02_training", "01_impossibility"]


def test_staged_page_has_rerun_box_and_downloads(project):
    import pandas as pd

    root, path = project
    p = params.load(path)
    ran = book.execute_chapter(p, "01_good", log=lambda *_: None)
    table = pd.DataFrame({"dataset": ["dsprites"] * 2, "method": ["beta_vae"] * 2, "value": [1.0, 1.0],
                          "seed": [0, 1], "representation": ["mean"] * 2, "score": [0.25, 0.5]})
    results_dir = Path(p.shared["results_dir"])
    results_dir.mkdir(parents=True)
    table.to_parquet(results_dir / "results.parquet")
    stage = book.stage_source(p)

    cells = json.loads((stage / "book" / "01_good.ipynb").read_text())["cells"]
    boxes = [c for c in cells if "rerun-box" in c["metadata"].get("tags", [])]
    assert len(boxes) == 1
    box = boxes[0]["source"]
    assert "python -m disentangle book --params params/t.yaml --only 01_good" in box
    assert "make chapter NAME=01_good PARAMS=params/t.yaml" in box
    assert "01_good: {x: 3}" in box, "the chapter's params section"
    seconds = json.loads((root / "_build" / "executed" / "manifest.json").read_text())["01_good"]["seconds"]
    assert f"took **{seconds:.1f} s**" in box and abs(seconds - ran.seconds) < 0.1
    assert "{download}`params/t.yaml <downloads/t.yaml>`" in box
    assert "{download}`results.csv <downloads/results.csv>`" in box

    downloads = stage / "book" / "downloads"
    assert (downloads / "t.yaml").read_bytes() == path.read_bytes()
    pd.testing.assert_frame_equal(pd.read_csv(downloads / "results.csv"), table, check_dtype=False)
    intro = (stage / "book" / "intro.md").read_text()
    assert "<downloads/results.csv>" in intro and "<downloads/t.yaml>" in intro
    assert (stage / "book" / "02_bad.md").is_file(), "a page not executed gets no box"


def test_rerun_box_goes_before_the_first_section():
    nb = {"cells": [{"cell_type": "markdown", "source": "# Title\n\nintro"},
                    {"cell_type": "code", "source": "x = 1"},
                    {"cell_type": "markdown", "source": ["## First section\n", "text"]}]}
    box = {"cell_type": "markdown", "source": "box"}
    book._insert_before_first_section(nb, box)
    assert [c["source"] for c in nb["cells"]][2] == "box"
    nb = {"cells": [{"cell_type": "markdown", "source": "# Title only"}]}
    book._insert_before_first_section(nb, box)
    assert nb["cells"][-1] is box


def test_scale_box_states_every_training_deviation_from_the_paper(project_root):
    from disentangle import book, params

    paper = params.load(project_root / "params" / "paper.yaml")
    assert book.training_deviations(paper) == []  # paper.yaml stays the reference's study
    default = params.load(project_root / "params" / "default.yaml")
    stated = book.training_deviations(default)
    t, schema = default.study["training"], params.STUDY_SCHEMA["training"]
    for key, spec in schema.items():
        if key not in ("log_every", "checkpoint_every", "models_per_batch") and t[key] != spec.default:
            assert any(line.startswith(f"{key} ") for line in stated), key
    note = book.scale_box(default)
    assert "steps 1,200 (paper: 300,000)" in note and "batch_size 32 (paper: 64)" in note
    assert not any(line.startswith("lr ") for line in stated)  # the default trains at the paper's rate
    assert "outside the paper's grid" not in note and book.outside_paper_grid(default) == 0


def test_scale_box_counts_runs_outside_the_paper_grid(project_root, tmp_path):
    from disentangle import book, params

    text = (project_root / "params" / "ci.yaml").read_text()
    assert "beta_vae: [1, 16]" in text and "seeds: [0, 1]" in text
    path = tmp_path / "extended.yaml"  # beta = 3 is not a paper value; seed 50 is past the paper's 50
    path.write_text(text.replace("beta_vae: [1, 16]", "beta_vae: [1, 3]").replace("seeds: [0, 1]", "seeds: [0, 50]"))
    p = params.load(path, root=project_root)
    # 1 dataset x 4 values x 2 seeds = 8 runs; outside: beta = 3 at both seeds, seed 50 of the 3 other values
    assert book.outside_paper_grid(p) == 5
    assert "5 of the 8 models lie outside the paper's grid" in book.scale_box(p)


def test_study_progress_prints_a_line_when_the_run_counts_change(tmp_path):
    """While a chapter runs the study, the console gets one line per change of the run counts."""
    import sys
    import time

    sys.path.insert(0, str(Path(__file__).parent))
    from test_study_fakes import FakeBackend, write_params

    from disentangle import params as params_mod
    from disentangle.book import StudyProgress
    from disentangle.study import run_study

    path = write_params(tmp_path, seeds=(0, 1, 2))
    lines: list[str] = []
    with StudyProgress(params_mod.load(path), "02_training", lines.append, every=0.02):
        time.sleep(0.1)
        assert lines == []  # nothing changed yet: nothing printed
        run_study(path, progress=False, backend=FakeBackend(step_sleep=0.01))
        time.sleep(0.3)
    assert lines and lines[-1].startswith("[book]   02_training: 6 of 6 runs done, 0 running")
    assert len(lines) == len(set(line.split(";")[0] for line in lines))  # one line per change


def test_the_scale_box_says_which_scores_beat_their_rotated_twins(tmp_path):
    import sys

    import pandas as pd

    sys.path.insert(0, str(Path(__file__).parent))
    from test_study_fakes import write_params

    from disentangle.study.columns import CONTROL_COLUMNS, SCORES

    p = params.load(write_params(tmp_path))
    assert "none scored yet" in book.controls_note(p)
    rows = []
    for i in range(12):
        for kind, mig in (("standardised", 0.3), ("rotated", 0.1)):
            rows.append({"control": kind, "run_id": f"{i:05d}", "dataset": "dsprites", "method": "beta_vae",
                         "value": 4.0, "seed": i, **{c: 0.5 for c in SCORES.values()}, SCORES["MIG"]: mig})
    folder = Path(p.shared["results_dir"])
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=[*CONTROL_COLUMNS, *SCORES.values()]).to_csv(folder / "controls.csv", index=False)
    note = book.controls_note(p)
    assert "1 of 6 (dataset, score) cells" in note and "MIG (dSprites, 12/12)" in note
    (folder / "controls.csv").write_bytes(b"\x00\xff garbage")
    assert book.controls_note(p).startswith("Controls: the controls table could not be read")


def test_a_chapter_runs_without_the_kernels_tcp_warning(project, capfd):
    root, path = project
    book.execute_chapter(params.load(path), "01_good", log=lambda *_: None)
    err = capfd.readouterr().err
    assert "without encryption" not in err, err  # the kernel talks over IPC, not TCP (book.kernel_manager)
    assert json.loads((root / "book" / "seen.json").read_text()) == {"x": 3, "seed": 7}
