"""Fetch URL sources without becoming an SSRF proxy.

Only http(s). Every TCP connection, the first and each redirect's, resolves the host itself, refuses it unless
every address is globally routable (no loopback, private, link-local/cloud-metadata, CGNAT, multicast or
reserved ranges) or allow-listed, then connects to the address it checked, so DNS cannot change the answer in
between. Bodies are streamed to disk under a size cap with a total timeout.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpcore
import httpx

from ..errors import ContentTooLarge, InvalidUrlSource

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class UrlPolicy:
    """Which destinations URL sources may reach; the allow-list is for on-prem sources."""

    allow_hosts: frozenset[str] = frozenset()
    allow_networks: tuple[Network, ...] = field(default_factory=tuple)

    @classmethod
    def parse(cls, spec: str) -> UrlPolicy:
        hosts, nets = set(), []
        for item in (s.strip() for s in spec.split(",")):
            if not item:
                continue
            try:
                nets.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                hosts.add(item.lower())
        return cls(frozenset(hosts), tuple(nets))

    def permits(self, host: str, address: Address) -> bool:
        if host.lower() in self.allow_hosts or any(address in net for net in self.allow_networks):
            return True
        return address.is_global and not address.is_multicast

    def resolve(self, host: str, port: int) -> list[str]:
        """The host's addresses, all of them checked; raises when any is refused."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror:
            raise InvalidUrlSource(f"The host '{host}' of the URL source cannot be resolved.") from None
        addresses = []
        for info in infos:
            raw = info[4][0].split("%", 1)[0]
            address = ipaddress.ip_address(raw)
            if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
                address = address.ipv4_mapped
            if not self.permits(host, address):
                raise InvalidUrlSource(
                    f"The URL source resolves to {address}, a private, loopback or link-local address, which is "
                    "not allowed. Add it to PERCEPT_URL_ALLOW to permit an on-premises source."
                )
            addresses.append(str(address))
        return list(dict.fromkeys(addresses))


class _GuardedBackend(httpcore.SyncBackend):
    def __init__(self, policy: UrlPolicy) -> None:
        self.policy = policy

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):  # type: ignore[no-untyped-def,override]
        error: Exception | None = None
        for address in self.policy.resolve(host, port):
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                error = exc
        raise error or httpcore.ConnectError(f"no address for {host}")


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self, policy: UrlPolicy) -> None:
        super().__init__()
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(), network_backend=_GuardedBackend(policy)
        )


def fetch(url: str, dest: Path, *, policy: UrlPolicy, max_bytes: int, timeout: float, max_redirects: int) -> int:
    """Download ``url`` into ``dest``; returns the byte count. Raises InvalidUrlSource or ContentTooLarge."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidUrlSource("The URL source must be an absolute http or https URL.")
    deadline = time.monotonic() + timeout
    try:
        with (
            httpx.Client(
                transport=_GuardedTransport(policy),
                follow_redirects=True,
                max_redirects=max_redirects,
                timeout=httpx.Timeout(timeout),
                trust_env=False,
            ) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise InvalidUrlSource(f"The URL source answered HTTP {response.status_code}.")
            declared = int(response.headers.get("content-length") or 0)
            if declared > max_bytes:
                raise ContentTooLarge(f"The URL source is {declared} bytes; the limit is {max_bytes}.")
            size = 0
            with open(dest, "wb") as fh:
                for chunk in response.iter_bytes(1 << 16):
                    size += len(chunk)
                    if size > max_bytes:
                        raise ContentTooLarge(f"The URL source is larger than the limit of {max_bytes} bytes.")
                    if time.monotonic() > deadline:
                        raise InvalidUrlSource(f"The URL source took longer than {timeout:.0f} s to download.")
                    fh.write(chunk)
            return size
    except httpx.TooManyRedirects:
        raise InvalidUrlSource(f"The URL source redirected more than {max_redirects} times.") from None
    except httpx.TimeoutException:
        raise InvalidUrlSource(f"The URL source did not answer within {timeout:.0f} s.") from None
    except httpx.UnsupportedProtocol:
        raise InvalidUrlSource("The URL source redirected to a scheme other than http or https.") from None
    except httpx.HTTPError as exc:
        raise InvalidUrlSource(f"The URL source could not be fetched: {exc}") from None
