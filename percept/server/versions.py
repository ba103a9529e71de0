"""API versions of Form Recognizer 2022+ (``/formrecognizer``) and Document Intelligence (``/documentintelligence``),
and the prebuilt models each version offers.

Both services take the version as the ``api-version`` query parameter; :data:`V3Version` is the route dependency
that checks it against the versions of the service the request is under (the first segment of its path) and
yields it, defaulting to the service's newest stable version. Form Recognizer v2's version is a path segment
instead: see :data:`.deps.V2Version`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request

from ..errors import InvalidRequest

# Each service root: its default version and the versions it answers.
SERVICES: dict[str, tuple[str, tuple[str, ...]]] = {
    "formrecognizer": ("2023-07-31", ("2022-08-31", "2023-07-31")),
    "documentintelligence": ("2024-11-30", ("2024-11-30", "2025-09-01")),
}
PREBUILT = {
    "prebuilt-read": "Extract printed and handwritten text from documents and images.",
    "prebuilt-layout": "Extract text, tables, selection marks and document structure.",
    "prebuilt-document": "Extract text, tables, structure and general key-value pairs.",
}
# Models each service version offers (prebuilt-document was folded into layout's keyValuePairs in 2024-11-30).
VERSION_MODELS = {
    "2022-08-31": ("prebuilt-read", "prebuilt-layout", "prebuilt-document"),
    "2023-07-31": ("prebuilt-read", "prebuilt-layout", "prebuilt-document"),
    "2024-11-30": ("prebuilt-read", "prebuilt-layout"),
    "2025-09-01": ("prebuilt-read", "prebuilt-layout"),
}
MODEL_CREATED = "2024-11-30T00:00:00Z"

# The query parameter as routes that take it unchecked declare it (analyze results: the version is the job's).
ApiVersionQuery = Annotated[str | None, Query(alias="api-version")]


def service_root(request: Request) -> str:
    """The service root (``formrecognizer`` or ``documentintelligence``) the request's path starts with, below the
    application's own mount point."""
    path, mount = request.url.path, request.scope.get("root_path", "")
    if mount and path.startswith(mount):
        path = path[len(mount) :]
    return path.split("/")[1]


def v3_api_version(request: Request, api_version: ApiVersionQuery = None) -> str:
    """The ``api-version`` a v3-family route was called with (its service's default when absent), if that
    service answers it; else 400 ``InvalidRequest``."""
    root = service_root(request)
    default, versions = SERVICES[root]
    v = api_version or default
    if v not in versions:
        raise InvalidRequest(f"The api-version '{v}' is not supported under /{root}; use one of {', '.join(versions)}.")
    return v


V3Version = Annotated[str, Depends(v3_api_version)]


def prebuilt_models(version: str) -> list[dict[str, Any]]:
    """``DocumentModelDetails`` of the prebuilt models ``version`` offers."""
    return [
        {
            "modelId": model_id,
            "description": PREBUILT[model_id],
            "createdDateTime": MODEL_CREATED,
            "apiVersion": version,
            "tags": {},
        }
        for model_id in VERSION_MODELS[version]
    ]
