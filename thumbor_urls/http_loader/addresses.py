"""Which addresses the HTTP loader may connect to, and the host names resolved to them once.

A host is resolved once per fetch (and per redirect); every address it resolves to must be
allowed, and the connection is then made to one of those very addresses (client.py), never to
the name again: an answer that changes between the check and the connection (DNS rebinding)
has nothing to change. Literal addresses in any spelling the C library reads (`127.1`,
`2130706433`, `0x7f.0.0.1`, `[::ffff:127.0.0.1]`) are read here, without a resolver.

Always refused: unspecified (0.0.0.0/8, ::), link-local (169.254/16, fe80::/10: the cloud
metadata services), the metadata addresses outside it (fd00:ec2::/32 on AWS, 100.100.100.200),
multicast, reserved and broadcast. Refused unless opened: loopback (HTTP_LOADER_ALLOW_LOOPBACK)
and every other address that is not global (HTTP_LOADER_ALLOW_PRIVATE: 10/8, 172.16/12,
192.168/16, 100.64/10, fc00::/7, the documentation and benchmark ranges). An IPv6 address that
carries an IPv4 one (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo) is
judged by the IPv4 address it reaches as well.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from typing import NamedTuple

from ..errors import NoSuchKey
from .errors import AddressNotAllowed, UpstreamError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) -> the addresses the host resolves to, as text; socket.gaierror when it does not.
Resolver = Callable[[str, int], Sequence[str]]

METADATA = tuple(
    ipaddress.ip_network(network)
    for network in ("169.254.0.0/16", "fe80::/10", "fd00:ec2::/32", "100.100.100.200/32")
)
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

LOOPBACK, PRIVATE = "loopback", "private"


def system_resolver(host: str, port: int) -> list[str]:
    """The C library's resolver (getaddrinfo), each address once, in its order."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in found))


def literal(host: str) -> Address | None:
    """`host` as an address when it is one, in any spelling inet_aton reads."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and all(char in "0123456789abcdefx." for char in host.lower()):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def kind(address: Address) -> str | None:
    """Why `address` may not be fetched from: `loopback`, `private` (both may be opened), or
    another word (never opened); None for a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        carried = _carried_ipv4(address)
        if carried is not None:
            if address.ipv4_mapped is not None or address in _NAT64:
                return kind(carried)  # the same host as the IPv4 address
            found = kind(carried)
            if found is not None:
                return found
    if any(address in network for network in METADATA if network.version == address.version):
        return "link-local"
    if address.is_loopback:
        return LOOPBACK
    if address.is_unspecified or (address.version == 4 and address in _THIS_NETWORK):
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if address.is_reserved:
        return "reserved"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return PRIVATE
    if address.is_private or not address.is_global:
        return PRIVATE
    return None


def _carried_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        server, client = address.teredo
        return client if kind(client) is not None else server
    return None


class AddressPolicy(NamedTuple):
    allow_loopback: bool = False
    allow_private: bool = False

    def allows(self, address: Address) -> bool:
        found = kind(address)
        return (
            found is None
            or (found == LOOPBACK and self.allow_loopback)
            or (found == PRIVATE and self.allow_private)
        )


def checked_addresses(
    host: str, port: int, policy: AddressPolicy, resolver: Resolver, what: str
) -> list[str]:
    """The addresses to connect to for `host`, resolved once, every one of them allowed;
    AddressNotAllowed otherwise (the message names no address), before any connection."""
    address = literal(host)
    if address is not None:
        found: list[Address] = [address]
    else:
        try:
            answers = resolver(host, port)
        except socket.gaierror as error:
            if error.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", None)):
                raise NoSuchKey(f"no image at {what}: its host does not exist") from None
            raise UpstreamError(f"the host of {what} could not be resolved; retry soon") from None
        except (OSError, UnicodeError):
            raise UpstreamError(f"the host of {what} could not be resolved") from None
        found = []
        for answer in answers:
            try:
                found.append(ipaddress.ip_address(answer))
            except ValueError:
                raise UpstreamError(f"the host of {what} could not be resolved") from None
        if not found:
            raise UpstreamError(f"the host of {what} could not be resolved")
    if not all(policy.allows(item) for item in found):
        raise AddressNotAllowed(
            f"{what} is on an address this server does not fetch from (not a public address)"
        )
    return [str(item) for item in found]
