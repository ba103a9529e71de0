"""The outbound HTTP client, so the server never becomes an SSRF proxy.

Only http(s). Every TCP connection, the first and each redirect's, resolves the host itself, refuses it unless
every address is public (see ``is_public``) or allow-listed, then connects to the address it checked, so DNS
cannot change the answer in between (rebinding). Each request has one deadline that bounds name resolution and
every connect, read and write on its sockets, and bodies are capped on the bytes actually received, never on
what a header or a listing declares.
"""

from __future__ import annotations

import functools
import io
import ipaddress
import math
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from urllib.parse import urlsplit

import httpcore
import httpx

from ..errors import ContentTooLarge, InvalidUrlSource

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# IPv6 ranges refused whatever they embed: IPv4-compatible (deprecated; also :: and ::1), local-use NAT64 (RFC
# 8215: the operator picks the embedding), Teredo (tunnels to an IPv4 server and client), unique-local,
# site-local (deprecated) and link-local.
_REFUSED_V6 = tuple(
    ipaddress.IPv6Network(n) for n in ("::/96", "64:ff9b:1::/48", "2001::/32", "fc00::/7", "fec0::/10", "fe80::/10")
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # well-known NAT64 prefix: the IPv4 address is the last 32 bits


class OutboundError(Exception):
    """A fetch that failed or was refused; ``predicate`` completes a sentence whose subject the caller names."""

    def __init__(self, predicate: str, status: int | None = None) -> None:
        super().__init__(predicate)
        self.predicate = predicate
        self.status = status  # the HTTP status that was answered, if that is what failed

    def sentence(self, subject: str) -> str:
        return f"{subject} {self.predicate}"


class Refused(OutboundError):
    """The destination is not allowed by the policy."""


class TooLarge(OutboundError):
    """More bytes arrived than the cap allows."""


class TimedOut(OutboundError):
    """The deadline passed."""


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a mapped, NAT64 (64:ff9b::/96) or 6to4 address reaches; None for other IPv6."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def is_public(address: Address) -> bool:
    """Whether ``address`` may be reached without being allow-listed: globally routable unicast, and for IPv6
    forms that carry an IPv4 address, that IPv4 address too."""
    if isinstance(address, ipaddress.IPv6Address):
        if any(address in net for net in _REFUSED_V6):
            return False
        inner = embedded_ipv4(address)
        if inner is not None:
            return is_public(inner)
    return address.is_global and not address.is_multicast


@dataclass(frozen=True, slots=True)
class AllowEntry:
    """One allow-list entry: a host name or an IP/CIDR, for one port or (``port`` None) all of them."""

    host: str | None = None
    network: Network | None = None
    port: int | None = None

    @classmethod
    def parse(cls, item: str) -> AllowEntry:
        """``host``, ``host:port``, ``IP``, ``IPv4:port``, ``[IPv6]``, ``[IPv6]:port`` or a CIDR range."""
        if item.startswith("["):
            inside, bracket, rest = item[1:].partition("]")
            if not bracket or (rest and not rest.startswith(":")):
                raise ValueError(f"allow-list entry '{item}' is not [IPv6] or [IPv6]:port")
            return cls(network=ipaddress.ip_network(inside, strict=False), port=_port(item, rest[1:]) if rest else None)
        try:
            return cls(network=ipaddress.ip_network(item, strict=False))
        except ValueError:
            pass
        name, port = item, None
        if item.count(":") == 1:
            name, port_text = item.split(":")
            port = _port(item, port_text)
        if not name or ":" in name or "/" in name:
            raise ValueError(f"allow-list entry '{item}' is not a host, host:port, IP or CIDR range")
        try:
            return cls(network=ipaddress.ip_network(name, strict=False), port=port)
        except ValueError:
            return cls(host=name.lower().rstrip("."), port=port)

    def admits(self, host: str, address: Address, port: int | None) -> bool:
        if self.port is not None and port != self.port:
            return False
        if self.host is not None:
            return host.lower().rstrip(".") == self.host
        return self.network is not None and address in self.network


def _port(item: str, text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"allow-list entry '{item}' has a bad port")
    return int(text)


@dataclass(frozen=True)
class UrlPolicy:
    """Which destinations may be reached. The allow-list is for on-premises hosts: a host-only entry admits every
    port of that host (and whatever addresses its name resolves to), ``host:port`` only that port.
    ``setting`` names the variable a refusal tells the user to change."""

    entries: tuple[AllowEntry, ...] = ()
    setting: str = "PERCEPT_URL_ALLOW"

    @classmethod
    def parse(cls, spec: str, setting: str = "PERCEPT_URL_ALLOW") -> UrlPolicy:
        """Comma-separated entries (see ``AllowEntry.parse``); a malformed one raises ValueError at start-up."""
        return cls(tuple(AllowEntry.parse(s) for s in (s.strip() for s in spec.split(",")) if s), setting)

    def permits(self, host: str, address: Address, port: int | None = None) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(e.admits(host, address, port) for e in self.entries) or is_public(address)

    def resolve(self, host: str, port: int, seconds: float | None = None) -> list[str]:
        """The host's addresses, every one checked; raises Refused when any is refused. With ``seconds``, a
        resolver that has not answered by then raises httpcore.ConnectTimeout (the fetch's deadline holds)."""
        try:
            infos = _getaddrinfo(host, port, seconds)
        except (OSError, UnicodeError):
            raise OutboundError(f"names a host, '{host}', that cannot be resolved.") from None
        addresses = []
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if not self.permits(host, address, port):
                where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
                raise Refused(
                    f"leads to {where}, whose address {address} is not public (loopback, private, link-local, "
                    f"metadata or reserved), which is not allowed. Add it to {self.setting} to permit an on-premises "
                    "host."
                )
            addresses.append(str(address))
        return list(dict.fromkeys(addresses))


def _getaddrinfo(host: str, port: int, seconds: float | None) -> list[Any]:
    """socket.getaddrinfo, given up on after ``seconds`` (the lookup thread is left to finish on its own)."""
    if seconds is None:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    outcome: list[Any] = []

    def lookup() -> None:
        try:
            outcome.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except Exception as exc:  # handed to the caller's thread
            outcome.append(exc)

    thread = threading.Thread(target=lookup, name="percept-resolve", daemon=True)
    thread.start()
    thread.join(seconds)
    if not outcome:
        raise httpcore.ConnectTimeout(f"resolving {host} took longer than the deadline")
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return list(outcome[0])


class _Clock:
    """The current request's deadline; every socket operation gets at most the time left."""

    def __init__(self) -> None:
        self.deadline = math.inf

    def bound(self, timeout: float | None, timeout_error: type[Exception]) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise timeout_error("the deadline passed")
        return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, clock: _Clock) -> None:
        self._stream = stream
        self._clock = clock

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._clock.bound(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._clock.bound(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        tls = self._stream.start_tls(ssl_context, server_hostname, self._clock.bound(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(tls, self._clock)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _GuardedBackend(httpcore.SyncBackend):
    """Resolves, checks and pins every connection; TLS still verifies the host name (httpcore passes it)."""

    def __init__(self, policy: UrlPolicy, clock: _Clock) -> None:
        self.policy = policy
        self.clock = clock

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        error: Exception | None = None
        for address in self.policy.resolve(host, port, self.clock.bound(timeout, httpcore.ConnectTimeout)):
            try:
                stream = super().connect_tcp(
                    address, port, self.clock.bound(timeout, httpcore.ConnectTimeout), local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                error = exc
                continue
            return _DeadlineStream(stream, self.clock)
        raise error or httpcore.ConnectError(f"no address for {host}")

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not reachable from outbound fetches")


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One TLS context per process (certifi's roots): building one costs ~30 ms of CPU, which a client per blob
    paid twice (measured: batch throughput 5.8 → 39 documents/s). Contexts are safe to share between threads."""
    return httpx.create_ssl_context()


class GuardedClient:
    """The one outbound client: connections resolved, checked and pinned by ``policy``; redirects followed only
    through it (each hop re-checked, at most ``max_redirects``, http/https only). Not thread-safe: one
    request at a time, each with its own deadline."""

    def __init__(self, policy: UrlPolicy, *, max_redirects: int = 5) -> None:
        self.max_redirects = max_redirects
        self._clock = _Clock()
        context = _ssl_context()
        transport = httpx.HTTPTransport(verify=context)
        # httpx builds its pool with the default backend; this one, with the guarded backend, replaces it.
        transport._pool = httpcore.ConnectionPool(
            ssl_context=context, network_backend=_GuardedBackend(policy, self._clock)
        )
        self._client = httpx.Client(
            transport=transport,
            follow_redirects=True,
            max_redirects=max_redirects,
            timeout=httpx.Timeout(None),  # the clock bounds every socket operation instead
            trust_env=False,  # no proxies or .netrc from the environment
            headers={"Accept-Encoding": "identity"},
        )

    def __enter__(self) -> GuardedClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    @contextmanager
    def stream(
        self,
        url: str,
        *,
        seconds: float,
        headers: dict[str, str] | None = None,
        method: str = "GET",
        content: bytes | None = None,
    ) -> Iterator[httpx.Response]:
        """``method`` (GET unless said) ``url``; everything (connects, redirects, sending ``content``, reading the
        body inside the block) must finish within ``seconds``. httpx errors inside the block become
        OutboundError too."""
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise OutboundError("must be an absolute http or https URL.")
        self._clock.deadline = time.monotonic() + seconds
        try:
            with self._client.stream(method, url, headers=headers, content=content) as response:
                yield response
        except httpx.TooManyRedirects:
            raise OutboundError(f"redirected more than {self.max_redirects} times.") from None
        except httpx.TimeoutException:
            raise TimedOut(f"did not finish within {seconds:g} s.") from None
        except httpx.UnsupportedProtocol:
            raise OutboundError("redirected to a scheme other than http or https.") from None
        except httpx.HTTPError as exc:
            raise OutboundError(f"could not be fetched: {exc}") from None
        finally:
            self._clock.deadline = math.inf

    def request(
        self, method: str, url: str, *, seconds: float, headers: dict[str, str] | None = None, content: bytes = b""
    ) -> httpx.Response:
        """A request whose answer has no body worth keeping (PUT, HEAD, DELETE): the body is read under a small
        cap and dropped; the status and headers are what the caller gets."""
        with self.stream(url, seconds=seconds, headers=headers, method=method, content=content or None) as r:
            self.read_into(r, io.BytesIO(), max_bytes=64 * 1024)
            return r

    def read_into(self, response: httpx.Response, sink: IO[bytes], *, max_bytes: int) -> int:
        """Stream the body into ``sink``; raises TooLarge as soon as more than ``max_bytes`` have arrived."""
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise TooLarge(f"is {declared} bytes; the limit is {max_bytes}.")
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise TooLarge(f"is larger than the limit of {max_bytes} bytes.")
            sink.write(chunk)
        return size


def fetch(url: str, dest: Path, *, policy: UrlPolicy, max_bytes: int, timeout: float, max_redirects: int) -> int:
    """Download a URL source into ``dest``; returns the byte count. Raises InvalidUrlSource or ContentTooLarge."""
    try:
        with GuardedClient(policy, max_redirects=max_redirects) as client, client.stream(url, seconds=timeout) as r:
            if r.status_code != 200:
                raise OutboundError(f"answered HTTP {r.status_code}.", r.status_code)
            with open(dest, "wb") as fh:
                return client.read_into(r, fh, max_bytes=max_bytes)
    except TooLarge as exc:
        raise ContentTooLarge(exc.sentence("The URL source")) from None
    except OutboundError as exc:
        raise InvalidUrlSource(exc.sentence("The URL source")) from None
