"""Calibrate the claims' intervals and verdicts by simulation with known truth (issue 19).

Synthetic studies (``analysis/synthetic.py``) of a fixed *population* are drawn
at a design (datasets × methods × values per method × seeds per configuration);
each claim statistic gets its bootstrap interval by every resampling scheme
(``analysis/bootstrap.py``), widened to include the estimate as the claims table
shows it, and the verdict rule of ``analysis/claims.py`` is applied.

Truth. The claims are about the population of runs at the design's
configurations, not about the seeds that happened to be drawn, so a statistic's
truth is its value as the seeds per configuration grow without bound:

- planted-effect studies (``plausible``): the statistic on ``--truth-seeds``
  seeds per configuration of the same population, averaged over
  ``--truth-reps`` independent such tables (the spread between them is written
  too, so a truth that is not pinned down is visible);
- null studies (``noise``: every score, TC and accuracy i.i.d.): the symmetry
  value (every configuration, score and representation is exchangeable), e.g.
  0 for rank correlations and trends, 50 % for shares and win rates, 0 % / 100 %
  for R² / 1 − R²; C7's is the expected share of the most frequent of uniformly
  random winners.

Per (design, seeds, scheme, claim) it reports the coverage of the shown
interval, the rate of wrong decisive verdicts (agrees/disagrees when the truth
says otherwise; with a truth exactly at the threshold every decisive verdict
is wrong) on null and on planted studies, and the power (correct decisive
verdicts on planted studies). Goals (issue 19): coverage ≥ 90 % and ≤ 5 %
wrong verdicts. Raw rows are appended to ``<out>/claims_calibration_raw_<label>_s<seeds>.csv``
as each study finishes; ``--summarise`` turns them into
``claims_calibration.{csv,md}`` and ``--write-gate`` into the per-claim gate
read by ``claims.py`` (``src/disentangle/analysis/claims_gate.csv``).

    python benchmarks/claims_calibration.py --params params/default.yaml --seeds 3 4 5
    python benchmarks/claims_calibration.py --label paper_subset --datasets dsprites color_dsprites \\
        noisy_dsprites scream_dsprites smallnorb cars3d shapes3d --values-per-method 6 --seeds 5
    python benchmarks/claims_calibration.py --summarise --write-gate

The signal gate (issue 23; ``--signal-gate``, alias ``--no-alignment``): studies of the same design
get synthetic controls (``analysis.synthetic.synthetic_controls``) whose rotated twins either score
like the runs themselves (exchangeable: no alignment signal, each run beats its twin with P = 1/2,
independently) or lower (``--twin-shifts`` s, in within-dataset standard deviations: P = Φ(s)). It
reports how often the Wilson rule (``analysis/signal.py``) gives a (dataset, score) cell signal, and
the share of gated claims (every claim on scores) that ``claims_table`` then decides, beside the
share decided with the gate off; written to ``signal_gate_calibration.{md,csv}``:

    python benchmarks/claims_calibration.py --signal-gate --params params/default.yaml --studies 20
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from disentangle.analysis import claims, signal
from disentangle.analysis.bootstrap import SCHEMES, BootstrapCI, bootstrap_replicates, interval_from_replicates
from disentangle.analysis.paper_claims import CLAIMS
from disentangle.vocabulary import paper_methods
from disentangle.analysis.synthetic import synthetic_controls, synthetic_results
from disentangle.io import append_csv_rows, atomic_write_text
from disentangle.study.columns import SCORES

ROOT = Path(__file__).resolve().parents[1]
RAW_COLUMNS = ("label", "n_datasets", "n_methods", "n_values", "seeds", "effect", "population", "study", "scheme",
               "n_boot", "claim", "estimate", "lo", "hi", "truth", "truth_sd", "verdict", "truth_verdict")
COVERAGE_GOAL, WRONG_GOAL = 0.90, 0.05
#: factors tried on each side's distance from the estimate; the gate keeps the smallest that meets the goals
WIDENINGS = (1.0, 1.5, 2.0, 3.0)
#: fewer null or planted studies than this at a design and the goals count as not shown
MIN_STUDIES = 6


def null_truth(claim_id: str, n_cells: int, n_methods: int, rng: np.random.Generator) -> float:
    """The statistic's population value when every score/TC/accuracy is i.i.d. noise (symmetry)."""
    if claim_id == "C7":  # expected share of the most frequent of n_cells uniformly random winners
        counts = rng.multinomial(n_cells, np.full(n_methods, 1.0 / n_methods), size=200_000)
        return float(100 * counts.max(axis=1).mean() / n_cells)
    fixed = {"C3b": 50.0, "C5a": 0.0, "C5b": 100.0, "C6": 50.0}
    if claim_id in fixed:
        return fixed[claim_id]
    if claim_id.startswith("C9"):
        return 50.0
    return 0.0  # trends and rank correlations


