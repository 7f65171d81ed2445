"""Params files: one YAML per scale (``params/{ci,default,paper}.yaml``).

Layout::

    shared:    # passed to every chapter (and used by the study)
    study:     # the study grid, training, evaluation and executor settings
    chapters:  # one section per chapter to execute, keyed by notebook name

``shared`` and ``study`` are checked against the schemas below. A chapter
section is checked against the chapter notebook's ``parameters`` cell: every
key must be a parameter there, of the same type as its default, and inside the
range written in its comment (``# in [0, 1]``, ``# in (0, 0.5)``, ``# >= 1``,
``# one of: a|b|c``). So adding a chapter is one ``_toc.yml`` line plus one
params section. Every problem is reported as ``<file>: <dotted.key>: <why>``
before any work starts; a key given twice in one mapping is an error too.

A params file may live anywhere on disk. Relative paths in it (``results_dir``,
``data_root``) resolve against the project root (the folder holding
``_config.yml`` and ``_toc.yml``) when the file lies inside a project, as
``params/*.yaml`` do, and against the params file's own folder otherwise. The
chapters it lists are those of the project holding the file, else of the
project holding the working directory.
"""

from __future__ import annotations

import ast
import copy
import json
import math
import re
import reprlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from . import vocabulary



class ParamsError(ValueError):
    """A params file is invalid; the message names the file and every bad key."""


#: a params file larger than this is refused before it is read (the paper's is about 2 KB)
MAX_PARAMS_BYTES = 256 << 10
#: more runs than this (the paper's 12,600, ten times over) is refused
MAX_RUNS = 12_600 * 10

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 6
_REPR.maxlevel = 2


def _short(value: Any) -> str:
    """A value for an error message: a repr of about 80 characters at most, built without
    the repr of the whole (a huge list or string in a params file stays a short line)."""
    text = _REPR.repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# --------------------------------------------------------------------------- schema

REQUIRED = object()


@dataclass(frozen=True)
class Field:
    """One scalar or list-valued setting."""

    type: type | tuple[type, ...]
    default: Any = REQUIRED
    check: Callable[[Any], str | None] | None = None
    doc: str = ""
    nullable: bool = False


Schema = dict[str, "Field | Schema"]


def _range(lo=None, hi=None, *, lo_open=False, hi_open=False):
    def check(v):
        if lo is not None and (v < lo or (lo_open and v == lo)):
            return f"must be {'>' if lo_open else '>='} {lo}, got {_short(v)}"
        if hi is not None and (v > hi or (hi_open and v == hi)):
            return f"must be {'<' if hi_open else '<='} {hi}, got {_short(v)}"
        return None

    return check


def _one_of(*choices):
    def check(v):
        return None if v in choices else f"must be one of {list(choices)}, got {_short(v)}"

    return check


def _subset_of(choices, *, nonempty=True, unique=True):
    """``choices``: a collection, read at each check (a vocabulary dict: entries added later count)."""
    def check(v):
        if nonempty and not v:
            return "must not be empty"
        bad = [x for x in v if x not in choices]
        if bad:
            return f"unknown entries {bad}; allowed: {list(choices)}"
        if unique and len(set(v)) != len(v):
            return "must not repeat entries"
        return None

    return check


def _seeds(v):
    if not v:
        return "must not be empty"
    if any(not isinstance(s, int) or isinstance(s, bool) for s in v):
        return "must be a list of integers"
    if any(s < 0 for s in v) or len(set(v)) != len(v):
        return (f"must be distinct integers >= 0 (0..{vocabulary.PAPER_SEEDS - 1} keep the reference's model_num; "
                f"larger seeds are runs outside the paper's grid)")
    return None


