"""Claims table: paper vs this run, with a stated decision rule (paper §5; claims C2–C12: book/design.md, "The paper's conclusions as claims").

Each claim in :data:`~disentangle.analysis.paper_claims.CLAIMS` (one declaration per claim) has a
scalar statistic (computed here from the results table), a bootstrap interval over runs
(:mod:`~disentangle.analysis.bootstrap`) and an expectation. A chapter shows the claims it decides
with :func:`chapter_claims`, which the verdict page calls too. The verdict rule:

- **inconclusive** when the run is too small for the claim or the statistic or
  its interval cannot be computed. "Too small" is measured, not set by hand:
  ``claims_gate.csv`` (written by ``benchmarks/claims_calibration.py``) lists, per
  claim, the designs (datasets × methods × values per method) and the fewest seeds
  per configuration at which the claim's interval covered the truth ≥ 90 % of the
  time and gave ≤ 5 % wrong verdicts in simulated studies with known truth; a
  study smaller than every such design is inconclusive by rule. Layout needs (a
  dataset/method/column missing, fewer than ``min_levels`` strength values) and
  the optional ``min_runs`` floor also apply;
- the interval is the bootstrap interval widened, if needed, to include the point
  estimate, then each side's distance from the estimate is multiplied by the claim's
  calibrated factor (``claims_gate.csv``: the smallest of 1, 1.5, 2, 3 at which the
  simulation met the goals); that interval is the one shown and the one calibrated;
- direction claims (statistic < or > threshold): **agrees** when the whole
  interval lies on the claimed side, **disagrees** when it lies wholly on the
  other side, otherwise inconclusive;
- equivalence claims (Table 1 numbers, paper ± tolerance): **agrees** when the
  whole interval lies inside the band, **disagrees** when it lies wholly
  outside, otherwise inconclusive.

The signal gate (issue 23). A claim whose statistic reads disentanglement scores
(``Claim.scores``: every claim but C2, C3a, C3b) is decided only on the (dataset, score)
cells whose score beats its rotated twin (:mod:`~disentangle.analysis.signal`): the others
are set to NaN before the statistic and its bootstrap are computed, so they drop out. With no
such cell among the claim's scores, or no controls at all, the claim is **inconclusive**: a
score that does not reward alignment cannot support a claim about disentanglement. Simulated
studies, which have no controls, pass ``signal=UNGATED`` to decide on every score.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..study.columns import DOWNSTREAM, SCORES, UNSUPERVISED
from ..vocabulary import dataset_label, sweep_position
from . import downstream, selection
from .bootstrap import BootstrapCI, bootstrap_many
from .paper_claims import CLAIMS, Claim, Tables, chapter_ids, claim_chapters
from .paper_values import TRANSFER_DRAWS, Expectation
from .results_table import CONFIG_KEY, RUN_KEY, require_columns
from .signal import signal_mask

VERDICTS = ("agrees", "disagrees", "inconclusive")


def verdict(ci: BootstrapCI, expectation: Expectation) -> str:
    """Apply the module's decision rule to one CI (scale checks are done by the caller).

    The interval used is the hull of the CI and the point estimate, so a
    bootstrap distribution that is biased away from the estimate (small-sample
    variance statistics) can only make the verdict more cautious.
    """
    if not (np.isfinite(ci.estimate) and np.isfinite(ci.lo) and np.isfinite(ci.hi)):
        return "inconclusive"
    lo, hi = min(ci.lo, ci.estimate), max(ci.hi, ci.estimate)
    t = expectation.threshold
    if expectation.kind == "direction":
        above, below = lo > t, hi < t
        if expectation.relation == ">":
            return "agrees" if above else "disagrees" if below else "inconclusive"
        return "agrees" if below else "disagrees" if above else "inconclusive"
    band_lo, band_hi = t - expectation.tolerance, t + expectation.tolerance
    if band_lo <= lo and hi <= band_hi:
        return "agrees"
    if hi < band_lo or lo > band_hi:
        return "disagrees"
    return "inconclusive"


def claim_values(df: pd.DataFrame, claims: Sequence[str], *, seed: int,
                 n_draws: int = TRANSFER_DRAWS) -> tuple[dict[str, float], dict[str, str]]:
    """Each claim's statistic on ``df`` and, for those that cannot be computed, why."""
    tables = Tables(df, seed, n_draws)
    values, errors = {}, {}
    for cid in claims:
        try:
            values[cid] = float(CLAIMS[cid].compute(tables, CLAIMS[cid]))
        except (KeyError, ValueError) as err:
            values[cid], errors[cid] = float("nan"), f"cannot compute: {err}"
    return values, errors


