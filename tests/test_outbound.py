"""Every outbound fetch (URL sources, blob training sources) goes through one guarded client: each connection is
resolved, checked and pinned, redirects are re-checked hop by hop, and caps count received bytes under one deadline.

No traffic leaves this machine: 127.0.0.1 plays the allowed on-premises host, 127.0.0.2 the metadata service (it
is refused unless allow-listed) and its listener counts accepted TCP connections, which must stay at zero. The
non-loopback address forms are checked against the policy function only, never connected to.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import builders
import pytest
import requests
from server_harness import KEY, serving, start_server

from percept.custom.sources import InvalidTrainingSource, SourceLimits, collect
from percept.errors import ContentTooLarge, InvalidUrlSource
from percept.io.http import UrlPolicy, fetch, is_public

HEADERS = {"Ocp-Apim-Subscription-Key": KEY}
DI_ANALYZE = "/documentintelligence/documentModels/prebuilt-read:analyze?api-version=2024-11-30"
URL_TIMEOUT = 3.0  # the server's PERCEPT_URL_TIMEOUT in these tests
PDF = builders.text_pdf([["Guarded fetch"]])


# --- loopback stand-ins --------------------------------------------------------------------------------------


@dataclass
class Listener:
    """A raw TCP listener that counts accepted connections (not just HTTP requests) and closes them."""

    host: str
    port: int
    accepted: int = 0


@contextmanager
def counting_listener(host: str, port: int = 0) -> Iterator[Listener]:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(16)
    state = Listener(host, sock.getsockname()[1])
    stop = threading.Event()

    def serve() -> None:
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            state.accepted += 1
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        stop.set()
        thread.join(2)
        sock.close()


Route = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Origin:
    """An HTTP/1.0 server (one connection per request) whose paths answer with ``routes``; ``hits`` logs them."""

    host: str
    port: int
    routes: dict[str, Route] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)


@contextmanager
def origin(host: str = "127.0.0.1", port: int = 0) -> Iterator[Origin]:
    state = Origin(host, port)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits.append(self.path)
            route = state.routes.get(urlsplit(self.path).path)
            if route is None:
                self.send_response(404)
                self.end_headers()
            else:
                route(self)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer((host, port), Handler)
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    with serving(httpd):
        yield state


def body(data: bytes, *, declare: bool = True, status: int = 200) -> Route:
    """Serve ``data``; without ``declare`` there is no Content-Length and the body runs to the connection's end."""

    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        if declare:
            h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    return route


def redirect(location: str) -> Route:
    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(302)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return route


def trickle(seconds: float = 30.0) -> Route:
    """Headers at once, then one byte every 0.1 s: each read is quick, the whole never ends in time."""

    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "1000000")
        h.end_headers()
        end = time.monotonic() + seconds
        try:
            while time.monotonic() < end:
                h.wfile.write(b"%")
                h.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass  # the client gave up, as it must

    return route


def listing(blobs: dict[str, int]) -> Route:
    """A List Blobs answer declaring ``blobs`` (name -> Content-Length)."""
    items = "".join(
        f"<Blob><Name>{name}</Name><Properties><Content-Length>{size}</Content-Length></Properties></Blob>"
        for name, size in blobs.items()
    )
    xml = f'<?xml version="1.0" encoding="utf-8"?><EnumerationResults><Blobs>{items}</Blobs><NextMarker/>'
    return body((xml + "</EnumerationResults>").encode())


@contextmanager
def twin_ports() -> Iterator[tuple[Origin, Listener]]:
    """An origin on 127.0.0.1:P and a counting listener on 127.0.0.2:P: one host name, two answers."""
    with ExitStack() as stack:
        for _ in range(20):
            good = stack.enter_context(origin("127.0.0.1"))
            try:
                evil = stack.enter_context(counting_listener("127.0.0.2", good.port))
                break
            except OSError:
                continue  # the port is taken on 127.0.0.2; try another
        else:
            raise RuntimeError("no port free on both 127.0.0.1 and 127.0.0.2")
        yield good, evil


