"""Failure injection: make the simulator misbehave on purpose, for tests and demos.

Settings are a :class:`Faults` value: set at start-up (``SimulatorConfig.faults``, the
``storeplane sim --fault-*`` flags) and changed at runtime through the simulator-only API
served by :mod:`storeplane.sim.api.app`:

- ``GET /sim/v1/faults`` - the current settings (JSON);
- ``PUT /sim/v1/faults`` - replace them (fields left out take their default: no fault);
- ``PATCH /sim/v1/faults`` - change only the fields given;
- ``DELETE /sim/v1/faults`` - back to no faults.

What each setting does:

- ``error_rate`` (0..1): that share of API calls is answered with an error instead, the
  code picked at random from ``error_codes`` (500 InternalError, 502/504, 503
  ServiceUnavailable, 429 TooManyRequests with ``Retry-After: retry_after``), as a ``Status``
  in the API server's words. The call has no effect.
- ``latency`` (+ up to ``latency_jitter`` at random) seconds are added before each API call.
- ``watch_drop_after``: every watch connection is cut (no clean end of the chunked body)
  after that many seconds, as a load balancer or a restarting API server does.
- ``fail_image_tag``: a container image with this tag (default ``fail``, e.g.
  ``nginx:fail``) never becomes ready: its workload stays unavailable and its Job never
  completes. Empty turns it off. It is on by default because it only touches objects that
  ask for it.
- ``seed``: makes the random choices repeatable.

Only resource calls (``/api/...`` and ``/apis/...`` below a group-version, including watch
and the service proxy) are faulted; health (``/healthz``, ``/livez``, ``/readyz``),
``/version``, discovery, ``/openapi`` and ``/sim/v1/*`` never are.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from .errors import ApiError, bad_request

ERROR_CODES = (429, 500, 502, 503, 504)


@dataclass(frozen=True)
class Faults:
    """Fault settings; the defaults inject nothing (see the module docstring)."""

    error_rate: float = 0.0
    error_codes: tuple[int, ...] = (500, 503, 429)
    retry_after: int = 1
    latency: float = 0.0
    latency_jitter: float = 0.0
    watch_drop_after: float | None = None
    fail_image_tag: str = "fail"
    seed: int | None = None

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["error_codes"] = list(self.error_codes)
        return body

    @classmethod
    def from_json(cls, body: Any, base: Faults | None = None) -> Faults:
        """Settings from a JSON object: ``base`` (default: no faults) with the given fields
        replaced. A 400 BadRequest says what is wrong with a field."""
        if not isinstance(body, dict):
            raise bad_request("fault settings must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(body) - known)
        if unknown:
            raise bad_request(
                f"unknown fault setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        changes: dict[str, Any] = {}
        for name, value in body.items():
            changes[name] = _check(name, value)
        return replace(base or cls(), **changes)


def _number(name: str, value: Any, low: float, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad_request(f"fault setting {name} must be a number, got {value!r}")
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise bad_request(f"fault setting {name} must be {bounds}, got {value}")
    return float(value)


def _check(name: str, value: Any) -> Any:
    if name == "error_rate":
        return _number(name, value, 0.0, 1.0)
    if name in ("latency", "latency_jitter"):
        return _number(name, value, 0.0, 60.0)
    if name == "retry_after":
        return int(_number(name, value, 0, 3600))
    if name == "watch_drop_after":
        return None if value is None else _number(name, value, 0.0)
    if name == "seed":
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise bad_request(f"fault setting seed must be an integer or null, got {value!r}")
        return value
    if name == "fail_image_tag":
        if not isinstance(value, str):
            raise bad_request(f"fault setting fail_image_tag must be a string, got {value!r}")
        return value
    # error_codes
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(c, int) and c in ERROR_CODES for c in value)
    ):
        raise bad_request(
            f"fault setting error_codes must be a non-empty list drawn from {list(ERROR_CODES)}, "
            f"got {value!r}"
        )
    return tuple(value)


def fault_error(code: int, retry_after: int) -> ApiError:
    """The Status a real API server (or the proxy in front of it) sends with ``code``."""
    if code == 429:
        return ApiError(
            429,
            "TooManyRequests",
            "Too many requests, please try again later.",
            {"retryAfterSeconds": retry_after},
            headers={"Retry-After": str(retry_after)},
        )
    if code == 503:
        return ApiError(
            503,
            "ServiceUnavailable",
            "the server is currently unable to handle the request",
            {"retryAfterSeconds": retry_after},
            headers={"Retry-After": str(retry_after)},
        )
    if code == 504:
        return ApiError(504, "Timeout", "the server was unable to return a response in time")
    if code == 502:
        return ApiError(502, "InternalError", "the server could not reach its backend")
    return ApiError(
        500,
        "InternalError",
        "Internal error occurred: injected by the storeplane simulator (fault injection)",
        {"causes": [{"message": "injected by the storeplane simulator (fault injection)"}]},
    )


class FaultInjector:
    """The live fault settings and the random source that applies them."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._random = random.Random(faults.seed)

    def set(self, faults: Faults) -> None:
        self.faults = faults
        if faults.seed is not None:
            self._random = random.Random(faults.seed)

    async def before_call(self) -> None:
        """Delay and maybe fail one API call (raises the injected :class:`ApiError`)."""
        faults = self.faults
        delay = faults.latency
        if faults.latency_jitter:
            delay += self._random.uniform(0, faults.latency_jitter)
        if delay > 0:
            await asyncio.sleep(delay)
        if faults.error_rate > 0 and self._random.random() < faults.error_rate:
            code = self._random.choice(faults.error_codes)
            raise fault_error(code, faults.retry_after)

    def image_fails(self, image: Any) -> bool:
        """Whether a container image carries the never-ready tag."""
        tag = self.faults.fail_image_tag
        if not tag or not isinstance(image, str):
            return False
        name = image.split("@", 1)[0]
        last = name.rsplit("/", 1)[-1]
        return ":" in last and last.rsplit(":", 1)[1] == tag

    def template_fails(self, template: Any) -> bool:
        """Whether any container of a pod template uses a never-ready image."""
        spec = (template or {}).get("spec") or {} if isinstance(template, dict) else {}
        containers = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
        return any(isinstance(c, dict) and self.image_fails(c.get("image")) for c in containers)
