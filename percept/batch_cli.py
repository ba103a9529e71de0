"""``percept batch``: analyze every document of a folder or blob container in this process, and write each one's
``.ocr.json`` beside the others in a result folder or container, as ``:analyzeBatch`` does without a server.

Each result is the file the server's batch writes (:func:`percept.serializers.batch.result_file`), written as soon
as its document is done (a folder: to a temporary name, then renamed), so an interrupted run keeps what it
finished and the next run skips it. Documents are read a few at a time on one shared pool of page workers
(``PERCEPT_EXECUTOR``), and one that fails is reported and does not stop the rest.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .errors import InvalidRequest, NotFound, PerceptError, WorkerCrashed

if TYPE_CHECKING:
    from .custom.registry import ModelRegistry
    from .executors import PageExecutor
    from .io.http import UrlPolicy
    from .model import Document
    from .source import DocumentSource

API_VERSION = "2024-11-30"
PREBUILT = ("prebuilt-read", "prebuilt-layout")
RESULT_SECONDS = 120.0  # checking or writing one result blob
SUCCEEDED, SKIPPED, FAILED = "succeeded", "skipped", "failed"

EPILOG = """\
SOURCE and RESULT are local folders or blob container URLs with a SAS (SOURCE: read and list, RESULT: read and
write). Each document DOC under SOURCE (and --prefix) gets RESULT/DOC.ocr.json: the Document Intelligence
2024-11-30 analyze operation's body, as :analyzeBatch writes it. Storage hosts that are not public (an on-premises
store, Azurite) must be allowed in PERCEPT_STORAGE_ALLOW, as for the server.

