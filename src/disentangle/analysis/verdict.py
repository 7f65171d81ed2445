"""The book's "Does it reproduce?" page: every claim's verdict, from the chapter that tests it.

C1 (Theorem 1, the paper's Section 3) is decided by chapter 1's numerical checks
(:func:`disentangle.theory.theorem_checks`, :func:`disentangle.theory.claims_c1`); C2–C12
(Section 5) by the claims tables of chapters 3–6. This module recomputes each of those tables
with the function the chapter calls (:func:`~disentangle.analysis.claims.chapter_claims`, given the
chapter's name) and the chapter's parameters, i.e. its notebook's defaults overridden by its section
of the params file, and the signal table of the controls beside the chapter's results
(:func:`~disentangle.analysis.chapters.load_chapter_signal`). So the page shows the chapters' numbers,
one row per claim, and the signal table that gated the claims on scores (:func:`signal_section`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from .. import params as params_mod, theory
from .chapters import load_chapter_results, load_chapter_signal, results_path
from .claims import CHAPTER_PARAMETERS, chapter_arguments, chapter_claims
from .paper_claims import CLAIMS, THEOREM, claim_chapters
from .signal import CHANCE, signal_view

#: the chapter of Theorem 1 (claim C1)
THEOREM_CHAPTER = THEOREM.chapter
#: every chapter passes ``signal=signal``, its :data:`SIGNAL_CALL` of its own results
SIGNAL_CALL = "chapters.load_chapter_signal(results, results_dir)"
#: chapter 1's parameters that :func:`disentangle.theory.theorem_checks` takes
_THEOREM_PARAMETERS = ("dims", "alpha", "marginals", "n_samples", "n_jacobian", "hist_bins", "n_metric_train",
                       "n_metric_test", "factor_bins", "factor_binning", "seed")
COLUMNS = ["claim", "chapter", "section", "statement", "paper", "this build", "verdict", "note"]


def chapter_parameters(p: params_mod.Params, chapter: str) -> dict[str, Any]:
    """What chapter ``chapter`` runs with: its notebook's defaults, then what papermill injects."""
    declared = params_mod.notebook_parameters(p.root / "book" / f"{chapter}.ipynb")
    return {**{name: par.default for name, par in declared.items()}, **p.chapter_parameters(chapter)}


def claims_parameters(p: params_mod.Params, chapter: str) -> dict[str, Any]:
    """The parameters chapter ``chapter`` passes to ``chapter_claims`` (those of :data:`CHAPTER_PARAMETERS`
    it has)."""
    values = chapter_parameters(p, chapter)
    return {name: values[name] for name in CHAPTER_PARAMETERS if name in values}


def claims_arguments(p: params_mod.Params, chapter: str) -> dict[str, Any]:
    """The keyword arguments that reach ``claims_table`` from chapter ``chapter``'s parameters."""
    return chapter_arguments(**claims_parameters(p, chapter))


def chapter_results(p: params_mod.Params, chapter: str) -> Path:
    """The results table chapter ``chapter`` reads (its ``results`` parameter, else ``results_dir``)."""
    values = chapter_parameters(p, chapter)
    return results_path(values.get("results", ""), values["results_dir"])


def chapter_signal(p: params_mod.Params, chapter: str) -> pd.DataFrame:
    """The signal table chapter ``chapter`` passes to ``chapter_claims`` (the controls beside its results)."""
    return load_chapter_signal(str(chapter_results(p, chapter)))


def chapter_table(df: pd.DataFrame, p: params_mod.Params, chapter: str,
                  signal: pd.DataFrame | None = None) -> pd.DataFrame:
    """Chapter ``chapter``'s claims table, computed exactly as the chapter computes it (``signal``:
    :func:`chapter_signal`, read here when not given)."""
    signal = chapter_signal(p, chapter) if signal is None else signal
    return chapter_claims(chapter, df, **claims_parameters(p, chapter), signal=signal)


