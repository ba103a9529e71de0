"""Error bodies in the shape each API family's SDK deserializes (SDK-CALLS.md 1.4).

- Document Intelligence and Form Recognizer 2022+: ``{"error": {"code", "message", "innererror": {...}}}``.
- Form Recognizer v2.x: ``{"error": {"code", "message"}}`` with the specific code, in v2's own names.
- Computer Vision: wrapped ``{"error": {...}}`` for most calls, but Read deserializes a *flat* ``{"code", "message"}``;
  both are sent in one body, so every CV client finds its fields.

A failed *operation* (its stored :class:`~percept.errors.StoredError`) is shown in the poll body, once per family
by the ``*_operation_error`` renderers below.
"""

from __future__ import annotations

from typing import Any

from ..errors import StoredError, family_code
from .responses import FastJSONResponse as JSONResponse

AUTH_MESSAGE = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an "
    "active subscription and use a correct regional API endpoint for your resource."
)


def family_of(path: str) -> str:
    if path.startswith("/vision/"):
        return "cv"
    if path.startswith("/formrecognizer/v2"):
        return "fr2"
    return "v3"


def error_body(family: str, code: str, inner: str | None, message: str, request_id: str) -> dict[str, Any]:
    if code == "401":
        body: dict[str, Any] = {"error": {"code": "401", "message": AUTH_MESSAGE}}
        if family == "cv":
            body.update(code="401", message=AUTH_MESSAGE, requestId=request_id)
        return body
    specific = family_code(family, inner or code)
    if family == "cv":
        return {
            "error": {"code": specific, "message": message, "innererror": {"code": specific, "message": message}},
            "code": specific,
            "message": message,
            "requestId": request_id,
        }
    if family == "fr2":
        return {"error": {"code": specific, "message": message}}
    error: dict[str, Any] = {"code": code, "message": message}
    if inner and inner != code:
        error["innererror"] = {"code": inner, "message": message}
    return {"error": error}


def error_response(
    family: str, status: int, code: str, inner: str | None, message: str, request_id: str
) -> JSONResponse:
    if family == "cv" and status == 415:
        status = 400  # Computer Vision reports an unreadable image as a plain bad request
    # Never Retry-After on a client error: azure-core would retry it (SDK-CALLS.md 1.4).
    return JSONResponse(error_body(family, code, inner, message, request_id), status_code=status)


def cv_operation_error(error: StoredError) -> dict[str, str]:
    """Computer Vision Read's ``error`` of a failed operation: the specific code, in CV's names."""
    return {"code": family_code("cv", error.inner), "message": error.message}


def fr2_operation_error(error: StoredError) -> dict[str, str]:
    """One entry of Form Recognizer v2's ``errors`` (analyze and copy results): the specific code, in v2's names."""
    return {"code": family_code("fr2", error.inner or error.code), "message": error.message}


def v3_operation_error(error: StoredError) -> dict[str, Any]:
    """Form Recognizer 2022+ and Document Intelligence ``error`` of a failed operation (analyze and model ops)."""
    return {
        "code": error.code,
        "message": error.message,
        "innererror": {"code": error.inner, "message": error.message},
    }
