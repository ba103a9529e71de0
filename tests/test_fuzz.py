"""A short fixed-seed slice of benchmarks/fuzz.py: bad input must end in a 4xx, never a 500, a hang or a crash.

The slice runs as its own process, which moves into a network namespace with only loopback before it starts the
server: schemathesis and the bodies target name URLs, and the default URL policy would fetch public ones.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import needs

FUZZ = Path(__file__).resolve().parents[1] / "benchmarks" / "fuzz.py"


def _findings(result: dict) -> str:
    """What went wrong, for the failure message: the first finding of each kind per target, and the server log."""
    out = []
    for name, target in result["targets"].items():
        for kind, found in target["findings"].items():
            if found:
                out.append(f"{name} {kind} x{len(found)}: {json.dumps(found[0], default=str)[:1500]}")
    out += [f"server log: {tb[:1500]}" for tb in result["server"].get("tracebacks", [])[:3]]
    return "\n".join(out)


def test_fuzz_slice_finds_no_500_hang_or_crash(tmp_path: Path) -> None:
    check = subprocess.run([sys.executable, str(FUZZ), "--check-isolation"], capture_output=True, text=True)
    if check.returncode != 0:
        needs.missing(f"a network namespace for the fuzzed server (unshare needs root): {check.stderr.strip()}")
    out = tmp_path / "fuzz.json"
    run = subprocess.run(
        [sys.executable, str(FUZZ), "--quick", "--json", str(out), "--findings", str(tmp_path / "findings")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.exists(), run.stderr[-4000:]
    result = json.loads(out.read_text())
    assert result["network_isolated"] is True
    targets = result["targets"]
    assert targets["loaders"]["cases"] == 1500 and targets["bodies"]["cases"] == 40
    assert targets["openapi"]["cases"] >= 90  # one positive and one negative case per operation, where one exists
    # The slice reaches both sides: the seeds and some mutants load, most mutants are refused with a 4xx code.
    assert sum(v for k, v in targets["loaders"]["outcomes"].items() if k.startswith("ok:")) >= 24
    assert sum(v for k, v in targets["loaders"]["outcomes"].items() if k.startswith("rejected:")) >= 500
    totals = result["totals"]
    assert totals["harness_errors"] == 0, run.stderr[-4000:]
    assert (totals["500s"], totals["hangs"], totals["crashes"], totals["server_logged_tracebacks"]) == (0, 0, 0, 0), (
        _findings(result)
    )
    assert run.returncode == 0, run.stderr[-4000:]
