"""Form Recognizer v2.0/v2.1 custom-model bodies: a model's info, keys and training result, and the model list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..custom.registry import MODEL_LIMIT, ModelRecord
from .timestamps import timestamp


def model_info(rec: ModelRecord) -> dict[str, Any]:
    info: dict[str, Any] = {
        "modelId": rec.id,
        "status": rec.status,
        "createdDateTime": timestamp(rec.created),
        "lastUpdatedDateTime": timestamp(rec.updated),
    }
    if rec.name:
        info["modelName"] = rec.name
    if rec.params.get("version") == "2.1":
        info["attributes"] = {"isComposed": rec.params.get("action") == "compose"}
    return info


def model_body(rec: ModelRecord) -> dict[str, Any]:
    body: dict[str, Any] = {"modelInfo": model_info(rec)}
    if rec.keys is not None:
        body["keys"] = {"clusters": rec.keys}
    if rec.train_result is not None:
        tr = rec.train_result
        body["trainResult"] = {"trainingDocuments": tr.get("trainingDocuments", []), "errors": tr.get("errors", [])}
        if "composedTrainResults" in tr:
            body["composedTrainResults"] = tr["composedTrainResults"]
            del body["trainResult"]
        elif "fields" in tr:
            body["trainResult"]["fields"] = tr["fields"]
            body["trainResult"]["averageModelAccuracy"] = tr["averageModelAccuracy"]
    return body


def model_list(records: Sequence[ModelRecord], summary_only: bool) -> dict[str, Any]:
    """The list of models (``op=full``) or only its summary (``op=summary``)."""
    last = max((r.updated for r in records), default=0.0)
    summary = {"count": len(records), "limit": MODEL_LIMIT, "lastUpdatedDateTime": timestamp(last)}
    if summary_only:
        return {"summary": summary}
    return {"summary": summary, "modelList": [model_info(r) for r in records], "nextLink": ""}
