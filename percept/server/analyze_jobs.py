"""The v3/DI analyze options, checked once for the analyze route and for batches (which apply them to every
document): which model answers, and the :class:`ReadJob` the query parameters ask for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query
from starlette.concurrency import run_in_threadpool

from ..custom.registry import READY
from ..errors import InvalidRequest, NotFound
from ..serializers.offsets import STRING_INDEX_TYPES
from .operations import ReadJob
from .services import Services
from .versions import VERSION_MODELS

FEATURES = ("ocrHighResolution", "languages", "barcodes", "formulas", "keyValuePairs", "styleFont", "queryFields")


@dataclass(frozen=True, slots=True)
class AnalyzeQuery:
    """The analyze query parameters, as sent (checked by :func:`read_job`)."""

    pages: str | None = None
    locale: str | None = None
    string_index_type: str = "textElements"
    features: str | None = None
    output_content_format: str | None = None


def _analyze_query(
    pages: str | None = None,
    locale: str | None = None,
    string_index_type: Annotated[str, Query(alias="stringIndexType")] = "textElements",
    features: str | None = None,
    output_content_format: Annotated[str | None, Query(alias="outputContentFormat")] = None,
) -> AnalyzeQuery:
    return AnalyzeQuery(pages, locale, string_index_type, features, output_content_format)


AnalyzeQueryDep = Annotated[AnalyzeQuery, Depends(_analyze_query)]


async def is_custom_model(services: Services, model_id: str, version: str) -> bool:
    """Whether ``model_id`` is a custom model (False for this version's prebuilt ones); NotFound when it is
    neither, or not ready."""
    if model_id in VERSION_MODELS[version]:
        return False
    rec = await run_in_threadpool(services.models.get, model_id)
    if rec is None or rec.status != READY:
        raise NotFound(f"Model '{model_id}' was not found.")
    return True


def read_job(model_id: str, version: str, *, custom: bool, query: AnalyzeQuery) -> ReadJob:
    """The job the analyze query parameters ask for, checked in the order Azure checks them."""
    pages, locale, string_index_type = query.pages, query.locale, query.string_index_type
    features, output_content_format = query.features, query.output_content_format
    if string_index_type not in STRING_INDEX_TYPES:
        raise InvalidRequest(f"stringIndexType must be one of {', '.join(STRING_INDEX_TYPES)}.")
    wanted = [f.strip() for f in (features or "").split(",") if f.strip()]
    unknown = [f for f in wanted if f not in FEATURES]
    if unknown:
        raise InvalidRequest(f"Unknown feature '{unknown[0]}'; features are {', '.join(FEATURES)}.")
    layout = model_id != "prebuilt-read"
    if output_content_format not in (None, "text", "markdown"):
        raise InvalidRequest("outputContentFormat must be text or markdown.")
    if output_content_format == "markdown" and not layout:
        raise InvalidRequest("outputContentFormat=markdown needs prebuilt-layout; prebuilt-read returns text.")
    options: dict[str, Any] = {"layout": layout}
    if locale:  # the engine maps the hint to its own languages (percept.engines)
        options["language"] = locale
    return ReadJob(
        pages=pages,
        version=version,
        string_index_type=string_index_type,
        content_format=output_content_format or "text",
        key_value_pairs=model_id == "prebuilt-document" or (layout and "keyValuePairs" in wanted),
        options=options,
        custom_model=model_id if custom else None,
        family="v3" if custom else None,
    )
