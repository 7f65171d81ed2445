"""The book runner: papermill executes chapters, jupyter-book renders them.

Pipeline (``python -m disentangle book --params FILE [--only NAME]``):

1. validate the params file (:func:`disentangle.params.load`) — before any work;
2. execute each chapter listed in the file's ``chapters`` section, in ``_toc.yml``
   order (summary pages, :data:`SUMMARY_PAGES`, after the chapters), with papermill
   into ``_build/executed/NAME.ipynb`` (parameters = shared section + the chapter's section + ``params_file``); a stale copy is
   deleted first, a failed run is moved to ``_build/failed/`` and the command
   fails naming the chapter and cell;
3. stage a source tree in ``_build/src`` (config, toc, intro, the executed
   notebooks; a chapter not executed with *this* params file gets a short
   placeholder page, never a stale notebook; each executed page gets a "re-run this
   chapter" box with its command, params section and measured time; the results table
   and the params file are staged as downloads) and run ``jupyter-book build`` with
   ``execute_notebooks: off`` into ``_build/html``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import params as params_mod
from . import vocabulary
from .io import atomic_write_json

BUILD = "_build"
#: pages that summarise the chapters (they read what the chapters produce): executed after them
SUMMARY_PAGES = ("00_verdict",)
#: folder of the staged tree (inside ``book/``) holding the downloadable files
DOWNLOADS = "downloads"


class ChapterFailed(RuntimeError):
    """A chapter's notebook raised; the message names chapter and cell."""


@dataclass
class ChapterRun:
    name: str
    seconds: float
    output: Path


