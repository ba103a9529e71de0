"""What an operation runs, typed: one pydantic model per operation kind.

The store keeps an operation's job as JSON in its ``params`` column. Routes build a job and read its fields back
when they render the result; :class:`~percept.server.jobs.JobRunner` runs it through the handler of its kind.
Rows an earlier version wrote parse too: the v3 routes named the version ``api_version``, the v2 routes
``version``, and both are read into :attr:`ReadJob.version`.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..pipeline import ContentFormat
from ..serializers.offsets import StringIndexType

READ = "read"  # analyze/read of every family
TRAIN = "train"  # build, compose or copy of a custom model (its model id names the model)
BATCH = "batch"  # DI analyzeBatch: one child operation (BATCH_DOCUMENT) per document
BATCH_DOCUMENT = "batchDocument"

J = TypeVar("J", bound="Job")


class Job(BaseModel):
    """The typed parameters of one operation kind."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    kind: ClassVar[str]

    @classmethod
    def from_params(cls: type[J], params: dict[str, Any]) -> J:
        """The job a row's ``params`` hold (unknown keys are ignored: a later version may add some)."""
        return cls.model_validate(params)

    def to_params(self) -> dict[str, Any]:
        """The JSON the store keeps (fields left at their defaults are left out)."""
        return self.model_dump(mode="json", exclude_defaults=True)


class ReadJob(Job):
    """Read a document (every family's analyze/read/OCR) and keep the internal document as the result."""

    kind: ClassVar[str] = READ

    pages: str | None = None  # the caller's page range, validated before the 202
    version: str = ""  # the API version the result is rendered in ("" where the family has one shape)
    family: str | None = None  # "v3" where a custom model answers in the v3 shape
    options: dict[str, Any] = Field(default_factory=dict)  # ReadOptions overrides: layout, ocr_languages...
    content_format: ContentFormat = "text"  # v3 outputContentFormat: text or markdown
    key_value_pairs: bool = False
    string_index_type: StringIndexType = "textElements"  # v3 stringIndexType
    custom_model: str | None = None  # the custom model that labels the document
    include_text: bool = False  # v2 custom includeTextDetails
    mode: str | None = None  # Computer Vision recognizeText mode (Printed/Handwritten), kept as asked
    mime_type: str | None = None  # set on POST with page_count by validation, so the driver opens it once
    page_count: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_version(cls, data: Any) -> Any:
        """Rows of earlier versions: the v3 routes stored the version as ``api_version``."""
        if isinstance(data, dict) and "api_version" in data:
            data = dict(data)
            legacy = data.pop("api_version")
            data.setdefault("version", legacy)
        return data


class TrainJob(Job):
    """Build, compose or copy the custom model ``model_id`` (what to do is in the model's record)."""

    kind: ClassVar[str] = TRAIN

    model_id: str


class BatchJob(Job):
    """Analyze every blob of a container (or of a file list) with one model and write each result to a result
    container. ``read`` is the ReadJob every document is read with; the SAS URLs are kept as given."""

    kind: ClassVar[str] = BATCH

    source_url: str  # the source container URL (with SAS)
    prefix: str = ""  # azureBlobSource.prefix: documents are the blobs under it
    file_list: str | None = None  # azureBlobFileListSource.fileList: a JSONL blob of {"file": name} lines
    result_url: str  # resultContainerUrl
    result_prefix: str = ""
    overwrite: bool = False
    read: dict[str, Any] = Field(default_factory=dict)  # ReadJob params applied to every document
    version: str = ""


class BatchDocumentJob(Job):
    """One document of a batch (a child of the batch operation, run by the batch's driver, never on its own)."""

    kind: ClassVar[str] = BATCH_DOCUMENT

    name: str  # the blob's name in the source container


JOB_TYPES: dict[str, type[Job]] = {job.kind: job for job in (ReadJob, TrainJob, BatchJob, BatchDocumentJob)}


def job_of(kind: str, params: dict[str, Any], job_type: type[J]) -> J:
    """The job of an operation of ``kind``, which must be ``job_type``'s kind."""
    if kind != job_type.kind:
        raise ValueError(f"an operation of kind {kind!r} holds no {job_type.__name__}")
    return job_type.from_params(params)