def truth_verdict(value: float, claim_id: str) -> str:
    """The verdict the rule gives an interval that is exactly the truth."""
    return claims.verdict(BootstrapCI(value, value, value, 0.95, 1, 1), CLAIMS[claim_id].expectation)


def _table(design: dict, seeds: int, *, seed: int, population: int, effect: str) -> pd.DataFrame:
    return synthetic_results(design["datasets"], design["methods"], design["values"], seeds, seed=seed,
                             population_seed=population, effect=effect)



def calibrate(args: argparse.Namespace, design: dict) -> None:
    raw = args.out / f"claims_calibration_raw_{args.label}_s{'-'.join(map(str, args.seeds))}.csv"
    probe = claims._claim_columns(_table(design, 2, seed=0, population=0, effect="plausible"))
    ids = [c for c in (args.claims or CLAIMS) if claims.structural_requirement(c, probe) is None]
    n_values = (design["values"] if isinstance(design["values"], int)
                else int(np.median([len(v) for v in design["values"].values()])))
    shape = {"label": args.label, "n_datasets": len(design["datasets"]), "n_methods": len(design["methods"]),
             "n_values": n_values}
    print(f"[{args.label}] design {shape}; claims {ids}", flush=True)
    rng = np.random.default_rng(12345)
    n_cells = len(design["datasets"]) * len(SCORES)
    truths = {}
    for effect in args.effects:
        for population in range(args.populations):
            pop_seed = 1000 + population
            if effect == "noise":
                truth = {c: null_truth(c, n_cells, len(design["methods"]), rng) for c in ids}
                truths[effect, population] = truth, dict.fromkeys(ids, 0.0)
                continue
            t0 = time.time()
            big = [claims.claim_values(claims._claim_columns(
                _table(design, args.truth_seeds, seed=900_000 + r, population=pop_seed, effect=effect)),
                ids, seed=r, n_draws=args.n_draws)[0] for r in range(args.truth_reps)]
            truths[effect, population] = ({c: float(np.nanmean([b[c] for b in big])) for c in ids},
                                          {c: float(np.nanstd([b[c] for b in big])) for c in ids})
            print(f"  truth {effect} pop {population}: {time.time() - t0:.0f} s", flush=True)
    done = set()
    if raw.exists():  # resume: skip the studies already written
        old = pd.read_csv(raw)
        done = set(zip(old["effect"], old["population"], old["seeds"], old["study"]))
    # interleaved, so partial results already mix effects, populations and seed counts
    for study in range(args.studies):
        for population in range(args.populations):
            for effect in args.effects:
                truth, truth_sd = truths[effect, population]
                for seeds in args.seeds:
                    if (effect, population, seeds, study) in done:
                        continue
                    t0 = time.time()
                    study_seed = 10_000 * seeds + 100 * population + study
                    df = claims._claim_columns(_table(design, seeds, seed=study_seed, population=1000 + population,
                                                      effect=effect))
                    stat = lambda t: claims.claim_values(t, ids, seed=study, n_draws=args.n_draws)[0]  # noqa: E731
                    estimates = stat(df)
                    rows = []
                    for scheme in args.schemes:
                        _, reps, resampler = bootstrap_replicates(df, stat, seed=study, n_boot=args.n_boot,
                                                                  scheme=scheme, estimates=estimates)
                        for c in ids:
                            ci = interval_from_replicates(estimates[c], reps[c], level=0.95, scheme=scheme,
                                                          spread_scale=resampler.spread_scale)
                            shown = ci.including_estimate()
                            rows.append({**shape, "seeds": seeds, "effect": effect, "population": population,
                                         "study": study, "scheme": scheme, "n_boot": args.n_boot, "claim": c,
                                         "estimate": ci.estimate, "lo": shown.lo, "hi": shown.hi,
                                         "truth": truth[c], "truth_sd": truth_sd[c],
                                         "verdict": claims.verdict(shown, CLAIMS[c].expectation),
                                         "truth_verdict": truth_verdict(truth[c], c)})
                    append_csv_rows(raw, rows, RAW_COLUMNS)
                    print(f"  {effect} pop {population} seeds {seeds} study {study}: {time.time() - t0:.1f} s",
                          flush=True)


