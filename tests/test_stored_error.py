"""The typed stored error of a failed operation: the store's column format (old rows included) and each API
family's rendering of it."""

from __future__ import annotations

import json

from percept.errors import InvalidContent, StoredError
from percept.server.errors import cv_operation_error, fr2_operation_error, v3_operation_error


def test_reads_the_dict_rows_earlier_versions_wrote() -> None:
    row = json.dumps({"code": "InvalidRequest", "innercode": "InvalidContent", "message": "Bad.", "status": 400})
    assert StoredError.from_json(row) == StoredError("InvalidRequest", "InvalidContent", "Bad.", 400)
    # A row without an inner code or status (never written, but tolerated): the outer code stands in.
    assert StoredError.from_json('{"code": "InternalServerError", "message": "x"}') == StoredError.internal("x")


def test_round_trips_in_the_same_column_shape() -> None:
    error = StoredError.from_exception(InvalidContent("The file is corrupted."))
    assert json.loads(error.to_json()) == {
        "code": "InvalidRequest",
        "innercode": "InvalidContent",
        "message": "The file is corrupted.",
        "status": 400,
    }
    assert StoredError.from_json(error.to_json()) == error


def test_each_family_renders_it_in_its_own_names() -> None:
    error = StoredError("InvalidRequest", "InvalidContent", "Bad.", 400)
    assert cv_operation_error(error) == {"code": "InvalidImageFormat", "message": "Bad."}
    assert fr2_operation_error(error) == {"code": "InvalidImage", "message": "Bad."}
    assert v3_operation_error(error) == {
        "code": "InvalidRequest",
        "message": "Bad.",
        "innererror": {"code": "InvalidContent", "message": "Bad."},
    }
