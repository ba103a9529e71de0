"""Control request bodies (model build, compose, train, copy) as pydantic models, named after their Swagger
definitions, with the 400 ``InvalidRequest`` each invalid field answers.

Routes read the JSON object with :func:`.inputs.read_json_body` (capped, 413 past its limit) and validate it
with :func:`parse_body`. A body's fields are checked in the order Azure's checks run; where a check against the
server's state comes between two fields (a new model id must be free before the rest of a build is looked at, a
compose's components must exist before its description is), the route parses in stages: a model for the first
fields, or ``exclude`` to leave the later ones for a second parse. Every invalid body answers the message of the
first field, in that order, that fails.

Documents (``urlSource``/``base64Source``, raw uploads) are no control bodies: they stream through
:mod:`.inputs`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError
from pydantic import model_validator as _model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from ..errors import InvalidRequest
from ..ids import MODEL_ID_RULE, is_model_id, is_uuid

B = TypeVar("B", bound="Body")
Loc = tuple[str, ...]


def invalid(message: str) -> PydanticCustomError:
    """A validator's error that answers ``message`` as it is."""
    return PydanticCustomError("invalid_request", message)


class Body(BaseModel):
    """A control body: camelCase keys, unknown keys ignored, JSON types taken as they are (no coercion)."""

    model_config = ConfigDict(alias_generator=to_camel, extra="ignore", strict=True, protected_namespaces=())
    # The message of each field path (aliases, dotted; matched as a prefix of the error's path), in check order.
    messages: ClassVar[dict[str, str]] = {}

    @classmethod
    def message_for(cls, error: ValidationError) -> tuple[int, str]:
        """The rank (check order) and message of the first check ``error`` fails."""
        found: list[tuple[int, str]] = []
        keys = list(cls.messages)
        for e in error.errors():
            loc: Loc = tuple(str(p) for p in e["loc"] if isinstance(p, str))
            match = max((k for k in keys if _prefixes(k, loc)), key=len, default=None)
            rank = keys.index(match) if match is not None else len(keys)
            if e["type"] == "invalid_request":
                found.append((rank, e["msg"]))
            elif match is not None:
                found.append((rank, cls.messages[match]))
            else:
                found.append((rank, f"'{'.'.join(loc) or 'body'}' is invalid: {e['msg']}."))
        return min(found, key=lambda f: f[0])


def _prefixes(key: str, loc: Loc) -> bool:
    parts = tuple(key.split(".")) if key else ()
    return loc[: len(parts)] == parts


def parse_body(model: type[B], body: dict[str, Any], *, exclude: Iterable[str] = ()) -> B:
    """``body`` as ``model``, leaving out the ``exclude``d keys (checked by a later parse); an invalid body
    raises :class:`~percept.errors.InvalidRequest` with the message of its first failing field."""
    left_out = set(exclude)
    data = {k: v for k, v in body.items() if k not in left_out} if left_out else body
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise InvalidRequest(model.message_for(e)[1]) from None


def _or(default: Any) -> BeforeValidator:
    """A falsy value (null, "", 0, false, empty) taken as ``default``, as the services do."""
    return BeforeValidator(lambda v: v or default)


# ---- Form Recognizer 2022-08-31 .. Document Intelligence 2025-09-01 -----------------------------------------------

DESCRIPTION = "'description' must be a string of at most 4096 characters."
TAGS = "'tags' must be an object of strings."
MODEL_ID = f"'modelId' is required: {MODEL_ID_RULE}."
CONTAINER_URL = "'azureBlobSource.containerUrl' is required: the SAS URL of a blob container."
FILE_LIST_ONLY = "azureBlobFileListSource is not supported here; use azureBlobSource with a prefix."
COMPONENTS = "'componentModels' (or 'docTypes') must list the models to compose."
COMPONENT_COUNT = "Compose between 1 and 200 models, each by its 'modelId'."
MAX_COMPONENTS = 200
META_FIELDS = ("description", "tags")


def _new_model_id(value: Any) -> str:
    if not is_model_id(value):  # a new resource's id in the body: 400, as Azure answers
        raise invalid(MODEL_ID)
    return value


