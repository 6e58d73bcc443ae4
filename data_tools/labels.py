"""The label space: which heads a model has and what each predicts, from the manifest on.

One `LabelSpace` travels from the manifest to the heads, the run folder
(`config.json` "labels"), the metrics, the reports and the export sidecar. A
task is a manifest column: a classification task has class names (index =
class id), a regression task predicts a number in the column's own units
(years), learnt as `(value - center) / scale`.
"""

import math
from dataclasses import dataclass

# Manifest column -> kind of the label columns every manifest has; any further column is
# one more task (`label_columns`).
DEFAULT_COLUMNS = {"artist": "class", "movement": "class", "year": "regression"}
# Manifest columns that are no label.
NOT_LABELS = ("image_id", "path", "split", "sha1", "source")
# (center, scale) of a regression task when nothing is known about its values: years
# 1750-1950 map to -1..1. The one place this default is written.
DEFAULT_SCALING = {"year": (1850.0, 100.0)}
PRIMARY = "artist"  # the task every dataset must label, with at least two classes
# The primary label of works by artists outside the label space (huggan/wikiart's rows): with
# `from_rows(..., out_of_set=True)` it is no class, and `encode` gives its rows OUT_OF_SET_CODE
# (trained on as a uniform artist target by outlier exposure, `data_tools.pipeline`).
OUT_OF_SET = "Unknown Artist"
OUT_OF_SET_CODE = -2


@dataclass(frozen=True)
class Task:
    """One head: `classes` are the class names, empty for a regression task whose
    outputs are `z * scale + center` in the column's units."""

    name: str
    classes: tuple[str, ...] = ()
    center: float = 0.0
    scale: float = 1.0

    @property
    def is_regression(self) -> bool:
        return not self.classes

    def to_json(self) -> dict:
        if self.is_regression:
            return {"name": self.name, "kind": "regression", "center": self.center, "scale": self.scale}
        return {"name": self.name, "kind": "class", "classes": list(self.classes)}