def params_digest(p: params_mod.Params, name: str) -> str:
    payload = json.dumps({"file": str(p.path), "params": p.chapter_parameters(name)}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _manifest_path(root: Path) -> Path:
    return root / BUILD / "executed" / "manifest.json"


def _read_manifest(root: Path) -> dict:
    path = _manifest_path(root)
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


class StudyProgress:
    """While a chapter executes, one console line whenever the study's run counts change
    (the notebook's own output is not shown until it ends): ``[book]   02_training: 12 of 24 runs
    done, 2 running; ETA 8.4 min``. Polls ``study.study_status`` every ``every`` seconds."""

    def __init__(self, p: params_mod.Params, chapter: str, log, every: float = 20.0):
        import threading

        self.p, self.chapter, self.log, self.every = p, chapter, log, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._last: str | None = None

    def __enter__(self) -> "StudyProgress":
        self._last = self._line()  # the state before the chapter: printed only when it changes
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _line(self) -> str | None:
        from .study import study_status

        try:
            st = study_status(self.p)
        except Exception:  # noqa: BLE001 - progress is a courtesy: never fail a chapter over it
            return None
        line = (f"[book]   {self.chapter}: {st.counts['done']} of {st.total} runs done, "
                f"{st.counts['running']} running")
        if st.eta_s:
            line += f"; ETA {st.eta_s / 60:.1f} min"
        return line

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            line = self._line()
            if line is not None and line.split(";")[0] != (self._last or "").split(";")[0]:
                self.log(line)
                self._last = line


def kernel_manager() -> dict:
    """papermill's keyword for the chapter's kernel: on POSIX one that talks to the book over local
    (IPC) sockets, so no port is opened and ipykernel has no cause to warn that it runs "over TCP
    without encryption"; elsewhere (Windows has no IPC transport) the default, TCP."""
    import os

    if os.name != "posix":
        return {}
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            kwargs.setdefault("transport", "ipc")
            super().__init__(**kwargs)

    return {"kernel_manager_class": IPCKernelManager}


def execute_chapter(p: params_mod.Params, name: str, *, log=print) -> ChapterRun:
    """Run one chapter with papermill; raise :class:`ChapterFailed` on an error."""
    import papermill as pm

    root = p.root
    src = root / "book" / f"{name}.ipynb"
    out_dir = root / BUILD / "executed"
    failed_dir = root / BUILD / "failed"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{name}.ipynb"
    manifest = _read_manifest(root)
    manifest.pop(name, None)
    atomic_write_json(_manifest_path(root), manifest)
    out.unlink(missing_ok=True)  # nothing stale survives a failed run
    tmp = failed_dir / f"{name}.ipynb"
    tmp.parent.mkdir(parents=True, exist_ok=True)
    log(f"[book] executing {name} with {p.path.name} ...")
    t0 = time.perf_counter()
    try:
        with StudyProgress(p, name, log):
            pm.execute_notebook(
                str(src), str(tmp), parameters=p.chapter_parameters(name), cwd=str(root / "book"),
                kernel_name="python3", progress_bar=False, request_save_on_cell_execute=False,
                **kernel_manager(),
            )
    except pm.PapermillExecutionError as e:
        number, first_line = _template_cell(tmp, e.cell_index)
        raise ChapterFailed(
            f"chapter {name!r} failed in cell {number} of book/{name}.ipynb (counting from 1; "
            f"`{first_line}`): {e.ename}: {e.evalue}\n  failed notebook kept at {tmp}"
        ) from None
    seconds = time.perf_counter() - t0
    _hide_injected_input(tmp, remove=name in SUMMARY_PAGES)
    tmp.replace(out)
    manifest = _read_manifest(root)
    manifest[name] = {"params": params_digest(p, name), "params_file": str(p.path), "seconds": round(seconds, 1)}
    atomic_write_json(_manifest_path(root), manifest)
    log(f"[book] {name} done in {seconds:.1f} s")
    return ChapterRun(name, seconds, out)


def _hide_injected_input(executed: Path, *, remove: bool = False) -> None:
    """Collapse papermill's injected-parameters cell in the rendered page (a toggle shows it), or
    ``remove`` it (summary pages, which lead with their answer; their re-run box lists the parameters)."""
    nb = json.loads(executed.read_text(encoding="utf-8"))
    tag = "remove-cell" if remove else "hide-input"
    for cell in nb["cells"]:
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if "injected-parameters" in tags and tag not in tags:
            tags.append(tag)
    executed.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


#: the tag of the cells papermill inserts into a failed notebook (a message on top, an anchor before the cell)
PAPERMILL_ERROR_TAG = "papermill-error-cell-tag"


def _template_cell(executed: Path, index: int) -> tuple[int, str]:
    """1-based position of executed cell ``index`` in the template, and its first line.

    ``index`` counts the cells as executed (papermill's injected-parameters cell included),
    before papermill inserted its error cells into the notebook it wrote: those are
    dropped first, then the injected cell is not counted."""
    cells = json.loads(executed.read_text(encoding="utf-8"))["cells"]
    cells = [c for c in cells if PAPERMILL_ERROR_TAG not in c.get("metadata", {}).get("tags", [])]
    injected = sum(1 for c in cells[:index] if "injected-parameters" in c.get("metadata", {}).get("tags", []))
    source = cells[index]["source"]
    source = "".join(source) if isinstance(source, list) else source
    lines = [ln for ln in source.splitlines() if ln.strip()]
    return index - injected + 1, (lines[0][:80] if lines else "")


def stage_source(p: params_mod.Params) -> Path:
    """Assemble ``_build/src``: config, toc, intro, downloads and the up-to-date executed notebooks."""
    root = p.root
    stage = root / BUILD / "src"
    if stage.exists():
        shutil.rmtree(stage)
    (stage / "book").mkdir(parents=True)
    for f in ("_config.yml", "_toc.yml"):
        shutil.copy2(root / f, stage / f)
    if (root / "_static").is_dir():  # the book's CSS, included by jupyter-book
        shutil.copytree(root / "_static", stage / "_static")
    for f in (root / "book").iterdir():
        if f.suffix != ".ipynb" and f.is_file():
            shutil.copy2(f, stage / "book" / f.name)
    manifest = _read_manifest(root)
    current = [name for name in params_mod.toc_chapters(root)
               if (entry := manifest.get(name)) and entry["params"] == params_digest(p, name)
               and (root / BUILD / "executed" / f"{name}.ipynb").is_file()]
    downloads = stage_downloads(p, current, stage / "book" / DOWNLOADS)
    intro = stage / "book" / "intro.md"
    if intro.is_file():
        note = scale_box(p) + "\n\n" + downloads_note(p, downloads)
        intro.write_text(intro.read_text(encoding="utf-8").replace("<!-- SCALE -->", note), encoding="utf-8")
    for name in params_mod.toc_chapters(root):
        if name in current:
            nb = json.loads((root / BUILD / "executed" / f"{name}.ipynb").read_text(encoding="utf-8"))
            box = rerun_box(p, name, manifest[name]["seconds"], downloads)
            cell = {"cell_type": "markdown", "metadata": {"tags": ["rerun-box"]}, "source": box}
            if (nb["nbformat"], nb["nbformat_minor"]) >= (4, 5):
                cell["id"] = "rerun-box"
            _insert_before_first_section(nb, cell)
            (stage / "book" / f"{name}.ipynb").write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n",
                                                        encoding="utf-8")
        else:
            (stage / "book" / f"{name}.md").write_text(_placeholder(name, p), encoding="utf-8")
    return stage


