"""What the order clients share: the error they raise, the values they return, and one JSON
call that turns every HTTP or transport failure into an :class:`OrderStepError`."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

import httpx

DEFAULT_TIMEOUT = 30.0
_SNIPPET = 400


class OrderStepError(Exception):
    """A step of placing or checking an order failed.

    ``engine`` and ``step`` say where ("medusa", "add line item"); ``status`` and ``answer``
    hold what the engine said (HTTP status, its error message or the start of its body), or
    ``status`` is None when the store could not be reached at all.
    """

    def __init__(
        self,
        engine: str,
        step: str,
        message: str,
        *,
        status: int | None = None,
        answer: str = "",
    ) -> None:
        self.engine = engine
        self.step = step
        self.status = status
        self.answer = answer
        super().__init__(f"{engine}: {step}: {message}")


@dataclass(frozen=True, slots=True)
class Address:
    """A guest's address. ``country_code`` (ISO 3166-1 alpha-2, lower or upper case) defaults
    to a country the store sells to (Medusa: the region's first; WooCommerce: ``DE``)."""

    first_name: str = "Grace"
    last_name: str = "Hopper"
    address_1: str = "1 Harbour Street"
    city: str = "Berlin"
    postal_code: str = "10115"
    province: str = ""
    phone: str = "+49 30 1234567"
    country_code: str | None = None


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    """An order as the storefront confirmed it."""

    engine: str
    id: str
    number: str  # what a person reads: Medusa's display_id, WooCommerce's order number
    status: str
    total: Decimal  # in major units (19.00, not 1900)
    currency: str
    email: str


@dataclass(frozen=True, slots=True)
class AdminOrder:
    """An order as the engine's admin API shows it."""

    engine: str
    id: str
    number: str
    status: str
    payment_status: str
    total: Decimal
    currency: str
    email: str
    raw: Mapping[str, Any] = field(repr=False, default_factory=dict)


def snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SNIPPET else text[:_SNIPPET] + "..."


def engine_message(body: Any) -> str:
    """The human part of an engine's error body: Medusa ``{type, message}``, WooCommerce
    ``{code, message}``; empty when the body has neither."""
    if not isinstance(body, dict):
        return ""
    message = str(body.get("message") or "")
    kind = str(body.get("code") or body.get("type") or "")
    if message and kind:
        return f"{message} ({kind})"
    return message or kind


def dig(engine: str, step: str, body: Any, *path: str | int) -> Any:
    """``body[path[0]][path[1]]...``; an answer without that shape is an :class:`OrderStepError`
    naming the missing key (the engine's API changed, or the step silently did nothing)."""
    node = body
    for depth, key in enumerate(path):
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            node = None
        if node is None:
            where = ".".join(str(k) for k in path[: depth + 1])
            seen = snippet(json.dumps(body, default=str))
            raise OrderStepError(
                engine,
                step,
                f"unexpected answer: {where} is missing or null in {seen}",
                answer=seen,
            )
    return node


def money(value: Any, minor_unit: int = 0) -> Decimal:
    """A price from an API as a Decimal in major units; ``minor_unit`` digits are shifted when
    the API counts in minor units (WooCommerce's Store API: "1900" with minor unit 2)."""
    amount = Decimal(str(value))
    return amount.scaleb(-minor_unit) if minor_unit else amount


class JsonApi:
    """A thin JSON-over-HTTP caller bound to one engine and base URL.

    ``call`` sends one request and returns the decoded JSON body and the response; any
    transport error, non-2xx status or non-JSON body becomes an :class:`OrderStepError` for the
    step being run. ``on_step`` (optional, settable after construction) is called with a step's
    name when a call starts a step other than the previous one: the smoke check saves it, so a
    person following the check sees where it is.
    """

    on_step: Callable[[str], None] | None = None

    def __init__(
        self,
        engine: str,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        verify: bool = True,
    ) -> None:
        self.engine = engine
        self.base_url = base_url.rstrip("/")
        self._last_step: str | None = None
        self.client = httpx.Client(
            base_url=self.base_url,
            headers=dict(headers or {}),
            timeout=timeout,
            transport=transport,
            verify=verify,
            follow_redirects=False,
        )

    def close(self) -> None:
        self.client.close()

    def call(
        self,
        step: str,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
    ) -> tuple[Any, httpx.Response]:
        request = f"{method} {path}"
        if self.on_step is not None and step != self._last_step:
            self.on_step(step)
        self._last_step = step
        try:
            response = self.client.request(
                method,
                path,
                json=json_body,
                params=dict(params) if params else None,
                headers=dict(headers) if headers else None,
                auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.TimeoutException as exc:
            raise OrderStepError(
                self.engine,
                step,
                f"{request} timed out after {self.client.timeout.read}s at {self.base_url} "
                f"({type(exc).__name__})",
            ) from exc
        except httpx.HTTPError as exc:
            raise OrderStepError(
                self.engine,
                step,
                f"{request}: cannot reach the store at {self.base_url} ({type(exc).__name__}: {exc})",
            ) from exc
        text = response.text
        try:
            body = response.json() if text.strip() else None
        except ValueError:
            body = None
            if response.is_success:
                raise OrderStepError(
                    self.engine,
                    step,
                    f"{request} answered HTTP {response.status_code} with a body that is not "
                    f"JSON: {snippet(text)}",
                    status=response.status_code,
                    answer=snippet(text),
                ) from None
        if not response.is_success:
            said = engine_message(body) or snippet(text) or "(empty body)"
            hint = _HINTS.get(response.status_code, "")
            raise OrderStepError(
                self.engine,
                step,
                f"{request} answered HTTP {response.status_code}: {said}{hint}",
                status=response.status_code,
                answer=said,
            )
        return body, response


_HINTS = {
    301: " (a redirect: is the base URL the store's own URL, with the right scheme?)",
    302: " (a redirect: is the base URL the store's own URL, with the right scheme?)",
    401: " (check the credentials or key)",
    404: " (is the base URL the store's, and is the engine's API enabled?)",
}


class ApiClient:
    """Base of the engine clients: each holds one :class:`JsonApi` and closes it when used as a
    context manager or by :meth:`close`."""

    api: JsonApi

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.api.close()

    def close(self) -> None:
        self.api.close()
