"""Store labels: Kubernetes label syntax, validated, and the ``key=value`` selector terms.

A store's labels (``StoreSpec.labels``) group stores for people and for rollouts
(``selector.labels``); ``GET /api/v1/stores?label=tier=gold`` lists the stores that carry them.
The syntax is exactly Kubernetes' (``k8s.io/apimachinery/pkg/util/validation``), so a label
that storeplane accepts could also be put on a Kubernetes object unchanged:

- a key is an optional DNS-subdomain prefix (at most 253 characters) and ``/``, then a name
  of 1 to 63 characters: alphanumerics, ``-``, ``_`` and ``.``, beginning and ending with an
  alphanumeric;
- a value is empty or follows the same rule as the name (at most 63 characters).

Keys under ``storeplane.io/`` are reserved: storeplane puts its own labels there.
Called by the API schemas (create, PATCH, the list filter), the CLI and the rollout selector.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from storeplane.domain.errors import InvalidRequestError

NAME_MAX_LENGTH = 63
PREFIX_MAX_LENGTH = 253
MAX_LABELS = 32
RESERVED_PREFIX = "storeplane.io"

_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def _name_problem(text: str, what: str) -> str | None:
    """Why ``text`` is not a valid label name or value, or None if it is."""
    if len(text) > NAME_MAX_LENGTH:
        return f"{what} must be at most {NAME_MAX_LENGTH} characters (got {len(text)})"
    if not _NAME.fullmatch(text):
        return (
            f"{what} may hold only letters, digits, '-', '_' and '.', and must begin and end "
            f"with a letter or digit (got {text!r})"
        )
    return None


def key_problem(key: str) -> str | None:
    """Why ``key`` is not a valid label key, or None if it is."""
    if not key:
        return "a label key must not be empty"
    prefix, slash, name = key.rpartition("/")
    if slash:
        if not prefix:
            return f"label key {key!r} has an empty prefix before '/'; drop the '/' or add one"
        if len(prefix) > PREFIX_MAX_LENGTH or not all(
            _DNS_LABEL.fullmatch(part) for part in prefix.split(".")
        ):
            return (
                f"the prefix of label key {key!r} must be a lower-case DNS subdomain "
                f"(like example.com, at most {PREFIX_MAX_LENGTH} characters)"
            )
        if prefix == RESERVED_PREFIX or prefix.endswith("." + RESERVED_PREFIX):
            return f"label key {key!r} uses the prefix {RESERVED_PREFIX}/, which storeplane keeps"
        if not name:
            return f"label key {key!r} has no name after its prefix"
    return _name_problem(
        name, f"the name part of label key {key!r}" if slash else f"label key {key!r}"
    )


def value_problem(key: str, value: str) -> str | None:
    """Why ``value`` is not a valid value for label ``key``, or None if it is."""
    if value == "":
        return None
    return _name_problem(value, f"the value of label {key!r}")


def validate_labels(labels: Mapping[str, str], *, field: str = "labels") -> dict[str, str]:
    """``labels`` as a plain dict if every key and value is valid; else raise
    InvalidRequestError naming the first bad one (``field`` is ``labels.<key>``)."""
    if len(labels) > MAX_LABELS:
        raise InvalidRequestError(
            f"a store may have at most {MAX_LABELS} labels (got {len(labels)})", field=field
        )
    for key, value in labels.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidRequestError(
                f"label keys and values must be strings (got {key!r}: {value!r})", field=field
            )
        problem = key_problem(key) or value_problem(key, value)
        if problem is not None:
            raise InvalidRequestError(problem, field=f"{field}.{key}")
    return dict(labels)


def parse_term(term: str, *, field: str = "label") -> tuple[str, str]:
    """``key=value`` (what ``?label=`` and ``--label`` take) as a valid (key, value) pair."""
    key, equals, value = term.partition("=")
    if not equals:
        raise InvalidRequestError(
            f"{field} must be key=value, e.g. tier=gold (got {term!r})", field=field
        )
    problem = key_problem(key) or value_problem(key, value)
    if problem is not None:
        raise InvalidRequestError(problem, field=field)
    return key, value


def parse_terms(terms: Iterable[str], *, field: str = "label") -> dict[str, str]:
    """Several ``key=value`` terms as one mapping (all must hold); one key twice with two
    values can match nothing, so it is refused rather than silently giving an empty list."""
    wanted: dict[str, str] = {}
    for term in terms:
        key, value = parse_term(term, field=field)
        if key in wanted and wanted[key] != value:
            raise InvalidRequestError(
                f"{field} asks for {key}={wanted[key]} and {key}={value}; a store has one "
                "value per key, so no store could match",
                field=field,
            )
        wanted[key] = value
    return wanted


def matches(labels: Mapping[str, str], wanted: Mapping[str, str]) -> bool:
    """Whether ``labels`` carries every ``key=value`` of ``wanted``."""
    return all(labels.get(key) == value for key, value in wanted.items())