class NewDocumentModel(Body):
    """The ``modelId`` a build or compose names for its new model, checked (and found free) before the rest."""

    messages: ClassVar[dict[str, str]] = {"modelId": MODEL_ID}

    model_id: Annotated[str, BeforeValidator(_new_model_id)]


class DocumentModelMeta(Body):
    """``description`` and ``tags``, which build and compose requests share; checked after their other fields."""

    messages: ClassVar[dict[str, str]] = {"description": DESCRIPTION, "tags": TAGS}

    description: Annotated[StrictStr, Field(max_length=4096)] | None = None
    tags: dict[str, StrictStr] | None = None


class AzureBlobContentSource(Body):
    container_url: StrictStr
    prefix: Annotated[Annotated[StrictStr, Field(max_length=1024)], _or("")] = ""


_FILE_LIST_ONLY = object()  # stands for an absent azureBlobSource beside an azureBlobFileListSource


def _not_file_list_only(value: Any) -> Any:
    if value is _FILE_LIST_ONLY:
        raise invalid(FILE_LIST_ONLY)
    return value


class BuildDocumentModelRequest(NewDocumentModel, DocumentModelMeta):
    """``documentModels:build``. Neural builds are accepted and built as template models."""

    messages: ClassVar[dict[str, str]] = {
        "modelId": MODEL_ID,
        "buildMode": "'buildMode' must be template or neural.",
        "azureBlobSource": CONTAINER_URL,
        "azureBlobSource.containerUrl": CONTAINER_URL,
        "azureBlobSource.prefix": "'azureBlobSource.prefix' must be a string of at most 1024 characters.",
        "description": DESCRIPTION,
        "tags": TAGS,
    }

    build_mode: Literal["template", "neural"]
    azure_blob_source: Annotated[AzureBlobContentSource, BeforeValidator(_not_file_list_only)]

    @_model_validator(mode="before")
    @classmethod
    def _file_list_source(cls, data: Any) -> Any:
        """A file-list source alone is refused where the blob source would be (after ``buildMode``)."""
        if isinstance(data, dict) and "azureBlobFileListSource" in data and "azureBlobSource" not in data:
            return {**data, "azureBlobSource": _FILE_LIST_ONLY}
        return data


class ComponentDocumentModelDetails(Body):
    model_id: StrictStr | None = None  # refers to an existing model: checked by the route (404 when unknown)


def _objects(value: Any) -> Any:
    """Entries that are no objects are passed over."""
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return {k: v for k, v in value.items() if isinstance(v, dict)}


class ComposeDocumentModelRequest(NewDocumentModel, DocumentModelMeta):
    """``documentModels:compose``: ``componentModels`` (2022-08-31, 2023-07-31) or ``docTypes`` (2024-11-30,
    2025-09-01; no classifier is needed here), each naming a model by its ``modelId``."""

    messages: ClassVar[dict[str, str]] = {
        "modelId": MODEL_ID,
        "componentModels": COMPONENT_COUNT,
        "docTypes": COMPONENT_COUNT,
        "description": DESCRIPTION,
        "tags": TAGS,
    }

    component_models: Annotated[list[ComponentDocumentModelDetails], BeforeValidator(_objects)] | None = None
    doc_types: Annotated[dict[str, ComponentDocumentModelDetails], BeforeValidator(_objects)] | None = None

    @_model_validator(mode="before")
    @classmethod
    def _one_list(cls, data: Any) -> Any:
        """``componentModels`` when it is a list, else ``docTypes`` when it is an object; the other is ignored."""
        if not isinstance(data, dict):
            return data
        components, doc_types = data.get("componentModels"), data.get("docTypes")
        rest = {k: v for k, v in data.items() if k not in ("componentModels", "docTypes")}
        if isinstance(components, list):
            rest["componentModels"] = components
        elif isinstance(doc_types, dict):
            rest["docTypes"] = doc_types
        return rest

    @_model_validator(mode="after")
    def _components(self) -> ComposeDocumentModelRequest:
        if self.component_models is None and self.doc_types is None:
            raise invalid(COMPONENTS)
        ids = [p.model_id for p in self._parts()]
        if not ids or not all(isinstance(i, str) for i in ids) or len(ids) > MAX_COMPONENTS:
            raise invalid(COMPONENT_COUNT)
        return self

    def _parts(self) -> list[ComponentDocumentModelDetails]:
        if self.component_models is not None:
            return self.component_models
        return list((self.doc_types or {}).values())

    @property
    def component_ids(self) -> list[str]:
        """The components' model ids, in the body's order."""
        return [p.model_id for p in self._parts() if p.model_id is not None]


