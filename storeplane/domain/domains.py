"""Custom domains of a store: strict validation of the names and each one's status.

A store is always served at ``<id>.<base domain>``; its owner may add domains of their own
(``PATCH {"domains": [...]}``). Each becomes a host of the store's Ingress (with a TLS entry,
certificate by the platform's cert-manager issuer, when TLS is on) and an allowed origin of
the engine. :func:`validate_domains` is called by the store service before anything is saved;
the reconciler reports each domain's :class:`DomainStatus`. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum

from storeplane.domain.errors import InvalidRequestError

MAX_DOMAINS = 20
MAX_DOMAIN_LENGTH = 253  # RFC 1035 2.3.4, without the trailing dot
MAX_LABEL_LENGTH = 63
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_FIELD = "domains"


class DomainState(StrEnum):
    PENDING = "Pending"  # TLS on: no certificate Secret yet; off: not yet on the Ingress
    ACTIVE = "Active"  # TLS on: its certificate Secret exists; off: it is on the Ingress


@dataclass(frozen=True, slots=True)
class DomainStatus:
    """What the reconciler last saw of one custom domain."""

    name: str
    status: DomainState
    message: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status.value, "message": self.message}

    @classmethod
    def from_json(cls, data: dict[str, str]) -> DomainStatus:
        return cls(str(data["name"]), DomainState(data["status"]), str(data["message"]))


def tls_secret_name(domain: str) -> str:
    """The certificate Secret of ``domain`` in the store's namespace: readable, a DNS label,
    and distinct for distinct domains (``a-b.c`` and ``a.b-c`` differ by the hash)."""
    digest = hashlib.sha256(domain.encode()).hexdigest()[:8]
    readable = domain.replace(".", "-")[:40].strip("-")
    return f"domain-{readable}-{digest}-tls"


def validate_domain(raw: object, base_domain: str) -> str:
    """``raw`` as a domain a store may have (lower-cased), else InvalidRequestError saying
    which rule it breaks and what to send instead."""
    if not isinstance(raw, str):
        raise InvalidRequestError(f"each domain must be a string, got {raw!r}", field=_FIELD)
    name = raw.strip().lower()
    shown = repr(raw)
    if not name:
        raise InvalidRequestError("a domain must not be empty", field=_FIELD)
    if name.endswith("."):
        raise InvalidRequestError(
            f"domain {shown} ends with a dot: send it without the trailing dot", field=_FIELD
        )
    if "*" in name:
        raise InvalidRequestError(
            f"domain {shown} is a wildcard: wildcards are not allowed, add each host by name "
            "(shop.example.com, www.example.com)",
            field=_FIELD,
        )
    if not name.isascii():
        raise InvalidRequestError(
            f"domain {shown} has non-ASCII characters: send its IDNA (punycode, xn--) form",
            field=_FIELD,
        )
    if ":" in name or "/" in name:
        raise InvalidRequestError(
            f"domain {shown} is not a host name: send only the host, without scheme, port or "
            "path (shop.example.com), and no IPv6 address",
            field=_FIELD,
        )
    if len(name) > MAX_DOMAIN_LENGTH:
        raise InvalidRequestError(
            f"domain {shown} is {len(name)} characters long; at most {MAX_DOMAIN_LENGTH} "
            "are allowed",
            field=_FIELD,
        )
    labels = name.split(".")
    if all(label.isdigit() for label in labels):
        raise InvalidRequestError(
            f"domain {shown} is an IP address: only host names are allowed", field=_FIELD
        )
    if len(labels) < 2:
        raise InvalidRequestError(
            f"domain {shown} has a single label: use a fully qualified name such as "
            "shop.example.com",
            field=_FIELD,
        )
    for label in labels:
        if len(label) > MAX_LABEL_LENGTH:
            raise InvalidRequestError(
                f"domain {shown} has a label of {len(label)} characters ({label[:20]}...); "
                f"each label between dots may have at most {MAX_LABEL_LENGTH}",
                field=_FIELD,
            )
        if not _LABEL.fullmatch(label):
            raise InvalidRequestError(
                f"domain {shown} has an invalid label {label!r}: labels are letters a-z, "
                "digits and '-', not starting or ending with '-', and not empty (RFC 1123)",
                field=_FIELD,
            )
    if labels[-1].isdigit():
        raise InvalidRequestError(
            f"domain {shown} ends in an all-numeric label: top-level domains are not numeric",
            field=_FIELD,
        )
    base = base_domain.strip(".").lower()
    if name == base or name.endswith("." + base):
        raise InvalidRequestError(
            f"domain {shown} is under the platform's own domain {base}, where stores are "
            f"served already; add a domain you own instead",
            field=_FIELD,
        )
    return name


def validate_domains(raw: list[object] | tuple[object, ...], base_domain: str) -> tuple[str, ...]:
    """The store's new domain list, each validated, in the order given; duplicates and too
    many are refused."""
    if len(raw) > MAX_DOMAINS:
        raise InvalidRequestError(
            f"a store may have at most {MAX_DOMAINS} custom domains (got {len(raw)})",
            field=_FIELD,
        )
    names: list[str] = []
    for item in raw:
        name = validate_domain(item, base_domain)
        if name in names:
            raise InvalidRequestError(
                f"domain {name!r} is listed twice: list each domain once", field=_FIELD
            )
        names.append(name)
    return tuple(names)
