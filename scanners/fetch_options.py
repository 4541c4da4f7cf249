"""Parsing of the live fetch's options (``SCAMSCAN_FETCH_ALLOWED_PORTS``,
``SCAMSCAN_FETCH_ALLOW_NETWORKS``, ``SCAMSCAN_WEBHOOK_ALLOW_NETWORKS``).

Apart from :mod:`scanners.fetch` so that the settings can check these values when
they load, the same way the fetcher will read them, without importing the HTTP
client: every ``scamscan`` command reads the settings, and an offline scan would
otherwise pay for httpx at start-up.
"""

from __future__ import annotations

import ipaddress

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str) -> tuple[IPNetwork, ...]:
    """Parse a comma-separated list of CIDRs (``SCAMSCAN_FETCH_ALLOW_NETWORKS``).

    Empty items are ignored, so ``""`` gives no network. A bad item raises
    :class:`ValueError` naming it; host bits must be zero (``127.0.0.1/32``,
    not ``127.0.0.1/8``), because a typo here widens what may be fetched.
    """
    out: list[IPNetwork] = []
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        try:
            out.append(ipaddress.ip_network(item, strict=True))
        except ValueError as e:
            raise ValueError(
                f"allowed networks: {item!r} is not a network in CIDR form "
                f"(like 127.0.0.1/32 or fd00::/8): {e}"
            ) from None
    return tuple(out)


def parse_ports(text: str) -> tuple[int, ...]:
    """Parse a comma-separated list of ports (``SCAMSCAN_FETCH_ALLOWED_PORTS``).

    Raises :class:`ValueError` naming the bad item; at least one port is needed.
    """
    out: list[int] = []
    for raw in text.split(","):
        item = raw.strip()
        if not item.isascii() or not item.isdigit() or not 1 <= int(item) <= 65535:
            raise ValueError(f"allowed ports: {item!r} is not a port number (1-65535); "
                             "give a comma-separated list such as 80,443")
        if int(item) not in out:
            out.append(int(item))
    return tuple(out)
