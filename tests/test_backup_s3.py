"""The S3 client the backup Jobs and the control plane share (pure: its signing and parts).

The signature is checked against AWS's own published example (Signature Version 4, "GET
Bucket (List Objects)": examplebucket, 20130524T000000Z); the requests themselves reach a
real S3 API in tests/scenarios/test_backups_s3.py.
"""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime

import pytest

from storeplane import backup_s3
from storeplane.backup_s3 import S3Client


def test_requests_are_signed_as_aws_documents_it() -> None:
    client = S3Client(
        bucket="examplebucket",
        region="us-east-1",
        access_key_id="AKIAIOSFODNN7EXAMPLE",
        secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    )
    client._host = "examplebucket.s3.amazonaws.com"  # the example's (global) endpoint
    headers = client._headers(
        "GET", "/", {"max-keys": "2", "prefix": "J"}, hashlib.sha256(b"").hexdigest(),
        datetime(2013, 5, 24, tzinfo=UTC),
    )  # fmt: skip
    assert headers["authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
        "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
    )


def test_the_client_never_shows_its_secret() -> None:
    client = S3Client(bucket="b-1", region="", access_key_id="id", secret_access_key="s3cr3t!")
    assert "s3cr3t!" not in repr(client) and "s3cr3t!" not in str(vars(client).get("bucket"))


@pytest.mark.parametrize(
    ("size", "parts"),
    [(0, [0]), (10, [10]), (backup_s3.PART_SIZE, [backup_s3.PART_SIZE]),
     (backup_s3.PART_SIZE + 1, [backup_s3.PART_SIZE, 1])],
    ids=["an empty stream is one empty part", "a small dump is one part",
         "exactly one part's size is one part", "one byte more starts a second part"],
)  # fmt: skip
def test_a_stream_is_cut_into_parts(size: int, parts: list[int]) -> None:
    assert [len(p) for p in backup_s3._parts(io.BytesIO(b"x" * size))] == parts


def test_the_program_says_how_to_use_it() -> None:
    assert backup_s3.main(["frobnicate"]) == 64
