"""Control bodies (percept.server.bodies): each invalid body answers the message of its first failing field, in the
order the services check them, and valid ones come back typed."""

from __future__ import annotations

from typing import Any

import pytest

from percept.errors import InvalidRequest
from percept.server.bodies import (
    META_FIELDS,
    BuildDocumentModelRequest,
    ComposeDocumentModelRequest,
    ComposeRequest,
    CopyRequest,
    NewDocumentModel,
    TrainRequest,
    parse_body,
)

UUID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
SOURCE = {"containerUrl": "https://x.blob.core.windows.net/c?sig=s"}


def _message(model: Any, body: dict[str, Any], **kw: Any) -> str:
    with pytest.raises(InvalidRequest) as err:
        parse_body(model, body, **kw)
    return str(err.value)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"buildMode": "fast", "azureBlobSource": {"containerUrl": 1}}, "'buildMode' must be"),
        ({"buildMode": "neural", "azureBlobFileListSource": {}, "description": 3}, "azureBlobFileListSource is not"),
        ({"buildMode": "neural", "description": 3}, "'azureBlobSource.containerUrl' is required"),
        ({"buildMode": "template", "azureBlobSource": None}, "'azureBlobSource.containerUrl' is required"),
        ({"buildMode": "neural", "azureBlobSource": {**SOURCE, "prefix": "x" * 1025}}, "'azureBlobSource.prefix'"),
        ({"buildMode": "template", "azureBlobSource": SOURCE, "description": "x" * 4097}, "'description' must"),
        ({"buildMode": "template", "azureBlobSource": SOURCE, "tags": {"a": 1}}, "'tags' must"),
    ],
)
def test_build_checks_in_order(body: dict[str, Any], message: str) -> None:
    assert message in _message(BuildDocumentModelRequest, {"modelId": "ok-id", **body})


def test_build_valid() -> None:
    body = {"modelId": "ok-id", "buildMode": "template", "azureBlobSource": {**SOURCE, "prefix": None}, "x": 1}
    req = parse_body(BuildDocumentModelRequest, body)
    assert (req.model_id, req.build_mode, req.azure_blob_source.prefix, req.tags) == ("ok-id", "template", "", None)
    assert "'modelId' is required" in _message(NewDocumentModel, {"modelId": ".."})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "'componentModels' (or 'docTypes') must list"),
        ({"componentModels": {}, "docTypes": []}, "'componentModels' (or 'docTypes') must list"),
        ({"componentModels": []}, "Compose between 1 and 200"),
        ({"componentModels": [{"modelId": 5}]}, "Compose between 1 and 200"),
        ({"docTypes": {"a": {}}}, "Compose between 1 and 200"),
        ({"componentModels": [{"modelId": "a"}] * 201}, "Compose between 1 and 200"),
    ],
)
def test_compose_components(body: dict[str, Any], message: str) -> None:
    assert message in _message(ComposeDocumentModelRequest, {"modelId": "new-id", **body})


def test_compose_picks_one_list_and_leaves_meta_for_later() -> None:
    body = {"modelId": "new-id", "componentModels": [{"modelId": "a"}, 3], "docTypes": {"x": {"modelId": 5}}}
    assert parse_body(ComposeDocumentModelRequest, body).component_ids == ["a"]
    body = {"modelId": "new-id", "docTypes": {"x": {"modelId": "m1"}, "y": 3}, "description": 5}
    assert parse_body(ComposeDocumentModelRequest, body, exclude=META_FIELDS).component_ids == ["m1"]
    assert "'description' must" in _message(ComposeDocumentModelRequest, body)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"sourceFilter": {}}, "'source' is required"),
        ({"source": "  "}, "'source' is required"),
        ({"source": "s", "sourceFilter": [1]}, "'sourceFilter' must be an object"),
        ({"source": "s", "sourceFilter": {"prefix": 5}}, "'sourceFilter.prefix'"),
        ({"source": "s", "sourceFilter": 0, "useLabelFile": None}, "'useLabelFile' must be"),
        ({"source": "s", "modelName": 5}, "'modelName' must be a string of at most 1024"),
    ],
)
def test_train_checks_in_order(body: dict[str, Any], message: str) -> None:
    assert message in _message(TrainRequest, body)


def test_train_valid() -> None:
    body = {"source": " s ", "sourceFilter": {"prefix": None, "includeSubFolders": 1}, "modelName": "n"}
    req = parse_body(TrainRequest, body)
    assert (req.source, req.source_filter.prefix, req.source_filter.include_sub_folders) == ("s", "", True)
    assert (req.use_label_file, req.model_name) == (False, "n")
    assert parse_body(TrainRequest, {"source": "s"}).source_filter.prefix == ""


def test_v2_compose() -> None:
    assert "'modelIds' must list" in _message(ComposeRequest, {"modelIds": []})
    assert "'modelIds' must list" in _message(ComposeRequest, {"modelIds": [1]})
    body = {"modelIds": ["a"], "modelName": 4}
    assert parse_body(ComposeRequest, body, exclude=("modelName",)).model_ids == ["a"]
    assert "'modelName' must be a string." in _message(ComposeRequest, body)


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        (None, "must carry modelId"),
        ({"modelId": UUID, "accessToken": "t"}, "must carry modelId"),
        ({"modelId": "../..", "accessToken": "t", "expirationDateTimeTicks": 1.5}, "is not a model id this resource"),
        ({"modelId": UUID, "accessToken": "t", "expirationDateTimeTicks": True}, "has expired"),
    ],
)
def test_copy_authorization(auth: Any, message: str) -> None:
    assert message in _message(CopyRequest, {"copyAuthorization": auth})


def test_copy_valid() -> None:
    auth = {"modelId": UUID, "accessToken": None, "expirationDateTimeTicks": 10**19}
    req = parse_body(CopyRequest, {"targetResourceId": 1, "copyAuthorization": auth})
    assert (req.copy_authorization.model_id, req.copy_authorization.expiration_date_time_ticks) == (UUID, 10**19)
