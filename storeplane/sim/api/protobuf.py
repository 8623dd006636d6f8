"""Protobuf request bodies: the Kubernetes wire format decoded into JSON-shaped objects.

Called by :mod:`storeplane.sim.api.codec` for ``Content-Type:
application/vnd.kubernetes.protobuf``, which kubectl 1.35+ (``create ...``, ``scale``,
``delete``) and helm 4 (every release object it writes) send. The body is the 4 bytes
``k8s\\0`` and a ``runtime.Unknown`` message: ``typeMeta`` (apiVersion, kind), ``raw`` (the
object's own message), ``contentEncoding`` and ``contentType``. The object is decoded with
the field tables in :mod:`storeplane.sim.api.protobuf_fields` (generated from the published
``generated.proto`` and ``types.go`` files) into the dict the same object sent as JSON
would have been, following Go's ``encoding/json`` rules for what is emitted:

- zero scalars of non-pointer ``omitempty`` fields are dropped (gogo-protobuf writes them
  anyway), pointer fields keep theirs (``replicas: 0`` stays);
- embedded structs (``Probe``'s handler, ``Volume``'s source...) are flattened into
  their parent, as JSON inlines them;
- ``Time``/``MicroTime`` become RFC 3339 strings (the zero time is left out),
  ``Quantity`` its string, ``IntOrString`` an int or a string, ``bytes`` base64,
  ``FieldsV1`` and ``RawExtension`` the JSON they carry.

Fields the tables do not know (a newer client's additions) are skipped, as an API server of
the simulated version would skip them. Only decoding: the simulator answers in JSON, which
every client that sends protobuf also accepts.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from .protobuf_fields import INLINE, MESSAGES, OMITEMPTY, POINTER, REPEATED, ROOTS

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"

Obj = dict[str, Any]
_NUMERIC = {"int32", "int64", "uint32", "uint64", "bool", "double", "float"}
_SCALARS = _NUMERIC | {"string", "bytes"}


class ProtobufError(ValueError):
    """A body that is not a well-formed Kubernetes protobuf message (a 400)."""


class UnsupportedKind(ProtobufError):
    """A well-formed envelope around a kind the simulator has no field table for (a 415)."""


# --- wire format -------------------------------------------------------------------------


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ProtobufError("varint longer than 10 bytes")


def fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) for each field of one message, in wire order:
    varints as ints, 64- and 32-bit values as their raw 8 or 4 bytes, length-delimited
    values as bytes."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ProtobufError("field number 0")
        value: int | bytes
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 1:
            value, pos = data[pos : pos + 8], pos + 8
        elif wire == 2:
            length, pos = _varint(data, pos)
            value, pos = data[pos : pos + length], pos + length
        elif wire == 5:
            value, pos = data[pos : pos + 4], pos + 4
        else:
            raise ProtobufError(f"unsupported wire type {wire} (field {number})")
        if pos > len(data):
            raise ProtobufError(f"field {number} runs past the end of its message")
        yield number, wire, value


def _scalar(type_name: str, wire: int, value: int | bytes) -> Any:
    if type_name == "string":
        if not isinstance(value, bytes):
            raise ProtobufError(f"expected a length-delimited string, got wire type {wire}")
        try:
            return value.decode()
        except UnicodeDecodeError as exc:
            raise ProtobufError(f"a string field is not valid UTF-8: {exc}") from exc
    if type_name == "bytes":
        if not isinstance(value, bytes):
            raise ProtobufError(f"expected length-delimited bytes, got wire type {wire}")
        return base64.b64encode(value).decode()
    if type_name == "double" and isinstance(value, bytes) and len(value) == 8:
        return struct.unpack("<d", value)[0]
    if type_name == "float" and isinstance(value, bytes) and len(value) == 4:
        return struct.unpack("<f", value)[0]
    if not isinstance(value, int):
        raise ProtobufError(f"expected a varint for a {type_name}, got wire type {wire}")
    if type_name == "bool":
        return bool(value)
    if type_name in ("int32", "int64") and value >= 1 << 63:
        return value - (1 << 64)  # negative numbers are 10-byte two's complement varints
    return value


def _packed(type_name: str, data: bytes) -> list[Any]:
    """A packed repeated numeric field (proto3 style; tolerated in proto2 messages too)."""
    if type_name in ("double", "float"):
        size = 8 if type_name == "double" else 4
        return [_scalar(type_name, 1, data[i : i + size]) for i in range(0, len(data), size)]
    values, pos = [], 0
    while pos < len(data):
        value, pos = _varint(data, pos)
        values.append(_scalar(type_name, 0, value))
    return values


# --- messages with their own JSON form ------------------------------------------------------


def _time(data: bytes, micro: bool) -> str | None:
    seconds = nanos = 0
    for number, _, value in fields(data):
        if number == 1 and isinstance(value, int):
            seconds = _scalar("int64", 0, value)
        elif number == 2 and isinstance(value, int):
            nanos = _scalar("int32", 0, value)
    if seconds == 0 and nanos == 0:
        return None  # the zero time: JSON has null, and an object leaves it out
    moment = datetime.fromtimestamp(seconds, UTC)
    if micro:
        return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos // 1000:06d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def go_duration(nanoseconds: int) -> str:
    """Go's ``time.Duration.String()``: ``1h2m3.5s``, ``150ms``, ``0s``."""
    if nanoseconds == 0:
        return "0s"
    sign, n = ("-", -nanoseconds) if nanoseconds < 0 else ("", nanoseconds)
    if n < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if n >= size:
                return sign + _trim(n / size) + unit
    hours, rest = divmod(n, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    out = f"{hours}h" if hours else ""
    if hours or minutes:
        out += f"{minutes}m"
    return sign + out + _trim(rest / 1_000_000_000) + "s"


def _trim(value: float) -> str:
    text = f"{value:.9f}".rstrip("0").rstrip(".")
    return text or "0"


def _special(type_name: str, data: bytes) -> Any:
    values = {number: value for number, _, value in fields(data)}
    if type_name == "meta.v1.Time":
        return _time(data, micro=False)
    if type_name == "meta.v1.MicroTime":
        return _time(data, micro=True)
    if type_name == "meta.v1.Duration":
        raw = values.get(1, 0)
        return go_duration(_scalar("int64", 0, raw) if isinstance(raw, int) else 0)
    if type_name == "resource.Quantity":
        return _scalar("string", 2, values.get(1, b""))
    if type_name == "intstr.IntOrString":
        if values.get(1, 0) == 1:
            return _scalar("string", 2, values.get(3, b""))
        raw = values.get(2, 0)
        return _scalar("int32", 0, raw) if isinstance(raw, int) else 0
    # FieldsV1 and RawExtension carry raw bytes: JSON, or (RawExtension) a nested object.
    raw_bytes = values.get(1, b"")
    if not isinstance(raw_bytes, bytes) or not raw_bytes:
        return None
    if raw_bytes.startswith(MAGIC):
        return decode_object(raw_bytes)
    try:
        return json.loads(raw_bytes)
    except ValueError as exc:
        raise ProtobufError(f"{type_name} does not hold JSON: {exc}") from exc


_SPECIAL = {
    "meta.v1.Time", "meta.v1.MicroTime", "meta.v1.Duration", "meta.v1.FieldsV1",
    "resource.Quantity", "intstr.IntOrString", "runtime.RawExtension",
}  # fmt: skip


# --- messages ----------------------------------------------------------------------------


def _value(type_name: str, wire: int, value: int | bytes) -> Any:
    if type_name in _SCALARS:
        return _scalar(type_name, wire, value)
    if not isinstance(value, bytes):
        raise ProtobufError(f"expected an embedded {type_name} message, got wire type {wire}")
    if type_name in _SPECIAL:
        return _special(type_name, value)
    if type_name.endswith(".ExtraValue"):  # a named []string in Go: a list in JSON
        return [_scalar("string", w, v) for n, w, v in fields(value) if n == 1]
    return message(type_name, value)


def _map_entry(key_type: str, value_type: str, data: bytes) -> tuple[Any, Any]:
    key: Any = "" if key_type == "string" else 0
    value: Any = None
    for number, wire, raw in fields(data):
        if number == 1:
            key = _scalar(key_type, wire, raw)
        elif number == 2:
            value = _value(value_type, wire, raw)
    if value is None:  # an entry with an empty value: the type's zero value
        value = (
            "" if value_type in ("string", "bytes") else message(value_type, b"")
            if value_type in MESSAGES else "0" if value_type == "resource.Quantity" else 0
        )  # fmt: skip
    return key, value


def _is_zero(value: Any) -> bool:
    return value is None or (not isinstance(value, dict | list) and not value)


def message(name: str, data: bytes) -> Obj:
    """Decode one message of the table ``name`` into its JSON shape."""
    table = MESSAGES.get(name)
    if table is None:
        raise UnsupportedKind(f"no protobuf field table for {name}")
    out: Obj = {}
    for number, wire, raw in fields(data):
        entry = table.get(number)
        if entry is None:
            continue  # a field this API version does not know: ignored, as the server does
        json_name, type_name, flags = entry
        if type_name.startswith("map:"):
            if not isinstance(raw, bytes):
                raise ProtobufError(f"{name}.{json_name}: a map entry must be length-delimited")
            _, key_type, value_type = type_name.split(":", 2)
            key, value = _map_entry(key_type, value_type, raw)
            out.setdefault(json_name, {})[key] = value
        elif flags & REPEATED:
            items = out.setdefault(json_name, [])
            if type_name in _NUMERIC and wire == 2 and isinstance(raw, bytes):
                items.extend(_packed(type_name, raw))
            else:
                items.append(_value(type_name, wire, raw))
        elif flags & INLINE:
            inlined = _value(type_name, wire, raw)
            if isinstance(inlined, dict):
                out.update(inlined)
        else:
            out[json_name] = _value(type_name, wire, raw)
    for json_name, type_name, flags in table.values():
        if json_name not in out or flags & (REPEATED | INLINE):
            continue
        value = out[json_name]
        if value is None:
            del out[json_name]
        elif flags & POINTER:
            continue
        elif flags & OMITEMPTY and type_name in _SCALARS and _is_zero(value):
            del out[json_name]
        elif type_name == "intstr.IntOrString" and value == 0:
            del out[json_name]  # unset (the server defaults it, e.g. targetPort to port)
    return out


def envelope(body: bytes) -> tuple[str, str, bytes]:
    """(apiVersion, kind, raw object message) from a ``k8s\\0`` + ``runtime.Unknown`` body."""
    if not body.startswith(MAGIC):
        raise ProtobufError(
            "a Kubernetes protobuf body starts with the 4 bytes 'k8s\\x00' (runtime.Unknown "
            "envelope); this one does not"
        )
    api_version = kind = encoding = ""
    raw = b""
    for number, _, value in fields(body[len(MAGIC) :]):
        if not isinstance(value, bytes):
            continue
        if number == 1:
            for n, w, v in fields(value):
                if n == 1:
                    api_version = _scalar("string", w, v)
                elif n == 2:
                    kind = _scalar("string", w, v)
        elif number == 2:
            raw = value
        elif number == 3:
            encoding = _scalar("string", 2, value)
    if encoding:
        raise UnsupportedKind(f"protobuf contentEncoding {encoding!r} is not supported")
    if not kind:
        raise ProtobufError("the protobuf envelope names no kind (runtime.Unknown.typeMeta)")
    return api_version, kind, raw


def decode_object(body: bytes) -> Obj:
    """The object in a Kubernetes protobuf body, as the dict its JSON form would give,
    with ``apiVersion`` and ``kind`` from the envelope. :class:`UnsupportedKind` when the
    simulator has no table for the kind, :class:`ProtobufError` for a malformed body."""
    api_version, kind, raw = envelope(body)
    name = ROOTS.get((api_version, kind))
    if name is None:
        raise UnsupportedKind(
            f"the simulator cannot decode {kind} ({api_version or 'no apiVersion'}) from "
            f"protobuf; send it as application/json"
        )
    obj = message(name, raw)
    return {"apiVersion": api_version, "kind": kind, **obj}
