"""Percept: a self-hosted server for Azure's Computer Vision and Document Intelligence APIs.

The read pipeline is the library's entry point: :func:`read_document` turns a PDF or image into a
:class:`~percept.model.Document` of pages, lines and words with polygons and confidences.
"""

from __future__ import annotations

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any

from .config import Limits, ReadOptions
from .errors import PerceptError
from .model import Document, Line, Page, Paragraph, Span, Word

if TYPE_CHECKING:
    from .pipeline import read_document


def __getattr__(name: str) -> Any:
    # The pipeline pulls in OpenCV and pdfium; load it on first use so `percept --version` stays instant.
    if name == "read_document":
        from .pipeline import read_document

        return read_document
    raise AttributeError(f"module 'percept' has no attribute {name!r}")


__all__ = [
    "Document",
    "Limits",
    "Line",
    "Page",
    "Paragraph",
    "PerceptError",
    "ReadOptions",
    "Span",
    "Word",
    "read_document",
]
