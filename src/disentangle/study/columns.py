"""Column vocabulary of the results table (one row per run x representation).

One concept, one place: every module that writes or reads the table uses these
names. Metric columns are ``"<metric_config>.<reference key>"`` with the
reference's metric-config names (study.md §0, §5) and output keys.
"""

#: identity / config columns
RUN_COLUMNS = (
    "model_num", "dataset", "dataset_source", "method", "hyperparameter", "value",
    "value_index", "seed", "representation", "config_hash",
)

#: training results (study.md §2.4), prefixed ``train.``
TRAIN_COLUMNS = (
    "train.loss", "train.reconstruction_loss", "train.kl_loss", "train.regularizer",
    "train.elbo", "train.global_step", "train.elapsed_time",
)

#: settings of the run that are not grid coordinates
SETTINGS_COLUMNS = ("steps", "eval_settings")

#: wall seconds per phase: data loading and training are per run (a batched
#: group's time split evenly), evaluation per representation (study/runs.py)
TIME_COLUMNS = ("time.data", "time.train", "time.eval", "time.bookkeeping")

#: where a row comes from: ``origin`` is "disentangle" (our runs) or
#: "disentanglement_lib" (the reference's records, ``results.load_dlib``)
PROVENANCE_COLUMNS = (
    "origin", "device", "version.disentangle", "version.torch", "version.numpy",
    "version.sklearn", "version.python",
)

#: the reference's metric-config names, in the reference's (sorted) order
METRIC_CONFIGS = (
    "beta_vae_sklearn", "dci", "downstream_task_boosted_trees",
    "downstream_task_logistic_regression", "factor_vae_metric", "mig",
    "modularity_explicitness", "sap_score", "unsupervised",
)

#: the six disentanglement scores as the paper reports them
SCORES = {
    "BetaVAE": "beta_vae_sklearn.eval_accuracy",
    "FactorVAE": "factor_vae_metric.eval_accuracy",
    "MIG": "mig.discrete_mig",
    "DCI": "dci.disentanglement",
    "Modularity": "modularity_explicitness.modularity_score",
    "SAP": "sap_score.SAP_score",
}

#: unsupervised scores (computed on the representation, no labels)
UNSUPERVISED = {
    "GaussianTC": "unsupervised.gaussian_total_correlation",
    "WassersteinCorr": "unsupervised.gaussian_wasserstein_correlation_norm",
    "MeanPairwiseMI": "unsupervised.mutual_info_score",
}

#: downstream accuracy / efficiency columns, per predictor
DOWNSTREAM = {
    "LR": "downstream_task_logistic_regression",
    "GBT": "downstream_task_boosted_trees",
}


def metric_column(metric_config: str, key: str) -> str:
    """``"<metric_config>.<reference key>"``, e.g. ``metric_column("mig", "discrete_mig")``."""
    return f"{metric_config}.{key}"


def downstream_column(predictor: str, key: str) -> str:
    """e.g. ``downstream_column("GBT", "100:mean_test_accuracy")``."""
    return f"{DOWNSTREAM[predictor]}.{key}"