def _values(v):
    """Per-method values: the paper's or any other positive number (a run outside the paper's
    grid, ``study.grid``); a method without paper values must list its values."""
    if not isinstance(v, dict):
        return "must be a mapping method -> list of hyperparameter values"
    for method, vals in v.items():
        if method not in vocabulary.METHODS:
            return f"unknown method {_short(method)}; allowed: {list(vocabulary.METHODS)}"
        if not isinstance(vals, list) or not vals:
            return f"{method}: must be a non-empty list"
        bad = [x for x in vals if isinstance(x, bool) or not isinstance(x, (int, float))
               or not math.isfinite(x) or x <= 0]
        if bad:
            paper = list(vocabulary.paper_grid().get(method, ()))
            return f"{method}: values {_short(bad)} must be positive numbers (the paper's: {paper})"
        if len({float(x) for x in vals}) != len(vals):
            return f"{method}: must not repeat values"
    return None


def _overrides(v):
    return vocabulary.check_overrides(v)


SHARED_SCHEMA: Schema = {
    "scale": Field(str, check=_one_of("ci", "default", "overnight", "paper"), doc="which scale this file runs"),
    "seed": Field(int, 0, _range(0), "master seed for everything not part of the study grid"),
    "device": Field(str, "auto", _one_of("auto", "cpu", "cuda", "mps"), "torch device"),
    "results_dir": Field(str, doc="study results folder (relative: to the project root, or to the params "
                                  "file's folder for a file outside the project)"),
    "data_root": Field(str, None, nullable=True, doc="dataset cache root; null = $DISENTANGLE_DATA or user cache"),
    "data_source": Field(str, "auto", _one_of("auto", "file", "procedural"), "real files or procedural stand-ins"),
}

STUDY_SCHEMA: Schema = {
    "datasets": Field(list, check=_subset_of(vocabulary.DATASETS),
                      doc="datasets (vocabulary.DATASETS; one outside the paper's seven gives runs outside its grid)"),
    "methods": Field(list, check=_subset_of(vocabulary.METHODS), doc="methods (vocabulary.METHODS)"),
    "values": Field(dict, {}, _values, "per-method values; a method not listed uses its 6 paper values"),
    "seeds": Field(list, check=_seeds, doc="training seeds (model.random_seed)"),
    "training": {
        "steps": Field(int, 300_000, _range(1), "global steps (`shared.gin`: model.training_steps)"),
        "batch_size": Field(int, 64, _range(1)),
        "latent_dim": Field(int, 10, _range(1)),
        "encoder_kernel": Field(int, 2, _one_of(2, 4), "kernel of encoder conv 3-4: 2 = reference code, 4 = paper table"),
        "factor_vae_double_step": Field(bool, True, doc="reference: FactorVAE's global step advances twice per iteration"),
        "eval_batches": Field(int, 1000, _range(0), "post-training evaluation batches of 64 (`methods/unsupervised/train.py`)"),
        "log_every": Field(int, 1000, _range(1)),
        "checkpoint_every": Field(int, 10_000, _range(1)),
        "models_per_batch": Field(int, 1, _range(1), "batched multi-model training: models trained in one step"),
        "lr": Field(float, 1e-4, _range(0, lo_open=True), "Adam learning rate (paper Table 4a; `shared.gin`: 0.0001)"),
        "lr_warmup": Field(int, 0, _range(0), "updates of linear learning-rate warm-up (reference: 0, constant rate)"),
        "lr_final": Field(float, None, _range(0, lo_open=True), nullable=True,
                          doc="with a value, the learning rate falls from lr to it along a cosine over the run "
                              "(reference: null, constant rate; TrainConfig.learning_rate)"),
        "annealed_vae_iteration_threshold": Field(
            int, 100_000, _range(1), "AnnealedVAE: global step at which the capacity reaches c_max (`methods/unsupervised/vae.py: AnnealedVAE`)"),
        "precision": Field(str, "fp32", _one_of("fp32", "bf16", "auto"),
                           "fp32 = the reference; bf16 = mixed-precision encoder/decoder (TrainConfig.precision); "
                           "auto = bf16 where the device computes it natively (devices.resolve_precision), else fp32"),
    },
    "evaluation": {
        "settings": Field(str, "paper", _one_of("paper", "fast"), "metric settings (book/design.md, 'Metric settings')"),
        "classifiers": Field(str, "paper", _one_of("paper", "modern"),
                             "logistic-regression semantics: paper = scikit-learn 0.20's one-vs-rest fits, as the "
                             "study ran them; modern = today's multinomial fits (book/design.md, 'Classifier semantics')"),
        "metrics": Field(list, list(vocabulary.paper_metric_configs()), _subset_of(vocabulary.METRIC_CONFIGS)),
        "sampled_metrics": Field(list, None, _subset_of(vocabulary.METRIC_CONFIGS), nullable=True,
                                 doc="metric configs for the sampled representation; null = same as 'metrics' "
                                 "(the reference); the paper only uses 'unsupervised' on it"),
        "representations": Field(list, list(vocabulary.REPRESENTATIONS), _subset_of(vocabulary.REPRESENTATIONS)),
        "overrides": Field(dict, {}, _overrides, "per-metric sample sizes replacing the settings' numbers"),
    },
    "controls": {
        "twin_seeds": Field(list, None, _seeds, nullable=True,
                            doc="seeds whose runs get a rotated twin (study/controls.py); null = every seed, "
                                "[] = none"),
        "untrained_seeds": Field(int, 5, _range(0), "untrained encoders scored per dataset (init seeds 0..n-1)"),
    },
    "executor": {
        "kind": Field(str, "sequential", _one_of("sequential", "processes", "slurm")),
        "workers": Field(int, 1, _range(1)),
        "threads_per_worker": Field(int, 1, _range(1)),
        "slurm": {
            "partition": Field(str, None, nullable=True),
            "time_min": Field(int, 240, _range(1)),
            "gpus_per_task": Field(int, 1, _range(0)),
            "cpus_per_task": Field(int, 4, _range(1)),
            "mem_gb": Field(int, 16, _range(1)),
            "array_parallelism": Field(int, 64, _range(1)),
            "runs_per_task": Field(int, 1, _range(1)),
        },
    },
}

