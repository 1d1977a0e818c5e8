"""Remote address patterns of plain_acl.yml (RemoteAddressStrategyFactory and AclUtils of 4.9.8).

A pattern is blank (matches nothing), `*` / `*.*.*.*` / `*:*:*:*:*:*:*:*` (matches everything), a list
(`a,b,c`, or `192.168.1.{1,2}`), a range (`192.168.1.*`, `192.168.1-10.*`, `1050::0005:*`), or one address.
A malformed pattern is an AclError, as in Java (so a file with one cannot be loaded).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from rocketpy.broker.acl.errors import AclError
from rocketpy.broker.acl.permission import java_split

_V4 = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$")


def is_ipv4(text: str | None) -> bool:
    """commons-validator InetAddressValidator.isValidInet4Address: four 0-255 decimals, no leading zeros."""
    if text is None:
        return False
    m = _V4.match(text)
    if not m:
        return False
    return all(int(g) <= 255 and not (len(g) > 1 and g.startswith("0")) for g in m.groups())


def is_ipv6(text: str | None) -> bool:
    if text is None or ":" not in text:
        return False
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def expand_ip(address: str, part: int) -> str:
    """AclUtils.expandIP: upper case, '::' widened to `part` groups, every group left-padded to 4 digits."""
    address = address.upper()
    pad = part - address.count(":")
    if pad > 0:
        address = address.replace("::", ":" + ":" * pad)
    groups = [g.rjust(4, "0") if len(g) < 4 else g for g in address.split(":")]
    return ":".join(groups)


def _java_int(text: str, base: int = 10) -> int:
    try:
        return int(text.strip() if base == 10 else text, base)
    except ValueError as exc:  # Java: NumberFormatException, which also fails the load
        raise AclError(f'For input string: "{text}"') from exc


class AddressStrategy:
    def match(self, address: str | None) -> bool:
        raise NotImplementedError


class _Blank(AddressStrategy):
    def match(self, address: str | None) -> bool:
        return False


class _Any(AddressStrategy):
    def match(self, address: str | None) -> bool:
        return True


BLANK = _Blank()
ANYWHERE = _Any()


@dataclass(eq=False)
class _Multiple(AddressStrategy):
    addresses: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, items: Iterable[str]) -> _Multiple:
        out = cls()
        for item in items:
            if is_ipv4(item):
                out.addresses.add(item)
            elif is_ipv6(item):
                out.addresses.add(expand_ip(item, 8))
            else:
                raise AclError(f"Netaddress examine Exception netaddress is {item}")
        return out

    def match(self, address: str | None) -> bool:
        if address is not None and is_ipv6(address):
            address = expand_ip(address, 8)
        return address in self.addresses


@dataclass(eq=False)
class _One(AddressStrategy):
    address: str

    def __post_init__(self) -> None:
        if not (is_ipv4(self.address) or is_ipv6(self.address)):
            raise AclError(f"Netaddress examine Exception netaddress is {self.address}")

    def match(self, address: str | None) -> bool:
        if address is None:
            return False
        return expand_ip(self.address, 8).upper() == expand_ip(address, 8).upper()


def _is_scope(address: str, index: int) -> bool:
    """AclUtils.isScope(netaddress, index): the first `index` parts are in range."""
    if ":" in address:
        parts = java_split(expand_ip(address, 8), ":")
        for p in parts[:index]:
            try:
                value = int(p, 16)
            except ValueError:
                return False
            if not 0 <= value <= 0xFFFF:
                return False
        return True
    parts = java_split(address, ".")
    if len(parts) != 4:
        return False
    return all(0 <= _java_int(p) <= 255 for p in parts[:index])


def _verify(address: str, index: int) -> None:
    if not _is_scope(address, index):
        raise AclError(f"Netaddress examine scope Exception netaddress is {address}")


def _ipv6_address_check(address: str) -> None:
    """AclUtils.IPv6AddressCheck: '*' only at the end, '-' only in the last (or last but one before '*') group."""
    if "*" in address or "-" in address:
        asterisk, minus = address.find("*"), address.find("-")
        bad = AclError(f"Netaddress examine scope Exception netaddress is {address}")
        if asterisk > -1 and asterisk != len(address) - 1:
            raise bad
        if minus > -1:
            if asterisk == -1:
                if minus <= address.rfind(":"):
                    raise bad
            elif minus <= address.rfind(":", 0, address.rfind(":")):
                raise bad


def _v6_prefix(address: str) -> str:
    """AclUtils.v6ipProcess."""
    star, minus = "*" in address, "-" in address
    if star and minus:
        last = address.rfind(":")
        return expand_ip(address[: address[:last].rfind(":")], 6)
    if not star and not minus:
        return expand_ip(address, 8)
    return expand_ip(address[: address.rfind(":")], 7)


@dataclass(eq=False)
class _Range(AddressStrategy):
    pattern: str
    head: str | None = None
    start: int = 0
    end: int = 0
    index: int = 0

    def __post_init__(self) -> None:
        if ":" in self.pattern:
            _ipv6_address_check(self.pattern)
            parts = java_split(self.pattern, ":")
            for i in range(1, len(parts)):
                if self._analysis(parts, i, 16):
                    _verify(self.pattern, self.index - 1)
                    prefix = _v6_prefix(self.pattern)
                    self.index = len(java_split(prefix, ":"))
                    self.head = prefix
                    break
        else:
            parts = java_split(self.pattern, ".")
            if len(parts) < 4:
                raise AclError(f"Netaddress examine scope Exception netaddress is {self.pattern}")
            if self._analysis(parts, 1, 10) or self._analysis(parts, 2, 10) or self._analysis(parts, 3, 10):
                _verify(self.pattern, self.index - 1)
                self.head = "".join(p.strip() + "." for p in parts[: self.index])

    def _analysis(self, parts: list[str], index: int, base: int) -> bool:
        value = parts[index].strip()
        self.index = index
        top = 255 if base == 10 else 0xFFFF
        if value == "*":
            self.start, self.end = 0, top
        elif "-" in value:
            if value.find("-") == 0:
                raise AclError(f"RangeRemoteAddressStrategy netaddress examine scope Exception value {value} ")
            bounds = java_split(value, "-")
            self.start, self.end = _java_int(bounds[0], base), _java_int(bounds[1], base)
            if not (0 <= self.start <= top and 0 <= self.end <= top and self.start <= self.end):
                raise AclError(
                    "RangeRemoteAddressStrategy netaddress examine scope Exception "
                    f"start is {self.start} , end is {self.end}"
                )
        return self.end > 0

    def match(self, address: str | None) -> bool:
        if address is None or self.head is None:
            return False
        if is_ipv4(address):
            if not address.startswith(self.head):
                return False
            rest = address[len(self.head) :]
            if self.index == 2:
                rest = rest[: rest.rfind(".")]
            elif self.index == 1:
                rest = rest[: rest.rfind(".", 0, rest.rfind("."))]
            return self.start <= int(rest) <= self.end
        if is_ipv6(address):
            expanded = expand_ip(address, 8).upper()
            if expanded.startswith(self.head):
                return self.start <= int(expanded[5 * self.index : 5 * self.index + 4], 16) <= self.end
        return False


def address_strategy(pattern: str | None) -> AddressStrategy:
    """RemoteAddressStrategyFactory.getRemoteAddressStrategy."""
    if pattern is None or not pattern.strip():
        return BLANK
    if pattern in ("*", "*.*.*.*", "*:*:*:*:*:*:*:*"):
        return ANYWHERE
    if pattern.endswith("}"):
        if ":" in pattern:
            last = java_split(pattern, ":")[-1]
            if not last.startswith("{"):
                raise AclError("MultipleRemoteAddressStrategy netaddress examine scope Exception netaddress")
        else:
            parts = java_split(pattern, ".")
            if len(parts) < 4:
                raise AclError("MultipleRemoteAddressStrategy has got a/some wrong format IP(s) ")
            last = parts[-1]
            if not last.startswith("{"):
                raise AclError("MultipleRemoteAddressStrategy netaddress examine scope Exception netaddress")
        prefix = pattern[: pattern.find("{")]
        return _Multiple.of(prefix + p for p in java_split(last[1:-1], ","))
    if "," in pattern:
        return _Multiple.of(java_split(pattern, ","))
    if "*" in pattern or "-" in pattern:
        return _Range(pattern)
    return _One(pattern)