# ---------------------------------------------------------------------------------------------
# the signal gate (analysis/signal.py decides which scores have signal)

#: ``claims_table(..., signal=UNGATED)``: decide every claim on every score, with no signal gate.
#: Only for simulated studies with planted effects (``analysis/synthetic.py``, the calibration),
#: which have no controls; a real study passes its signal table
UNGATED = "ungated"
NO_CONTROLS = "no controls in this study"
NO_SIGNAL = "scores do not beat their rotated twins"


def signal_cells(signal: pd.DataFrame | str | None) -> tuple[dict[str, set[str]] | None, str | None]:
    """(dataset → score columns with signal, or None when ungated; why nothing can have signal, or None)."""
    if isinstance(signal, str):
        if signal != UNGATED:
            raise ValueError(f"signal must be a signal table, None or {UNGATED!r}, got {signal!r}")
        return None, None
    if signal is None or signal.empty:
        return {}, NO_CONTROLS
    return signal_mask(signal), None


def claim_signal(claim: Claim, mask: Mapping[str, set[str]], datasets) -> dict[str, list[str]]:
    """Dataset → the claim's scores (labels, paper order) with signal there, for the study's datasets."""
    out = {}
    for dataset in sorted(datasets, key=sweep_position):
        labels = [label for label, col in SCORES.items() if label in claim.scores and col in mask.get(dataset, ())]
        if labels:
            out[dataset] = labels
    return out


def describe_signal(claim: Claim, cells: Mapping[str, list[str]], datasets) -> str:
    """e.g. ``"MIG, DCI (dSprites, Color-dSprites); SAP (Shapes3D)"``: datasets grouped by their scores
    (``"all"`` when every score of the claim has signal on every dataset)."""
    if set(cells) == set(datasets) and all(len(labels) == len(claim.scores) for labels in cells.values()):
        return "all"
    groups: dict[tuple[str, ...], list[str]] = {}
    for dataset, labels in cells.items():
        groups.setdefault(tuple(labels), []).append(dataset_label(dataset))
    return "; ".join(f"{', '.join(labels)} ({', '.join(names)})" for labels, names in groups.items())


def masked_scores(df: pd.DataFrame, mask: Mapping[str, set[str]]) -> pd.DataFrame:
    """``df`` with every disentanglement score set to NaN on the datasets where it has no signal."""
    out = df.copy()
    for col in SCORES.values():
        if col in out.columns:
            keep = out["dataset"].map(lambda d: col in mask.get(d, ())).astype(bool)
            out[col] = out[col].where(keep)
    return out


# ---------------------------------------------------------------------------------------------
# scale requirements

def _seeds_per_config(df: pd.DataFrame) -> pd.Series:
    return df[list(RUN_KEY)].drop_duplicates().groupby(list(CONFIG_KEY)).size()


def structural_requirement(claim_id: str, df: pd.DataFrame, *, min_levels: int = 3) -> str | None:
    """Why the table's *layout* cannot answer ``claim_id`` (a dataset, method or enough
    strength values missing: the claim's :meth:`~disentangle.analysis.paper_claims.Claim.shortfall`);
    None if it can. Seed counts are gated separately."""
    return CLAIMS[claim_id].shortfall(df, min_levels=min_levels)


# ---------------------------------------------------------------------------------------------
# the calibrated gate (benchmarks/claims_calibration.py writes claims_gate.csv)

GATE_FILE = Path(__file__).with_name("claims_gate.csv")