def chapter_title(root: Path, chapter: str) -> str:
    """The first ``# `` heading of the chapter's notebook (e.g. ``"3. Mean vs sampled representation"``)."""
    nb = json.loads((root / "book" / f"{chapter}.ipynb").read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            for line in source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return chapter


def theorem_row(p: params_mod.Params) -> dict[str, Any]:
    """C1 as one row: chapter 1's checks with chapter 1's parameters; agrees when every check passes."""
    values = chapter_parameters(p, THEOREM_CHAPTER)
    table = theory.claims_c1(theory.theorem_checks(**{k: values[k] for k in _THEOREM_PARAMETERS}))
    passed = table["agrees?"].astype(bool)
    failed = ", ".join(table.index[~passed])
    flip = table["this run"].iloc[-1]
    return {
        "claim": THEOREM.id, "chapter": THEOREM.chapter, "section": THEOREM.section,
        "statement": THEOREM.text, "paper": THEOREM.paper,
        "this build": f"{int(passed.sum())} of {len(table)} checks pass; {flip}",
        "verdict": "agrees" if passed.all() else "disagrees",
        "note": f"failed: {failed}" if failed else "",
    }


def verdict_table(p: params_mod.Params) -> pd.DataFrame:
    """One row per claim (C1 and every id of ``CLAIMS``, in that order), columns :data:`COLUMNS`."""
    rows = [theorem_row(p)]
    tables: dict[Path, pd.DataFrame] = {}
    signals = signal_tables(p)
    for chapter in claim_chapters():
        path = chapter_results(p, chapter)
        if path not in tables:
            tables[path] = load_chapter_results(str(path))
        table = chapter_table(tables[path], p, chapter, signals[path])
        for row in table.to_dict("records"):
            rows.append({"claim": row["claim"], "chapter": chapter, "section": row["section"],
                         "statement": row["statement"], "paper": row["paper"],
                         "this build": row["this run"], "verdict": row["agrees?"], "note": row["note"]})
    out = pd.DataFrame(rows, columns=COLUMNS)
    order = {cid: i for i, cid in enumerate([THEOREM.id, *CLAIMS])}
    return out.sort_values("claim", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


def signal_tables(p: params_mod.Params) -> dict[Path, pd.DataFrame]:
    """The results table each chapter reads → the signal table of the controls beside it (usually one)."""
    return {path: load_chapter_signal(str(path))
            for path in dict.fromkeys(chapter_results(p, chapter) for chapter in claim_chapters())}


#: the rule in one sentence, as the page states it
SIGNAL_RULE = (
    "A score measures disentanglement here only if it rewards axis alignment: for every trained run it is "
    "computed on the standardised mean codes and on their rotated twin (the same codes turned by a random "
    "rotation, which keeps the information and destroys the alignment; Theorem 1, §3). A score has "
    "signal on a dataset when the share of runs beating their twin has its Wilson interval, 95 % family-wise "
    f"over the table's cells, wholly above {100 * CHANCE:.0f} %; the claims on scores (C4–C12) are decided "
    "on the scores with signal only and are inconclusive where none has it.")


def signal_section(p: params_mod.Params) -> "HTML":
    """The signal tables behind the claims on scores: the rule in one sentence, then per results table a
    dataset × score table of "runs beating their twin = share [family-wise 95 % Wilson interval] ✓/✗ signal"."""
    from html import escape

    from IPython.display import HTML

    from .render import styled

    parts = [f"<p>{escape(SIGNAL_RULE)}</p>"]
    tables = signal_tables(p)
    for path, table in tables.items():
        where = f" ({escape(str(path.parent))})" if len(tables) > 1 else ""
        if table.empty:
            parts.append(f"<p><b>No controls in this study{where}</b>: the claims on scores are inconclusive. "
                         "The study writes them beside its results table (<code>controls.csv</code>).</p>")
            continue
        decided = int(table["signal"].sum())
        caption = (f"runs beating their rotated twin{where}: {decided} of {len(table)} (dataset, score) cells "
                   "have signal")
        parts.append(styled(signal_view(table).reset_index(), caption=caption)
                     .set_uuid(f"signal{len(parts)}").to_html())
    return HTML("".join(parts))


def headline(table: pd.DataFrame, scale: str) -> str:
    """The page's first sentence: how many claims were decided and how many agree."""
    counts = table["verdict"].value_counts()
    n, agree, disagree = len(table), int(counts.get("agrees", 0)), int(counts.get("disagrees", 0))
    decided = agree + disagree
    return (f"This build (scale **{scale}**) tested {n} claims (C1–C12, some in parts) and decided "
            f"{decided}: {agree} agree{'s' if agree == 1 else ''} with the paper and {disagree} "
            f"disagree{'s' if disagree == 1 else ''}; the other {n - decided} are inconclusive at this scale.")


def verdict_view(table: pd.DataFrame, root: Path) -> "HTML":
    """The table as compact HTML: claim (its chapter, linked to the page, and the paper's section) |
    the paper says | this build | verdict and why; verdicts coloured as in the chapters."""
    from html import escape

    from IPython.display import HTML

    from .render import VERDICT_COLOURS

    head = "".join(f"<th>{h}</th>" for h in ("claim (chapter; paper section)", "the paper says",
                                             "this build", "verdict"))
    rows = []
    for r in table.to_dict("records"):
        e = {k: escape(str(v)) for k, v in r.items()}
        full = chapter_title(root, r["chapter"])
        number = full.split(".", 1)[0]
        label = f"ch. {number}" if number.isdigit() else full
        link = f'<a href="{e["chapter"]}.html" title="{escape(full, quote=True)}">{escape(label)}</a>'
        note = f"<br><small>{e['note']}</small>" if r["note"] else ""
        colour = VERDICT_COLOURS.get(r["verdict"], "transparent")
        rows.append(
            "<tr>"
            f"<td><b>{e['claim'].replace('_', '_<wbr>')}</b> ({link})<br><small>{e['section']}</small></td>"
            f"<td>{e['statement']}<br><small><i>paper:</i> {e['paper']}</small></td>"
            f"<td>{e['this build']}</td>"
            f'<td style="background-color: {colour}">{e["verdict"]}{note}</td>'
            "</tr>")
    caption = "this build = estimate [bootstrap 95 % CI over runs]; C1: chapter 1's checks"
    return HTML(f'<table class="verdicts"><caption>{caption}</caption><thead><tr>{head}</tr></thead>'
                f"<tbody>{''.join(rows)}</tbody></table>")


def arguments_table(p: params_mod.Params) -> pd.DataFrame:
    """Per chapter: the claims it decides and the arguments its parameters give ``claims_table`` (through
    ``chapter_claims``)."""
    rows = [{"chapter": THEOREM_CHAPTER, "claims": THEOREM.id,
             "arguments": "theory.theorem_checks(" + ", ".join(
                 f"{k}={v!r}" for k, v in chapter_parameters(p, THEOREM_CHAPTER).items()
                 if k in _THEOREM_PARAMETERS) + ")"}]
    for chapter, ids in claim_chapters().items():
        args = ", ".join(f"{k}={v!r}" for k, v in claims_arguments(p, chapter).items())
        rows.append({"chapter": chapter, "claims": ", ".join(ids),
                     "arguments": f"claims_table(df, ids, {args}, signal={SIGNAL_CALL})"})
    return pd.DataFrame(rows).set_index("chapter")