@dataclass(frozen=True)
class LabelSpace:
    """The tasks of a dataset or model, in head order."""

    tasks: tuple[Task, ...]

    def __post_init__(self):
        names = [t.name for t in self.tasks]
        if not names or len(set(names)) != len(names):
            raise ValueError(f"a label space needs distinct task names, got {names}")
        for task in self.tasks:
            if not task.is_regression and len(task.classes) < 2:
                raise ValueError(f"task {task.name!r}: needs at least 2 classes, got {len(task.classes)}")
            if task.is_regression and not task.scale > 0:
                raise ValueError(f"task {task.name!r}: scale must be > 0, got {task.scale}")

    # --- reading it
    @property
    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tasks)

    @property
    def classification(self) -> tuple[Task, ...]:
        return tuple(t for t in self.tasks if not t.is_regression)

    @property
    def regression(self) -> tuple[Task, ...]:
        return tuple(t for t in self.tasks if t.is_regression)

    def __getitem__(self, name: str) -> Task:
        for task in self.tasks:
            if task.name == name:
                return task
        raise KeyError(f"no task {name!r} in the label space ({', '.join(self.names)})")

    def __contains__(self, name) -> bool:
        return name in self.names

    def class_names(self, name: str) -> tuple[str, ...]:
        """The class names of task `name`, () when it is absent or a regression task."""
        return self[name].classes if name in self else ()

    # --- making it
    def restricted(self, names) -> "LabelSpace":
        """Only the tasks `names` (any order given; kept in head order); ValueError naming
        an unknown one. The primary task must stay (every model has an artist head)."""
        names = [n.strip() for n in names if n.strip()]
        unknown = [n for n in names if n not in self.names]
        if unknown:
            raise ValueError(f"--tasks: no task {', '.join(map(repr, unknown))} in the data "
                             f"(it labels {', '.join(self.names)})")
        if PRIMARY not in names:
            raise ValueError(f"--tasks must include {PRIMARY!r} (the primary task every model has)")
        return LabelSpace(tuple(t for t in self.tasks if t.name in names))

    @classmethod
    def from_rows(cls, rows: list[dict], columns: dict | None = None, out_of_set: bool = False) -> "LabelSpace":
        """The tasks manifest `rows` (all splits) carry.

        `columns`: column -> "class" | "regression" (default `label_columns(rows)`). A class
        column becomes a task when it has two or more distinct non-empty values (sorted),
        except the primary `artist` task, which must; a regression column when a train row
        has a value (center/scale = mean/std of the known train values, std >= 1).
        `out_of_set`: the primary task's OUT_OF_SET label is not a class.
        """
        if not rows:
            raise ValueError("cannot build a label space from zero manifest rows")
        tasks = []
        for name, kind in (columns or label_columns(rows)).items():
            if kind == "regression":
                values = [float(r[name]) for r in rows if r["split"] == "train" and r.get(name) not in (None, "")]
                if values:
                    mean = sum(values) / len(values)
                    std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
                    tasks.append(Task(name, (), mean, max(std, 1.0)))
                continue
            classes = tuple(sorted({r[name] for r in rows if r.get(name)} - (
                {OUT_OF_SET} if out_of_set and name == PRIMARY else set())))
            if name == PRIMARY and len(classes) < 2:
                raise ValueError(f"the data has {len(classes)} {name}(s); at least 2 are needed")
            if len(classes) >= 2:  # one class is nothing to learn
                tasks.append(Task(name, classes))
        return cls(tuple(tasks))

    @classmethod
    def from_tasks(cls, tasks: dict, scaling: dict | None = None) -> "LabelSpace":
        """From `zoo.build`'s `tasks` dict: name -> class count, list of class names or
        "regression"; `scaling`: regression name -> (center, scale), default `DEFAULT_SCALING`."""
        if not isinstance(tasks, dict) or not tasks:
            raise ValueError(f"tasks must be a non-empty dict of head name -> classes, got {tasks!r}")
        scaling = {**DEFAULT_SCALING, **(scaling or {})}
        out = []
        for name, what in tasks.items():
            if what == "regression":
                center, scale = scaling.get(name, (0.0, 1.0))
                if scale <= 0:
                    raise ValueError(f"target_scaling[{name!r}]: scale must be > 0, got {scale}")
                out.append(Task(name, (), float(center), float(scale)))
            elif isinstance(what, int) and not isinstance(what, bool) and what >= 2:
                out.append(Task(name, tuple(str(i) for i in range(what))))
            elif isinstance(what, list | tuple) and len(what) >= 2 and len(set(what)) == len(what):
                out.append(Task(name, tuple(str(c) for c in what)))
            else:
                raise ValueError(f"task {name!r}: expected a class count >= 2, a list of distinct "
                                 f"class names, or 'regression', got {what!r}")
        return cls(tuple(out))

    # --- storing it
    def to_json(self) -> dict:
        return {"tasks": [t.to_json() for t in self.tasks]}

    @classmethod
    def from_json(cls, data: dict) -> "LabelSpace":
        """Inverse of `to_json`; also reads the pre-restructure record
        `{"artists", "movements", "year_mean", "year_std", "has_year"}` of older run folders."""
        if "tasks" not in data:
            return cls._from_legacy(data)
        return cls(tuple(
            Task(t["name"], (), float(t["center"]), float(t["scale"])) if t["kind"] == "regression"
            else Task(t["name"], tuple(t["classes"])) for t in data["tasks"]))

    @classmethod
    def _from_legacy(cls, data: dict) -> "LabelSpace":
        tasks = [Task("artist", tuple(data["artists"]))]
        if len(data.get("movements", ())) >= 2:
            tasks.append(Task("movement", tuple(data["movements"])))
        if data.get("has_year", True):
            tasks.append(Task("year", (), float(data["year_mean"]), float(data["year_std"])))
        return cls(tuple(tasks))

    # --- using it
    def encode(self, rows: list[dict]) -> dict:
        """Per task, one value per row: class tasks int32 class ids (-1 where the label is
        missing; OUT_OF_SET_CODE for the primary task's OUT_OF_SET rows when it is not a
        class), regression tasks float32 values (NaN where missing).

        Raises ValueError naming labels that are not in the label space.
        """
        import numpy as np

        codes = {}
        for task in self.tasks:
            if task.is_regression:
                codes[task.name] = np.array(
                    [float(r[task.name]) if r.get(task.name) not in (None, "") else np.nan for r in rows],
                    np.float32)
                continue
            ids = {c: i for i, c in enumerate(task.classes)}
            if task.name == PRIMARY and OUT_OF_SET not in ids:
                ids[OUT_OF_SET] = OUT_OF_SET_CODE
            unknown = {r[task.name] for r in rows if r.get(task.name)} - ids.keys()
            if unknown:
                raise ValueError(f"{task.name}s not in the label space: {', '.join(sorted(unknown))}")
            codes[task.name] = np.array([ids.get(r.get(task.name) or "", -1) for r in rows], np.int32)
        return codes


def label_columns(rows: list[dict]) -> dict[str, str]:
    """Label column -> "class" | "regression" of manifest rows: `DEFAULT_COLUMNS`, then every
    further column in file order, "regression" when each of its non-empty values is a number
    (a year, a size), else "class" (genre, style, medium)."""
    columns = dict(DEFAULT_COLUMNS)
    for name in rows[0] if rows else {}:
        if name in columns or name in NOT_LABELS or name.startswith("_"):
            continue
        values = [r[name] for r in rows if r.get(name) not in (None, "")]
        columns[name] = "regression" if values and all(_is_number(v) for v in values) else "class"
    return columns


def _is_number(value) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
