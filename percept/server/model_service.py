"""Custom-model orchestration shared by the v2 and v3 model routes: creating a model together with the operation
that builds, composes or copies it, checking that a new model id is free, and the copy authorizations (HMAC
tokens) a target resource issues and a copy verifies."""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
import time
import uuid
from typing import Any

from starlette.concurrency import run_in_threadpool

from ..custom.registry import MODEL_LIMIT, ModelRecord
from ..errors import InvalidRequest, Unauthorized
from ..ids import is_uuid
from .bodies import EXPIRED, NOT_ISSUED_HERE, CopyAuthorization
from .operations import TrainJob
from .services import Services
from .store import Operation

COPY_AUTHORIZATION_TTL_S = 24 * 3600
_TICKS_AT_EPOCH = 621355968000000000  # .NET ticks (100 ns since year 1) at 1970-01-01


class ModelExists(InvalidRequest):
    code = "ModelExists"
    status = 409
    outer_code = "Conflict"


async def start_model_operation(
    services: Services, model_id: str, name: str | None, params: dict[str, Any]
) -> ModelRecord:
    """Create a model (creating) and queue the operation that builds, composes or copies it.

    The model row and its operation commit in one transaction: a crash leaves both (built after the restart)
    or neither (the client got no answer), never a model creating forever."""
    if services.models.count() >= MODEL_LIMIT:
        raise InvalidRequest(f"The model limit ({MODEL_LIMIT}) is reached; delete models first.")
    rec = ModelRecord(id=model_id, name=name, params=params)
    job = TrainJob(model_id=rec.id)
    op = Operation(id=services.store.new_id(), kind=job.kind, model_id=rec.id, params=job.to_params())
    rec.params["operation"] = op.id

    def persist() -> None:
        try:
            with services.store.db.transaction():
                services.models.create(rec)
                services.store.create(op)
        except sqlite3.IntegrityError:  # the same id requested twice at once
            raise ModelExists(f"A model with id '{rec.id}' already exists.") from None

    await run_in_threadpool(persist)
    services.runner.submit(op.id)
    return rec


async def require_new_model_id(services: Services, model_id: str) -> None:
    """A v3 build or compose names its model: a prebuilt's id or an existing model's is a conflict."""
    if model_id.startswith("prebuilt-") or await run_in_threadpool(services.models.get, model_id) is not None:
        raise ModelExists(f"A model with id '{model_id}' already exists.")


def _copy_token(services: Services, model_id: str, expires_ticks: int) -> str:
    message = f"{model_id}|{expires_ticks}".encode()
    return hmac.new(services.models.secret(), message, hashlib.sha256).hexdigest()


async def issue_copy_authorization(services: Services) -> dict[str, Any]:
    """Reserve a model id on this (target) resource and sign it: the body of a v2.1 copy authorization."""
    model_id = str(uuid.uuid4())
    ticks = int((time.time() + COPY_AUTHORIZATION_TTL_S) * 10_000_000) + _TICKS_AT_EPOCH
    token = await run_in_threadpool(_copy_token, services, model_id, ticks)
    return {"modelId": model_id, "accessToken": token, "expirationDateTimeTicks": ticks}


async def verify_copy_authorization(services: Services, auth: CopyAuthorization) -> str:
    """The target model id of a copy authorization this server signed, unexpired and not used yet."""
    target, ticks = auth.model_id, auth.expiration_date_time_ticks
    if not is_uuid(target):  # only UUIDs are ever signed here (the body's check, again before a path is built)
        raise InvalidRequest(NOT_ISSUED_HERE)
    if ticks < int(time.time() * 10_000_000) + _TICKS_AT_EPOCH:
        raise InvalidRequest(EXPIRED)
    expected = await run_in_threadpool(_copy_token, services, target, ticks)
    if not hmac.compare_digest(expected, str(auth.access_token)):
        raise Unauthorized("The copy authorization was not issued by this resource.")
    if await run_in_threadpool(services.models.get, target) is not None:
        raise InvalidRequest(f"Model '{target}' already exists; a copy authorization is used once.")
    return str(target)
