"""Train a custom model: copy the source's forms, run layout on each (in the worker pool), learn, and record the
per-document outcome the way Form Recognizer's ``trainResult`` reports it.

The copies live in the model's folder only while it trains: the learned model holds all that analysis, copy and
compose need, so the forms (someone's documents) are deleted once the model is ready or invalid. A training cut
short by a restart starts over from the source.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import PerceptError, StoredError, UnreadableModel
from ..io.http import UrlPolicy
from ..model import Document
from . import composed, labeled, unlabeled
from .labeled import LabelError
from .registry import INVALID, READY, ModelRecord, ModelRegistry
from .sources import InvalidTrainingSource, SourceFile, collect, is_form

log = logging.getLogger("percept.training")

MIN_FORMS = 5
MIN_FILLED_WITH_EMPTY = 2


def _error(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


def training_error(train_result: dict[str, Any] | None) -> StoredError:
    """The failed model operation's stored error: the first of the invalid model's ``trainResult`` errors."""
    errors = (train_result or {}).get("errors") or [_error("InvalidModel", "Invalid.")]
    return StoredError("InvalidRequest", errors[0]["code"], errors[0]["message"], 400)


def train_model(
    rec: ModelRecord,
    registry: ModelRegistry,
    *,
    read: Callable[[Path], Document],
    policy: UrlPolicy,
    local_root: str,
) -> None:
    """Blocking (a driver thread): train ``rec`` and leave it ready or invalid, never creating; the copies of
    its training forms are gone afterwards, whatever the outcome."""
    folder = registry.folder(rec.id)
    copies = folder / "source"
    shutil.rmtree(copies, ignore_errors=True)  # a training cut short left a partial copy: collect afresh
    try:
        _train(rec, registry, copies, read=read, policy=policy, local_root=local_root)
    finally:
        shutil.rmtree(copies, ignore_errors=True)
        with contextlib.suppress(OSError):
            folder.rmdir()  # nothing learned (invalid): no empty folder left behind


def _train(
    rec: ModelRecord,
    registry: ModelRegistry,
    copies: Path,
    *,
    read: Callable[[Path], Document],
    policy: UrlPolicy,
    local_root: str,
) -> None:
    p = rec.params
    try:
        files = collect(
            p["source"],
            p.get("prefix") or "",
            bool(p.get("includeSubFolders")),
            copies,
            policy=policy,
            local_root=local_root,
        )
    except InvalidTrainingSource as exc:
        registry.finish(rec.id, INVALID, _result([], [_error(exc.code, exc.message)]), None, None)
        return
    forms = [f for f in files if is_form(f.name)]
    if not forms:
        message = "No PDF or image files were found in the source (check the container, prefix and subfolder flag)."
        registry.finish(rec.id, INVALID, _result([], [_error("TrainingContentMissing", message)]), None, None)
        return
    if p.get("useLabelFile"):
        _train_labeled(rec, registry, files, forms, read)
        return
    docs: list[tuple[str, Document]] = []
    report: list[dict[str, Any]] = []
    for f in forms:
        try:
            doc = read(f.path)
        except PerceptError as exc:
            report.append(_doc(f.name, 0, "failed", [_error(exc.code, exc.message)]))
            continue
        if not any(page.lines for page in doc.pages):
            report.append(_doc(f.name, len(doc.pages), "failed", [_error("EmptyDocument", "No text was found.")]))
            continue
        docs.append((f.name, doc))
        report.append(_doc(f.name, len(doc.pages), "succeeded", []))
    empty = [name for name, _ in docs if "empty" in name.rsplit("/", 1)[-1].lower()]
    filled = len(docs) - len(empty)
    if len(docs) < MIN_FORMS and not (empty and filled >= MIN_FILLED_WITH_EMPTY):
        message = (
            f"Training needs at least {MIN_FORMS} readable forms of one type, or one empty form (its file name "
            f"contains 'empty') and {MIN_FILLED_WITH_EMPTY} filled ones; {len(docs)} readable forms were found."
        )
        registry.finish(rec.id, INVALID, _result(report, [_error("TrainingContentMissing", message)]), None, None)
        return
    model = unlabeled.train(docs)
    registry.finish(rec.id, READY, _result(report, []), model.keys_by_cluster(), model)


def _train_labeled(
    rec: ModelRecord,
    registry: ModelRegistry,
    files: list[SourceFile],
    forms: list[SourceFile],
    read: Callable[[Path], Document],
) -> None:
    """Training with labels: every form with a ``.labels.json`` beside it; field types from ``fields.json``."""
    by_name = {f.name: f for f in files}
    types: dict[str, str] = {}
    schema = [f for f in files if f.name.rsplit("/", 1)[-1] == "fields.json"]
    try:
        if schema:
            types = labeled.parse_fields(_load_json(schema[0].path), schema[0].name)
    except LabelError as exc:
        registry.finish(rec.id, INVALID, _result([], [_error("InvalidLabelFile", str(exc))]), None, None)
        return
    report: list[dict[str, Any]] = []
    learned: list[labeled.LabeledForm] = []
    for f in forms:
        label_file = by_name.get(f.name + ".labels.json")
        if label_file is None:
            continue  # Azure trains a labelled model on the labelled forms only
        try:
            labels = labeled.parse_labels(_load_json(label_file.path), label_file.name)
            doc = read(f.path)
        except LabelError as exc:
            report.append(_doc(f.name, 0, "failed", [_error("InvalidLabelFile", str(exc))]))
            continue
        except PerceptError as exc:
            report.append(_doc(f.name, 0, "failed", [_error(exc.code, exc.message)]))
            continue
        learned.append(labeled.LabeledForm(f.name, doc, labels))
        report.append(_doc(f.name, len(doc.pages), "succeeded", []))
    if len(learned) < labeled.MIN_LABELED_FORMS:
        message = (
            f"Training with labels needs at least {labeled.MIN_LABELED_FORMS} readable forms, each with a "
            f"'<form>.labels.json' beside it; {len(learned)} were found."
        )
        registry.finish(rec.id, INVALID, _result(report, [_error("TrainingContentMissing", message)]), None, None)
        return
    model = labeled.train(learned, types)
    result = _result(report, [])
    result["fields"] = [{"fieldName": fm.name, "accuracy": fm.accuracy} for fm in model.fields]
    result["averageModelAccuracy"] = round(model.average_accuracy, 3)
    result["fieldTypes"] = {fm.name: fm.type for fm in model.fields}
    registry.finish(rec.id, READY, result, None, model)


def _load_json(path: Path) -> Any:
    try:
        with open(path, "rb") as fh:
            return json.loads(fh.read())
    except (OSError, ValueError) as exc:
        raise LabelError(f"{path.name}: not readable JSON ({exc}).") from None


def _doc(name: str, pages: int, status: str, errors: list[dict[str, str]]) -> dict[str, Any]:
    return {"documentName": name, "pages": pages, "errors": errors, "status": status}


def _result(docs: list[dict[str, Any]], errors: list[dict[str, str]]) -> dict[str, Any]:
    return {"trainingDocuments": docs, "errors": errors}


def compose_model(rec: ModelRecord, registry: ModelRegistry) -> None:
    """A composed model: the learned components copied in (a component deleted later stays in the composition);
    analysis picks the component whose template the document matches best."""
    parts: list[composed.Component] = []
    results: list[dict[str, Any]] = []
    for model_id in rec.params["components"]:
        part = registry.get(model_id)
        if part is None or part.status != READY:
            message = f"Component model '{model_id}' was not found or is not ready."
            registry.finish(rec.id, INVALID, _result([], [_error("ModelNotFound", message)]), None, None)
            return
        try:
            learned = registry.learned(model_id)
        except UnreadableModel as exc:  # an earlier version's model: the composition says which to retrain
            registry.finish(rec.id, INVALID, _result([], [_error(exc.code, exc.message)]), None, None)
            return
        if isinstance(learned, composed.ComposedModel):
            parts.extend(learned.components)
        elif isinstance(learned, labeled.LabeledModel):
            parts.append(composed.Component(model_id, part.name, learned))
        else:
            message = f"Model '{model_id}' was trained without labels; only models trained with labels compose."
            registry.finish(rec.id, INVALID, _result([], [_error("ModelNotComposable", message)]), None, None)
            return
        tr = part.train_result or {}
        results.append({"modelId": model_id, "errors": [], **_summary(tr)})
    model = composed.ComposedModel(parts)
    result = _result([d for r in results for d in r["trainingDocuments"]], [])
    result["composedTrainResults"] = results
    result["fieldTypes"] = {fm.name: fm.type for c in parts for fm in c.model.fields}
    registry.finish(rec.id, READY, result, None, model)


def copy_model(rec: ModelRecord, registry: ModelRegistry) -> None:
    """A copy of a model under the id a copy authorization reserved: same training result, same learning."""
    source = registry.get(rec.params["copy_of"])
    if source is None or source.status != READY:
        message = f"Model '{rec.params['copy_of']}' was not found or is not ready."
        registry.finish(rec.id, INVALID, _result([], [_error("ModelNotFound", message)]), None, None)
        return
    try:
        learned = registry.learned(source.id)
    except UnreadableModel as exc:
        registry.finish(rec.id, INVALID, _result([], [_error(exc.code, exc.message)]), None, None)
        return
    registry.finish(rec.id, READY, source.train_result or _result([], []), source.keys, learned)


def _summary(tr: dict[str, Any]) -> dict[str, Any]:
    return {
        "trainingDocuments": tr.get("trainingDocuments", []),
        "fields": tr.get("fields", []),
        "averageModelAccuracy": tr.get("averageModelAccuracy", 0.0),
    }
