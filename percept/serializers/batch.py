"""Document Intelligence 2024-11-30 analyzeBatch bodies: the batch operation (polls and lists) and each
document's result file, which holds what GET analyzeResults answers for that document."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from ..model import Document
from .analyze_v3 import analyze_result
from .offsets import StringIndexType
from .timestamps import timestamp

SUCCEEDED, FAILED, SKIPPED = "succeeded", "failed", "skipped"


@dataclass(frozen=True, slots=True)
class DocumentOutcome:
    """One document of a batch as its ``details`` entry shows it."""

    source_url: str
    status: str  # notStarted, running, succeeded, failed or skipped
    result_url: str | None = None  # succeeded only
    error: dict[str, Any] | None = None


def batch_operation(
    *,
    result_id: str,
    status: str,
    created: float,
    updated: float,
    outcomes: list[DocumentOutcome] | None,
    error: dict[str, Any] | None = None,
    details: bool = True,
) -> dict[str, Any]:
    """``AnalyzeBatchOperation``: ``result`` once the documents are known (``details`` left out in lists)."""
    body: dict[str, Any] = {
        "resultId": result_id,
        "status": status,
        "createdDateTime": timestamp(created),
        "lastUpdatedDateTime": timestamp(updated),
    }
    if outcomes is not None:
        counts = {SUCCEEDED: 0, FAILED: 0, SKIPPED: 0}
        for o in outcomes:
            if o.status in counts:
                counts[o.status] += 1
        done = sum(counts.values())
        body["percentCompleted"] = 100 if status == SUCCEEDED else (100 * done // len(outcomes) if outcomes else 0)
        result: dict[str, Any] = {
            "succeededCount": counts[SUCCEEDED],
            "failedCount": counts[FAILED],
            "skippedCount": counts[SKIPPED],
        }
        if details:
            result["details"] = [_detail(o) for o in outcomes]
        body["result"] = result
    else:
        body["percentCompleted"] = 0
    if error is not None:
        body["error"] = error
    return body


def _detail(o: DocumentOutcome) -> dict[str, Any]:
    d: dict[str, Any] = {"status": o.status, "sourceUrl": o.source_url}
    if o.result_url is not None:
        d["resultUrl"] = o.result_url
    if o.error is not None:
        d["error"] = o.error
    return d


def result_file(
    doc: Document,
    *,
    api_version: str,
    model_id: str,
    string_index_type: StringIndexType,
    created: float,
    updated: float,
) -> bytes:
    """A succeeded document's ``.ocr.json``: the analyze operation's body, as GET analyzeResults gives it."""
    body = {
        "status": SUCCEEDED,
        "createdDateTime": timestamp(created),
        "lastUpdatedDateTime": timestamp(updated),
        "analyzeResult": analyze_result(
            doc, api_version=api_version, model_id=model_id, string_index_type=string_index_type
        ),
    }
    return orjson.dumps(body)
