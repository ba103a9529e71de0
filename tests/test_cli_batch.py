"""``percept batch`` run as a user runs it: a folder of mixed documents into a result folder (results, a failure
reported with exit status 1, skips on a second run, --overwrite), and blob containers on a real Azurite through
the storage allow-list."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import builders
from azurite import ACCOUNT, ACCOUNT_KEY, container


def _batch(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PERCEPT_")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "percept", "batch", *args, "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=environment,
    )


def _results(root: Path) -> dict[str, dict]:
    return {p.relative_to(root).as_posix(): json.loads(p.read_bytes()) for p in root.rglob("*") if p.is_file()}


def _summary(stderr: str) -> str:
    return stderr.strip().splitlines()[-1].split(" in ")[0]


def test_folder_to_folder_reports_failures_and_skips_done_documents(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    (src / "sub").mkdir(parents=True)
    (src / "a.pdf").write_bytes(builders.text_pdf([["Alpha folder document one"]]))
    (src / "sub" / "b.pdf").write_bytes(builders.text_pdf([["Bravo folder document two"]]))
    builders.save_image(
        builders.scan(builders.render(builders.text_pdf([["Scanned Kilo page"]]), dpi=200), skew=1.0), src / "scan.png"
    )
    (src / "broken.pdf").write_bytes(b"%PDF-1.7\n this is no pdf at all")

    first = _batch(str(src), str(out))
    assert first.returncode == 1, first.stderr
    assert first.stdout == ""
    lines = first.stderr.strip().splitlines()
    assert lines[:-1] == [
        "percept: failed: broken.pdf: InvalidContent: The PDF is corrupt or truncated and cannot be opened."
    ]
    assert _summary(first.stderr) == "percept: 4 documents: 3 succeeded, 0 skipped, 1 failed"
    results = _results(out)
    assert set(results) == {"a.pdf.ocr.json", "sub/b.pdf.ocr.json", "scan.png.ocr.json"}
    for name, text in (
        ("a.pdf.ocr.json", "Alpha folder document one"),
        ("sub/b.pdf.ocr.json", "Bravo folder document two"),
        ("scan.png.ocr.json", "Scanned Kilo page"),
    ):
        assert results[name]["status"] == "succeeded"
        assert results[name]["analyzeResult"]["apiVersion"] == "2024-11-30"
        assert results[name]["analyzeResult"]["modelId"] == "prebuilt-read"
        assert results[name]["analyzeResult"]["content"] == text
    written = {p: p.stat().st_mtime_ns for p in out.rglob("*.ocr.json")}

    again = _batch(str(src), str(out))
    assert again.returncode == 1
    assert _summary(again.stderr) == "percept: 4 documents: 0 succeeded, 3 skipped, 1 failed"
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.ocr.json")} == written  # nothing rewritten

    (src / "broken.pdf").unlink()
    redo = _batch(
        str(src), str(out), "--overwrite", "--model", "prebuilt-layout", "--output-content-format", "markdown"
    )
    assert redo.returncode == 0, redo.stderr
    assert _summary(redo.stderr) == "percept: 3 documents: 3 succeeded, 0 skipped, 0 failed"
    body = json.loads((out / "a.pdf.ocr.json").read_bytes())["analyzeResult"]
    assert (body["modelId"], body["contentFormat"]) == ("prebuilt-layout", "markdown")
    assert "Alpha folder document one" in body["content"]


def test_bad_options_exit_2_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    markdown = _batch(str(tmp_path / "src"), str(tmp_path / "out"), "--output-content-format", "markdown")
    assert markdown.returncode == 2
    assert "markdown needs prebuilt-layout" in markdown.stderr
    custom = _batch(str(tmp_path / "src"), str(tmp_path / "out"), "--model", "nope", "--data-dir", str(tmp_path / "d"))
    assert custom.returncode == 2
    assert custom.stderr.strip() == "percept: NotFound: Model 'nope' was not found or is not ready."
    missing = _batch(str(tmp_path / "nothing"), str(tmp_path / "out"))
    assert missing.returncode == 2 and "not a folder" in missing.stderr


def test_blob_containers_through_the_storage_allow_list(azurite: str) -> None:
    from azure.storage.blob import BlobServiceClient

    files = {
        "in/a.pdf": builders.text_pdf([["Alpha blob document one"]]),
        "in/sub/b.pdf": builders.text_pdf([["Bravo blob document two"]]),
        "other/c.pdf": builders.text_pdf([["Charlie outside the prefix"]]),
    }
    source = container(azurite, "cli-src", files, "rl")
    results = container(azurite, "cli-out", {}, "rwl")

    refused = _batch(source, results, "--prefix", "in/")  # Azurite is on loopback: not allowed by default
    assert refused.returncode == 2
    assert "ContentSourceNotAccessible" in refused.stderr and "PERCEPT_STORAGE_ALLOW" in refused.stderr

    done = _batch(source, results, "--prefix", "in/", PERCEPT_STORAGE_ALLOW="127.0.0.1")
    assert done.returncode == 0, done.stderr
    assert _summary(done.stderr) == "percept: 2 documents: 2 succeeded, 0 skipped, 0 failed"
    service = BlobServiceClient(azurite, credential={"account_name": ACCOUNT, "account_key": ACCOUNT_KEY})
    out = service.get_container_client("cli-out")
    written = {b.name: json.loads(out.download_blob(b.name).readall()) for b in out.list_blobs()}
    assert set(written) == {"a.pdf.ocr.json", "sub/b.pdf.ocr.json"}
    assert written["a.pdf.ocr.json"]["analyzeResult"]["content"] == "Alpha blob document one"
    assert written["sub/b.pdf.ocr.json"]["analyzeResult"]["content"] == "Bravo blob document two"

    again = _batch(source, results, "--prefix", "in/", PERCEPT_STORAGE_ALLOW="127.0.0.1")
    assert again.returncode == 0
    assert _summary(again.stderr) == "percept: 2 documents: 0 succeeded, 2 skipped, 0 failed"
