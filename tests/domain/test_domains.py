"""Custom domain names: what ``validate_domains`` accepts, and the actionable words it refuses
the rest with (RFC 1123 host names, no wildcard, no IP, not under the platform's domain)."""

from __future__ import annotations

import pytest

from storeplane.domain.domains import tls_secret_name, validate_domain, validate_domains
from storeplane.domain.errors import InvalidRequestError

BASE = "shops.example"

ACCEPTED = [
    ("shop.example.com", "shop.example.com"),
    ("Shop.Example.COM", "shop.example.com"),
    ("  www.example.org ", "www.example.org"),
    ("xn--bcher-kva.example", "xn--bcher-kva.example"),
    ("a-b.c-d.example.io", "a-b.c-d.example.io"),
    ("1shop.example.com", "1shop.example.com"),
    ("x" * 63 + ".example.com", "x" * 63 + ".example.com"),
    ("shops.example.com", "shops.example.com"),  # only looks like the platform's domain
]

REFUSED = [
    ("*.example.com", "wildcards are not allowed"),
    ("shop.*.com", "wildcards are not allowed"),
    ("192.168.1.10", "IP address"),
    ("10.0.0.1", "IP address"),
    ("[::1]", "not a host name"),
    ("2001:db8::1", "not a host name"),
    ("https://shop.example.com", "without scheme, port or path"),
    ("shop.example.com:8443", "without scheme, port or path"),
    ("shop.example.com/", "without scheme, port or path"),
    ("shop.example.com.", "trailing dot"),
    ("localhost", "single label"),
    ("", "must not be empty"),
    ("shop..example.com", "invalid label ''"),
    ("-shop.example.com", "invalid label '-shop'"),
    ("shop-.example.com", "invalid label 'shop-'"),
    ("sh_op.example.com", "invalid label 'sh_op'"),
    ("shop.example.123", "all-numeric"),
    ("bücher.example", "punycode"),
    ("x" * 64 + ".example.com", "at most 63"),
    (("a" * 60 + ".") * 4 + "example.com", "at most 253"),
    ("store-ab12cd34.shops.example", "platform's own domain shops.example"),
    ("shops.example", "platform's own domain"),
    (42, "must be a string"),
]


@pytest.mark.parametrize(("raw", "expected"), ACCEPTED, ids=[a for a, _ in ACCEPTED])
def test_a_valid_domain_is_accepted_lower_cased(raw: str, expected: str) -> None:
    assert validate_domain(raw, BASE) == expected


@pytest.mark.parametrize(("raw", "words"), REFUSED, ids=[str(r)[:40] for r, _ in REFUSED])
def test_an_invalid_domain_is_refused_saying_which_rule(raw: object, words: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        validate_domain(raw, BASE)
    assert words in caught.value.message
    assert caught.value.field == "domains"


def test_a_domain_listed_twice_is_refused() -> None:
    with pytest.raises(InvalidRequestError, match="listed twice"):
        validate_domains(["shop.example.com", "SHOP.example.com"], BASE)


def test_more_than_twenty_domains_are_refused() -> None:
    with pytest.raises(InvalidRequestError, match="at most 20"):
        validate_domains([f"s{i}.example.com" for i in range(21)], BASE)


def test_each_domain_has_its_own_certificate_secret_name() -> None:
    a, b = tls_secret_name("a-b.example.com"), tls_secret_name("a.b-example.com")
    assert a != b
    for name in (a, b, tls_secret_name("x" * 63 + ".example.com")):
        assert len(name) <= 63 and name.endswith("-tls") and name.islower()