def wilson_false_signal(n: int, z: float = signal.Z95) -> float:
    """P(a cell has signal) when each of ``n`` runs beats its twin with probability 1/2: the rule's
    false-signal rate per (dataset, score), exactly (binomial sum over the k whose Wilson bound is > 1/2)."""
    return float(sum(stats.binom.pmf(k, n, 0.5) for k in range(n + 1)
                     if signal.wilson_interval(k, n, z)[0] > signal.CHANCE))


def signal_gate_calibration(args: argparse.Namespace, design: dict) -> None:
    """Per study and twin shift: the cells with signal and the gated claims decided, gate on and off."""
    gated = [c for c in (args.claims or CLAIMS) if CLAIMS[c].gated]
    rows = []
    for study in range(args.studies):
        t0 = time.time()
        seeds = args.seeds[0]
        df = _table(design, seeds, seed=20_000 + study, population=1000 + study % args.populations,
                    effect="plausible")
        ungated = claims.claims_table(df, gated, seed=study, n_boot=args.n_boot, n_draws=args.n_draws,
                                      signal=claims.UNGATED)
        for shift in args.twin_shifts:
            table = signal.signal_table(synthetic_controls(df, seed=study, twin_shift=shift))
            gate_on = claims.claims_table(df, gated, seed=study, n_boot=args.n_boot, n_draws=args.n_draws,
                                          signal=table)
            rows.append({"study": study, "seeds": seeds, "twin_shift": shift, "cells": len(table),
                         "runs_per_cell": int(table["n"].median()), "cells_with_signal": int(table["signal"].sum()),
                         "gated_claims": len(gated),
                         "decided_gate_on": int((gate_on["agrees?"] != "inconclusive").sum()),
                         "decided_gate_off": int((ungated["agrees?"] != "inconclusive").sum()),
                         "no_signal_notes": int((gate_on["note"] == claims.NO_SIGNAL).sum())})
        print(f"  signal gate study {study}: {time.time() - t0:.1f} s", flush=True)
    raw = pd.DataFrame(rows)
    atomic_write_text(args.out / "signal_gate_calibration.csv", raw.to_csv(index=False))
    text = signal_gate_report(raw, design, seeds=args.seeds[0], gated=len(gated), n_boot=args.n_boot,
                              n_draws=args.n_draws)
    atomic_write_text(args.out / "signal_gate_calibration.md", text)
    print(text)