#: training settings that do not change what a model learns: never a deviation from the reference
OPERATIONAL_TRAINING = ("log_every", "checkpoint_every", "models_per_batch")


def reference_deviations(training: dict[str, Any], methods) -> dict[str, Any]:
    """The training settings that differ from the reference's, key -> value in the schema's
    order: the one place that decides it, for a run's identity (``study.grid.make_run``) and
    the book's scale box (``book.training_deviations``). The schema's defaults are the
    reference's (`methods/unsupervised/train.py`, `model_configs/shared.gin`). A setting
    missing from ``training`` is the reference's; :data:`OPERATIONAL_TRAINING` never deviates;
    AnnealedVAE's ``annealed_vae_iteration_threshold`` deviates only when ``methods``
    include ``annealed_vae``."""
    out = {}
    for key, spec in STUDY_SCHEMA["training"].items():
        if key in OPERATIONAL_TRAINING or key not in training or training[key] == spec.default:
            continue
        if key == "annealed_vae_iteration_threshold" and "annealed_vae" not in methods:
            continue
        out[key] = training[key]
    return out


TOP_LEVEL = ("shared", "study", "chapters")


# --------------------------------------------------------------------------- validation


def _type_ok(value, typ) -> bool:
    types = typ if isinstance(typ, tuple) else (typ,)
    if isinstance(value, bool) and bool not in types:
        return False
    if float in types and isinstance(value, int) and not isinstance(value, bool):
        return True
    return isinstance(value, types)


def _type_name(typ) -> str:
    types = typ if isinstance(typ, tuple) else (typ,)
    return " or ".join(t.__name__ for t in types)


