"""Studies (`config/unsupervised_study_v1/sweep.py`, `bin/dlib_reproduce`): the grid as resumable runs, executors, the results table.

Public API: :func:`run_study` (:func:`execute_study` also says which runs are
not done and why), :func:`study_status`, :func:`aggregate_study`,
:func:`load_results`, :func:`load_controls` (the controls, apart from the results), :func:`load_dlib`, :class:`Study`, :func:`model_num`, :func:`run_id`.
"""

from .api import StudyOutcome, StudyStatus, aggregate_study, execute_study, run_study, study_status
from .backend import Backend
from .grid import RUN_PROTOCOL, Run, Study, grid_point, model_num, run_id
from .results import load_controls, load_dlib, load_results

__all__ = [
    "Backend", "RUN_PROTOCOL", "Run", "Study", "StudyOutcome", "StudyStatus", "aggregate_study", "execute_study",
    "grid_point", "load_controls", "load_dlib", "load_results", "model_num", "run_id", "run_study",
    "study_status",
]
