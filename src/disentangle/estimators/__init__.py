"""The classifiers the metrics fit (book/design.md, "Classifier semantics"), below ``metrics`` and
independent of it. What is fitted is scikit-learn's estimators with the reference's settings,
pinned in :mod:`.factories` (the ``sklearn_*`` factories build scikit-learn's own). The numba
modules are accelerators of two of them, tested against scikit-learn: :mod:`.gbt`
(``GradientBoostingClassifier``: the same trees) and :mod:`.logistic`
(``LogisticRegression``/``LogisticRegressionCV``: the same solver steps)."""

from .factories import (CLASSIFIER_SEMANTICS, check_classifiers, gradient_boosting_classifier,
                        hist_gradient_boosting_classifier, linear_svc, logistic_regression,
                        logistic_regression_cv, logistic_regression_cv_fast,
                        sklearn_gradient_boosting_classifier, sklearn_logistic_regression,
                        sklearn_logistic_regression_cv)

__all__ = [
    "CLASSIFIER_SEMANTICS", "check_classifiers", "gradient_boosting_classifier",
    "hist_gradient_boosting_classifier", "linear_svc", "logistic_regression", "logistic_regression_cv",
    "logistic_regression_cv_fast", "sklearn_gradient_boosting_classifier", "sklearn_logistic_regression",
    "sklearn_logistic_regression_cv",
]
