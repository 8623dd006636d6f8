"""Kubernetes ``Status`` errors: one exception type and a builder per reason.

Raised anywhere below the routes (validation, store semantics, apply); the app turns an
``ApiError`` into the JSON ``Status`` body and HTTP code a real API server would send, with
the same messages, so clients (and ``kubectl``) print what they would print against a cluster.
"""

from __future__ import annotations

from typing import Any

from .kinds import Kind


class ApiError(Exception):
    """A failed request, rendered as a ``Status`` object by :func:`status_body`."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}
        self.metadata = metadata or {}  # the Status's ListMeta (a 410's fresh ``continue``)

    def status_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": dict(self.metadata),
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            body["details"] = self.details
        return body


def _details(kind: Kind, name: str, **extra: Any) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name}
    if kind.group:
        details["group"] = kind.group
    details["kind"] = kind.resource
    details.update(extra)
    return details


def not_found(kind: Kind, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{kind.qualified} "{name}" not found', _details(kind, name))


def already_exists(kind: Kind, name: str) -> ApiError:
    return ApiError(
        409, "AlreadyExists", f'{kind.qualified} "{name}" already exists', _details(kind, name)
    )


def conflict(kind: Kind, name: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {kind.qualified} "{name}": the object has been '
        "modified; please apply your changes to the latest version and try again",
        _details(kind, name),
    )


def apply_conflict(kind: Kind, name: str, conflicts: list[tuple[str, str, str]]) -> ApiError:
    """Server-side apply refused: ``conflicts`` lists (manager, apiVersion, ".field.path")."""
    noun = "conflict" if len(conflicts) == 1 else "conflicts"
    lines = [f'conflict with "{m}" using {api}: {field}' for m, api, field in conflicts]
    if len(lines) == 1:
        message = f"Apply failed with 1 conflict: {lines[0]}"
    else:
        message = f"Apply failed with {len(lines)} {noun}: " + "\n".join(lines)
    causes = [
        {"reason": "FieldManagerConflict", "message": f'conflict with "{m}"', "field": f}
        for m, _, f in conflicts
    ]
    return ApiError(409, "Conflict", message, _details(kind, name, causes=causes))


def invalid(kind: Kind, name: str, causes: list[tuple[str, str]]) -> ApiError:
    """Validation failed: ``causes`` is a list of (field, message-after-the-field)."""
    text = ", ".join(f"{field}: {msg}" for field, msg in causes)
    noun = f"{kind.kind}.{kind.group}" if kind.group else kind.kind
    details = _details(
        kind,
        name,
        causes=[
            {"reason": _cause_reason(msg), "message": msg, "field": field} for field, msg in causes
        ],
    )
    details["kind"] = kind.kind  # Invalid names the kind, not the resource, as the server does
    return ApiError(422, "Invalid", f'{noun} "{name}" is invalid: {text}', details)


def _cause_reason(message: str) -> str:
    if message.startswith("Required value"):
        return "FieldValueRequired"
    if message.startswith("Unsupported value"):
        return "FieldValueNotSupported"
    if message.startswith("Forbidden"):
        return "FieldValueForbidden"
    return "FieldValueInvalid"


def namespace_terminating(kind: Kind, name: str, namespace: str) -> ApiError:
    return ApiError(
        403,
        "Forbidden",
        f'{kind.qualified} "{name}" is forbidden: unable to create new content in namespace '
        f"{namespace} because it is being terminated",
        _details(
            kind,
            name,
            causes=[
                {
                    "reason": "NamespaceTerminating",
                    "message": f"namespace {namespace} is being terminated",
                    "field": "metadata.namespace",
                }
            ],
        ),
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def path_not_found() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def method_not_allowed() -> ApiError:
    return ApiError(
        405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
    )


def unsupported_media_type(content_type: str) -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format ({content_type or 'none'}) - "
        "accepted media types include: application/json, application/apply-patch+yaml, "
        "application/merge-patch+json, application/strategic-merge-patch+json, "
        "application/json-patch+json",
    )
