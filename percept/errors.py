"""One error hierarchy for every layer.

Each class knows the Azure error code (the ``innererror`` code of Document Intelligence, the top-level code of
Computer Vision) and the HTTP status it maps to, so the server translates them at one boundary and the CLI prints
``code: message``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


class PerceptError(Exception):
    """Base class: a failure the caller should see, with its Azure code and HTTP status.

    A subclass names what it changes in its class statement (``class X(Base, code=..., status=...)``) and
    inherits the rest.
    """

    code: str = "InternalServerError"
    status: int = 500
    outer_code: str = "InternalServerError"

    def __init_subclass__(
        cls, *, code: str | None = None, status: int | None = None, outer_code: str | None = None, **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code
        if status is not None:
            cls.status = status
        if outer_code is not None:
            cls.outer_code = outer_code

    def __init__(self, message: str, *, target: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.target = target

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InvalidRequest(PerceptError, code="InvalidRequest", status=400, outer_code="InvalidRequest"):
    """The request is wrong in a way the caller can fix (Azure's outer code ``InvalidRequest``)."""


class InvalidContent(InvalidRequest, code="InvalidContent"):
    """The document is corrupt, empty or of a format we cannot read."""


class UnsupportedMediaType(InvalidRequest, code="UnsupportedMediaType", status=415):
    """A declared content type the route refuses (415).

    Unreadable bytes are not this: Azure answers them with 400 ``InvalidContent`` whatever their declared type,
    because the document type comes from the bytes.
    """


class InvalidImage(InvalidContent):
    """The image cannot be decoded (truncated or corrupt): Azure's ``InvalidContent``."""


class InvalidContentDimensions(InvalidContent, code="InvalidContentDimensions"):
    """A page or image is too small or too large to be read (Azure's ``InvalidContentDimensions``)."""


class InvalidImageSize(InvalidContentDimensions):
    """Image dimensions are outside the accepted range, or the pixel count makes it a decompression bomb."""


class ContentTooLarge(InvalidRequest, code="ContentLengthExceeded", status=413):
    """The document exceeds the configured byte size."""


class PageLimitExceeded(InvalidRequest, code="InvalidContentLength"):
    """The document has more pages than the configured limit."""


class EncryptedDocument(InvalidContent):
    """The PDF is password protected."""

    def __init__(self, message: str = "The document is encrypted and no password was supplied.") -> None:
        super().__init__(message)


class InvalidPages(InvalidRequest, code="InvalidParameter"):
    """The ``pages`` parameter is malformed or selects no existing page."""

    def __init__(self, message: str) -> None:
        super().__init__(message, target="pages")


class EngineUnavailable(PerceptError, code="EngineUnavailable"):
    """A configured engine is not installed on this machine."""


class ProcessingError(PerceptError):
    """An engine failed on a page it accepted."""


class WorkerCrashed(ProcessingError):
    """A worker process died (a native crash or the OOM killer); the pool it belonged to is unusable."""


class ParameterMissing(InvalidRequest, code="ParameterMissing", outer_code="InvalidArgument"):
    """A JSON body that names no document: Azure's ``InvalidArgument`` / ``ParameterMissing``."""


class InvalidUrlSource(InvalidRequest, code="InvalidImageUrl"):
    """A URL source is malformed, unreachable, refused by the SSRF rules, or returned no document."""


class Unauthorized(PerceptError, code="401", status=401, outer_code="401"):
    """Missing or wrong subscription key."""


class NotFound(PerceptError, code="NotFound", status=404, outer_code="NotFound"):
    """An operation, result or model that does not exist (or expired)."""


class UnreadableModel(InvalidRequest, code="InvalidModel"):
    """A custom model stored in a form this version cannot load (an earlier version's pickle): train it again."""


class OperationInProgress(PerceptError, code="OperationNotComplete", status=409, outer_code="Conflict"):
    """The operation has not finished, so its result cannot be changed yet."""


# Computer Vision and Form Recognizer v2 name some Document Intelligence codes their own way: CV's documented
# /ocr and Read codes, and FR v2's (the v2 service's InvalidImage, "not a valid image or password protected", and
# InvalidImageDimension, which also covers PDF page sizes). Anything else keeps its Document Intelligence name.
_FAMILY_CODES: dict[str, dict[str, str]] = {
    "cv": {
        "InvalidContent": "InvalidImageFormat",
        "UnsupportedMediaType": "InvalidImageFormat",
        "InvalidContentDimensions": "InvalidImageSize",
    },
    "fr2": {"InvalidContent": "InvalidImage", "InvalidContentDimensions": "InvalidImageDimension"},
}


def family_code(family: str, code: str) -> str:
    """The code an API family (``cv``, ``fr2`` or ``v3``) reports for one of ours, in errors and failed results."""
    return _FAMILY_CODES.get(family, {}).get(code, code)


@dataclass(frozen=True, slots=True)
class StoredError:
    """Why an operation failed, as the store keeps it: the outer code, the specific (inner) code, the message
    and the HTTP status. Each API family renders it its own way (``percept.server.errors``)."""

    code: str
    inner: str
    message: str
    status: int = 500

    @classmethod
    def from_exception(cls, exc: PerceptError) -> StoredError:
        return cls(exc.outer_code, exc.code, exc.message, exc.status)

    @classmethod
    def internal(cls, message: str) -> StoredError:
        return cls("InternalServerError", "InternalServerError", message, 500)

    def to_json(self) -> str:
        """The store's error column: the dict shape every earlier version wrote, so rows stay readable both ways."""
        return json.dumps({"code": self.code, "innercode": self.inner, "message": self.message, "status": self.status})

    @classmethod
    def from_json(cls, text: str) -> StoredError:
        data: dict[str, Any] = json.loads(text)
        code = data.get("code") or "InternalServerError"
        status = data.get("status")
        return cls(
            code=str(code),
            inner=str(data.get("innercode") or code),
            message=str(data.get("message", "")),
            status=status if isinstance(status, int) else 500,
        )