@dataclass
class Downloads:
    """Files staged for download, as paths relative to the staged ``book/`` folder."""

    params: str
    #: chapter -> the results table it read (as CSV); summary pages map to every table
    results: dict[str, list[str]]


def _display_path(p: params_mod.Params) -> str:
    """The params file as a reader types it: relative to the project root when inside it."""
    try:
        return p.path.relative_to(p.root).as_posix()
    except ValueError:
        return str(p.path)


def stage_downloads(p: params_mod.Params, chapters: list[str], folder: Path) -> Downloads:
    """Copy the params file and, as CSV, each results table the executed ``chapters`` read into
    ``folder``. One table is ``results.csv``; more (chapters with their own ``results``) are
    ``results-CHAPTER.csv``."""
    from .analysis.chapters import load_chapter_results
    from .analysis.verdict import chapter_parameters, chapter_results

    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy2(p.path, folder / p.path.name)
    tables: dict[Path, str] = {}
    results: dict[str, list[str]] = {}
    for name in chapters:
        if name in SUMMARY_PAGES or "results" not in chapter_parameters(p, name):
            continue
        path = chapter_results(p, name).resolve()
        if not path.is_file():
            continue
        if path not in tables:
            csv = "results.csv" if not tables else f"results-{name}.csv"
            load_chapter_results(str(path)).to_csv(folder / csv, index=False)
            tables[path] = f"{DOWNLOADS}/{csv}"
        results[name] = [tables[path]]
    for name in chapters:
        if name in SUMMARY_PAGES:
            results[name] = list(tables.values())
    return Downloads(params=f"{DOWNLOADS}/{p.path.name}", results=results)


def downloads_note(p: params_mod.Params, downloads: Downloads) -> str:
    """The intro's download line: the params file and the results table(s)."""
    tables = sorted({t for ts in downloads.results.values() for t in ts})
    links = [f"{{download}}`{_display_path(p)} <{downloads.params}>` (the params file that built this book)"]
    links += [f"{{download}}`{Path(t).name} <{t}>` (the results table the chapters analyse)" for t in tables]
    return "**Downloads:** " + "; ".join(links) + "."


def rerun_box(p: params_mod.Params, name: str, seconds: float, downloads: Downloads) -> str:
    """A page's "re-run" box: the exact command, the params section it ran with, its measured time."""
    what = "page" if name in SUMMARY_PAGES else "chapter"
    params_path = _display_path(p)
    section = yaml.safe_dump({name: p.chapters.get(name, {})}, default_flow_style=None, sort_keys=False,
                             width=88, allow_unicode=True).strip()
    tables = downloads.results.get(name, [])
    reads = ("" if not tables else " It reads the results table "
             + ", ".join(f"{{download}}`{Path(t).name} <{t}>`" for t in tables) + ".")
    return (
        f"````{{admonition}} Re-run this {what}\n"
        ":class: tip\n\n"
        f"```bash\npython -m disentangle book --params {params_path} --only {name}\n```\n\n"
        f"(or `make chapter NAME={name} PARAMS={params_path}`) re-executes this {what} and rebuilds the "
        f"book. Its parameters are the `shared` section of {{download}}`{params_path} <{downloads.params}>` "
        f"and this {what}'s section:\n\n"
        f"```yaml\n{section}\n```\n\n"
        f"At this scale (**{p.shared['scale']}**) the {what} took **{_duration(seconds)}** to execute."
        f"{reads}\n"
        "````"
    )


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.1f} s"
    minutes = seconds / 60
    return f"{minutes:.1f} min" if minutes < 90 else f"{minutes / 60:.1f} h"


