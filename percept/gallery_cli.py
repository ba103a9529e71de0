"""``percept gallery``: enrol, list and remove the celebrities and landmarks image analysis can name.

Writes go to the same folder a running server reads (``<data_dir>/galleries``, or ``PERCEPT_VISION_GALLERY_DIR``)
and the server picks them up on its next request; the data directory is not locked, since the gallery has its own
writer lock. Exit status: 0 done, 1 with one line on stderr when an image, a name or an entry is wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .vision_cli import guarded

KINDS = ("celebrities", "landmarks")


def _root(args: argparse.Namespace) -> Path:
    from .vision.gallery import gallery_root

    if args.data_dir:
        return Path(args.data_dir) / "galleries"
    return gallery_root()


def _print(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _add(args: argparse.Namespace) -> int:
    from .vision.gallery import enrol_files
    from .vision.gallery_store import GalleryStore

    entry = enrol_files(GalleryStore(_root(args), args.kind), args.name, args.images)
    _print(entry.summary())
    return 0


def _list(args: argparse.Namespace) -> int:
    from .vision.gallery_store import GalleryStore

    root = _root(args)
    kinds = [args.kind] if args.kind else list(KINDS)
    _print({k: [e.summary() for e in GalleryStore(root, k).entries()] for k in kinds})
    return 0


def _remove(args: argparse.Namespace) -> int:
    from .vision.gallery_store import GalleryStore

    gone = GalleryStore(_root(args), args.kind).remove(args.name)
    _print(gone.summary())
    return 0


def add_gallery_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``gallery add|list|remove`` to the ``percept`` command's sub-parsers; returns the ``gallery`` parser."""
    gallery: argparse.ArgumentParser = subparsers.add_parser(
        "gallery",
        help="enrol the celebrities and landmarks image analysis names",
        description="Enrol, list and remove people (by their face) and places (by photos of them).",
    )
    data_dir = argparse.ArgumentParser(add_help=False)
    data_dir.add_argument("--data-dir", help="the server's data directory (PERCEPT_DATA_DIR)")
    sub = gallery.add_subparsers(dest="gallery_command", required=True)

    add = sub.add_parser(
        "add",
        parents=[data_dir],
        help="enrol photos of a person or a place",
        description="A person's photos each need one face (the largest is taken; a second one of similar size is "
        "refused). Photos of a name already enrolled are added to it.",
    )
    add.add_argument("kind", choices=KINDS)
    add.add_argument("name", help="the name to report, 1-100 characters")
    add.add_argument("images", nargs="+", help="JPEG, PNG, BMP, GIF, TIFF or WebP files")
    add.set_defaults(func=guarded(_add))

    ls = sub.add_parser("list", parents=[data_dir], help="list enrolled names")
    ls.add_argument("kind", nargs="?", choices=KINDS)
    ls.set_defaults(func=guarded(_list))

    rm = sub.add_parser("remove", parents=[data_dir], help="remove a name (or an id) and its photos' embeddings")
    rm.add_argument("kind", choices=KINDS)
    rm.add_argument("name", help="the name, or the id 'list' shows")
    rm.set_defaults(func=guarded(_remove))
    return gallery


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m percept.gallery_cli add ...``: the sub-commands on their own (``percept gallery`` wires the same)."""
    parser = argparse.ArgumentParser(prog="percept")
    add_gallery_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["gallery", *(argv if argv is not None else sys.argv[1:])])
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
