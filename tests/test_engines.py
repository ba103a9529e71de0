"""The engine registry (``percept.engines``): typed, validated options from one environment rule, engines built
once per process, clear errors for unknown or misconfigured engines, and language hints resolved by the engine."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import Field

import percept.ocr  # noqa: F401 - registers the built-in OCR engines
from percept import engines
from percept.engines import EngineOptions, EngineSpec
from percept.errors import EngineUnavailable
from percept.ocr import TesseractOptions, available_engines, engine_languages
from percept.ocr.languages import installed_packs


class DemoOptions(EngineOptions):
    size: int = Field(3, ge=1, description="How big.")
    mode: str = Field("fast", description="How.")


@dataclass
class Demo:
    options: DemoOptions


BUILT: list[DemoOptions] = []


def _build(options: DemoOptions) -> Demo:
    BUILT.append(options)
    return Demo(options)


def _missing(options: DemoOptions) -> Demo:
    import percept_no_such_module  # type: ignore[import-not-found]  # noqa: F401

    raise AssertionError("unreachable")


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test registers into a copy of the registry, so test engines do not outlive it."""
    monkeypatch.setattr(engines, "_SPECS", dict(engines._SPECS))
    monkeypatch.setattr(engines, "_INSTANCES", {})
    BUILT.clear()


def _demo(**kwargs: object) -> EngineSpec[Demo, DemoOptions]:
    return engines.register(EngineSpec("sketches", "demo", _build, DemoOptions, **kwargs))  # type: ignore[arg-type]


def test_the_ocr_engines_are_registered_as_a_kind() -> None:
    assert "ocr" in engines.kinds()
    assert engines.available("ocr") == available_engines()
    assert {"rapidocr", "tesseract"} <= set(available_engines())
    assert engines.spec("ocr", "tesseract").options is TesseractOptions


def test_unknown_engines_and_kinds_name_what_there_is() -> None:
    with pytest.raises(EngineUnavailable, match=r"Unknown OCR engine 'nope'; available: auto, rapidocr, tesseract\b"):
        engines.get("ocr", "nope")
    with pytest.raises(EngineUnavailable, match=r"Unknown engine kind 'telepathy'; kinds: .*ocr"):
        engines.spec("telepathy", "any")
    _demo()
    with pytest.raises(EngineUnavailable, match=r"Unknown sketches engine 'other'; available: demo\."):
        engines.get("sketches", "other")


def test_options_are_typed_and_a_bad_value_is_refused_clearly() -> None:
    options = engines.load_options("ocr", "tesseract", thresholding="Sauvola", psm="6")
    assert isinstance(options, TesseractOptions)
    assert options.thresholding == "sauvola" and options.psm == 6
    with pytest.raises(EngineUnavailable) as info:
        engines.load_options("ocr", "tesseract", thresholding="magic")
    message = str(info.value)
    assert "tesseract" in message and "thresholding='magic'" in message
    assert "'otsu' or 'sauvola'" in message
    with pytest.raises(EngineUnavailable, match="unknown_option"):
        engines.load_options("ocr", "tesseract", unknown_option=1)
    with pytest.raises(EngineUnavailable, match="TesseractOptions"):
        engines.get("ocr", "rapidocr", TesseractOptions())


def test_options_come_from_the_environment_by_one_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    _demo()
    assert engines.env_name("sketches", "demo", "size") == "PERCEPT_SKETCHES_DEMO_SIZE"
    monkeypatch.setenv("PERCEPT_SKETCHES_DEMO_SIZE", "7")
    assert engines.get("sketches", "demo").options.size == 7
    assert engines.load_options("sketches", "demo", size=9) == DemoOptions(size=9)  # an explicit value wins
    monkeypatch.setenv("PERCEPT_SKETCHES_DEMO_SIZE", "0")
    with pytest.raises(EngineUnavailable, match=r"size='0' \(from PERCEPT_SKETCHES_DEMO_SIZE\)"):
        engines.get("sketches", "demo")


def test_tesseract_keeps_its_first_variable_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PERCEPT_OCR_TESSERACT_THRESHOLDING", raising=False)
    monkeypatch.setenv("PERCEPT_TESSERACT_THRESHOLDING", "sauvola")
    monkeypatch.setenv("PERCEPT_TESSERACT_CMD", "/opt/my-tesseract")
    options = engines.load_options("ocr", "tesseract")
    assert isinstance(options, TesseractOptions)
    assert options.thresholding == "sauvola" and options.command == "/opt/my-tesseract"
    monkeypatch.setenv("PERCEPT_OCR_TESSERACT_THRESHOLDING", "otsu")  # the rule's name wins
    assert engines.load_options("ocr", "tesseract").thresholding == "otsu"  # type: ignore[attr-defined]
    monkeypatch.setenv("PERCEPT_TESSERACT_THRESHOLDING", "")
    monkeypatch.delenv("PERCEPT_OCR_TESSERACT_THRESHOLDING")
    assert engines.load_options("ocr", "tesseract").thresholding == "otsu"  # type: ignore[attr-defined]


def test_an_engine_is_built_once_per_options() -> None:
    _demo()
    first = engines.get("sketches", "demo")
    assert engines.get("sketches", "demo") is first
    assert engines.get("sketches", "demo", DemoOptions()) is first  # the same options as the environment's
    other = engines.get("sketches", "demo", DemoOptions(size=5))
    assert other is not first and other.options.size == 5
    assert engines.get("sketches", "demo", DemoOptions(size=5)) is other
    assert len(BUILT) == 2


def test_a_missing_dependency_names_what_to_install() -> None:
    engines.register(EngineSpec("sketches", "missing", _missing, DemoOptions, needs="pip install 'percept[sketches]'"))
    with pytest.raises(
        EngineUnavailable, match=r"sketches engine 'missing' is not installed: pip install 'percept\[sketches\]'"
    ):
        engines.get("sketches", "missing")


def _fake_tesseract(tmp_path: Path, packs: list[str]) -> str:
    program = tmp_path / f"tesseract-{'-'.join(packs)}"
    listing = "\\n".join(packs)
    program.write_text(f"#!/bin/sh\nprintf 'List of available languages in \"/x/\" ({len(packs)}):\\n{listing}\\n'\n")
    program.chmod(0o755)
    return str(program)


def test_a_language_hint_is_resolved_by_the_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with_german = _fake_tesseract(tmp_path, ["eng", "deu"])
    without = _fake_tesseract(tmp_path, ["eng"])
    assert installed_packs(with_german) == {"eng", "deu"}
    assert engines.language("ocr", "tesseract", "de-DE", TesseractOptions(command=with_german)) == "deu"
    assert engines.language("ocr", "tesseract", "de-DE", TesseractOptions(command=without)) is None
    assert engines.language("ocr", "tesseract", "xx", TesseractOptions(command=with_german)) is None
    assert engines.language("ocr", "tesseract", None, TesseractOptions(command=with_german)) is None
    # the configured program by default, as OCR runs it
    monkeypatch.setenv("PERCEPT_TESSERACT_CMD", with_german)
    assert engine_languages("tesseract", "de_AT") == "deu"
    monkeypatch.setenv("PERCEPT_TESSERACT_CMD", without)
    assert engine_languages("tesseract", "de") is None
    # an engine without a resolver keeps the configured languages
    assert engine_languages("rapidocr", "de-DE") is None
