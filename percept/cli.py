"""The ``percept`` command."""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from . import __version__
from .batch_cli import add_batch_commands
from .config import ReadOptions
from .errors import PerceptError
from .gallery_cli import add_gallery_commands
from .ocr import available_engines
from .server.lock import DataDirInUse, DataDirLock
from .vision_cli import add_vision_commands

if TYPE_CHECKING:
    from .config import ServerSettings
    from .custom.registry import ModelRegistry

# Documents with at least this many pages show a progress bar on stderr (when it is a terminal).
PROGRESS_FROM = 5


class _Progress:
    """A tqdm bar of pages read, on stderr only when it is a terminal (nothing in pipes, logs and tests)."""

    def __init__(self) -> None:
        self._bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if total < PROGRESS_FROM or not sys.stderr.isatty():
            return
        if self._bar is None:
            from tqdm import tqdm  # type: ignore[import-untyped]

            # 80x24 where a terminal reports no size: tqdm draws nothing on a 0x0 terminal.
            size = shutil.get_terminal_size()
            self._bar = tqdm(
                total=total,
                unit="page",
                desc="percept",
                file=sys.stderr,
                leave=False,
                ncols=size.columns,
                nrows=size.lines,
            )
        self._bar.update(done - self._bar.n)
        if done >= total:
            self._bar.refresh()  # the last count, even when it came sooner than tqdm's redraw interval
            self._bar.close()
            self._bar = None


def _write_json(value: Any, pretty: bool) -> None:
    """JSON to stdout with orjson: measured, the stdlib's indented ``json.dump`` took 9 of the 13 s of
    ``percept read`` on a 120-page PDF. Indented only with ``--pretty``."""
    import orjson

    option = orjson.OPT_INDENT_2 if pretty else 0
    sys.stdout.flush()
    sys.stdout.buffer.write(orjson.dumps(value, option=option | orjson.OPT_APPEND_NEWLINE))
    sys.stdout.buffer.flush()


def _cmd_read(args: argparse.Namespace) -> int:
    from .pipeline import read_document
    from .serializers.analyze_v3 import analyze_result

    overrides = {
        k: v
        for k, v in {
            "ocr_engine": args.engine,
            "ocr_languages": args.languages,
            "render_dpi": args.dpi,
            "workers": args.workers,
        }.items()
        if v is not None
    }
    layout = args.command == "layout"
    options = ReadOptions(**overrides, layout=layout)
    markdown = layout and args.format == "markdown"
    doc = read_document(
        args.file,
        pages=args.pages,
        options=options,
        progress=_Progress(),
        content_format="markdown" if markdown else "text",
        key_value_pairs=layout,
    )
    if args.format in ("text", "markdown"):
        sys.stdout.write(doc.content + "\n")
    else:
        model = "prebuilt-layout" if layout else "prebuilt-read"
        _write_json(analyze_result(doc, model_id=model), args.pretty)
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    import logging

    from .config import ServerSettings

    overrides = {k: v for k, v in {"host": args.host, "port": args.port, "data_dir": args.data_dir}.items() if v}
    settings = ServerSettings(**overrides)
    # Locked here too, not only in the app's lifespan: a second server is refused at once with one line.
    with DataDirLock(settings.data_dir, "percept serve"):
        import uvicorn

        from .server.app import create_app

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
        print(f"percept: serving on http://{settings.host}:{settings.port} (data in {settings.data_dir})", flush=True)
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning")
    return 0


def _registry(data_dir: str | None, lock: str | None = None) -> tuple[ServerSettings, ModelRegistry]:
    """The server's model store; with ``lock`` (a writer) the data directory is locked as a server locks it, until
    the command ends, so a running server's directory is refused instead of written under it."""
    from .config import ServerSettings
    from .custom.registry import ModelRegistry

    settings = ServerSettings(data_dir=data_dir) if data_dir else ServerSettings()
    if lock:
        DataDirLock(settings.data_dir, lock).acquire()  # released when the process ends
    return settings, ModelRegistry(settings.data_dir)


def _cmd_train(args: argparse.Namespace) -> int:
    """Train into the same model store ``percept serve`` uses, so the model is served at once."""
    import os
    import uuid

    from .custom.registry import READY, ModelRecord
    from .custom.training import train_model
    from .io.http import UrlPolicy
    from .pipeline import read_document

    settings, models = _registry(args.data_dir, lock="percept train")
    source = args.source
    local_root = ""
    if "://" not in source or source.startswith("file://"):
        path = os.path.realpath(source.removeprefix("file://"))
        if not os.path.isdir(path):
            print(f"percept: not a folder: {source}", file=sys.stderr)
            return 2
        source = local_root = path  # your own folder: it is the allowed root
    rec = ModelRecord(
        id=str(uuid.uuid4()),
        name=args.name,
        params={
            "source": source,
            "prefix": args.prefix,
            "includeSubFolders": args.subfolders,
            "useLabelFile": args.labels,
            "version": "2.1",
        },
    )
    models.create(rec)
    options = ReadOptions(layout=True)
    train_model(
        rec,
        models,
        read=lambda p: read_document(p, options=options, progress=_Progress()),
        policy=UrlPolicy.parse(settings.storage_allow, setting="PERCEPT_STORAGE_ALLOW"),
        local_root=local_root,
    )
    done = models.get(rec.id)
    assert done is not None
    tr = done.train_result or {}
    out: dict[str, object] = {"modelId": done.id, "status": done.status}
    for key in ("averageModelAccuracy", "fields", "trainingDocuments", "errors"):
        if key in tr:
            out[key] = tr[key]
    if done.keys:
        out["keys"] = done.keys
    _write_json(out, args.pretty)
    return 0 if done.status == READY else 1


