"""Form Recognizer 2022-08-31/2023-07-31 and Document Intelligence 2024-11-30/2025-09-01 model bodies: a custom
model's ``DocumentModelDetails`` and the operation that builds, composes or copies it."""

from __future__ import annotations

from typing import Any, Protocol

from ..custom.registry import READY, ModelRecord
from .timestamps import timestamp

OPERATION_KINDS = {"train": "documentModelBuild", "compose": "documentModelCompose", "copy": "documentModelCopyTo"}
# The operation statuses on the wire (the server's store keeps them as they are).
_NOT_STARTED, _SUCCEEDED, _FAILED = "notStarted", "succeeded", "failed"


class ModelOperation(Protocol):
    """What the body of a model's operation shows of it (the server's stored operation)."""

    id: str
    status: str
    created: float
    updated: float


def custom_details(rec: ModelRecord, api_version: str) -> dict[str, Any]:
    """``DocumentModelDetails`` of a custom model: one doc type per trained (or composed) model."""
    tr = rec.train_result or {}
    types: dict[str, str] = tr.get("fieldTypes", {})
    accuracy = {f["fieldName"]: f["accuracy"] for f in tr.get("fields", [])}
    mode = rec.params.get("buildMode", "template")
    if "composedTrainResults" in tr:
        doc_types = {
            f"{rec.id}:{part['modelId']}": {
                "buildMode": mode,
                "fieldSchema": {f["fieldName"]: {"type": types.get(f["fieldName"], "string")} for f in part["fields"]},
                "fieldConfidence": {f["fieldName"]: f["accuracy"] for f in part["fields"]},
            }
            for part in tr["composedTrainResults"]
        }
    else:
        doc_types = {
            rec.id: {
                "buildMode": mode,
                "fieldSchema": {name: {"type": kind} for name, kind in types.items()},
                "fieldConfidence": {name: accuracy.get(name, 0.0) for name in types},
            }
        }
    details: dict[str, Any] = {
        "modelId": rec.id,
        "description": rec.params.get("description") or rec.name or "",
        "createdDateTime": timestamp(rec.created),
        "apiVersion": rec.params.get("api_version", api_version),
        "tags": rec.params.get("tags") or {},
        "buildMode": mode,
        "docTypes": doc_types,
    }
    if api_version != "2022-08-31":
        details["expirationDateTime"] = timestamp(rec.created + 2 * 365 * 24 * 3600)
    return details


def model_operation(
    op: ModelOperation,
    rec: ModelRecord | None,
    api_version: str,
    resource_location: str,
    error: dict[str, Any] | None,
) -> dict[str, Any]:
    """``DocumentModel{Build,Compose,CopyTo}Operation``: ``error`` is the failed operation's error, rendered."""
    params = rec.params if rec is not None else {}
    done = op.status in (_SUCCEEDED, _FAILED)
    body: dict[str, Any] = {
        "operationId": op.id,
        "status": op.status,
        "percentCompleted": 100 if done else 0 if op.status == _NOT_STARTED else 50,
        "createdDateTime": timestamp(op.created),
        "lastUpdatedDateTime": timestamp(op.updated),
        "kind": OPERATION_KINDS.get(params.get("action", "train"), "documentModelBuild"),
        "resourceLocation": resource_location,
        "apiVersion": api_version,
        "tags": params.get("tags") or {},
    }
    if op.status == _SUCCEEDED and rec is not None and rec.status == READY:
        body["result"] = custom_details(rec, api_version)
    elif op.status == _FAILED and error is not None:
        body["error"] = error
    return body