exit status: 0 every document succeeded or was skipped, 1 at least one failed (each is named on stderr),
2 the command could not start (a bad source, result, model or option)."""


def add_batch_commands(sub: Any) -> None:
    """Register ``percept batch`` on the CLI's subparsers."""
    batch = sub.add_parser(
        "batch",
        help="analyze every document of a folder or blob container into .ocr.json result files",
        description="Analyze a folder or blob container of documents in this process, as :analyzeBatch does.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    batch.add_argument("source", metavar="SOURCE", help="a local folder, or a blob container URL with a SAS")
    batch.add_argument("result", metavar="RESULT", help="a local folder, or a blob container URL with a SAS")
    batch.add_argument(
        "--model", default="prebuilt-read", help="prebuilt-read (default), prebuilt-layout, or a custom model id"
    )
    batch.add_argument("--prefix", default="", help="only documents whose path (blob name) starts with this")
    batch.add_argument("--overwrite", action="store_true", help="redo documents whose result exists (else skipped)")
    batch.add_argument("--data-dir", help="the model store for custom models (PERCEPT_DATA_DIR)")
    batch.add_argument(
        "--features", default="", help="comma-separated add-on features, e.g. keyValuePairs (prebuilt-layout)"
    )
    batch.add_argument(
        "--output-content-format", choices=["text", "markdown"], default="text", help="markdown: prebuilt-layout"
    )
    batch.add_argument("--pages", help="pages to read of each document, e.g. 1-3,5")
    batch.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    batch.set_defaults(func=_cmd_batch)


class Results(Protocol):
    """Where result files go."""

    def exists(self, name: str) -> bool: ...

    def write(self, name: str, data: bytes) -> None: ...


@dataclass(frozen=True, slots=True)
class FolderResults:
    root: Path

    def exists(self, name: str) -> bool:
        return (self.root / name).exists()

    def write(self, name: str, data: bytes) -> None:
        """Whole or not at all: a temporary file in the same folder, renamed over the name."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".percept-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise


@dataclass(frozen=True, slots=True)
class ContainerResults:
    url: str
    policy: UrlPolicy

    def _call(self, name: str, data: bytes | None) -> bool:
        from .batch.sources import storage_error
        from .io.blob import BlobContainer
        from .io.http import GuardedClient, OutboundError

        try:
            with GuardedClient(self.policy) as client:
                container = BlobContainer(self.url, client, deadline=time.monotonic() + RESULT_SECONDS)
                if data is None:
                    return container.exists(name)
                container.upload(name, data)
                return True
        except OutboundError as exc:
            raise storage_error(exc, "The result container") from None

    def exists(self, name: str) -> bool:
        return self._call(name, None)

    def write(self, name: str, data: bytes) -> None:
        self._call(name, data)


def _is_url(where: str) -> bool:
    return where.lower().startswith(("http://", "https://"))


def _folder(where: str, what: str, *, create: bool = False) -> Path:
    path = Path(os.path.realpath(where.removeprefix("file://")))
    if create:
        path.mkdir(parents=True, exist_ok=True)
    if not path.is_dir():
        raise InvalidRequest(f"The {what} is not a folder or an http(s) container URL: {where}")
    return path


def _local_documents(root: Path, prefix: str, skip: Path | None) -> list[str]:
    """Relative POSIX paths of the files under ``root`` starting with ``prefix``, in name order; result files
    (``.ocr.json``, and anything in the result folder when it lies inside the source) are not documents."""
    from .batch.sources import RESULT_SUFFIX

    names = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if skip is None or here / d != skip)
        for file in sorted(files):
            name = (here / file).relative_to(root).as_posix()
            if name.startswith(prefix) and not file.endswith(RESULT_SUFFIX) and not file.startswith(".percept-"):
                names.append(name)
    return names


@dataclass
class Tally:
    done: dict[str, int]
    failures: list[str]

    def count(self, outcome: str) -> None:
        self.done[outcome] = self.done.get(outcome, 0) + 1


class Batch:
    """One run: the documents, where they come from and go, and how each is read."""

    def __init__(self, args: argparse.Namespace) -> None:
        from .config import ReadOptions, ServerSettings
        from .io.http import UrlPolicy

        settings = ServerSettings(data_dir=args.data_dir) if args.data_dir else ServerSettings()
        self.policy = UrlPolicy.parse(settings.storage_allow, setting="PERCEPT_STORAGE_ALLOW")
        self.settings = settings
        self.model_id: str = args.model
        self.models = self._models(args)
        layout = self.model_id != "prebuilt-read"
        wanted = self._features(args.features)
        if args.output_content_format == "markdown" and not layout:
            raise InvalidRequest("--output-content-format markdown needs prebuilt-layout; prebuilt-read gives text.")
        if args.pages:
            from .config import default_limits
            from .pages import parse_pages

            parse_pages(args.pages, default_limits().max_pages)
        self.pages: str | None = args.pages
        self.content_format = args.output_content_format
        self.key_value_pairs = layout and "keyValuePairs" in wanted
        overrides = {"workers": args.workers} if args.workers else {}
        self.options = ReadOptions(layout=layout, **overrides)
        self.prefix: str = args.prefix
        self.overwrite: bool = args.overwrite
        self.source: str = args.source
        self.source_root = None if _is_url(args.source) else _folder(args.source, "source")
        self.results: Results
        if _is_url(args.result):
            self.results = ContainerResults(args.result, self.policy)
            self.result_root = None
        else:
            self.result_root = _folder(args.result, "result", create=True)
            self.results = FolderResults(self.result_root)

    def _models(self, args: argparse.Namespace) -> ModelRegistry | None:
        """The data directory's model registry where the model is a custom one (checked ready now)."""
        if self.model_id in PREBUILT:
            return None
        from .cli import _registry
        from .custom.registry import READY

        _, models = _registry(args.data_dir)
        rec = models.get(self.model_id)
        if rec is None or rec.status != READY:
            raise NotFound(f"Model '{self.model_id}' was not found or is not ready.")
        return models

    @staticmethod
    def _features(features: str) -> list[str]:
        from .server.analyze_jobs import FEATURES

        wanted = [f.strip() for f in features.split(",") if f.strip()]
        unknown = [f for f in wanted if f not in FEATURES]
        if unknown:
            raise InvalidRequest(f"Unknown feature '{unknown[0]}'; features are {', '.join(FEATURES)}.")
        return wanted

    def documents(self) -> list[str]:
        from .batch.sources import list_documents

        if self.source_root is None:
            return list_documents(self.source, self.prefix, None, self.policy)
        inside = self.result_root if self.result_root and self.result_root != self.source_root else None
        return _local_documents(self.source_root, self.prefix, inside)

    def target(self, name: str) -> str:
        from .batch.sources import result_name

        return result_name(name, self.prefix, "")

    def _source(self, name: str) -> DocumentSource:
        from .source import BlobUrl, LocalFile

        if self.source_root is None:
            return BlobUrl(self.source, name, self.policy)
        return LocalFile(str(self.source_root / name))

    def _read(self, name: str, executor: PageExecutor) -> Document:
        """Read one document; a worker that died renews the pool and the document gets one more try."""
        from .pipeline import read_document

        for attempt in (1, 2):
            try:
                return read_document(
                    self._source(name),
                    pages=self.pages,
                    options=self.options,
                    executor=executor,
                    content_format=self.content_format,
                    key_value_pairs=self.key_value_pairs,
                    model_id=None if self.models is None else self.model_id,
                    models=self.models,
                )
            except WorkerCrashed:
                if attempt == 2:
                    raise
                executor.renew()
        raise AssertionError("unreachable")

    def one(self, name: str, executor: PageExecutor) -> str:
        """Read ``name`` and write its result; SUCCEEDED or SKIPPED, or raises."""
        from .serializers.batch import result_file

        target = self.target(name)
        if not self.overwrite and self.results.exists(target):
            return SKIPPED
        created = time.time()
        doc = self._read(name, executor)
        body = result_file(
            doc,
            api_version=API_VERSION,
            model_id=self.model_id,
            string_index_type="textElements",
            created=created,
            updated=time.time(),
        )
        del doc
        self.results.write(target, body)
        return SUCCEEDED


def _why(exc: BaseException) -> str:
    from .pipeline import PagesFailed

    if isinstance(exc, PerceptError):
        return f"{exc.code}: {exc.message}"
    if isinstance(exc, PagesFailed):
        return f"{exc.errors[0].code}: {exc}"
    return f"{type(exc).__name__}: {exc}"


def _cmd_batch(args: argparse.Namespace) -> int:
    from tqdm import tqdm  # type: ignore[import-untyped]

    from .executors import page_executor

    batch = Batch(args)
    names = batch.documents()
    tty = sys.stderr.isatty()
    started = time.monotonic()
    tally = Tally({}, [])
    workers = batch.options.worker_count()
    in_flight = max(2, 2 * workers)  # two documents per worker keep the pool fed while others load and write
    bar = tqdm(total=len(names), unit="doc", file=sys.stderr, disable=not tty, dynamic_ncols=True)
    executor = page_executor(workers, batch.settings)
    try:
        with ThreadPoolExecutor(in_flight, thread_name_prefix="percept-batch") as pool:
            running: dict[Future[str], str] = {}
            todo: Iterator[str] = iter(names)
            while True:
                for name in todo:
                    running[pool.submit(batch.one, name, executor)] = name
                    if len(running) >= in_flight:
                        break
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    name = running.pop(future)
                    error = future.exception()
                    if error is None:
                        tally.count(future.result())
                    else:
                        tally.count(FAILED)
                        tally.failures.append(name)
                        line = f"percept: failed: {name}: {_why(error)}"
                        if tty:
                            bar.write(line, file=sys.stderr)
                        else:
                            print(line, file=sys.stderr, flush=True)
                    bar.update(1)
    except BaseException:
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        bar.close()
    executor.shutdown()
    seconds = time.monotonic() - started
    done = tally.done
    rate = len(names) / seconds if seconds > 0 else 0.0
    print(
        f"percept: {len(names)} documents: {done.get(SUCCEEDED, 0)} succeeded, {done.get(SKIPPED, 0)} skipped, "
        f"{done.get(FAILED, 0)} failed in {seconds:.1f} s ({rate:.1f} documents/s)",
        file=sys.stderr,
        flush=True,
    )
    return 1 if tally.failures else 0
