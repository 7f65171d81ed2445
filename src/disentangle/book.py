"""The book runner: papermill executes chapters, jupyter-book renders them.

Pipeline (``python -m disentangle book --params FILE [--only NAME]``):

1. validate the params file (:func:`disentangle.params.load`) — before any work;
2. execute each chapter listed in the file's ``chapters`` section, in ``_toc.yml``
   order, with papermill into ``_build/executed/NAME.ipynb`` (parameters =
   shared section + the chapter's section + ``params_file``); a stale copy is
   deleted first, a failed run is moved to ``_build/failed/`` and the command
   fails naming the chapter and cell;
3. stage a source tree in ``_build/src`` (config, toc, intro, the executed
   notebooks; a chapter not executed with *this* params file gets a short
   placeholder page, never a stale notebook) and run ``jupyter-book build``
   with ``execute_notebooks: off`` into ``_build/html``.
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

from . import params as params_mod
from .io import atomic_write_json

BUILD = "_build"


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
        pm.execute_notebook(
            str(src), str(tmp), parameters=p.chapter_parameters(name), cwd=str(root / "book"),
            kernel_name="python3", progress_bar=False, request_save_on_cell_execute=False,
        )
    except pm.PapermillExecutionError as e:
        number, first_line = _template_cell(tmp, e.cell_index)
        raise ChapterFailed(
            f"chapter {name!r} failed in cell {number} of book/{name}.ipynb (counting from 1; "
            f"`{first_line}`): {e.ename}: {e.evalue}\n  failed notebook kept at {tmp}"
        ) from None
    seconds = time.perf_counter() - t0
    _hide_injected_input(tmp)
    tmp.replace(out)
    manifest = _read_manifest(root)
    manifest[name] = {"params": params_digest(p, name), "params_file": str(p.path), "seconds": round(seconds, 1)}
    atomic_write_json(_manifest_path(root), manifest)
    log(f"[book] {name} done in {seconds:.1f} s")
    return ChapterRun(name, seconds, out)


def _hide_injected_input(executed: Path) -> None:
    """Collapse papermill's injected-parameters cell in the rendered page (a toggle shows it)."""
    nb = json.loads(executed.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if "injected-parameters" in tags and "hide-input" not in tags:
            tags.append("hide-input")
    executed.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _template_cell(executed: Path, index: int) -> tuple[int, str]:
    """1-based position of executed cell ``index`` in the template (papermill's injected cell removed)."""
    cells = json.loads(executed.read_text(encoding="utf-8"))["cells"]
    injected = sum(1 for c in cells[:index] if "injected-parameters" in c.get("metadata", {}).get("tags", []))
    source = cells[index]["source"]
    source = "".join(source) if isinstance(source, list) else source
    lines = [ln for ln in source.splitlines() if ln.strip()]
    return index - injected + 1, (lines[0][:80] if lines else "")


def stage_source(p: params_mod.Params) -> Path:
    """Assemble ``_build/src``: config, toc, intro and the up-to-date executed notebooks."""
    root = p.root
    stage = root / BUILD / "src"
    if stage.exists():
        shutil.rmtree(stage)
    (stage / "book").mkdir(parents=True)
    for f in ("_config.yml", "_toc.yml"):
        shutil.copy2(root / f, stage / f)
    for f in (root / "book").iterdir():
        if f.suffix != ".ipynb" and f.is_file():
            shutil.copy2(f, stage / "book" / f.name)
    intro = stage / "book" / "intro.md"
    if intro.is_file():
        intro.write_text(intro.read_text(encoding="utf-8").replace("<!-- SCALE -->", scale_note(p)), encoding="utf-8")
    manifest = _read_manifest(root)
    for name in params_mod.toc_chapters(root):
        executed = root / BUILD / "executed" / f"{name}.ipynb"
        entry = manifest.get(name)
        if entry and entry["params"] == params_digest(p, name) and executed.is_file():
            shutil.copy2(executed, stage / "book" / f"{name}.ipynb")
        else:
            (stage / "book" / f"{name}.md").write_text(_placeholder(name, p), encoding="utf-8")
    return stage


WHAT_SCALE_SHOWS = {
    "ci": "This scale only exercises the pipeline: a handful of tiny runs, far too few and too short "
    "to test any of the paper's empirical claims. Every claim that needs trained models is reported "
    "as inconclusive.",
    "default": "This scale trains every method on procedural datasets for a few hundred steps, with "
    "a few seeds and values per method. It shows the shape of each analysis and coarse trends; it "
    "cannot reproduce the paper's numbers (300,000 steps, 50 seeds, real datasets), so claims "
    "whose evidence is weak are reported as inconclusive.",
    "paper": "This is the paper's full study: 7 datasets x 6 methods x 6 values x 50 seeds, "
    "300,000 steps, paper metric settings. Its tables can be compared with the paper cell by cell.",
}


def scale_note(p: params_mod.Params) -> str:
    """The intro's statement of the scale this book was built at (from the params file)."""
    s, t, e = p.study, p.study["training"], p.study["evaluation"]
    counts = [len(s["values"].get(m) or params_mod.PAPER_GRID[m]) for m in s["methods"]]
    n_models = len(s["datasets"]) * sum(counts) * len(s["seeds"])
    source = p.shared["data_source"]
    return (
        "```{admonition} Scale of this build\n"
        f"Built with `params/{p.path.name}` (scale **{p.shared['scale']}**): "
        f"{n_models} models = {len(s['datasets'])} dataset(s) ({', '.join(s['datasets'])}; data source: {source}) "
        f"x {len(s['methods'])} method(s) x {min(counts)}-{max(counts)} value(s) x {len(s['seeds'])} seed(s), "
        f"{t['steps']:,} training steps each, metric settings `{e['settings']}`.\n\n"
        f"{WHAT_SCALE_SHOWS[p.shared['scale']]}\n"
        "```"
    )


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
    runs = [execute_chapter(p, name, log=log) for name in listed]
    if build:
        build_html(p, log=log)
    return runs