def _apply_schema(section: Any, schema: Schema, prefix: str, errors: list[str]) -> dict:
    if section is None:
        section = {}
    if not isinstance(section, dict):
        errors.append(f"{prefix}: must be a mapping, got {type(section).__name__}")
        return {}
    out: dict[str, Any] = {}
    for key in section:
        if key not in schema:
            errors.append(f"{prefix}.{key}: unknown key; allowed: {sorted(schema)}")
    for key, spec in schema.items():
        dotted = f"{prefix}.{key}"
        if isinstance(spec, dict):
            out[key] = _apply_schema(section.get(key), spec, dotted, errors)
            continue
        if key not in section:
            if spec.default is REQUIRED:
                errors.append(f"{dotted}: missing required key")
            else:
                out[key] = copy.deepcopy(spec.default)
            continue
        value = section[key]
        if value is None:
            if not spec.nullable:
                errors.append(f"{dotted}: must not be null")
            out[key] = None
            continue
        if not _type_ok(value, spec.type):
            hint = ""
            if float in (spec.type if isinstance(spec.type, tuple) else (spec.type,)) and isinstance(value, str):
                hint = " (YAML reads numbers like 1e-3 as text: write 0.001 or 1.0e-3)"
            errors.append(f"{dotted}: wrong type: expected {_type_name(spec.type)}, got {type(value).__name__} "
                          f"({_short(value)}){hint}")
            continue
        if spec.check is not None:
            msg = spec.check(value)
            if msg:
                errors.append(f"{dotted}: {msg}")
                continue
        out[key] = value
    return out


# --------------------------------------------------------------------------- notebook parameters


@dataclass(frozen=True)
class NotebookParameter:
    name: str
    default: Any
    comment: str = ""

    def check(self, value: Any) -> str | None:
        """Type and range check of ``value`` against this parameter's default and comment."""
        d = self.default
        if d is not None:
            if isinstance(d, bool) or isinstance(value, bool):
                if type(d) is not type(value):
                    return f"wrong type: expected {type(d).__name__}, got {type(value).__name__} ({_short(value)})"
            elif isinstance(d, float) and isinstance(value, int):
                pass
            elif type(value) is not type(d) and not (isinstance(d, (list, tuple)) and isinstance(value, (list, tuple))):
                return f"wrong type: expected {type(d).__name__}, got {type(value).__name__} ({_short(value)})"
        return _comment_check(self.comment, value)


_RANGE = re.compile(r"in\s*([\[(])\s*([-+0-9.eE]+|-inf)\s*,\s*([-+0-9.eE]+|inf)\s*([\])])")
_BOUND = re.compile(r"(>=|>|<=|<)\s*([-+0-9.eE]+)")
_ONE_OF = re.compile(r"one of:\s*([\w|.\- ]+)")
_EACH = re.compile(r"\beach\b")


def _comment_check(comment: str, value: Any) -> str | None:
    """Range rules written in a parameters-cell comment; ``each`` applies them per list item."""
    items = value if (_EACH.search(comment) and isinstance(value, (list, tuple))) else [value]
    if _EACH.search(comment) and isinstance(value, (list, tuple)) and not value:
        return "must not be empty"
    for item in items:
        m = _RANGE.search(comment)
        if m and isinstance(item, (int, float)):
            lo, hi = float(m.group(2)), float(m.group(3))
            if item < lo or item > hi or (m.group(1) == "(" and item == lo) or (m.group(4) == ")" and item == hi):
                return f"out of range: {_short(item)} not in {m.group(1)}{m.group(2)}, {m.group(3)}{m.group(4)}"
        for op, num in _BOUND.findall(comment) if not m else []:
            if isinstance(item, (int, float)):
                n = float(num)
                ok = {">=": item >= n, ">": item > n, "<=": item <= n, "<": item < n}[op]
                if not ok:
                    return f"out of range: {_short(item)} must be {op} {num}"
        m = _ONE_OF.search(comment)
        if m:
            choices = [c.strip() for c in m.group(1).split("|") if c.strip()]
            if str(item) not in choices:
                return f"must be one of {choices}, got {_short(item)}"
    return None


def notebook_parameters(path: str | Path) -> dict[str, NotebookParameter]:
    """Parse the cell tagged ``parameters`` of a notebook: ``name = literal  # comment``."""
    path = Path(path)
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            return _parse_parameters(source, path)
    raise ParamsError(f"{path}: no code cell tagged 'parameters'")