def signal_gate_report(raw: pd.DataFrame, design: dict, *, seeds: int, gated: int, n_boot: int,
                       n_draws: int) -> str:
    """The markdown page of a signal-gate calibration (``signal_gate_calibration.csv`` rows)."""
    summary = []
    for shift, g in raw.groupby("twin_shift", sort=True):
        n_runs = int(g["runs_per_cell"].median())
        summary.append({
            "twins": "exchangeable (no alignment)" if shift == 0 else f"lower by {shift:g} sd "
                     f"(P(beat) = {100 * stats.norm.cdf(shift):.0f} %)",
            "studies": len(g), "runs per cell": n_runs,
            "cells with signal": f"{100 * g['cells_with_signal'].sum() / g['cells'].sum():.1f} %",
            "studies with any signal": f"{100 * (g['cells_with_signal'] > 0).mean():.0f} %",
            "gated claims decided, gate on": f"{100 * g['decided_gate_on'].sum() / g['gated_claims'].sum():.1f} %",
            "gate off": f"{100 * g['decided_gate_off'].sum() / g['gated_claims'].sum():.1f} %",
            "inconclusive by the gate": f"{100 * g['no_signal_notes'].sum() / g['gated_claims'].sum():.1f} %",
        })
    n_runs, cells = int(raw["runs_per_cell"].median()), int(raw["cells"].median())
    z_rule = signal.family_z(cells)
    per_cell = wilson_false_signal(n_runs, z_rule)
    per_cell_uncorrected = wilson_false_signal(n_runs)
    return ("# Signal gate calibration (benchmarks/claims_calibration.py --signal-gate)\n\n"
            f"Design: {len(design['datasets'])} datasets × {len(design['methods'])} methods, "
            f"{seeds} seeds per configuration ({n_runs} runs per dataset), planted effects "
            f"(`synthetic_results(effect='plausible')`); {gated} gated claims; {n_boot} bootstrap "
            f"replicates, {n_draws} transfer draws, the committed claims gate.\n\n"
            f"The rule in use (`analysis/signal.py`): a Wilson interval at the family-wise 95 % level over "
            f"the study's {cells} scored cells (Bonferroni, z = {z_rule:.2f}). Its false-signal rate per "
            f"(dataset, score) cell, exactly, at {n_runs} runs with exchangeable twins: {100 * per_cell:.2f} %; "
            f"over the {cells} cells of a study (independent under this null) P(at least one) = "
            f"{100 * (1 - (1 - per_cell) ** cells):.1f} %. A claim on scores is then decided on the falsely "
            "signalled cells alone, which is what the first row's 'decided, gate on' counts. Without the "
            f"correction (z = 1.96 per cell) it would be {100 * per_cell_uncorrected:.2f} % per cell, "
            f"{100 * (1 - (1 - per_cell_uncorrected) ** cells):.1f} % per study.\n\n"
            + _markdown(pd.DataFrame(summary)))


def widen_rows(raw: pd.DataFrame, factor: float) -> pd.DataFrame:
    """The raw rows with each interval widened ``factor``-fold about its estimate and re-decided."""
    raw = raw.copy()
    if factor != 1.0:
        est = raw["estimate"]
        raw["lo"], raw["hi"] = est - factor * (est - raw["lo"]), est + factor * (raw["hi"] - est)
        raw["verdict"] = [claims.verdict(BootstrapCI(e, lo, hi, 0.95, 1, 1), CLAIMS[c].expectation)
                          for e, lo, hi, c in zip(raw["estimate"], raw["lo"], raw["hi"], raw["claim"])]
    return raw


def summarise(raw: pd.DataFrame) -> pd.DataFrame:
    """Per (design, seeds, scheme, claim): coverage, wrong-verdict rates and power of the interval as
    estimated, and the smallest widening (``WIDENINGS``) at which the goals hold (``widen``; NaN: none)."""
    base = _summarise(raw)
    base["widen"] = np.where(base["meets_goals"], 1.0, np.nan)
    keys = ["label", "n_datasets", "n_methods", "n_values", "seeds", "scheme", "claim"]
    for factor in WIDENINGS[1:]:
        wider = _summarise(widen_rows(raw, factor)).set_index(keys)
        todo = base["widen"].isna()
        hit = wider.loc[[tuple(r) for r in base.loc[todo, keys].itertuples(index=False)], "meets_goals"].to_numpy()
        idx = base.index[todo][hit]
        base.loc[idx, "widen"] = factor
        for col in ("coverage", "coverage_null", "coverage_planted", "wrong_null", "wrong_planted",
                    "power_planted", "width"):
            base.loc[idx, col] = wider.loc[[tuple(r) for r in base.loc[idx, keys].itertuples(index=False)],
                                           col].to_numpy()
    base["meets_goals"] = base["widen"].notna()
    return base