def _insert_before_first_section(nb: dict, cell: dict) -> None:
    """Insert ``cell`` before the first markdown cell that starts with a ``## `` heading (else at the end)."""
    for i, c in enumerate(nb["cells"]):
        source = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        if c["cell_type"] == "markdown" and source.lstrip().startswith("## "):
            nb["cells"].insert(i, cell)
            return
    nb["cells"].append(cell)


WHAT_SCALE_SHOWS = {
    "ci": "This scale only exercises the pipeline: a handful of tiny runs, far too few and too short "
    "to test any of the paper's empirical claims. Every claim that needs trained models is reported "
    "as inconclusive.",
    "default": "This scale trains β-VAE and FactorVAE on procedural dSprites and Color-dSprites, 3 "
    "values x 2 seeds each, for 1,200 updates at the paper's learning rate: 0.4 % of the paper's "
    "steps, sized so that a 2-core laptop CPU without native bf16 builds the book in under 45 "
    "minutes (41.7 measured on an AVX2-capped CPU). Every run is scored beside its own rotated twin "
    "and five untrained encoders per dataset (chapter 2), and a claim about the disentanglement "
    "scores is decided only on the scores that beat their twins (the line below). At 1,200 updates "
    "the Color-dSprites models align (median MIG about 0.1, twins 0.02) but the dSprites models "
    "beat their twins about as often as chance: expect the claims on total correlation (C2, C3) "
    "to be decided and most claims on scores to be inconclusive, which is what the paper's statistics on unaligned codes "
    "deserve. It cannot reproduce the paper's score values (300,000 steps, 50 seeds, seven "
    "datasets), and the seed-variance claims stay inconclusive at 2 seeds.",
    "overnight": "This scale is the calibrated design of the claims gate (2 datasets x 6 methods x 3 "
    "values x 3 seeds) at the paper's learning rate for 6,000 updates, every run with its rotated "
    "twin: five times the default's updates and every method, for an overnight CPU run. Its "
    "models are still far from the paper's 300,000 steps; it cannot reproduce the paper's score values.",
    "paper": "This is the paper's full study: 7 datasets x 6 methods x 6 values x 50 seeds, "
    "300,000 steps, paper metric settings. Its tables can be compared with the paper cell by cell.",
}

def training_deviations(p: params_mod.Params) -> list[str]:
    """Each training setting of ``p`` that differs from the reference's
    (``params.reference_deviations``, which also decides a run's identity), as a line, e.g.
    ``"lr 0.001 (paper: 0.0001)"``."""
    out = []
    for key, value in params_mod.reference_deviations(p.study["training"], p.study["methods"]).items():
        default = params_mod.STUDY_SCHEMA["training"][key].default
        if key == "precision" and value == "auto":
            from .devices import resolve_precision  # imports torch: only for this line

            value = f"auto (here {resolve_precision('auto', p.shared['device'])})"
        fmt = (lambda v: f"{v:,}") if isinstance(default, int) and not isinstance(default, bool) else str
        out.append(f"{key} {fmt(value)} (paper: {fmt(default)})")
    return out


def outside_paper_grid(p: params_mod.Params) -> int:
    """How many runs of ``p``'s study lie outside the paper's grid (another method,
    dataset or value, or a seed >= 50; ``study.grid``)."""
    from .study.grid import Study, in_paper_grid

    return sum(not in_paper_grid(*point) for point in Study(p).grid())


