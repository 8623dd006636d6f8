"""A small S3 client (AWS Signature Version 4, Python's standard library only), used twice:

* by the control plane (``reconciler/backups.py``): the size of a dump (``HEAD``), deleting
  expired ones, aborting the unfinished upload a killed Job left;
* as a program, by the backup and restore Jobs of the S3 target (``reconciler/backup_jobs.py``
  mounts this very file from a ConfigMap into the ``backup-s3`` image, which is the engine's
  database image plus ``python3``; see images/backup-s3)::

      python3 s3.py put KEY -- pg_dump ...   # streams the command's output to s3://BUCKET/KEY
      python3 s3.py get KEY FILE             # downloads s3://BUCKET/KEY to FILE

  ``put`` is a multipart upload of 8 MiB parts read from the command's stdout as it writes
  (memory stays at one part, whatever the dump's size), completed only when the command
  exited 0: a failed or killed dump never leaves an object that looks like a backup (an
  unfinished upload is not an object; it is aborted, or, after a SIGKILL, by the control
  plane or the bucket's lifecycle rule).

The Jobs read their configuration from the environment: ``S3_BUCKET``, ``S3_REGION``,
``S3_ENDPOINT_URL`` (empty: AWS), and the standard ``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY`` (from the store namespace's copy of the credentials Secret, by
secretKeyRef). Credentials are never printed: errors name the bucket, the key and what S3
said.

Stand-alone on purpose: it imports nothing from storeplane (the Job runs it by itself), and
needs Python 3.11 or later (the image's python3 is newer).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import os
import subprocess
import sys
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO

PART_SIZE = 8 * 1024 * 1024  # S3's minimum is 5 MiB for every part but the last
_CHUNK = 1024 * 1024


class S3Error(Exception):
    """What S3 answered (status, its error code and message), with the bucket and key."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code or 'HTTP ' + str(status)}: {message}" if message else code)
        self.status = status
        self.code = code


@dataclass
class Upload:
    """A multipart upload in progress: its id, the parts sent (number, ETag), bytes sent."""

    id: str
    parts: list[tuple[int, str]] = field(default_factory=list)
    size: int = 0


def _quote(text: str, safe: str = "~") -> str:
    return urllib.parse.quote(text, safe=safe)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml_text(body: bytes, name: str) -> str:
    for element in ET.fromstring(body).iter():
        if _local(element.tag) == name:
            return element.text or ""
    return ""