def _cmd_analyze(args: argparse.Namespace) -> int:
    from .custom.registry import READY
    from .errors import NotFound
    from .pipeline import read_document
    from .serializers.analyze_v3 import analyze_result

    _, models = _registry(args.data_dir)
    rec = models.get(args.model)
    if rec is None or rec.status != READY:
        raise NotFound(f"Model '{args.model}' was not found or is not ready.")
    options = ReadOptions(layout=True)
    doc = read_document(
        args.file, pages=args.pages, options=options, progress=_Progress(), model_id=args.model, models=models
    )
    _write_json(analyze_result(doc, model_id=args.model), args.pretty)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="percept", description="Self-hosted document intelligence that speaks Azure's APIs."
    )
    parser.add_argument("--version", action="version", version=f"percept {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    read = sub.add_parser(
        "read",
        help="read text with positions from a PDF or image",
        description="Print the Document Intelligence 2024-11-30 prebuilt-read analyzeResult (or plain text).",
    )
    read.add_argument("file", help="PDF, JPEG, PNG, BMP, TIFF or HEIF file")
    read.add_argument("--pages", help="pages to read, e.g. 1-3,5")
    read.add_argument("--engine", choices=available_engines(), help="OCR engine (default: auto)")
    read.add_argument("--languages", help="Tesseract language packs, e.g. eng+deu")
    read.add_argument("--dpi", type=int, help="render resolution for PDF pages that need OCR")
    read.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    read.add_argument("--format", choices=["json", "text"], default="json")
    read.add_argument("--pretty", action="store_true", help="indent the JSON")
    read.set_defaults(func=_cmd_read, command="read")

    layout = sub.add_parser(
        "layout", help="tables, selection marks, paragraphs and key-value pairs (prebuilt-layout JSON or markdown)"
    )
    for action in read._actions[1:]:
        if action.dest not in ("format", "help"):
            layout._add_action(action)
    layout.add_argument("--format", choices=["json", "markdown"], default="json")
    layout.set_defaults(func=_cmd_read, command="layout")

    train = sub.add_parser(
        "train",
        help="train a custom model from a folder or blob container of forms",
        description="Train into the model store of 'percept serve' (same --data-dir) and print the model.",
    )
    train.add_argument("source", help="a local folder, or the SAS URL of a blob container")
    train.add_argument("--labels", action="store_true", help="use the labeling tool's .labels.json and fields.json")
    train.add_argument("--prefix", default="", help="only files whose path starts with this")
    train.add_argument("--subfolders", action="store_true", help="include subfolders of the prefix")
    train.add_argument("--name", help="a model name")
    train.add_argument("--data-dir", help="the model store (PERCEPT_DATA_DIR)")
    train.add_argument("--pretty", action="store_true", help="indent the JSON")
    train.set_defaults(func=_cmd_train)

    analyze = sub.add_parser(
        "analyze",
        help="analyze a file with a custom model (Document Intelligence 2024-11-30 JSON)",
    )
    analyze.add_argument("model", help="model id (from 'percept train' or the server)")
    analyze.add_argument("file", help="PDF or image")
    analyze.add_argument("--pages", help="pages to read, e.g. 1-3,5")
    analyze.add_argument("--data-dir", help="the model store (PERCEPT_DATA_DIR)")
    analyze.add_argument("--pretty", action="store_true", help="indent the JSON")
    analyze.set_defaults(func=_cmd_analyze)

    serve = sub.add_parser("serve", help="serve Azure's Computer Vision and Document Intelligence APIs")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1, PERCEPT_HOST)")
    serve.add_argument("--port", type=int, help="port (default 5000, PERCEPT_PORT)")
    serve.add_argument("--data-dir", help="state and documents (PERCEPT_DATA_DIR)")
    serve.set_defaults(func=_cmd_serve)

    add_vision_commands(sub)
    add_batch_commands(sub)
    add_gallery_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except PerceptError as exc:
        print(f"percept: {exc.code}: {exc.message}", file=sys.stderr)
        return 2
    except DataDirInUse as exc:
        print(f"percept: {exc}", file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        print(f"percept: file not found: {exc.filename}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. piped into head
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