@contextmanager
def mute_listener() -> Iterator[int]:
    """A port whose connections complete (the kernel's backlog) but are never answered."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


@pytest.fixture
def rebinding(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """'rebind.test' resolves to 127.0.0.1 the first time and to 127.0.0.2 after; returns the answers given."""
    real = socket.getaddrinfo
    answers: list[str] = []

    def resolver(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "rebind.test":
            answers.append("127.0.0.1" if not answers else "127.0.0.2")
            return real(answers[-1], port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    return answers


# --- the policy ----------------------------------------------------------------------------------------------


def _forms(v4: str) -> list[str]:
    """IPv6 addresses that reach ``v4``: mapped, compatible, NAT64 (well-known and local-use), 6to4, Teredo."""
    n = int(ipaddress.IPv4Address(v4))
    hi, lo = f"{n >> 16:x}", f"{n & 0xFFFF:x}"
    xor = n ^ 0xFFFFFFFF  # Teredo stores the client address inverted
    return [
        f"::ffff:{v4}",
        f"::{v4}",
        f"64:ff9b::{v4}",
        f"64:ff9b:1::{hi}:{lo}",
        f"2002:{hi}:{lo}::1",
        f"2001:0:4136:e378:8000:63bf:{xor >> 16:x}:{xor & 0xFFFF:x}",  # public Teredo server, client = v4
        f"2001:0:{hi}:{lo}:8000:63bf:3fff:fdd2",  # Teredo server = v4
    ]


REFUSED_V4 = ["127.0.0.1", "10.0.0.1", "169.254.169.254"]


@pytest.mark.parametrize("address", [f for v4 in REFUSED_V4 for f in _forms(v4)])
def test_ipv6_forms_embedding_a_refused_ipv4_address_are_refused(address: str) -> None:
    ip = ipaddress.ip_address(address)
    assert not is_public(ip)
    assert not UrlPolicy().permits("metadata.example", ip, 80)


@pytest.mark.parametrize("address", ["64:ff9b::7f00:1", "2002:a9fe:a9fe::1", "::a00:1", "fec0::1"])
def test_the_stdlib_rule_alone_admitted_these(address: str) -> None:
    """The attack the policy closes: ``is_global`` (what was checked before) says yes to them."""
    ip = ipaddress.ip_address(address)
    if not ip.is_global:
        pytest.skip("this Python's is_global already refuses it")
    assert not is_public(ip)


@pytest.mark.parametrize("address", ["fec0::1", "fd00::1", "fc00::1", "fe80::1", "ff02::1", "::1", "::", "224.0.0.1"])
def test_local_and_multicast_ipv6_ranges_are_refused(address: str) -> None:
    assert not UrlPolicy().permits("h", ipaddress.ip_address(address), 443)


@pytest.mark.parametrize("address", ["64:ff9b::808:808", "2606:4700::1", "2002:808:808::1", "8.8.8.8"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert UrlPolicy().permits("h", ipaddress.ip_address(address), 443)


def test_allow_list_entries() -> None:
    ip = ipaddress.ip_address
    policy = UrlPolicy.parse("127.0.0.1:8080, [::1]:9000, blobs.local, storage.local:10000, 10.0.0.0/8, fd00::/8")
    assert policy.permits("127.0.0.1", ip("127.0.0.1"), 8080)
    assert not policy.permits("127.0.0.1", ip("127.0.0.1"), 8081)  # host:port admits that port only
    assert policy.permits("x", ip("::ffff:127.0.0.1"), 8080)  # the mapped form is the IPv4 address
    assert not policy.permits("x", ip("127.0.0.2"), 8080)
    assert policy.permits("::1", ip("::1"), 9000) and not policy.permits("::1", ip("::1"), 9001)
    assert policy.permits("Blobs.Local.", ip("192.168.1.5"), 1) and policy.permits("blobs.local", ip("::1"), 65535)
    assert policy.permits("storage.local", ip("127.0.0.1"), 10000)
    assert not policy.permits("storage.local", ip("127.0.0.1"), 10001)
    assert policy.permits("x", ip("10.200.0.1"), 22) and not policy.permits("x", ip("192.168.0.1"), 22)
    assert policy.permits("x", ip("fd12::1"), 443) and not policy.permits("x", ip("fe80::1"), 443)
    assert not UrlPolicy.parse("").permits("localhost", ip("127.0.0.1"), 80)


@pytest.mark.parametrize("entry", ["[::1", "[::1]x", "host:0", "host:http", "a:b:c", "host:70000", "a/b"])
def test_malformed_allow_list_entries_fail_loudly(entry: str) -> None:
    with pytest.raises(ValueError):
        UrlPolicy.parse(entry)


# --- in-process: rebinding, received-byte caps, deadlines -----------------------------------------------------


def test_rebinding_cannot_move_a_url_fetch(rebinding: list[str], tmp_path: Path) -> None:
    with twin_ports() as (good, evil):
        good.routes["/doc.pdf"] = body(PDF)
        policy = UrlPolicy.parse(f"127.0.0.1:{good.port}")
        url = f"http://rebind.test:{good.port}/doc.pdf"
        size = fetch(url, tmp_path / "a", policy=policy, max_bytes=1 << 20, timeout=5, max_redirects=0)
        assert size == len(PDF) and (tmp_path / "a").read_bytes() == PDF
        assert rebinding == ["127.0.0.1"]  # resolved once, and the connection went to that checked answer
        with pytest.raises(InvalidUrlSource, match=r"127\.0\.0\.2.*PERCEPT_URL_ALLOW"):
            fetch(url, tmp_path / "b", policy=policy, max_bytes=1 << 20, timeout=5, max_redirects=0)
        assert good.hits == ["/doc.pdf"]
        assert evil.accepted == 0


def test_rebinding_cannot_move_a_blob_download(rebinding: list[str], tmp_path: Path) -> None:
    """The listing's connection resolves to the allowed address, the download's (a new connection) to the refused
    one; checking the host once up front and letting a library resolve again is exactly what this catches."""
    with twin_ports() as (good, evil):
        good.routes["/acct/forms"] = listing({"a.pdf": len(PDF)})
        good.routes["/acct/forms/a.pdf"] = body(PDF)
        policy = UrlPolicy.parse(f"127.0.0.1:{good.port}", setting="PERCEPT_STORAGE_ALLOW")
        with pytest.raises(InvalidTrainingSource, match=r"127\.0\.0\.2.*PERCEPT_STORAGE_ALLOW"):
            collect(
                f"http://rebind.test:{good.port}/acct/forms?sig=x", "", False, tmp_path, policy=policy, local_root=""
            )
        assert [urlsplit(h).path for h in good.hits] == ["/acct/forms"]
        assert rebinding == ["127.0.0.1", "127.0.0.2"]
        assert evil.accepted == 0


def test_blob_caps_count_received_bytes_not_the_listing(tmp_path: Path) -> None:
    with origin() as blobs:
        blobs.routes["/acct/forms"] = listing({"a.pdf": 10, "b.pdf": 10, "c.pdf": 10})  # it lies
        for name in ("a", "b", "c"):
            blobs.routes[f"/acct/forms/{name}.pdf"] = body(b"%PDF" + b"x" * 5996, declare=False)  # 6000 bytes each
        url = f"http://127.0.0.1:{blobs.port}/acct/forms?sv=2021-08-06&sig=x"
        policy = UrlPolicy.parse(f"127.0.0.1:{blobs.port}")
        got = collect(
            url, "", False, tmp_path / "ok", policy=policy, local_root="", limits=SourceLimits(total_bytes=18000)
        )
        assert [f.path.stat().st_size for f in got] == [6000, 6000, 6000]
        assert all("sig=x" in hit for hit in blobs.hits)  # the SAS goes with every request
        with pytest.raises(InvalidTrainingSource, match="The training files exceed 8000 bytes"):
            collect(
                url, "", False, tmp_path / "big", policy=policy, local_root="", limits=SourceLimits(total_bytes=8000)
            )
        assert (tmp_path / "big" / "b.pdf").stat().st_size <= 2000  # cut off while streaming, at the cap
        with pytest.raises(InvalidTrainingSource, match="more than 2 training files"):
            collect(url, "", False, tmp_path / "many", policy=policy, local_root="", limits=SourceLimits(files=2))


def test_url_fetch_cap_counts_received_bytes(tmp_path: Path) -> None:
    with origin() as site:
        site.routes["/big"] = body(b"y" * 50000, declare=False)
        policy = UrlPolicy.parse(f"127.0.0.1:{site.port}")
        with pytest.raises(ContentTooLarge, match="larger than the limit of 1000 bytes"):
            fetch(
                f"http://127.0.0.1:{site.port}/big",
                tmp_path / "x",
                policy=policy,
                max_bytes=1000,
                timeout=5,
                max_redirects=0,
            )


@pytest.mark.parametrize("where", ["download trickles", "listing never answers"])
def test_blob_source_has_one_deadline(where: str, tmp_path: Path) -> None:
    with origin() as blobs, mute_listener() as mute:
        blobs.routes["/acct/forms"] = listing({"a.pdf": 1000000})
        blobs.routes["/acct/forms/a.pdf"] = trickle()
        port = blobs.port if where == "download trickles" else mute
        url = f"http://127.0.0.1:{port}/acct/forms?sig=x"
        policy = UrlPolicy.parse(f"127.0.0.1:{port}", setting="PERCEPT_STORAGE_ALLOW")
        start = time.monotonic()
        with pytest.raises(InvalidTrainingSource, match="did not finish within"):
            collect(url, "", False, tmp_path, policy=policy, local_root="", limits=SourceLimits(seconds=1.5))
        assert 1.4 < time.monotonic() - start < 1.5 + 1.5


def test_url_fetch_waiting_for_headers_has_the_deadline(tmp_path: Path) -> None:
    """A server that accepts and then says nothing at all."""
    with mute_listener() as port:
        start = time.monotonic()
        with pytest.raises(InvalidUrlSource, match=r"did not finish within 1\.5 s"):
            fetch(
                f"http://127.0.0.1:{port}/",
                tmp_path / "x",
                policy=UrlPolicy.parse(f"127.0.0.1:{port}"),
                max_bytes=1000,
                timeout=1.5,
                max_redirects=0,
            )
        assert time.monotonic() - start < 1.5 + 1.5


def test_a_resolver_that_hangs_does_not_outlast_the_deadline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = socket.getaddrinfo

    def resolver(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "slow.test":
            time.sleep(5)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    start = time.monotonic()
    with pytest.raises(InvalidUrlSource, match="did not finish within 1 s"):
        fetch("http://slow.test/", tmp_path / "x", policy=UrlPolicy(), max_bytes=1000, timeout=1, max_redirects=0)
    assert time.monotonic() - start < 1 + 1


# --- the real server ------------------------------------------------------------------------------------------


@dataclass
class Scene:
    endpoint: str
    allowed: Origin  # 127.0.0.1, allow-listed for its port only
    metadata: Listener  # 127.0.0.2: the address a redirect must never reach
    other_port: Listener  # 127.0.0.1 on a port that is not allow-listed


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    with origin() as allowed, counting_listener("127.0.0.2") as metadata, counting_listener("127.0.0.1") as other:
        entry = f"127.0.0.1:{allowed.port}"
        srv = start_server(
            tmp_path_factory.mktemp("outbound") / "data",
            PERCEPT_URL_ALLOW=entry,
            PERCEPT_STORAGE_ALLOW=entry,
            PERCEPT_URL_TIMEOUT=str(URL_TIMEOUT),
            PERCEPT_WORKERS="1",
        )
        try:
            yield Scene(srv.endpoint, allowed, metadata, other)
        finally:
            srv.stop()


def _poll(url: str) -> dict[str, Any]:
    for _ in range(120):
        got = requests.get(url, headers=HEADERS).json()
        status = got.get("status") or got.get("modelInfo", {}).get("status")
        if status in ("succeeded", "failed", "ready", "invalid"):
            return got
        time.sleep(0.25)
    raise AssertionError("did not finish")


def _redirecting_container(scene: Scene) -> str:
    name = uuid.uuid4().hex[:8]
    scene.allowed.routes[f"/acct/{name}"] = redirect(f"http://127.0.0.2:{scene.metadata.port}/latest/meta-data")
    return f"http://127.0.0.1:{scene.allowed.port}/acct/{name}?sv=2021-08-06&sig=x"


def test_v2_training_source_redirecting_to_metadata_never_connects(scene: Scene) -> None:
    source = _redirecting_container(scene)
    resp = requests.post(
        scene.endpoint + "/formrecognizer/v2.1/custom/models", json={"source": source}, headers=HEADERS
    )
    assert resp.status_code == 201, resp.text
    model = _poll(resp.headers["location"])
    assert model["modelInfo"]["status"] == "invalid"
    error = model["trainResult"]["errors"][0]
    assert error["code"] == "InvalidTrainingSource"
    assert "127.0.0.2" in error["message"] and "PERCEPT_STORAGE_ALLOW" in error["message"]
    assert urlsplit(source).path in [urlsplit(h).path for h in scene.allowed.hits]  # the redirect was served
    assert scene.metadata.accepted == 0


def test_v3_build_redirecting_to_metadata_fails_without_connecting(scene: Scene) -> None:
    source = _redirecting_container(scene)
    resp = requests.post(
        scene.endpoint + "/formrecognizer/documentModels:build?api-version=2023-07-31",
        json={
            "modelId": f"m{uuid.uuid4().hex[:8]}",
            "buildMode": "template",
            "azureBlobSource": {"containerUrl": source},
        },
        headers=HEADERS,
    )
    assert resp.status_code == 202, resp.text
    operation = _poll(resp.headers["operation-location"])
    assert operation["status"] == "failed"
    assert operation["error"]["innererror"]["code"] == "InvalidTrainingSource"
    assert "127.0.0.2" in operation["error"]["innererror"]["message"]
    assert scene.metadata.accepted == 0


def test_url_source_redirecting_to_metadata_never_connects(scene: Scene) -> None:
    scene.allowed.routes["/hop"] = redirect(f"http://127.0.0.2:{scene.metadata.port}/latest/meta-data")
    resp = requests.post(
        scene.endpoint + DI_ANALYZE, headers=HEADERS, json={"urlSource": f"http://127.0.0.1:{scene.allowed.port}/hop"}
    )
    assert resp.status_code == 400
    assert resp.json()["error"]["innererror"]["code"] == "InvalidImageUrl"
    assert "127.0.0.2" in resp.json()["error"]["innererror"]["message"]
    assert "/hop" in scene.allowed.hits
    assert scene.metadata.accepted == 0


def test_url_allow_list_admits_its_port_only(scene: Scene) -> None:
    scene.allowed.routes["/doc.pdf"] = body(PDF)
    ok = requests.post(
        scene.endpoint + DI_ANALYZE,
        headers=HEADERS,
        json={"urlSource": f"http://127.0.0.1:{scene.allowed.port}/doc.pdf"},
    )
    assert ok.status_code == 202, ok.text
    assert "Guarded fetch" in _poll(ok.headers["operation-location"])["analyzeResult"]["content"]
    refused = requests.post(
        scene.endpoint + DI_ANALYZE, headers=HEADERS, json={"urlSource": f"http://127.0.0.1:{scene.other_port.port}/x"}
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["innererror"]["code"] == "InvalidImageUrl"
    assert scene.other_port.accepted == 0


def test_url_source_trickling_past_the_deadline_is_refused_in_time(scene: Scene) -> None:
    scene.allowed.routes["/trickle"] = trickle()
    start = time.monotonic()
    resp = requests.post(
        scene.endpoint + DI_ANALYZE,
        headers=HEADERS,
        json={"urlSource": f"http://127.0.0.1:{scene.allowed.port}/trickle"},
    )
    elapsed = time.monotonic() - start
    assert resp.status_code == 400
    assert resp.json()["error"]["innererror"]["code"] == "InvalidImageUrl"
    assert f"did not finish within {URL_TIMEOUT:g} s" in resp.json()["error"]["innererror"]["message"]
    assert URL_TIMEOUT - 0.1 < elapsed < URL_TIMEOUT + 2.0