class S3Client:
    """One bucket of an S3-compatible service. ``endpoint_url`` None or empty: AWS itself
    (``https://<bucket>.s3.<region>.amazonaws.com``); otherwise path-style requests to that
    URL (``http://minio:9000/<bucket>/<key>``), which every S3-compatible server accepts."""

    def __init__(
        self,
        *,
        bucket: str,
        region: str,
        access_key_id: str,
        secret_access_key: str,
        endpoint_url: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.bucket = bucket
        self.region = region or "us-east-1"
        self._key_id = access_key_id
        self._secret = secret_access_key
        self.timeout = timeout
        if endpoint_url:
            url = urllib.parse.urlsplit(endpoint_url)
            self._https = url.scheme == "https"
            self._host = url.netloc
            self._base = url.path.rstrip("/") + "/" + _quote(bucket)
        else:
            self._https = True
            self._host = f"{bucket}.s3.{self.region}.amazonaws.com"
            self._base = ""

    def __repr__(self) -> str:  # never the credentials
        return f"S3Client(bucket={self.bucket!r}, host={self._host!r})"

    # --- signing --------------------------------------------------------------------------

    def _headers(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        payload_hash: str,
        now: datetime | None = None,
    ) -> dict[str, str]:
        """The signed headers of one request (AWS Signature Version 4, header-based)."""
        now = now or datetime.now(UTC)
        stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        headers = {"host": self._host, "x-amz-content-sha256": payload_hash, "x-amz-date": stamp}
        canonical_query = "&".join(f"{_quote(k)}={_quote(v)}" for k, v in sorted(query.items()))
        signed = ";".join(sorted(headers))
        canonical = "\n".join(
            [
                method,
                path,
                canonical_query,
                "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)),
                signed,
                payload_hash,
            ]
        )
        scope = f"{day}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(
            ["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )
        key = ("AWS4" + self._secret).encode()
        for part in (day, self.region, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={self._key_id}/{scope}, "
            f"SignedHeaders={signed}, Signature={signature}"
        )
        return headers

    def _connection(self) -> http.client.HTTPConnection:
        if self._https:
            return http.client.HTTPSConnection(self._host, timeout=self.timeout)
        return http.client.HTTPConnection(self._host, timeout=self.timeout)

    def _open(
        self, method: str, key: str | None, query: dict[str, str] | None = None, body: bytes = b""
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        query = query or {}
        # The bucket itself is "/<bucket>" path-style ("/" virtual-hosted); an object below it.
        path = self._base + "/" + _quote(key, safe="/~") if key else self._base
        headers = self._headers(method, path or "/", query, hashlib.sha256(body).hexdigest())
        target = (path or "/") + (
            "?" + "&".join(f"{_quote(k)}={_quote(v)}" for k, v in sorted(query.items()))
            if query
            else ""
        )
        conn = self._connection()
        try:
            conn.request(method, target, body=body or None, headers=headers)
            response = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise S3Error(0, "Unreachable", f"{self._host}: {exc}") from exc
        return conn, response

    def _call(
        self, method: str, key: str | None, query: dict[str, str] | None = None, body: bytes = b""
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        conn, response = self._open(method, key, query, body)
        try:
            data = response.read()
        finally:
            conn.close()
        if response.status >= 300 or (data and _local(ET.fromstring(data).tag) == "Error"):
            code = _xml_text(data, "Code") if data else ""
            message = _xml_text(data, "Message") if data else response.reason
            raise S3Error(response.status, code, f"{message} (s3://{self.bucket}/{key or ''})")
        return response.status, response.headers, data

    # --- operations -----------------------------------------------------------------------

    def create_bucket(self) -> None:
        """Make the bucket (an operator's setup step; tests use it on a local server)."""
        self._call("PUT", None)

    def size(self, key: str) -> int | None:
        """The object's size in bytes, or None when there is no such object."""
        try:
            _, headers, _ = self._call("HEAD", key)
        except S3Error as exc:
            if exc.status == 404:
                return None
            raise
        return int(headers.get("Content-Length") or 0)

    def delete(self, key: str) -> None:
        """Delete the object (deleting a missing one is no error, as in S3)."""
        self._call("DELETE", key)

    def put_stream(self, key: str, stream: IO[bytes]) -> Upload:
        """Upload ``stream`` (read to its end) as the parts of a multipart upload. The
        object appears only with :meth:`complete`; :meth:`abort` drops the parts."""
        _, _, data = self._call("POST", key, {"uploads": ""})
        upload = Upload(_xml_text(data, "UploadId"))
        try:
            for number, chunk in enumerate(_parts(stream), start=1):
                _, headers, _ = self._call(
                    "PUT", key, {"partNumber": str(number), "uploadId": upload.id}, chunk
                )
                upload.parts.append((number, str(headers.get("ETag") or "")))
                upload.size += len(chunk)
        except BaseException:
            self.abort(key, upload.id)
            raise
        return upload

    def complete(self, key: str, upload: Upload) -> None:
        parts = "".join(
            f"<Part><PartNumber>{n}</PartNumber><ETag>{etag}</ETag></Part>"
            for n, etag in upload.parts
        )
        body = f"<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>"
        self._call("POST", key, {"uploadId": upload.id}, body.encode())

    def abort(self, key: str, upload: str) -> None:
        try:
            self._call("DELETE", key, {"uploadId": upload})
        except S3Error as exc:
            if exc.status != 404:
                raise

    def abort_unfinished(self, key: str) -> int:
        """Abort every unfinished upload of ``key`` (a Job killed mid-dump leaves one: it
        is not an object, but its parts are stored); the number aborted."""
        _, _, data = self._call("GET", None, {"uploads": "", "prefix": key})
        aborted = 0
        for upload in ET.fromstring(data).iter():
            if _local(upload.tag) != "Upload":
                continue
            fields = {_local(e.tag): e.text or "" for e in upload}
            if fields.get("Key") == key and fields.get("UploadId"):
                self.abort(key, fields["UploadId"])
                aborted += 1
        return aborted

    def download(self, key: str, target: IO[bytes]) -> int:
        """Write the object to ``target`` as it arrives; its size."""
        conn, response = self._open("GET", key)
        try:
            if response.status >= 300:
                data = response.read()
                raise S3Error(
                    response.status,
                    _xml_text(data, "Code") if data else "",
                    f"{_xml_text(data, 'Message') if data else response.reason} "
                    f"(s3://{self.bucket}/{key})",
                )
            total = 0
            while chunk := response.read(_CHUNK):
                target.write(chunk)
                total += len(chunk)
            return total
        finally:
            conn.close()


def _parts(stream: IO[bytes]) -> Iterator[bytes]:
    """``stream`` in PART_SIZE pieces (the last one shorter; at least one, maybe empty)."""
    first = True
    while True:
        buffer = bytearray()
        while len(buffer) < PART_SIZE:
            chunk = stream.read(min(_CHUNK, PART_SIZE - len(buffer)))
            if not chunk:
                break
            buffer += chunk
        if buffer or first:
            yield bytes(buffer)
        first = False
        if len(buffer) < PART_SIZE:
            return


def client_from_env(environ: dict[str, str] | None = None) -> S3Client:
    env = dict(os.environ if environ is None else environ)
    missing = [
        name
        for name in ("S3_BUCKET", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
        if not env.get(name)
    ]
    if missing:
        raise SystemExit(f"s3: {', '.join(missing)} not set")
    return S3Client(
        bucket=env["S3_BUCKET"],
        region=env.get("S3_REGION", ""),
        endpoint_url=env.get("S3_ENDPOINT_URL") or None,
        access_key_id=env["AWS_ACCESS_KEY_ID"],
        secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def _put(client: S3Client, key: str, command: list[str]) -> int:
    dump = subprocess.Popen(command, stdout=subprocess.PIPE)
    assert dump.stdout is not None
    try:
        upload = client.put_stream(key, dump.stdout)
    except S3Error as exc:
        dump.kill()
        dump.wait()
        print(f"s3: upload to s3://{client.bucket}/{key} failed: {exc}", file=sys.stderr)
        return 3
    code = dump.wait()
    if code != 0 or upload.size == 0:
        client.abort(key, upload.id)
        why = f"exited {code}" if code else "wrote nothing"
        print(f"s3: {command[0]} {why}; nothing was stored at {key}", file=sys.stderr)
        return code or 2
    client.complete(key, upload)
    print(f"dump written: {upload.size} bytes to s3://{client.bucket}/{key}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    usage = "usage: s3.py put KEY -- COMMAND... | s3.py get KEY FILE"
    if len(args) >= 4 and args[0] == "put" and args[2] == "--":
        return _put(client_from_env(), args[1], args[3:])
    if len(args) == 3 and args[0] == "get":
        client = client_from_env()
        try:
            with open(args[2], "wb") as target:
                total = client.download(args[1], target)
        except S3Error as exc:
            print(f"s3: download of s3://{client.bucket}/{args[1]} failed: {exc}", file=sys.stderr)
            return 3
        print(f"downloaded {total} bytes from s3://{client.bucket}/{args[1]}")
        return 0
    print(usage, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main())
