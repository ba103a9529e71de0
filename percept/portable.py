"""The portable form of a :class:`~percept.model.Document`: plain JSON types, versioned, lossless.

Results outlive the process that made them and may be read by another node or another version of the code, so
they are stored as plain JSON (never pickled: a pickle is tied to this code and runs code when loaded). Spans and
polygons are arrays; words, the bulk of a document, are ``[content, polygon, confidence, offset, length]``.
Every other model class is an object of its fields under their camelCase names (:class:`Record`).
"""

from __future__ import annotations

import dataclasses
import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

import orjson

from .model import (
    AnalyzedDocument,
    Document,
    Field,
    KeyValueElement,
    KeyValuePair,
    Language,
    Line,
    Page,
    PageError,
    Paragraph,
    SelectionMark,
    Span,
    Table,
    TableCell,
    Word,
)

FORMAT_VERSION = 1
FORMAT_KEY = "perceptDocumentFormat"

T = TypeVar("T")
# How one field is stored: a function to its JSON value and one back.
Codec = tuple[Callable[[Any], Any], Callable[[Any], Any]]


def same(v: T) -> T:
    return v


AS_IS: Codec = (same, same)
AS_LIST: Codec = (list, list)


def optional(codec: Codec) -> Codec:
    """``codec`` for a value that may be None (null)."""
    out, back = codec
    return (lambda v: None if v is None else out(v)), (lambda v: None if v is None else back(v))


def list_of(codec: Codec) -> Codec:
    out, back = codec
    return (lambda vs: [out(v) for v in vs]), (lambda vs: [back(v) for v in vs])


def dict_of(codec: Codec) -> Codec:
    out, back = codec
    return (lambda d: {k: out(v) for k, v in d.items()}), (lambda d: {k: back(v) for k, v in d.items()})


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.capitalize() for w in rest)


class Record(Generic[T]):
    """A dataclass as a JSON object: each field under its camelCase name, through the codec given for it by
    field name (by default the value as it is). The class is rebuilt positionally, in field order."""

    def __init__(self, cls: type[T], **codecs: Codec) -> None:
        names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
        unknown = set(codecs) - set(names)
        if unknown:
            raise TypeError(f"{cls.__name__} has no fields {sorted(unknown)}")
        self.cls = cls
        self.fields = [(name, _camel(name), *codecs.get(name, AS_IS)) for name in names]

    def out(self, obj: T) -> dict[str, Any]:
        return {key: out(getattr(obj, name)) for name, key, out, _ in self.fields}

    def back(self, d: dict[str, Any]) -> T:
        return self.cls(*[back(d[key]) for _, key, _, back in self.fields])

    @property
    def codec(self) -> Codec:
        return self.out, self.back


def _span(s: Span) -> list[int]:
    return [s.offset, s.length]


def _mkspan(v: list[int]) -> Span:
    """``Span(*v)`` without NamedTuple's Python-level ``__new__``: ~10x faster, and there is one per word."""
    return tuple.__new__(Span, v)


def _word(w: Word) -> list[Any]:
    return [w.content, list(w.polygon), w.confidence, w.span.offset, w.span.length]


def _word_in(v: list[Any]) -> Word:
    return Word(v[0], tuple(v[1]), v[2], tuple.__new__(Span, (v[3], v[4])))


SPAN: Codec = (_span, _mkspan)
AS_TUPLE: Codec = (list, tuple)
POLYGON = AS_TUPLE
WORDS = list_of((_word, _word_in))

_MARK = Record(SelectionMark, polygon=POLYGON, span=optional(SPAN))
_CELL = Record(TableCell, polygon=POLYGON, span=optional(SPAN))
_TABLE = Record(Table, cells=list_of(_CELL.codec), polygon=POLYGON, span=optional(SPAN))
_LINE = Record(Line, polygon=POLYGON, words=WORDS, span=SPAN)
_PAGE = Record(
    Page,
    lines=list_of(_LINE.codec),
    span=SPAN,
    blocks=list_of(AS_LIST),
    roles=AS_LIST,
    tables=list_of(_TABLE.codec),
    selection_marks=list_of(_MARK.codec),
)
_ELEMENT = Record(KeyValueElement, polygon=POLYGON, words=WORDS, span=optional(SPAN))
_FIELD = Record(Field, polygon=optional(POLYGON), words=WORDS, marks=list_of(_MARK.codec))
_DOCUMENT = Record(
    Document,
    pages=list_of(_PAGE.codec),
    paragraphs=list_of(Record(Paragraph, line_indices=AS_LIST, polygon=POLYGON, span=SPAN).codec),
    languages=list_of(Record(Language, spans=list_of(SPAN)).codec),
    # A pair's key is never None, but a stored null reads back as one, as it always has.
    key_value_pairs=list_of(Record(KeyValuePair, key=optional(_ELEMENT.codec), value=optional(_ELEMENT.codec)).codec),
    documents=list_of(Record(AnalyzedDocument, page_range=AS_TUPLE, fields=dict_of(_FIELD.codec)).codec),
    errors=list_of(((lambda e: [e.page_number, e.code, e.message]), (lambda v: PageError(*v)))),
)


def document_to_dict(doc: Document) -> dict[str, Any]:
    return {FORMAT_KEY: FORMAT_VERSION, **_DOCUMENT.out(doc)}


def document_from_dict(d: dict[str, Any]) -> Document:
    version = d.get(FORMAT_KEY)
    if version != FORMAT_VERSION:
        raise ValueError(f"unsupported document format version {version!r} (this version reads {FORMAT_VERSION})")
    if "errors" not in d:  # results stored before page errors existed
        d = {**d, "errors": []}
    return _DOCUMENT.back(d)


_gc_lock = threading.Lock()
_gc_pausers = 0
_gc_was_enabled = False


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Without the cyclic collector while a document's objects are made: they hold no cycles, but the hundreds
    of thousands of them set off dozens of collections that scan them all, more than half the time of a read.
    Threads share the pause; the collector comes back when the last one ends, if it was on before the first."""
    global _gc_pausers, _gc_was_enabled
    with _gc_lock:
        if _gc_pausers == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_was_enabled:
                gc.enable()


def document_to_json(doc: Document) -> bytes:
    """The portable form as JSON bytes (UTF-8)."""
    with _gc_paused():
        return orjson.dumps(document_to_dict(doc))


def document_from_json(data: bytes) -> Document:
    """The document :func:`document_to_json` gave ``data`` for; an unknown format version raises ``ValueError``."""
    with _gc_paused():
        return document_from_dict(orjson.loads(data))
