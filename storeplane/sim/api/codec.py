"""Request bodies: which media types are accepted and how they are decoded.

Used by the routes. JSON everywhere; YAML too for ``application/apply-patch+yaml`` and
``application/yaml``; Kubernetes protobuf (``application/vnd.kubernetes.protobuf``, what
kubectl 1.35+ and helm 4 send for creates, updates and deletes) for POST/PUT/DELETE bodies,
decoded by :mod:`storeplane.sim.api.protobuf` into the same dicts. YAML timestamps stay strings, as the API server's YAML-to-JSON step
leaves them, so ``creationTimestamp: 2024-01-01T00:00:00Z`` does not become a datetime.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import yaml

from ..errors import ApiError, bad_request, unsupported_media_type
from . import protobuf

PatchKind = Literal["apply", "merge", "strategic", "json"]

PATCH_TYPES: dict[str, PatchKind] = {
    "application/apply-patch+yaml": "apply",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/json-patch+json": "json",
}
BODY_TYPES = ("application/json", "application/yaml", "", protobuf.MEDIA_TYPE)


class _Loader(yaml.SafeLoader):
    """SafeLoader without the implicit timestamp type."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def decode(raw: bytes, allow_yaml: bool) -> Any:
    """Decode a body; a 400 BadRequest if it is neither JSON nor (when allowed) YAML."""
    try:
        return json.loads(raw)
    except ValueError as exc:
        if not allow_yaml:
            raise bad_request(f"the request body is not valid JSON: {exc}") from exc
    try:
        return yaml.load(raw, Loader=_Loader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise bad_request(f"the request body is neither valid JSON nor YAML: {exc}") from exc


def decode_body(content_type: str | None, raw: bytes) -> Any:
    """A POST/PUT body."""
    mt = media_type(content_type)
    if mt not in BODY_TYPES:
        raise unsupported_media_type(mt)
    if mt == protobuf.MEDIA_TYPE:
        return decode_protobuf(raw)
    return decode(raw, allow_yaml=mt == "application/yaml")


def decode_protobuf(raw: bytes) -> Any:
    """A protobuf body: 415 for a kind without a field table (the client can send JSON
    instead), 400 for bytes that are not a Kubernetes protobuf message."""
    try:
        return protobuf.decode_object(raw)
    except protobuf.UnsupportedKind as exc:
        raise ApiError(415, "UnsupportedMediaType", str(exc)) from exc
    except RecursionError as exc:  # a hostile body nesting messages thousands deep
        raise bad_request("the protobuf message is nested too deeply") from exc
    except protobuf.ProtobufError as exc:
        raise bad_request(
            f"the request body is not a valid Kubernetes protobuf message: {exc}"
        ) from exc


def decode_patch(content_type: str | None, raw: bytes) -> tuple[PatchKind, Any]:
    """A PATCH body and its patch type; a 415 for unknown types."""
    mt = media_type(content_type)
    patch_type = PATCH_TYPES.get(mt)
    if patch_type is None:
        raise unsupported_media_type(mt)
    return patch_type, decode(raw, allow_yaml=patch_type == "apply")