def _summarise(raw: pd.DataFrame) -> pd.DataFrame:
    raw = raw.copy()
    raw["covered"] = (raw["lo"] <= raw["truth"] + 1e-9) & (raw["truth"] - 1e-9 <= raw["hi"])
    raw["decisive"] = raw["verdict"] != "inconclusive"
    raw["wrong"] = raw["decisive"] & (raw["verdict"] != raw["truth_verdict"])
    raw["correct"] = raw["decisive"] & (raw["verdict"] == raw["truth_verdict"])
    keys = ["label", "n_datasets", "n_methods", "n_values", "seeds", "scheme", "claim"]
    out = []
    for key, g in raw.groupby(keys, sort=False):
        null, planted = g[g["effect"] == "noise"], g[g["effect"] != "noise"]
        n_cov = int(g["covered"].notna().sum())
        cov = float(g["covered"].mean())
        row = dict(zip(keys, key))
        row.update({
            "n_studies": len(g), "n_boot": int(g["n_boot"].max()),
            "coverage": cov, "coverage_se": float(np.sqrt(max(cov * (1 - cov), 1e-4) / max(n_cov, 1))),
            "coverage_null": float(null["covered"].mean()) if len(null) else np.nan,
            "coverage_planted": float(planted["covered"].mean()) if len(planted) else np.nan,
            "wrong_null": float(null["wrong"].mean()) if len(null) else np.nan,
            "wrong_planted": float(planted["wrong"].mean()) if len(planted) else np.nan,
            "power_planted": float(planted["correct"].mean()) if len(planted) else np.nan,
            "n_null": len(null), "n_planted": len(planted),
            "truth_planted": float(planted["truth"].mean()) if len(planted) else np.nan,
            "width": float((g["hi"] - g["lo"]).median()),
        })
        row["meets_goals"] = bool(row["coverage"] >= COVERAGE_GOAL and min(len(null), len(planted)) >= MIN_STUDIES
                                  and row["wrong_null"] <= WRONG_GOAL and row["wrong_planted"] <= WRONG_GOAL)
        out.append(row)
    return pd.DataFrame(out)


def gate(summary: pd.DataFrame, scheme: str) -> pd.DataFrame:
    """Per claim and calibrated design, the fewest seeds from which on every seed count calibrated with
    enough studies (``MIN_STUDIES`` null and planted) meets the goals (NaN: none does), and the largest
    widening those counts need. Read by ``claims.py``."""
    rows = []
    sub = summary[summary["scheme"] == scheme]
    sub = sub[(sub["n_null"] >= MIN_STUDIES) & (sub["n_planted"] >= MIN_STUDIES)]
    for key, g in sub.groupby(["claim", "label", "n_datasets", "n_methods", "n_values"], sort=False):
        g = g.sort_values("seeds")
        ok = g["meets_goals"].to_numpy()
        tail = [i for i in range(len(g)) if ok[i:].all()]
        first = g.iloc[tail[0]] if tail else None
        at = g.iloc[-1] if first is None else first
        widen = float(g.iloc[tail[0]:]["widen"].max()) if tail else ""
        rows.append({"claim": key[0], "design": key[1], "n_datasets": key[2], "n_methods": key[3],
                     "n_values": key[4], "scheme": scheme, "calibrated_seeds": " ".join(map(str, g["seeds"])),
                     "min_seeds": int(first["seeds"]) if first is not None else "",
                     "coverage": round(float(at["coverage"]), 3), "wrong_null": round(float(at["wrong_null"]), 3),
                     "wrong_planted": round(float(at["wrong_planted"]), 3),
                     "n_studies": int(at["n_studies"]), "n_boot": int(at["n_boot"]), "widen": widen})
    return pd.DataFrame(rows)


def book_table(summary: pd.DataFrame, scheme: str) -> pd.DataFrame:
    """One row per claim, one column per calibrated design and seed count:
    "coverage / wrong verdicts on null studies / power" in %, plus the derived gate."""
    sub = summary[summary["scheme"] == scheme]
    gates = gate(summary, scheme)
    out = pd.DataFrame(index=pd.Index(list(dict.fromkeys(sub["claim"])), name="claim"))
    for (label, d, m, v, seeds), g in sub.groupby(["label", "n_datasets", "n_methods", "n_values", "seeds"],
                                                  sort=False):
        column = f"{d}×{m}×{v}, {seeds} seeds (n={int(g['n_studies'].max())})"
        out[column] = g.set_index("claim").apply(
            lambda r: f"{100 * r.coverage:.0f} / {100 * r.wrong_null:.0f} / {100 * r.power_planted:.0f}"
            + (" (too few studies)" if min(r.n_null, r.n_planted) < MIN_STUDIES else " ✗" if not r.meets_goals
               else "" if r.widen == 1 else f" (×{r.widen:g})"), axis=1)
    for label, g in gates.groupby("design", sort=False):
        g = g.set_index("claim")
        out[f"min seeds ({label})"] = g["min_seeds"].replace("", "not reached")
        out[f"widening ({label})"] = g["widen"].map(lambda w: "" if w == "" or pd.isna(w) else f"×{float(w):g}")
    return out.reset_index()


