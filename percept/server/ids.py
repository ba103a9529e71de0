"""One strict check of every id a request names, applied at the boundary and again where a path is built.

Ids end up in file names (``operations/{id}.input``, ``models/{id}/``), so an id such as ``..`` or ``a/../b``
reaching the disk layer could name anything under, or above, the data directory. Every route therefore takes
its ids through the typed path parameters below, and the disk layer (``OperationStore``'s paths,
``ModelRegistry.folder``) refuses anything that is not a valid id as well.

- Operation and result ids are issued by this server as canonical lower-case UUIDs (``str(uuid.uuid4())``).
- Form Recognizer v2 model ids are UUIDs too (Azure's v2 API declares them ``format: uuid``).
- Form Recognizer 2022+/Document Intelligence model ids follow Azure's pattern
  ``^[a-zA-Z0-9][a-zA-Z0-9._~-]{1,63}$``, matched in full (``fullmatch``: ``$`` would let a trailing newline in).

What an invalid id answers: an id in the path names a resource, and a malformed id names none, so it gets
exactly what an unknown id of that kind gets, 404 in the family's shape (``NotFound``; FR v2 models ``1022``),
which is what Azure answers for unknown ids. An id in a request body that names a *new* resource (v3
``modelId`` of build and compose) is a 400 ``InvalidRequest``, as Azure answers; an id in a body that refers to
an existing model (compose components) is treated like the same id in a path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Path

from ..errors import NotFound, PerceptError
from ..ids import MODEL_ID_RULE, InvalidId, is_model_id, is_uuid, storage_model_id, storage_uuid

__all__ = ["MODEL_ID_RULE", "InvalidId", "is_model_id", "is_uuid", "storage_model_id", "storage_uuid"]


class ModelNotFoundV2(NotFound):
    """Form Recognizer v2's code for an unknown model."""

    code = "1022"


def path_id(name: str, valid: Callable[[object], bool], error: Callable[[], PerceptError]) -> Any:
    """A dependency reading path parameter ``name`` that lets only valid ids through (for new id kinds too)."""

    def dependency(value: str = Path(alias=name)) -> str:  # a default, not Annotated: it must see ``name``
        if not valid(value):
            raise error()
        return value

    return Depends(dependency)


def model_not_found() -> NotFound:
    return NotFound("The model was not found: the id is not a valid model id.")


def v2_model_not_found() -> ModelNotFoundV2:
    return ModelNotFoundV2("Model not found: a model id is a UUID.")


def operation_not_found() -> NotFound:
    return NotFound("The operation was not found or has expired: the id is not a valid operation id.")


# Route parameters: the names must be those of the route's path placeholders.
ModelId = Annotated[str, path_id("model_id", is_model_id, model_not_found)]  # FR 2022+, DI
V2ModelId = Annotated[str, path_id("model_id", is_uuid, v2_model_not_found)]  # FR v2 custom
ResultId = Annotated[str, path_id("result_id", is_uuid, operation_not_found)]
OperationId = Annotated[str, path_id("operation_id", is_uuid, operation_not_found)]
