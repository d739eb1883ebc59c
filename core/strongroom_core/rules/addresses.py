"""Source address ranges, compiled to (version, network, mask) integers so a check is a few
integer operations. IPv4-mapped IPv6 addresses (``::ffff:10.0.0.1``, what a dual-stack socket
reports for an IPv4 peer) count as the IPv4 address they carry."""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Range:
    version: int
    network: int
    mask: int
    text: str


def range_problem(text: str) -> str | None:
    """Why ``text`` is not a CIDR range or address, or ``None``."""
    try:
        ipaddress.ip_network(text, strict=True)
    except ValueError as e:
        if "has host bits set" in str(e):
            return f'"{text[:64]}" has host bits set; write the network address, e.g. 10.0.0.0/8'
        return f'"{text[:64]}" is not a CIDR range such as 10.0.0.0/8 or fd00::/8'
    return None


def compile_range(text: str) -> Range:
    network = ipaddress.ip_network(text, strict=True)
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96:
        mapped = network.network_address.ipv4_mapped
        if mapped is not None:
            network4 = ipaddress.IPv4Network(f"{mapped}/{network.prefixlen - 96}")
            return Range(4, int(network4.network_address), int(network4.netmask), text)
    return Range(network.version, int(network.network_address), int(network.netmask), text)


@functools.lru_cache(maxsize=4096)
def parse_address(text: str) -> tuple[int, int] | None:
    """``(version, integer)`` of an address, or ``None`` when ``text`` is not one. Cached: the
    same few callers send most calls."""
    try:
        address = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return 4, int(address.ipv4_mapped)
    return address.version, int(address)


def contains(ranges: tuple[Range, ...], address: tuple[int, int]) -> bool:
    version, value = address
    return any(item.version == version and value & item.mask == item.network for item in ranges)