def _parse_parameters(source: str, path: Path) -> dict[str, NotebookParameter]:
    lines = source.splitlines()
    tree = ast.parse(source)
    out: dict[str, NotebookParameter] = {}
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else getattr(node, "target", None)
        if not isinstance(target, ast.Name) or node.value is None:
            continue
        try:
            default = ast.literal_eval(node.value)
        except ValueError as e:
            raise ParamsError(f"{path}: parameter {target.id!r} must be a literal ({e})") from None
        line = lines[node.end_lineno - 1]
        comment = line.split("#", 1)[1].strip() if "#" in line else ""
        out[target.id] = NotebookParameter(target.id, default, comment)
    return out


# --------------------------------------------------------------------------- loading


@dataclass
class Params:
    """A validated params file. Paths in ``shared`` are absolute after loading."""

    path: Path
    shared: dict[str, Any]
    study: dict[str, Any]
    chapters: dict[str, dict[str, Any]] = field(default_factory=dict)
    project: Path | None = None

    def chapter_parameters(self, name: str) -> dict[str, Any]:
        """What papermill injects into chapter ``name``: shared + its own section + params_file."""
        return {**self.shared, **self.chapters.get(name, {}), "params_file": str(self.path)}

    @property
    def root(self) -> Path:
        """The book's project root (holding the file, else the working directory)."""
        if self.project is None:
            raise ParamsError(f"{self.path}: no book project (_config.yml and _toc.yml) above the file or the "
                              f"working directory; run from the project folder")
        return self.project


def project_root(start: str | Path | None = None) -> Path:
    """The folder holding ``_config.yml`` and ``_toc.yml`` (searching upwards)."""
    here = Path(start or Path.cwd()).resolve()
    for p in [here, *here.parents]:
        if (p / "_toc.yml").is_file() and (p / "_config.yml").is_file():
            return p
    raise FileNotFoundError(f"no _config.yml/_toc.yml found above {here}")


def toc_chapters(root: Path) -> list[str]:
    """Chapter notebook names in ``_toc.yml`` order (``book/NAME`` entries)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    files: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(str(node["file"]))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(toc.get("chapters", toc.get("parts", [])))
    return [Path(f).name for f in files if (root / (f + ".ipynb")).is_file()]


#: libyaml's parser where PyYAML has it: a params file at the size limit parses in a fraction of a second
_YAML_BASE = yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader


def _refuse_anchors(text: str) -> None:
    """Raise a YAML error at the first anchor or alias (``&a`` / ``*a``), before anything is
    built: a few of them expand to gigabytes (an "alias bomb"), and a params file reads best
    with every value written out."""
    loader = _YAML_BASE(text)
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                kind, sign = ("alias", "*") if isinstance(event, yaml.AliasEvent) else ("anchor", "&")
                raise yaml.composer.ComposerError(
                    None, None, f"found a YAML {kind} ({sign}{_short(str(event.anchor))[1:-1]}); params files "
                    f"allow neither anchors nor aliases: write the value out", event.start_mark)
    finally:
        loader.dispose()


class _UniqueKeyLoader(_YAML_BASE):
    """YAML's safe loader, but a key repeated in one mapping is an error (not "the last wins")."""

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    f"found duplicate key {_short(key)} (first on line {seen[key].line + 1})", key_node.start_mark)
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def _root_or_none(start: Path) -> Path | None:
    try:
        return project_root(start)
    except FileNotFoundError:
        return None


