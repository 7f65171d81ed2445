"""The classifiers the metrics fit (book/design.md, "Classifier semantics"), below ``metrics`` and
independent of it: numba re-implementations of scikit-learn's estimators
(:mod:`.logistic`: ``LogisticRegression``/``LogisticRegressionCV``; :mod:`.gbt`:
``GradientBoostingClassifier``) and the pinned factories that build every
estimator with the reference's settings (:mod:`.factories`)."""

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