def _markdown(table: pd.DataFrame) -> str:
    def cell(v):
        if isinstance(v, float):
            return "n/a" if not np.isfinite(v) else f"{v:.3g}"
        return str(v)
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in table.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def design_from(args: argparse.Namespace) -> dict:
    if args.params:
        from disentangle.params import load
        study = load(args.params, root=ROOT).study
        design = {"datasets": list(study["datasets"]), "methods": list(study["methods"]),
                  "values": {m: list(study["values"][m]) for m in study["methods"]}}
        if not args.seeds:
            args.seeds = [len(study["seeds"])]
    else:
        design = {"datasets": args.datasets, "methods": args.methods, "values": args.values_per_method}
    if args.datasets and args.params:
        design["datasets"] = args.datasets
    if not args.seeds:
        raise SystemExit("give --seeds (seeds per configuration) or --params")
    return design


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", help="read datasets/methods/values/seeds from this params file's study section")
    ap.add_argument("--datasets", nargs="+", default=None)
    ap.add_argument("--methods", nargs="+", default=list(paper_methods()))
    ap.add_argument("--values-per-method", type=int, default=3)
    ap.add_argument("--seeds", type=int, nargs="+", default=None, help="seeds per configuration to calibrate")
    ap.add_argument("--label", default="default")
    ap.add_argument("--effects", nargs="+", default=["noise", "plausible"])
    ap.add_argument("--schemes", nargs="+", default=list(SCHEMES), choices=SCHEMES)
    ap.add_argument("--claims", nargs="+", default=None)
    ap.add_argument("--populations", type=int, default=3, help="planted populations (null: repeats)")
    ap.add_argument("--studies", type=int, default=8, help="studies per population and seed count")
    ap.add_argument("--n-boot", type=int, default=40)
    ap.add_argument("--n-draws", type=int, default=2000, help="transfer draws per C9 statistic")
    ap.add_argument("--truth-seeds", type=int, default=50, help="seeds per configuration of a truth table (≤ 50)")
    ap.add_argument("--truth-reps", type=int, default=4)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    ap.add_argument("--summarise", action="store_true", help="only summarise the raw rows")
    ap.add_argument("--write-gate", metavar="SCHEME", default=None,
                    help="write the per-claim gate for this scheme to src/disentangle/analysis/claims_gate.csv")
    ap.add_argument("--signal-gate", "--no-alignment", action="store_true",
                    help="calibrate the signal gate instead (synthetic controls, see the module docstring)")
    ap.add_argument("--twin-shifts", type=float, nargs="+", default=[0.0, 1.0],
                    help="--signal-gate: how much lower the rotated twins score, in sd (0: exchangeable)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.signal_gate:
        if args.datasets is None and not args.params:
            args.datasets = ["dsprites", "color_dsprites"]
        signal_gate_calibration(args, design_from(args))
        return
    if not args.summarise:
        if args.datasets is None and not args.params:
            args.datasets = ["dsprites", "color_dsprites"]
        calibrate(args, design_from(args))
    raw = pd.concat([pd.read_csv(p) for p in sorted(args.out.glob("claims_calibration_raw_*.csv"))],
                    ignore_index=True)
    summary = summarise(raw)
    atomic_write_text(args.out / "claims_calibration.csv", summary.to_csv(index=False))
    show = summary[["label", "n_datasets", "n_methods", "n_values", "seeds", "scheme", "claim", "n_studies",
                    "coverage", "coverage_null", "coverage_planted", "wrong_null", "wrong_planted",
                    "power_planted", "width", "widen", "meets_goals"]]
    atomic_write_text(args.out / "claims_calibration.md",
                      "# Claims calibration (benchmarks/claims_calibration.py)\n\n" + _markdown(show))
    print(_markdown(show))
    if args.write_gate:
        table = gate(summary, args.write_gate)
        target = ROOT / "src" / "disentangle" / "analysis" / "claims_gate.csv"
        atomic_write_text(target, table.to_csv(index=False))
        print(_markdown(table))
        book = _markdown(book_table(summary, args.write_gate))
        atomic_write_text(args.out / "claims_calibration_book.md", book)
        print(book)


if __name__ == "__main__":
    main()