def load(path: str | Path, *, root: str | Path | None = None) -> Params:
    """Read and validate a params file; raise :class:`ParamsError` listing every problem.

    Relative paths resolve against the project root holding the file, or the file's
    folder for a file outside any project (see the module docstring)."""
    path = Path(path).resolve()
    if not path.is_file():
        raise ParamsError(f"{path}: params file not found")
    size = path.stat().st_size
    if size > MAX_PARAMS_BYTES:
        raise ParamsError(f"{path}: {size / 2**20:.1f} MiB, larger than a params file may be "
                          f"({MAX_PARAMS_BYTES >> 10} KiB, about 30,000 seeds); list seeds and values, not data")
    try:
        text = path.read_text(encoding="utf-8")
        _refuse_anchors(text)
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as e:
        raise ParamsError(f"{path}: not valid YAML: {e}") from None
    except UnicodeDecodeError as e:
        raise ParamsError(f"{path}: not UTF-8 text ({e.reason})") from None
    if root:
        root = Path(root)
        base = root
    else:
        inside = _root_or_none(path.parent)
        root = inside or _root_or_none(Path.cwd())
        base = inside or path.parent
    errors: list[str] = []
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: top level must be a mapping with keys {list(TOP_LEVEL)}")
    for key in raw:
        if key not in TOP_LEVEL:
            errors.append(f"{key}: unknown top-level key; allowed: {list(TOP_LEVEL)}")
    shared = _apply_schema(raw.get("shared"), SHARED_SCHEMA, "shared", errors)
    study = _apply_schema(raw.get("study"), STUDY_SCHEMA, "study", errors)
    if isinstance(study.get("values"), dict) and isinstance(study.get("methods"), list):
        for method in study["values"]:
            if method not in study["methods"]:
                errors.append(f"study.values.{method}: values given for a method not in study.methods "
                              f"{study['methods']}; add it there or remove these values")
        for method in study["methods"]:
            if method not in study["values"] and not vocabulary.METHODS[method].paper_values:
                errors.append(f"study.values.{method}: missing; {method} has no paper values, list the values "
                              f"to train (positive numbers)")
    n_runs = _grid_size(study)
    if n_runs > MAX_RUNS:
        errors.append(f"study: {n_runs:,} runs (datasets x values x seeds), more than the {MAX_RUNS:,} a study "
                      f"may have (the paper's 12,600, ten times over); split it into several params files")
    if raw.get("chapters") and root is None:
        errors.append("chapters: no book project (_config.yml and _toc.yml) above the file or the working "
                      "directory to check them against; run from the project folder")
        chapters = {}
    else:
        chapters = _check_chapters(raw.get("chapters"), root, errors)
    if errors:
        raise ParamsError(f"{path}: invalid params:\n  " + "\n  ".join(f"{path.name}: {e}" for e in errors))
    for key in ("results_dir", "data_root"):
        if shared.get(key) is not None:
            p = Path(shared[key]).expanduser()
            shared[key] = str(p if p.is_absolute() else (base / p).resolve())
    return Params(path=path, shared=shared, study=study, chapters=chapters, project=root)


def _grid_size(study: dict[str, Any]) -> int:
    """Runs in the grid of a (schema-checked) study section; 0 if it is not complete."""
    try:
        values = study["values"] if isinstance(study.get("values"), dict) else {}
        per_method = sum(len(values.get(m) or vocabulary.METHODS[m].paper_values or ()) for m in study["methods"])
        return len(study["datasets"]) * per_method * len(study["seeds"])
    except (KeyError, TypeError):
        return 0


def _check_chapters(section: Any, root: Path, errors: list[str]) -> dict[str, dict[str, Any]]:
    if section is None:
        return {}
    if not isinstance(section, dict):
        errors.append("chapters: must be a mapping chapter-name -> parameters")
        return {}
    known = toc_chapters(root)
    out: dict[str, dict[str, Any]] = {}
    for name, values in section.items():
        if name not in known:
            errors.append(f"chapters.{name}: not a chapter in _toc.yml; known: {known}")
            continue
        values = values or {}
        if not isinstance(values, dict):
            errors.append(f"chapters.{name}: must be a mapping of parameters")
            continue
        declared = notebook_parameters(root / "book" / f"{name}.ipynb")
        for key, value in values.items():
            dotted = f"chapters.{name}.{key}"
            if key in SHARED_SCHEMA or key == "params_file":
                errors.append(f"{dotted}: set in 'shared', not per chapter")
            elif key not in declared:
                errors.append(f"{dotted}: unknown key; the notebook's parameters are {sorted(declared)}")
            else:
                msg = declared[key].check(value)
                if msg:
                    errors.append(f"{dotted}: {msg}")
        out[name] = dict(values)
    return out