# ---- Form Recognizer v2.0 / v2.1 --------------------------------------------------------------------------------

MODEL_IDS = "'modelIds' must list between 1 and 100 model ids."
MUST_CARRY = "'copyAuthorization' must carry modelId, accessToken and expirationDateTimeTicks."
NOT_ISSUED_HERE = "'copyAuthorization.modelId' is not a model id this resource issued."
EXPIRED = "The copy authorization has expired; get a new one from the target resource."


class TrainSourceFilter(Body):
    prefix: Annotated[Annotated[StrictStr, Field(max_length=1024)], _or("")] = ""
    include_sub_folders: Annotated[bool, BeforeValidator(bool)] = False  # any truthy value, as the service takes it


def _not_blank(value: Any) -> Any:
    if isinstance(value, str):
        if not value.strip():
            raise invalid(TRAIN_SOURCE)
        return value.strip()
    return value


TRAIN_SOURCE = "'source' is required: the SAS URL of a blob container (or an allowed local folder)."


class TrainRequest(Body):
    """v2.0/v2.1 ``POST /custom/models``: ``source`` is stripped of surrounding blanks."""

    messages: ClassVar[dict[str, str]] = {
        "source": TRAIN_SOURCE,
        "sourceFilter": "'sourceFilter' must be an object with 'prefix' and 'includeSubFolders'.",
        "sourceFilter.prefix": "'sourceFilter.prefix' must be a string of at most 1024 characters.",
        "useLabelFile": "'useLabelFile' must be true or false.",
        "modelName": "'modelName' must be a string of at most 1024 characters.",
    }

    source: Annotated[StrictStr, BeforeValidator(_not_blank)]
    source_filter: Annotated[TrainSourceFilter, _or({})] = TrainSourceFilter()
    use_label_file: StrictBool = False
    model_name: Annotated[StrictStr, Field(max_length=1024)] | None = None


class ComposeRequest(Body):
    """v2.1 ``POST /custom/models/compose``. Its ``modelName`` is checked after the models exist: parse with
    ``exclude=("modelName",)`` first."""

    messages: ClassVar[dict[str, str]] = {"modelIds": MODEL_IDS, "modelName": "'modelName' must be a string."}

    model_ids: Annotated[list[StrictStr], Field(min_length=1, max_length=100)]
    model_name: StrictStr | None = None


def _issued_id(value: Any) -> Any:
    if not is_uuid(value):  # only UUIDs are ever signed here
        raise invalid(NOT_ISSUED_HERE)
    return value


class CopyAuthorization(Body):
    """What a target resource's ``copyAuthorization`` returned, passed on to the source's ``copy``."""

    model_id: Annotated[str, BeforeValidator(_issued_id)]
    access_token: Any  # compared with the signature as text: a wrong one is a 401, not a 400
    expiration_date_time_ticks: StrictInt

    @_model_validator(mode="before")
    @classmethod
    def _all_three(cls, data: Any) -> Any:
        if isinstance(data, dict) and not all(k in data for k in ("modelId", "accessToken", "expirationDateTimeTicks")):
            raise invalid(MUST_CARRY)
        return data


class CopyRequest(Body):
    """v2.1 ``POST /custom/models/{modelId}/copy``. The copy stays on this server, so ``targetResourceId`` and
    ``targetResourceRegion`` are taken as they come and not used."""

    messages: ClassVar[dict[str, str]] = {
        "copyAuthorization": MUST_CARRY,
        "copyAuthorization.modelId": NOT_ISSUED_HERE,
        "copyAuthorization.expirationDateTimeTicks": EXPIRED,
    }

    target_resource_id: Any = None
    target_resource_region: Any = None
    copy_authorization: CopyAuthorization
