"""Computer Vision text APIs: v3.x Read, v2.x/v1.0 Recognize Text, v2.1 batch Read, and synchronous OCR.

Operation-Location carries no query string and ends in the id: the SDK and the seeds take ``split("/")[-1]``.
The v1.0 seed polls until ``recognitionResult`` appears, so it is only present once the operation succeeded.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from ...serializers.computervision import (
    ocr_result,
    read_results_v3,
    recognition_result,
    recognition_results_v21,
)
from .. import deps
from ..deps import ServicesDep
from ..errors import cv_operation_error
from ..ids import OperationId
from ..operations import ReadJob
from ..responses import FastJSONResponse as JSONResponse
from ..store import SUCCEEDED

READ_VERSIONS = ("v3.0", "v3.1", "v3.2")
# Status words differ by version: v1.0/v2.0 say "Not Started" with a space, v2.1 "NotStarted", v3 camelCase.
_LEGACY_STATUS = {"notStarted": "Not Started", "running": "Running", "succeeded": "Succeeded", "failed": "Failed"}
_V21_STATUS = {"notStarted": "NotStarted", "running": "Running", "succeeded": "Succeeded", "failed": "Failed"}


def _read_options(language: str | None, **options: Any) -> dict[str, Any]:
    """ReadOptions overrides for a Computer Vision read."""
    if language:  # the engine maps the hint to its own languages (percept.engines)
        options["language"] = language
    return options


def routers() -> list[APIRouter]:
    return [*(_v3(v) for v in READ_VERSIONS), _v2("v2.0"), _v2("v2.1"), _v1()]


def _ocr_route(router: APIRouter) -> None:
    @router.post("/ocr")
    async def ocr(
        request: Request,
        services: ServicesDep,
        language: str = "unk",
        detect_orientation: Annotated[bool, Query(alias="detectOrientation")] = True,
    ) -> dict[str, Any]:
        # detectOrientation=false reads the image as submitted: no quarter turns, orientation "NotDetected".
        options = _read_options(language, detect_orientation=detect_orientation)
        doc = await deps.read_synchronously(request, services, ReadJob(pages="1", options=options))
        lang = "en" if language in ("unk", "") else language
        return ocr_result(doc, language=lang, detect_orientation=detect_orientation)


def _v3(version: str) -> APIRouter:
    router = APIRouter(prefix=f"/vision/{version}", dependencies=deps.KEY_DEPENDENCIES, tags=[f"vision {version}"])
    _ocr_route(router)

    @router.post("/read/analyze", status_code=202, response_class=Response)
    async def read_analyze(
        request: Request, services: ServicesDep, language: str | None = None, pages: str | None = None
    ) -> Response:
        job = ReadJob(pages=pages, options=_read_options(language))
        op = await deps.accept_document(request, services, model_id="cv-read", job=job)
        return deps.accepted(services, f"{deps.base_url(request)}vision/{version}/read/analyzeResults/{op.id}")

    @router.get("/read/analyzeResults/{operation_id}")
    async def read_result(services: ServicesDep, operation_id: OperationId) -> JSONResponse:
        op = await deps.get_operation(services, operation_id, "cv-read")
        body = deps.operation_status(op)
        if op.status == SUCCEEDED:
            body["analyzeResult"] = read_results_v3(await deps.load_document(services, op))
        elif op.error:
            body["error"] = cv_operation_error(op.error)
        return JSONResponse(body, headers=deps.poll_headers(services, op))

    return router


def _text_operation_routes(router: APIRouter, version: str, status_words: dict[str, str]) -> None:
    async def recognize(request: Request, services: ServicesDep, mode: str) -> Response:
        options = {"handwriting": True} if mode.lower() == "handwritten" else {}
        job = ReadJob(pages="1", mode=mode, options=options)
        op = await deps.accept_document(request, services, model_id="cv-recognize-text", job=job)
        return deps.accepted(services, f"{deps.base_url(request)}vision/{version}/textOperations/{op.id}")

    if version == "v1.0":

        @router.post("/recognizeText", status_code=202, response_class=Response)
        @router.post("/RecognizeText", status_code=202, response_class=Response, include_in_schema=False)
        async def recognize_v1(request: Request, services: ServicesDep, handwriting: bool = True) -> Response:
            return await recognize(request, services, "Handwritten" if handwriting else "Printed")
    else:

        @router.post("/recognizeText", status_code=202, response_class=Response)
        async def recognize_v2(request: Request, services: ServicesDep, mode: str = "Printed") -> Response:
            return await recognize(request, services, mode)

    @router.get("/textOperations/{operation_id}")
    async def text_operation(services: ServicesDep, operation_id: OperationId) -> JSONResponse:
        op = await deps.get_operation(services, operation_id, "cv-recognize-text")
        body: dict[str, Any] = {"status": status_words[op.status]}
        if op.status == SUCCEEDED:
            doc = await deps.load_document(services, op)
            body["recognitionResult"] = recognition_result(doc.pages[0])
        return JSONResponse(body, headers=deps.poll_headers(services, op))


def _v2(version: str) -> APIRouter:
    router = APIRouter(prefix=f"/vision/{version}", dependencies=deps.KEY_DEPENDENCIES, tags=[f"vision {version}"])
    _ocr_route(router)
    _text_operation_routes(router, version, _V21_STATUS if version == "v2.1" else _LEGACY_STATUS)
    if version == "v2.1":

        @router.post("/read/core/asyncBatchAnalyze", status_code=202, response_class=Response)
        async def batch_read(request: Request, services: ServicesDep) -> Response:
            op = await deps.accept_document(request, services, model_id="cv-batch-read", job=ReadJob())
            return deps.accepted(services, f"{deps.base_url(request)}vision/v2.1/read/operations/{op.id}")

        @router.get("/read/operations/{operation_id}")
        async def batch_read_result(services: ServicesDep, operation_id: OperationId) -> JSONResponse:
            op = await deps.get_operation(services, operation_id, "cv-batch-read")
            body: dict[str, Any] = {"status": _V21_STATUS[op.status]}
            if op.status == SUCCEEDED:
                body["recognitionResults"] = recognition_results_v21(await deps.load_document(services, op))
            return JSONResponse(body, headers=deps.poll_headers(services, op))

    return router


def _v1() -> APIRouter:
    router = APIRouter(prefix="/vision/v1.0", dependencies=deps.KEY_DEPENDENCIES, tags=["vision v1.0"])
    _ocr_route(router)
    _text_operation_routes(router, "v1.0", _LEGACY_STATUS)
    return router
