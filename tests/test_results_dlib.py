"""``disentangle.study.load_dlib``: the reference's aggregated records
(`utils/results.py`, `utils/aggregate_results.py`) in our results-table schema."""

import math

import pandas as pd
import pytest

from disentangle.study import load_dlib
from disentangle.study.columns import RUN_COLUMNS, TRAIN_COLUMNS


def _record(model_num, dataset, name, binding, value, seed, rep, metric, results):
    """One row exactly as dlib_aggregate_results writes it: gin-literal strings for configs."""
    row = {
        "train_config.dataset.name": f"'{dataset}'",
        "train_config.model.name": f"'{name}'",
        "train_config.model.model": "@vae()",
        "train_config.model.random_seed": str(seed),
        "train_config.model.model_num": str(model_num),
        "train_config.model.training_steps": "300000",
        f"train_config.{binding}": repr(float(value)),
        "train_results.loss": 80.5 + model_num, "train_results.reconstruction_loss": 70.0,
        "train_results.kl_loss": 10.5, "train_results.regularizer": 10.5, "train_results.elbo": -80.5,
        "train_results.global_step": 300000, "train_results.elapsed_time": 3600.0,
        "train_results.uuid": "abc",
        "postprocess_config.postprocess.postprocess_fn": f"@{rep}_representation",
        "postprocess_config.postprocess.random_seed": "2357136044",
        "evaluation_config.evaluation.name": f"'{metric}'",
        "evaluation_config.evaluation.random_seed": "3638918503",
        "evaluation_results.elapsed_time": 12.0, "evaluation_results.uuid": "def",
        "path": f"/output/{model_num}/metrics/{rep}/{metric}/results/aggregate/evaluation.json",
    }
    row.update({f"evaluation_results.{k}": v for k, v in results.items()})
    return row


def _write(tmp_path, rows):
    path = tmp_path / "results.json"
    path.write_text(pd.DataFrame(rows).to_json())  # column orientation, as the reference writes it
    return path


def _rows():
    rows = []
    for num, dataset, name, binding, value, seed in [(0, "dsprites_full", "beta_vae", "vae.beta", 1, 0),
                                                     (2526, "color_dsprites", "dip_vae_i", "dip_vae.lambda_od", 5, 26)]:
        for rep in ("mean", "sampled"):
            rows.append(_record(num, dataset, name, binding, value, seed, rep, "mig",
                                {"discrete_mig": 0.1 + num / 10000 + (rep == "sampled")}))
            rows.append(_record(num, dataset, name, binding, value, seed, rep, "downstream_task_logistic_regression",
                                {"10:mean_test_accuracy": 0.5, "10000:mean_test_accuracy": 0.9}))
    for r in rows[4:]:  # DIP rows also carry the method's fixed bindings
        r["train_config.dip_vae.lambda_d_factor"] = "10.0"
        r["train_config.dip_vae.dip_type"] = "'i'"
    return rows


def test_load_dlib_pivots_metrics_into_one_row_per_model_and_representation(tmp_path):
    df = load_dlib(_write(tmp_path, _rows()))
    assert len(df) == 4
    assert list(zip(df.model_num, df.representation)) == [(0, "mean"), (0, "sampled"), (2526, "mean"), (2526, "sampled")]
    for col in (*RUN_COLUMNS, *TRAIN_COLUMNS, "mig.discrete_mig", "mig.elapsed_time",
                "downstream_task_logistic_regression.10:mean_test_accuracy"):
        assert col in df.columns, col
    dip = df[(df.model_num == 2526) & (df.representation == "mean")].iloc[0]
    assert (dip.dataset, dip.method, dip.hyperparameter, dip.value, dip.value_index, dip.seed) == \
        ("color_dsprites", "dip_vae_i", "lambda_od", 5.0, 2, 26)
    assert dip["mig.discrete_mig"] == pytest.approx(0.1 + 0.2526)
    assert dip["train.loss"] == pytest.approx(2606.5) and dip["train.global_step"] == 300000
    assert dip.origin == "disentanglement_lib" and dip.dataset_source == "file" and dip.steps == 300000
    assert dip["time.eval"] == pytest.approx(24.0) and dip["time.train"] == pytest.approx(3600.0)
    beta = df[(df.model_num == 0) & (df.representation == "sampled")].iloc[0]
    assert (beta.dataset, beta.method, beta.hyperparameter, beta.value) == ("dsprites", "beta_vae", "beta", 1.0)
    assert beta["mig.discrete_mig"] == pytest.approx(1.1)
    assert "train.uuid" not in df.columns and "mig.uuid" not in df.columns


def test_load_dlib_matches_our_table_schema(tmp_path):
    from disentangle.study.results import BASE_COLUMNS, TAIL_COLUMNS

    df = load_dlib(_write(tmp_path, _rows()))
    assert list(df.columns[:len(BASE_COLUMNS)]) == list(BASE_COLUMNS)
    assert list(df.columns[-len(TAIL_COLUMNS):]) == list(TAIL_COLUMNS)
    assert df["model_num"].dtype == "int64" and df["value"].dtype == "float64"
    assert df["config_hash"].isna().all() and math.isnan(df["time.data"].astype(float).iloc[0])


def test_load_dlib_rejects_bad_records(tmp_path):
    rows = _rows()
    with pytest.raises(ValueError, match="duplicate record for model 0, mean, metric 'mig'"):
        load_dlib(_write(tmp_path, rows + [rows[0]]))
    bad = [dict(rows[0], **{"train_config.dataset.name": "'mpi3d_toy'"})]
    with pytest.raises(ValueError, match="unknown dataset 'mpi3d_toy'"):
        load_dlib(_write(tmp_path, bad))
    bad = [dict(rows[0], **{"train_config.model.model_num": "7"})]
    with pytest.raises(ValueError, match="model_num 7 does not match"):
        load_dlib(_write(tmp_path, bad))
    bad = [{k: v for k, v in rows[0].items() if k != "evaluation_config.evaluation.name"}]
    with pytest.raises(ValueError, match="not a disentanglement_lib aggregate"):
        load_dlib(_write(tmp_path, bad))