def scale_box(p: params_mod.Params) -> str:
    """The intro's statement of the scale this book was built at (from the params file)."""
    s, t, e = p.study, p.study["training"], p.study["evaluation"]
    counts = [len(s["values"].get(m) or vocabulary.paper_grid()[m]) for m in s["methods"]]
    n_models = len(s["datasets"]) * sum(counts) * len(s["seeds"])
    source = p.shared["data_source"]
    deviations = training_deviations(p)
    changed = ("Training settings that differ from the paper's: " + "; ".join(deviations) + ". "
               if deviations else "Every training setting is the paper's. ")
    outside = outside_paper_grid(p)
    if outside:
        changed += (f"{outside} of the {n_models} models lie outside the paper's grid (a method, dataset or "
                    f"value the paper did not sweep, or a seed >= {vocabulary.PAPER_SEEDS}): the paper has no "
                    f"counterpart for them. ")
    return (
        "```{admonition} Scale of this build\n"
        f"Built with `params/{p.path.name}` (scale **{p.shared['scale']}**): "
        f"{n_models} models = {len(s['datasets'])} dataset(s) ({', '.join(s['datasets'])}; data source: {source}) "
        f"x {len(s['methods'])} method(s) x {min(counts)}-{max(counts)} value(s) x {len(s['seeds'])} seed(s), "
        f"{t['steps']:,} training steps each, metric settings `{e['settings']}`. {changed}"
        "Images are 64x64 and the architecture is the reference's at every scale.\n\n"
        f"{WHAT_SCALE_SHOWS[p.shared['scale']]}\n\n"
        f"{controls_note(p)}\n"
        "```"
    )


def controls_note(p: params_mod.Params) -> str:
    """The scale box's line on the controls: which scores beat their rotated twins in this build
    (``analysis.signal``), or that the study has no controls yet."""
    from .analysis.signal import signal_table
    from .study.results import load_controls

    try:
        table = signal_table(load_controls(p.shared["results_dir"]))
    except Exception as err:  # noqa: BLE001 - a damaged controls table must not stop the book
        return f"Controls: the controls table could not be read ({err})."
    scored = table[table["n"] > 0]
    if scored.empty:
        return ("Controls: none scored yet, so every claim about the disentanglement scores is "
                "inconclusive (chapter 2, \"Do the scores measure disentanglement?\").")
    cells = [f"{r.score} ({vocabulary.dataset_label(r.dataset)}, {r.beats}/{r.n})"
             for r in scored.itertuples() if r.signal]
    return (f"Controls (chapter 2): {len(cells)} of {len(scored)} (dataset, score) cells beat their rotated "
            f"twins clearly enough to carry signal" + (f": {', '.join(cells)}." if cells else
            "; every claim about the disentanglement scores is therefore inconclusive.")
            + " Claims C4–C12 are decided only on scores with signal.")


def _placeholder(name: str, p: params_mod.Params) -> str:
    title = name.split("_", 1)[-1].replace("_", " ").title()
    return (
        f"# {title}\n\n"
        f"This chapter was not executed with `{p.path.name}` "
        f"(it is not listed in that file's `chapters:` section, or it has not been run yet).\n\n"
        f"Run it with `make chapter NAME={name} PARAMS=params/{p.path.name}`.\n"
    )


def build_html(p: params_mod.Params, *, log=print) -> Path:
    """Render the staged tree with jupyter-book (no execution) into ``_build/html``."""
    root = p.root
    stage = stage_source(p)
    html = root / BUILD / "html"
    if html.exists():
        shutil.rmtree(html)
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb) if jb.exists() else "jupyter-book", "build", str(stage), "--path-output", str(root / BUILD / "jb")]
    log("[book] " + " ".join(cmd))
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"jupyter-book build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    shutil.move(str(root / BUILD / "jb" / "_build" / "html"), html)
    log(f"[book] built {html / 'index.html'}")
    return html


def execution_order(names: list[str]) -> list[str]:
    """``names`` in ``_toc.yml`` order, except that :data:`SUMMARY_PAGES` come last."""
    return [n for n in names if n not in SUMMARY_PAGES] + [n for n in names if n in SUMMARY_PAGES]


def run(params_file: str | Path, *, only: list[str] | None = None, build: bool = True, log=print) -> list[ChapterRun]:
    """Validate, execute the chapters (all listed, or ``only``), then build the HTML."""
    p = params_mod.load(params_file)
    listed = [c for c in params_mod.toc_chapters(p.root) if c in p.chapters]
    if only:
        unknown = [n for n in only if n not in listed]
        if unknown:
            raise params_mod.ParamsError(
                f"{p.path}: chapters {unknown} are not listed in its 'chapters' section (listed: {listed})"
            )
        listed = [c for c in listed if c in only]
    listed = execution_order(listed)
    runs = [execute_chapter(p, name, log=log) for name in listed]
    if build:
        build_html(p, log=log)
    return runs
