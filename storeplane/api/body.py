"""The API's one JSON body parser: strict UTF-8, no duplicate keys, bounded depth and numbers.

Called by :class:`storeplane.api.routing.ApiRequest` when FastAPI asks for a route's JSON body,
once per request, after the caller was authenticated. ``parse_json`` is a single
``json.loads`` with hooks for the limits; only when that fails (or the body has more brackets
than the depth limit allows) does :func:`_locate` walk the text in Python to say *where* the
problem is, so a good body costs one C-speed parse and nothing more.

Every refusal is a :class:`BodyError` carrying a sentence, the offending field (a dotted path
such as ``name`` or ``items.0.key``, or ``body``) and the byte offset; ``api/errors.py`` turns
it into the usual problem document (400, or 422 for a duplicate key: the JSON is readable but
the request is ambiguous).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException

# No request body of this API nests deeper than 2 or holds a number longer than a few digits;
# the limits only keep hostile bodies from costing recursion, big-int parsing or memory.
MAX_DEPTH = 32
MAX_NUMBER_CHARS = 100


class BodyError(HTTPException):
    """A body the API refuses to read. An HTTPException so FastAPI passes it through
    unwrapped (it catches everything else a body parser raises and says only "There was an
    error parsing the body"); ``api/errors.py`` words the reply."""

    def __init__(self, status: int, message: str, *, field: str = "body") -> None:
        super().__init__(status, message)
        self.message = message
        self.field = field


def parse_json(body: bytes) -> Any:
    """The value of a JSON body, or BodyError saying what is wrong and where."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError(
            400,
            f"the body is not UTF-8: byte 0x{body[exc.start]:02x} at byte offset {exc.start} "
            "cannot start or continue a UTF-8 character; send JSON encoded as UTF-8",
        ) from None
    if text.startswith("\ufeff"):
        raise BodyError(400, "the body starts with a byte order mark; send JSON without one")
    # Depth can only exceed the limit if there are more brackets than the limit: a C-speed
    # count, so only suspicious bodies pay for the walk.
    if text.count("[") + text.count("{") > MAX_DEPTH:
        found = _locate(text, _Look.DEPTH)
        if found is not None:
            raise found
    try:
        return json.loads(
            text,
            object_pairs_hook=_object,
            parse_int=_int,
            parse_float=_float,
            parse_constant=_constant,
        )
    except json.JSONDecodeError as exc:
        where = _at(text, exc.pos, f"line {exc.lineno}, column {exc.colno}")
        raise BodyError(400, f"the body is not valid JSON: {exc.msg} {where}") from None
    except _Refused as exc:
        raise _locate(text, exc.look) or BodyError(400, exc.fallback) from None


class _Look:
    """What :func:`_locate` looks for (the first occurrence wins)."""

    DEPTH = "depth"
    DUPLICATE = "duplicate"
    NUMBER = "number"
    CONSTANT = "constant"


class _Refused(Exception):
    """Raised by a ``json.loads`` hook; ``parse_json`` then locates the cause in the text."""

    def __init__(self, look: str, fallback: str) -> None:
        self.look = look
        self.fallback = fallback


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        raise _Refused(_Look.DUPLICATE, "the body has a duplicate key")
    return value


def _int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(_Look.NUMBER, "a number in the body is too long")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if len(text) > MAX_NUMBER_CHARS or not math.isfinite(value):
        raise _Refused(_Look.NUMBER, "a number in the body is too long or out of range")
    return value


def _constant(text: str) -> Any:
    raise _Refused(_Look.CONSTANT, f"{text} is not JSON")


@dataclass
class _Frame:
    """One open object or array while walking: its path element and what it has seen."""

    is_object: bool
    key: str | int | None = None  # the current member's key, or the array index
    keys: set[str] | None = None


_TOKEN = re.compile(
    r"""[ \t\n\r]*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<number>-?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?)
      | (?P<constant>NaN|-?Infinity)
      | (?P<punct>[][{}:,])
      | (?P<word>true|false|null)
    )""",
    re.VERBOSE | re.DOTALL,
)


def _locate(text: str, look: str) -> BodyError | None:
    """Walk ``text`` token by token and return the error for the first ``look`` problem, with
    its path and byte offset; None if there is none before the walk ends (the end of the value
    or something that is not JSON, which ``json.loads`` then reports)."""
    stack: list[_Frame] = []
    expect_key = False
    position = 0
    while (match := _TOKEN.match(text, position)) is not None:
        position = match.end()
        kind = match.lastgroup
        start = match.start(kind or 0)
        token = match.group(kind or 0)
        top = stack[-1] if stack else None
        if kind == "punct" and token in "[{":
            if look == _Look.DEPTH and len(stack) >= MAX_DEPTH:
                path = _path(stack)
                return BodyError(
                    400,
                    f"the body is nested too deeply: more than {MAX_DEPTH} levels of arrays "
                    f"and objects {_at(text, start, _place(path))}",
                    field=path,
                )
            is_object = token == "{"
            stack.append(_Frame(is_object, None if is_object else 0, set() if is_object else None))
            expect_key = is_object
        elif kind == "punct" and token in "]}":
            if not stack:
                return None
            stack.pop()
            if not stack:
                return None
            expect_key = False
        elif kind == "punct" and token == ",":
            if top is not None and top.is_object:
                expect_key = True
            elif top is not None and isinstance(top.key, int):
                top.key += 1
        elif kind == "punct":  # ':'
            expect_key = False
        elif kind == "string" and expect_key and top is not None and top.keys is not None:
            key = json.loads(token)
            if look == _Look.DUPLICATE and key in top.keys:
                top.key = key
                path = _path(stack)
                return BodyError(
                    422,
                    f'duplicate key "{key}" {_at(text, start, _place(path))}: each key may '
                    "appear only once in an object",
                    field=path,
                )
            top.keys.add(key)
            top.key = key
            expect_key = False
        elif kind in ("number", "constant") and look in (_Look.NUMBER, _Look.CONSTANT):
            problem = _number_problem(token)
            if problem is not None:
                path = _path(stack)
                return BodyError(400, f"{problem} {_at(text, start, _place(path))}", field=path)
        if not stack and kind != "punct":
            return None  # a lone top-level value: nothing inside it to find
    return None


def _number_problem(token: str) -> str | None:
    if token in ("NaN", "Infinity", "-Infinity"):
        return f"{token} is not JSON (JSON numbers are finite); send a number or a string"
    if len(token) > MAX_NUMBER_CHARS:
        return (
            f"a number in the body is too long: {len(token)} characters, at most {MAX_NUMBER_CHARS}"
        )
    if not math.isfinite(float(token)):
        return f"the number {token[:20]} is out of range"
    return None


def _path(stack: list[_Frame]) -> str:
    """The dotted path of the current position (``body`` at the top)."""
    parts = [str(frame.key) for frame in stack if frame.key is not None]
    return ".".join(parts) or "body"


def _place(path: str) -> str:
    return "at the top level" if path == "body" else f"in {path}"


def _at(text: str, char_offset: int, place: str) -> str:
    """``(at byte offset N, <place>)``: bytes, because that is what the client sent."""
    byte_offset = len(text[:char_offset].encode("utf-8"))
    return f"(at byte offset {byte_offset}, {place})"
