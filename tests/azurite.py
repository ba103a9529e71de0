"""A real Azure Storage emulator (Azurite, from npm) for the tests that train from blob containers."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from server_harness import descendants, free_port, group, wait_gone

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT = "devstoreaccount1"
# Azurite's published development account key (not a secret).
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def azurite_binary() -> str | None:
    local = ROOT / ".tools" / "node_modules" / ".bin" / "azurite-blob"
    return str(local) if local.exists() else shutil.which("azurite-blob")


@contextmanager
def running_azurite(binary: str, where: Path) -> Iterator[str]:
    """Start Azurite's blob service on a free port; yields the account's blob endpoint."""
    port = free_port()
    proc = subprocess.Popen(
        [
            binary,
            "--silent",
            "--disableTelemetry",
            "--skipApiVersionCheck",
            "--location",
            str(where),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        raise RuntimeError("Azurite did not start")
    try:
        yield f"http://127.0.0.1:{port}/{ACCOUNT}"
    finally:
        members = [*descendants(proc.pid), *group(proc.pid)]
        os.killpg(proc.pid, signal.SIGTERM)  # its own session: the whole group, and wait until all of it is gone
        proc.wait(10)
        for left in wait_gone(members, 10):
            left.kill()


def container(blob_endpoint: str, name: str, files: dict[str, bytes], permission: str = "rl") -> str:
    """A container holding ``files`` (uploaded in parallel); returns its SAS URL with ``permission`` (read and
    list by default, as the portal gives one; ``rwlcd`` and the like for result containers)."""
    from concurrent.futures import ThreadPoolExecutor

    from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas

    service = BlobServiceClient(blob_endpoint, credential={"account_name": ACCOUNT, "account_key": ACCOUNT_KEY})
    client = service.create_container(name)
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda item: client.upload_blob(item[0], item[1]), files.items()))
    sas = generate_container_sas(
        ACCOUNT,
        name,
        account_key=ACCOUNT_KEY,
        permission=ContainerSasPermissions.from_string(permission),
        expiry=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )
    return f"{blob_endpoint}/{name}?{sas}"
