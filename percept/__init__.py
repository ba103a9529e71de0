"""Percept: a self-hosted server for Azure's Computer Vision and Document Intelligence APIs.

The read pipeline is the library's entry point: :func:`read_document` turns a PDF or image into a
:class:`~percept.model.Document` of pages, lines and words with polygons and confidences.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .config import Limits, ReadOptions
from .errors import PerceptError
from .model import Document, Line, Page, Paragraph, Span, Word


def read_document(*args, **kwargs):  # type: ignore[no-untyped-def]
    """Lazy alias of :func:`percept.pipeline.read_document` (keeps ``import percept`` light)."""
    from .pipeline import read_document as _read

    return _read(*args, **kwargs)


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
