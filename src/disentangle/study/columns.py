"""Column vocabulary of the results table (one row per run x representation).

One concept, one place: every module that writes or reads the table uses these
names. Metric columns are ``"<metric_config>.<reference key>"`` with the
reference's metric-config names (`sweep.py`, `metric_configs/*.gin`) and output keys; the names
and labels come from ``vocabulary``.
"""

from .. import vocabulary

#: identity / config columns
RUN_COLUMNS = (
    "model_num", "dataset", "dataset_source", "method", "hyperparameter", "value",
    "value_index", "seed", "representation", "config_hash",
)
#: the identity of a run outside the paper's grid (``x-...``, ``study.grid``): a table holding
#: such runs gets this column after ``RUN_COLUMNS`` (``<model_num:05d>`` on the paper's rows) and
#: empty ``model_num`` / ``value_index`` on the others; a table of paper runs only is unchanged
RUN_ID_COLUMN = "run_id"

#: training results (`methods/unsupervised/train.py`, `shared.gin`), prefixed ``train.``
TRAIN_COLUMNS = (
    "train.loss", "train.reconstruction_loss", "train.kl_loss", "train.regularizer",
    "train.elbo", "train.global_step", "train.elapsed_time",
)

#: settings of the run that are not grid coordinates
SETTINGS_COLUMNS = ("steps", "eval_settings")

#: wall seconds per phase: data loading and training are per run (a batched
#: group's time split evenly), evaluation per representation, the rotated twin per run
#: (study/controls.py) and the rest of the group's wall time (study/runs.py)
TIME_COLUMNS = ("time.data", "time.train", "time.eval", "time.controls", "time.bookkeeping")

#: where a row comes from: ``origin`` is "disentangle" (our runs) or
#: "disentanglement_lib" (the reference's records, ``results.load_dlib``)
PROVENANCE_COLUMNS = (
    "origin", "device", "version.disentangle", "version.torch", "version.numpy",
    "version.sklearn", "version.python",
)

#: the reference's metric-config names, in the reference's (sorted) order

#: the six disentanglement scores as the paper reports them: label -> column
SCORES = vocabulary.scores("disentanglement")

#: unsupervised scores (computed on the representation, no labels)
UNSUPERVISED = vocabulary.scores("unsupervised")

#: downstream accuracy / efficiency columns, per predictor
DOWNSTREAM = vocabulary.downstream_predictors()


def metric_column(metric_config: str, key: str) -> str:
    """``"<metric_config>.<reference key>"``, e.g. ``metric_column("mig", "discrete_mig")``."""
    return f"{metric_config}.{key}"


def downstream_column(predictor: str, key: str) -> str:
    """e.g. ``downstream_column("GBT", "100:mean_test_accuracy")``."""
    return f"{DOWNSTREAM[predictor]}.{key}"


#: the controls table (``controls.csv`` beside the results, ``study/controls.py``), kept apart from the
#: results so that no claim statistic mixes a control in: one row per scored control representation.
#: ``control``: "standardised" (a trained run's mean codes, standardised), "rotated" (the same codes
#: turned by a seeded random rotation: its twin) or "untrained" (the reference encoder at
#: initialisation, no training; ``method`` empty, ``run_id`` ``untrained-<dataset>-s<seed>``).
#: Score columns are those of ``SCORES`` (the results table's names).
CONTROL_KINDS = ("standardised", "rotated", "untrained")
CONTROL_COLUMNS = ("control", "run_id", "dataset", "method", "value", "seed")
