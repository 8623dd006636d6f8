"""The API's JSON body parser (``api/body.py``) on its own, then the same bodies sent to the API
on SQLite and PostgreSQL: what each refusal says, where it points, and that nothing is written."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from storeplane.api.body import MAX_DEPTH, MAX_NUMBER_CHARS, BodyError, parse_json
from storeplane.db import SqlStoreRepository
from tests.api.conftest import Api, make_api

PROBLEM = "application/problem+json"
DEEP = b"[" * 10_000 + b"]" * 10_000
LONG_NUMBER = b'{"name": "acme", "engine": "medusa", "plan": ' + b"7" * 5_000 + b"}"

# (body, status, field, words in the message)
REFUSED: list[tuple[bytes, int, str, list[str]]] = [
    (
        b'{"name": "acme",',
        400,
        "body",
        ["not valid JSON", "Expecting property name", "byte offset 16", "line 1, column 17"],
    ),
    (
        '{"name": "café",,}'.encode(),
        400,
        "body",
        ["not valid JSON", "byte offset 17"],  # bytes, not characters: é is two
    ),
    (
        b'{"name":"a","name":"b"}',
        422,
        "name",
        ['duplicate key "name"', "byte offset 12", "in name", "only once"],
    ),
    (
        b'{"spec": {"labels": [{"k": 1}, {"k": 1, "k": 2}]}}',
        422,
        "spec.labels.1.k",
        ['duplicate key "k"', "in spec.labels.1.k"],
    ),
    (
        DEEP,
        400,
        ".".join(["0"] * MAX_DEPTH),
        ["nested too deeply", f"more than {MAX_DEPTH} levels", f"byte offset {MAX_DEPTH}"],
    ),
    (
        b'{"a": ' + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH + b"}",
        400,
        "a" + ".0" * (MAX_DEPTH - 1),
        ["nested too deeply"],
    ),
    (
        LONG_NUMBER,
        400,
        "plan",
        ["number in the body is too long", "5000 characters", f"at most {MAX_NUMBER_CHARS}"],
    ),
    (b'{"n": 0.' + b"1" * 200 + b"}", 400, "n", ["too long"]),
    (b'{"n": 1e400}', 400, "n", ["out of range"]),
    (b'{"n": [1, NaN]}', 400, "n.1", ["NaN is not JSON"]),
    (b'{"name": "acme\xff"}', 400, "body", ["not UTF-8", "byte 0xff", "byte offset 14"]),
    (b'{"name": "\xc3"}', 400, "body", ["not UTF-8", "byte offset 10"]),
    (b"\xef\xbb\xbf{}", 400, "body", ["byte order mark"]),
]
REFUSED_IDS = [
    "malformed json says what was expected and where",
    "the offset of a syntax error counts bytes",
    "a duplicate key is named with its offset",
    "a nested duplicate key is named by its path",
    "a 10,000-level body is too deep and says at which byte",
    "one level more than the limit is too deep and names the path",
    "a 5,000-digit integer is too long and names its field",
    "a float with 200 digits is too long",
    "a float out of range is refused",
    "NaN is not JSON",
    "an invalid utf-8 byte is named with its offset",
    "a truncated utf-8 character is refused",
    "a byte order mark is refused",
]


@pytest.mark.parametrize(("body", "status", "field", "words"), REFUSED, ids=REFUSED_IDS)
def test_a_refused_body_says_what_is_wrong_and_where(
    body: bytes, status: int, field: str, words: list[str]
) -> None:
    with pytest.raises(BodyError) as info:
        parse_json(body)
    assert (info.value.status_code, info.value.field) == (status, field)
    for word in words:
        assert word in info.value.message


@pytest.mark.parametrize(
    "value",
    [
        {"name": "acme", "engine": "medusa"},
        {"name": "[[[[" * 20 + "{{{{" * 20, "x": "]]]"},
        {"a": [[[[[[[[{"b": [1, 2.5, -3e10, True, None]}]]]]]]]]},
        {"k": "a", "K": "b", "nested": {"k": "same key in another object"}},
        {"n": int("9" * MAX_NUMBER_CHARS)},
        {"café": "naïve ✓"},
        [],
        "just a string",
    ],
    ids=[
        "a store body",
        "brackets inside strings are not nesting",
        "nesting within the limit",
        "keys repeated in different objects or cases",
        "a number of exactly the maximum length",
        "non-ascii text",
        "an empty array",
        "a lone string",
    ],
)
def test_a_good_body_parses_to_what_json_loads_gives(value: object) -> None:
    text = json.dumps(value, ensure_ascii=False).encode()
    assert parse_json(text) == json.loads(text)


def test_nesting_of_exactly_the_limit_is_accepted() -> None:
    body = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    assert parse_json(body) == json.loads(body)


class TestOverHttp:
    @pytest.fixture
    def roomy(self, migrated_url: str, repo: SqlStoreRepository) -> Iterator[Api]:
        """The API with the default body size limit, so that the hostile bodies fit."""
        yield from make_api(migrated_url, repo, max_request_bytes=64 * 1024)

    @pytest.mark.parametrize(("body", "status", "field", "words"), REFUSED, ids=REFUSED_IDS)
    def test_a_refused_body_is_a_problem_and_writes_nothing(
        self, roomy: Api, body: bytes, status: int, field: str, words: list[str]
    ) -> None:
        store = roomy.create("body-shop")
        before = roomy.rows()
        for method, path in [
            ("POST", "/api/v1/stores"),
            ("PATCH", f"/api/v1/stores/{store['id']}"),
        ]:
            response = roomy.client.request(
                method, path, content=body, headers={"content-type": "application/json"}
            )
            assert response.status_code == status, response.text
            assert response.headers["content-type"] == PROBLEM
            problem = response.json()
            assert set(problem) == {"type", "title", "status", "detail", "errors"}
            assert problem["errors"] == [{"field": field, "message": problem["detail"]}]
            for word in words:
                assert word in problem["detail"]
        assert roomy.rows() == before
