"""Results tables: our study's (``load_results``) and the reference library's
aggregated records (``load_dlib``, study.md §7.3–7.4), in one schema
(``study/columns.py``). Implemented in :mod:`disentangle.study.results`."""

from .study.results import load_dlib, load_results

__all__ = ["load_dlib", "load_results"]
