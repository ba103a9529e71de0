"""``percept analyze-image`` and ``percept thumbnail``: image analysis in this process, without a server.

The answer is what the server's route would answer for the same picture and parameters: the parameters go through
the routes' own checks (:mod:`.vision.params`, so the error texts are the API's), the picture is decoded under that
API's limits, and the body comes from the same serializers. Exit status: 0 done, 1 with one ``percept: ...`` line
on stderr when the picture, a parameter or the output is wrong.
"""

from __future__ import annotations

import argparse
import re
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import PerceptError

if TYPE_CHECKING:
    from .vision.analyze import VisionRequest
    from .vision.settings import VisionSettings

CV_VERSIONS = ("v1.0", "v2.0", "v2.1", "v3.0", "v3.1", "v3.2")
IA_VERSION = "4.0"
CV_DEFAULT = "Categories,Tags,Description,Faces,ImageType,Color,Adult,Objects"
IA_DEFAULT = "caption,tags,objects,people,smartCrops"
_SIZE = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*$")


class CliError(Exception):
    """A mistake on the command line the API has no error for (an output that cannot be written)."""


def guarded(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """``run`` whose errors become one line on stderr and exit status 1 (``percept gallery`` uses it too)."""

    def run_guarded(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except PerceptError as exc:
            print(f"percept: {exc.message}", file=sys.stderr)
        except CliError as exc:
            print(f"percept: {exc}", file=sys.stderr)
        except FileNotFoundError as exc:
            print(f"percept: file not found: {exc.filename}", file=sys.stderr)
        except IsADirectoryError as exc:
            print(f"percept: not a file: {exc.filename}", file=sys.stderr)
        except PermissionError as exc:
            print(f"percept: permission denied: {exc.filename}", file=sys.stderr)
        return 1

    return run_guarded


def _settings(data_dir: str | None) -> VisionSettings:
    from .vision.settings import VisionSettings

    return VisionSettings(gallery_dir=str(Path(data_dir) / "galleries")) if data_dir else VisionSettings()


def _request(args: argparse.Namespace) -> VisionRequest:
    """The route's query checks (:mod:`.vision.params`), in its order, on the command's options."""
    from .vision import params
    from .vision.image import InvalidDetails

    if args.api == IA_VERSION:
        request = params.ia_analyze(IA_DEFAULT if args.features is None else args.features, args.language)
        if args.details:
            raise InvalidDetails("Image Analysis 4.0 has no details; Celebrities and Landmarks are v1.0–v3.2 only.")
        return request
    value = args.features
    if value is None:  # the default set, less what this version or language does not offer
        older = params.older(args.api) or args.language != "en"
        value = ",".join(n for n in CV_DEFAULT.split(",") if not (older and n == "Objects"))
    return params.cv_analyze(args.api, value, args.details, args.language)


def _analyze(args: argparse.Namespace) -> int:
    import orjson

    from .vision.image import CV_LIMITS, IA_LIMITS
    from .vision.worker import analyze_bytes

    ia = args.api == IA_VERSION
    request = _request(args)
    data = Path(args.file).read_bytes()
    result = analyze_bytes(data, IA_LIMITS if ia else CV_LIMITS, request, _settings(args.data_dir))
    if ia:
        from .serializers.imageanalysis import result_body

        body = result_body(result, request.features)
    else:
        from .serializers.vision import analyze_body

        body = analyze_body(args.api, result, str(uuid.uuid4()), request.features)
    option = orjson.OPT_APPEND_NEWLINE | (orjson.OPT_INDENT_2 if args.pretty else 0)
    sys.stdout.buffer.write(orjson.dumps(body, option=option))
    sys.stdout.flush()
    return 0


def _size(text: str) -> tuple[int, int]:
    """``WxH``, each side checked as generateThumbnail's ``width`` and ``height`` are."""
    from .vision import params
    from .vision.image import InvalidThumbnailSize

    match = _SIZE.match(text)
    if match is None:
        raise InvalidThumbnailSize(f"The thumbnail size '{text}' is not valid: write it as WIDTHxHEIGHT, e.g. 100x100.")
    width, height = (str(int(side)) for side in match.groups())  # "0100" is reported as 100
    return params.thumbnail_size("v3.2", "width", width), params.thumbnail_size("v3.2", "height", height)


def _thumbnail(args: argparse.Namespace) -> int:
    from .vision.image import CV_LIMITS
    from .vision.worker import thumbnail_bytes

    width, height = _size(args.size)
    to_stdout = args.output in (None, "-")
    if to_stdout and sys.stdout.isatty():
        raise CliError("standard output is a terminal: name the JPEG with -o OUT.jpg, or redirect the output.")
    data = Path(args.file).read_bytes()
    jpeg = thumbnail_bytes(data, CV_LIMITS, width, height, args.smart, _settings(None))
    if to_stdout:
        sys.stdout.buffer.write(jpeg)
        sys.stdout.flush()
    else:
        Path(args.output).write_bytes(jpeg)
    return 0


def add_vision_commands(subparsers: Any) -> None:
    """Add ``analyze-image`` and ``thumbnail`` to the ``percept`` command's sub-parsers."""
    analyze: argparse.ArgumentParser = subparsers.add_parser(
        "analyze-image",
        help="analyze a picture: tags, caption, objects, faces... (Computer Vision v3.2 or Image Analysis 4.0 JSON)",
        description="Print the body the server's analyze route answers for this picture: Computer Vision "
        "/vision/{version}/analyze, or with --api 4.0 Image Analysis imageanalysis:analyze. Runs in this process.",
    )
    analyze.add_argument("file", help="JPEG, PNG, GIF or BMP (4.0 also WebP, ICO, MPO, TIFF)")
    analyze.add_argument(
        "--features",
        help=f"comma-separated; v1.0–v3.2 visualFeatures (default {CV_DEFAULT}), 4.0 features (default {IA_DEFAULT})",
    )
    analyze.add_argument(
        "--api", choices=[*CV_VERSIONS, IA_VERSION], default="v3.2", help="the API whose answer to print"
    )
    analyze.add_argument("--language", default="en", help="en (v1.0–v3.2 also es, ja, pt, zh)")
    analyze.add_argument("--details", help="v1.0–v3.2: Celebrities,Landmarks (named in categories[].detail)")
    analyze.add_argument("--data-dir", help="the server's data directory, whose galleries name celebrities/landmarks")
    analyze.add_argument("--pretty", action="store_true", help="indent the JSON")
    analyze.set_defaults(func=guarded(_analyze))

    thumb: argparse.ArgumentParser = subparsers.add_parser(
        "thumbnail",
        help="a WxH JPEG thumbnail of a picture (Computer Vision generateThumbnail)",
        description="Write exactly WIDTHxHEIGHT pixels of JPEG, cropped and scaled as generateThumbnail does. "
        "The JPEG goes to -o OUT.jpg, or to standard output when it is redirected (-o - or no -o); with no -o "
        "and a terminal for standard output, nothing is written and the exit status is 1.",
    )
    thumb.add_argument("file", help="JPEG, PNG, GIF or BMP under 4 MB")
    thumb.add_argument("size", help="WIDTHxHEIGHT, each 1 to 1024, e.g. 100x100")
    thumb.add_argument(
        "--smart",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="keep the faces and objects found in frame (default: --smart)",
    )
    thumb.add_argument("-o", "--output", help="the JPEG to write ('-': standard output)")
    thumb.set_defaults(func=guarded(_thumbnail))
