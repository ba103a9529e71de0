"""One error hierarchy for every layer.

Each class knows the Azure error code (the ``innererror`` code of Document Intelligence, the top-level code of
Computer Vision) and the HTTP status it maps to, so the server translates them at one boundary and the CLI prints
``code: message``.
"""

from __future__ import annotations


class PerceptError(Exception):
    """Base class: a failure the caller should see, with its Azure code and HTTP status."""

    code: str = "InternalServerError"
    status: int = 500
    outer_code: str = "InternalServerError"

    def __init__(self, message: str, *, target: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.target = target

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InvalidRequest(PerceptError):
    """The request is wrong in a way the caller can fix (Azure's outer code ``InvalidRequest``)."""

    code = "InvalidRequest"
    status = 400
    outer_code = "InvalidRequest"


class InvalidContent(InvalidRequest):
    """The document is corrupt, empty or of a format we cannot read."""

    code = "InvalidContent"


class UnsupportedMediaType(InvalidRequest):
    """The bytes are not a PDF or a supported image format."""

    code = "UnsupportedMediaType"
    status = 415


class InvalidImage(InvalidContent):
    """The image cannot be decoded (truncated, corrupt, decompression bomb)."""

    code = "InvalidImage"


class InvalidImageSize(InvalidContent):
    """Image dimensions are outside the accepted range."""

    code = "InvalidImageSize"


class ContentTooLarge(InvalidRequest):
    """The document exceeds the configured byte size."""

    code = "ContentLengthExceeded"
    status = 413


class PageLimitExceeded(InvalidRequest):
    """The document has more pages than the configured limit."""

    code = "InvalidContentLength"


class EncryptedDocument(InvalidContent):
    """The PDF is password protected."""

    def __init__(self, message: str = "The document is encrypted and no password was supplied.") -> None:
        super().__init__(message)


class InvalidPages(InvalidRequest):
    """The ``pages`` parameter is malformed or selects no existing page."""

    code = "InvalidParameter"

    def __init__(self, message: str) -> None:
        super().__init__(message, target="pages")


class EngineUnavailable(PerceptError):
    """A configured engine is not installed on this machine."""

    code = "EngineUnavailable"
    status = 500


class ProcessingError(PerceptError):
    """An engine failed on a page it accepted."""

    code = "InternalServerError"
    status = 500


class WorkerCrashed(ProcessingError):
    """A worker process died (a native crash or the OOM killer); the pool it belonged to is unusable."""


class InvalidUrlSource(InvalidRequest):
    """A URL source is malformed, unreachable, refused by the SSRF rules, or returned no document."""

    code = "InvalidImageUrl"


class Unauthorized(PerceptError):
    """Missing or wrong subscription key."""

    code = "401"
    status = 401
    outer_code = "401"


class NotFound(PerceptError):
    """An operation, result or model that does not exist (or expired)."""

    code = "NotFound"
    status = 404
    outer_code = "NotFound"


class OperationInProgress(PerceptError):
    """The operation has not finished, so its result cannot be changed yet."""

    code = "OperationNotComplete"
    status = 409
    outer_code = "Conflict"