@dataclass(frozen=True)
class GateRow:
    """One calibrated design at which a claim reaches the goals (coverage ≥ 90 %, ≤ 5 % wrong verdicts)."""

    claim: str
    design: str
    n_datasets: int
    n_methods: int
    n_values: int
    min_seeds: int | None
    coverage: float
    wrong_null: float
    scheme: str
    calibrated_seeds: str
    #: the interval's half-widths are multiplied by this before the verdict (the smallest
    #: factor at which the simulated coverage and wrong-verdict rates met the goals)
    widen: float = 1.0

    def shape(self) -> str:
        return f"{self.n_datasets} datasets × {self.n_methods} methods × {self.n_values} values"


def load_gate(path: str | Path = GATE_FILE) -> dict[str, list[GateRow]]:
    """Claim id → its calibrated designs (``claims_gate.csv``, one row per claim and design)."""
    path = Path(path)
    try:
        table = pd.read_csv(path, dtype={"calibrated_seeds": str})
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: the claims gate is missing; run benchmarks/claims_calibration.py "
                                "--summarise --write-gate SCHEME to regenerate it") from None
    missing = [c for c in ("claim", "design", "n_datasets", "n_methods", "n_values", "min_seeds", "coverage",
                           "wrong_null", "scheme", "calibrated_seeds") if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: lacks column(s) {missing}; regenerate it with benchmarks/claims_calibration.py")
    out: dict[str, list[GateRow]] = {}
    for r in table.itertuples(index=False):
        seeds = int(r.min_seeds) if pd.notna(r.min_seeds) else None
        out.setdefault(r.claim, []).append(GateRow(
            r.claim, r.design, int(r.n_datasets), int(r.n_methods), int(r.n_values), seeds, float(r.coverage),
            float(r.wrong_null), r.scheme, str(r.calibrated_seeds),
            float(getattr(r, "widen", 1.0)) if pd.notna(getattr(r, "widen", 1.0)) else 1.0))
    return out


def gate_scheme(gate: dict[str, list[GateRow]]) -> str:
    """The resampling scheme the gate was calibrated for (one per file)."""
    schemes = {row.scheme for rows in gate.values() for row in rows}
    if len(schemes) != 1:
        raise ValueError(f"{GATE_FILE}: expected one resampling scheme, found {sorted(schemes)}")
    return schemes.pop()


def table_design(df: pd.DataFrame) -> dict[str, int]:
    """The study's shape as the gate reads it: datasets, methods, fewest values per (dataset, method),
    fewest seeds per configuration."""
    return {"n_datasets": int(df["dataset"].nunique()), "n_methods": int(df["method"].nunique()),
            "n_values": int(df.groupby(["dataset", "method"])["value"].nunique().min()),
            "seeds": int(_seeds_per_config(df).min())}


def _calibrated_rows(claim_id: str, design: Mapping[str, int],
                     gate: dict[str, list[GateRow]]) -> tuple[list[GateRow], list[GateRow]]:
    """The claim's calibrated designs no larger than ``design``, and those of them that reached
    the goals, fewest seeds first."""
    fits = [r for r in gate.get(claim_id, []) if r.n_datasets <= design["n_datasets"]
            and r.n_methods <= design["n_methods"] and r.n_values <= design["n_values"]]
    return fits, sorted((r for r in fits if r.min_seeds is not None), key=lambda r: r.min_seeds)


def calibrated_widening(claim_id: str, design: Mapping[str, int], gate: dict[str, list[GateRow]]) -> float:
    """The widening factor of the calibrated design that decides ``claim_id`` here (1 if none does)."""
    _, reached = _calibrated_rows(claim_id, design, gate)
    return reached[0].widen if reached and design["seeds"] >= reached[0].min_seeds else 1.0


def calibrated_gate(claim_id: str, design: Mapping[str, int], gate: dict[str, list[GateRow]],
                    min_runs: int | None = None) -> tuple[str | None, str]:
    """(why the claim cannot be decided or None, the gate that applied).

    Decidable when some calibrated design that reached the goals is no larger than this
    study in datasets, methods and values per method, and the study has at least that
    design's seeds per configuration (and ``min_runs``, an optional extra floor).
    """
    seeds = design["seeds"]
    if min_runs is not None and seeds < min_runs:
        return f"only {seeds} seed(s) per configuration (min_runs = {min_runs})", f"≥ {min_runs} seeds/config"
    fits, reached = _calibrated_rows(claim_id, design, gate)
    if reached and seeds >= reached[0].min_seeds:
        r = reached[0]
        widen = f", interval ×{r.widen:g}" if r.widen != 1 else ""
        return None, (f"calibrated gate: ≥ {r.min_seeds} seeds/config at ≥ {r.shape()}{widen} (coverage "
                      f"{100 * r.coverage:.0f} %, null wrong verdicts {100 * r.wrong_null:.0f} %)")
    if reached:
        r = reached[0]
        return (f"only {seeds} seed(s) per configuration; the calibration needs ≥ {r.min_seeds} at ≥ {r.shape()}",
                f"calibrated gate: ≥ {r.min_seeds} seeds/config at ≥ {r.shape()}")
    if fits:
        tried = "; ".join(f"{r.shape()} × {r.calibrated_seeds.replace(' ', '/')} seeds" for r in fits)
        return (f"the calibration never reached the goals at this size ({tried})",
                "calibrated gate: not reached")
    return ("no calibrated design this small; run benchmarks/claims_calibration.py on this design",
            "calibrated gate: design not calibrated")


def _claim_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Only the columns the claim statistics read (makes each bootstrap resample cheaper)."""
    keep = [*RUN_KEY, "representation", "value_index", *SCORES.values(), *UNSUPERVISED.values(),
            *(col for col, _ in selection.UNSUPERVISED_SELECTORS.values()),
            *downstream.accuracy_columns(df).values(),
            *(f"{prefix}.sample_efficiency" for prefix in DOWNSTREAM.values())]
    return df[[c for c in dict.fromkeys(keep) if c in df.columns]]


def claims_table(df: pd.DataFrame, claims: Sequence[str] | None = None, *, seed: int, n_boot: int = 200,
                 level: float = 0.95, min_runs: int | None = None, min_levels: int = 3,
                 n_draws: int = TRANSFER_DRAWS, scheme: str | None = None,
                 gate: dict[str, list[GateRow]] | None = None,
                 signal: pd.DataFrame | str | None = None) -> pd.DataFrame:
    """Paper vs this run for ``claims`` (ids in :data:`~disentangle.analysis.paper_claims.CLAIMS`; default all).

    Columns: claim, section, statement, paper, statistic, this run
    (estimate [95 % CI]), agrees? ∈ {agrees, disagrees, inconclusive}, rule,
    note (why inconclusive; for a claim on scores, which scores decided it), estimate, ci_lo, ci_hi.
    The CI resamples runs within configurations by ``scheme`` (default: the gate's, see
    :mod:`~disentangle.analysis.bootstrap`; ``n_boot`` replicates, ``np.random.default_rng(seed)``) and
    is shown widened to include the estimate, as the rule uses it. Each verdict is gated by the calibration
    (``gate``, default :func:`load_gate`: the seeds per configuration and design size at which
    the claim's interval reached ≥ 90 % coverage and ≤ 5 % wrong verdicts), by ``min_runs``
    (an optional extra floor on seeds per configuration) and ``min_levels`` (strength values).
    ``signal``: the study's :func:`~disentangle.analysis.signal.signal_table`; a claim on scores is
    decided on the scores with signal only, and is inconclusive when none has signal or ``signal`` is
    None or empty (no controls). :data:`UNGATED` turns the signal gate off (simulated studies).
    """
    require_columns(df, [*RUN_KEY, "representation"])
    ids = list(CLAIMS) if claims is None else list(claims)
    unknown = [c for c in ids if c not in CLAIMS]
    if unknown:
        raise KeyError(f"unknown claim id(s) {unknown}; known: {list(CLAIMS)}")
    gate = load_gate() if gate is None else gate
    scheme = gate_scheme(gate) if scheme is None else scheme
    df = _claim_columns(df)
    design = table_design(df)
    mask, no_controls = signal_cells(signal)
    on_raw, on_masked, signal_notes, decided_on = _split_by_signal(ids, df, mask, no_controls)
    notes, cis = {}, {}
    # the claims on scores are computed on the table with the scores without signal set aside
    for table, group in ((df, on_raw), (masked_scores(df, mask) if on_masked else df, on_masked)):
        group_notes, group_cis = _statistics_with_cis(table, group, design, seed=seed, n_boot=n_boot,
                                                      level=level, n_draws=n_draws, scheme=scheme)
        notes.update(group_notes)
        cis.update(group_cis)
    rows = []
    for cid in ids:
        claim = CLAIMS[cid]
        raw = cis.get(cid, BootstrapCI(np.nan, np.nan, np.nan, level, n_boot, 0))
        widen = calibrated_widening(cid, design, gate)
        ci = raw.including_estimate().widened(widen).clipped(*claim.bounds)
        gate_note, gate_rule = calibrated_gate(cid, design, gate, min_runs)
        note = (signal_notes.get(cid) or notes.get(cid) or structural_requirement(cid, df, min_levels=min_levels)
                or gate_note)
        result, note = _verdict_and_note(claim, ci, raw, widen, note, decided_on.get(cid))
        rule = f"{claim.expectation.rule}; {100 * level:g} % {scheme} bootstrap over runs; {gate_rule}"
        if claim.gated:
            rule += "; signal gate off (simulation)" if mask is None else "; only scores beating their rotated twins"
        digits = 1 if np.isfinite(ci.estimate) and abs(ci.estimate) >= 10 else 2
        rows.append({
            "claim": cid, "section": claim.section, "statement": claim.text, "paper": claim.paper,
            "statistic": claim.statistic, "this run": ci.format(digits), "agrees?": result,
            "rule": rule, "note": note or "", "estimate": ci.estimate, "ci_lo": ci.lo, "ci_hi": ci.hi,
        })
    return pd.DataFrame(rows)


def _split_by_signal(ids: Sequence[str], df: pd.DataFrame, mask, no_controls) -> tuple[list, list, dict, dict]:
    """``(on the raw table, on the masked table, inconclusive notes, which scores decided)``: claims
    on scores go to the table with the scores without signal masked, or are inconclusive when no
    score they read has signal; the other claims (and all, without a signal table) use the raw table."""
    on_raw, on_masked, signal_notes, decided_on = [], [], {}, {}
    for cid in ids:
        if mask is None or not CLAIMS[cid].gated:
            on_raw.append(cid)
            continue
        cells = claim_signal(CLAIMS[cid], mask, set(df["dataset"]))
        if no_controls or not cells:
            signal_notes[cid] = no_controls or NO_SIGNAL
        else:
            on_masked.append(cid)
            decided_on[cid] = describe_signal(CLAIMS[cid], cells, set(df["dataset"]))
    return on_raw, on_masked, signal_notes, decided_on


def _statistics_with_cis(table: pd.DataFrame, group: Sequence[str], design: dict, *, seed: int, n_boot: int,
                         level: float, n_draws: int, scheme: str) -> tuple[dict, dict]:
    """The claims of ``group`` on ``table``: notes of those whose statistic cannot be computed, and the
    bootstrap CIs of the others (none under ``subsample`` with a single seed)."""
    if not group:
        return {}, {}
    _, notes = claim_values(table, group, seed=seed, n_draws=n_draws)
    runnable = [cid for cid in group if cid not in notes]
    if not runnable or (scheme == "subsample" and design["seeds"] < 2):
        return notes, {}
    return notes, bootstrap_many(table, lambda t, r=runnable: claim_values(t, r, seed=seed, n_draws=n_draws)[0],
                                 seed=seed, n_boot=n_boot, level=level, scheme=scheme)


def _verdict_and_note(claim, ci: BootstrapCI, raw: BootstrapCI, widen: float, note: str | None,
                      decided_on: str | None) -> tuple[str, str | None]:
    """The verdict of ``claim`` on its (widened) ``ci``, and the row's note: why it is inconclusive,
    how its interval was widened, and which scores with signal decided it."""
    if note is None and not np.isfinite(ci.estimate):
        note = "statistic undefined on the scores with signal" if decided_on else "statistic undefined on this table"
    elif note is None and not (np.isfinite(ci.lo) and np.isfinite(ci.hi)):
        note = "bootstrap CI undefined"
    result = "inconclusive" if note else verdict(ci, claim.expectation)
    if note is None and widen != 1:
        note = f"interval widened ×{widen:g} about the estimate, as the calibration requires"
    elif note is None and (ci.lo, ci.hi) != (raw.lo, raw.hi):
        note = "interval widened to include the estimate (the calibrated coverage is this widened one's)"
    if decided_on:
        scope = "decided on scores with signal: " if result != "inconclusive" else "scores with signal: "
        note = "; ".join(filter(None, [scope + decided_on, note]))
    return result, note


# ---------------------------------------------------------------------------------------------
# a chapter's claims table (the chapters and the verdict page call this)

def chapter_arguments(*, seed: int, n_boot: int = 200, min_levels: int | None = None,
                      transfer_draws: int | None = None) -> dict[str, int]:
    """The keyword arguments of :func:`claims_table` that a chapter's parameters give (its keywords are the
    chapters' parameter names; one a chapter does not have leaves ``claims_table``'s default)."""
    args = {"seed": seed, "n_boot": n_boot}
    if min_levels is not None:
        args["min_levels"] = min_levels
    if transfer_draws is not None:
        args["n_draws"] = transfer_draws
    return args


#: the chapter parameters a chapter passes to :func:`chapter_claims` (where it has them)
CHAPTER_PARAMETERS = tuple(inspect.signature(chapter_arguments).parameters)


def chapter_claims(chapter: str, df: pd.DataFrame, *, signal: pd.DataFrame | str | None,
                   **parameters: int) -> pd.DataFrame:
    """The claims table of chapter ``chapter`` (a notebook name, e.g. ``"05_seeds_and_selection"``): every
    claim whose ``chapter`` it is (:func:`~disentangle.analysis.paper_claims.chapter_ids`), with the
    chapter's own parameters (:data:`CHAPTER_PARAMETERS`: ``seed``, ``n_boot`` and, where the chapter has
    them, ``min_levels`` and ``transfer_draws``) and ``signal``, the signal table of its results."""
    ids = chapter_ids(chapter)
    if not ids:
        raise KeyError(f"no claim is decided in chapter {chapter!r}; chapters with claims: {list(claim_chapters())}")
    return claims_table(df, ids, **chapter_arguments(**parameters), signal=signal)


def scale_note(df: pd.DataFrame) -> str:
    """One line per dataset stating the run scale, e.g.
    ``"dSprites (procedural): 6 methods × 3 values × 3 seeds = 54 runs, 2k steps"``."""
    require_columns(df, [*RUN_KEY])
    runs = df.drop_duplicates(list(RUN_KEY))
    lines = []
    for dataset, g in runs.groupby("dataset", sort=True):
        label = dataset_label(dataset)
        source = g["dataset_source"].iloc[0] if "dataset_source" in g.columns else "file"
        if source != "file":
            label += f" ({source})"
        values = g.groupby("method")["value"].nunique()
        seeds = g.groupby(list(CONFIG_KEY)).size()
        text = (f"{label}: {g['method'].nunique()} methods × {_span(values)} values × "
                f"{_span(seeds)} seeds = {len(g)} runs")
        if "train.global_step" in g.columns and g["train.global_step"].notna().any():
            text += f", {_steps(float(g['train.global_step'].median()))} steps"
        lines.append(text)
    return "; ".join(lines)


def _span(counts: pd.Series) -> str:
    lo, hi = int(counts.min()), int(counts.max())
    return f"{lo}" if lo == hi else f"{lo}–{hi}"


def _steps(steps: float) -> str:
    if steps >= 1000:
        return f"{steps / 1000:g}k"
    return f"{steps:g}"
