"""Where the ``storeplane stores`` commands find the API and its token.

``storeplane dev`` writes two small files into its data dir: ``admin.token`` (mode 0600) and
``api.url`` (the URL it listens on, removed again on a clean exit). The client commands read
them, so a user of ``scripts/dev.sh --port 18080`` needs no flags at all. Called by
``cli/dev.py`` (to write the URL) and ``cli/stores.py`` (to resolve a :class:`Connection`).

The URL is, first found wins: ``--api-url`` (before or after the subcommand),
``STOREPLANE_API_URL``, ``<data dir>/api.url``, then :data:`DEFAULT_API_URL`. The token:
``--token``, ``STOREPLANE_TOKEN``, then ``<data dir>/admin.token``.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

ADMIN_TOKEN_FILE = "admin.token"
API_URL_FILE = "api.url"
DEFAULT_API_URL = "http://127.0.0.1:8080"
DEFAULT_DATA_DIR = Path(".data")


@dataclass(frozen=True)
class Connection:
    """The API a command talks to, the token it sends, and where each came from (for errors)."""

    api_url: str
    token: str
    url_source: str  # "--api-url", "STOREPLANE_API_URL", "<path of api.url>" or "the default"
    data_dir: Path

    def unreachable_hint(self) -> str:
        """What to tell a user whose API did not answer: where the URL came from and how to
        give another one."""
        url_file = (self.data_dir / API_URL_FILE).absolute()
        if self.url_source in ("--api-url", "STOREPLANE_API_URL"):
            origin = f"the URL came from {self.url_source}"
        elif self.url_source == "the default":
            origin = (
                f"no --api-url or STOREPLANE_API_URL was given and no running storeplane dev "
                f"recorded its URL in {url_file}, so the default was used"
            )
        else:
            origin = (
                f"the URL came from {url_file}, written by a storeplane dev that may have "
                "stopped without cleaning up"
            )
        return (
            f"{origin}. Start one with `storeplane dev` (or scripts/dev.sh), or point the CLI "
            "at a running API with --api-url or STOREPLANE_API_URL (--data-dir or "
            "STOREPLANE_DATA_DIR: the data dir of a running storeplane dev)"
        )


def resolve(
    api_url: str | None, token: str | None, data_dir: Path | None, *, env: dict[str, str]
) -> Connection:
    """The connection for flags ``api_url``/``token``/``data_dir`` (None: not given) and the
    environment ``env``."""
    directory = data_dir or Path(env.get("STOREPLANE_DATA_DIR") or DEFAULT_DATA_DIR)
    if api_url:
        url, source = api_url, "--api-url"
    elif env.get("STOREPLANE_API_URL"):
        url, source = env["STOREPLANE_API_URL"], "STOREPLANE_API_URL"
    elif recorded := _read(directory / API_URL_FILE):
        url, source = recorded, str(directory / API_URL_FILE)
    else:
        url, source = DEFAULT_API_URL, "the default"
    secret = token or env.get("STOREPLANE_TOKEN") or _read(directory / ADMIN_TOKEN_FILE)
    return Connection(url.rstrip("/"), secret, source, directory)


def write_api_url(data_dir: Path, url: str) -> Path:
    """Record ``url`` in ``<data_dir>/api.url`` atomically (a reader never sees half a URL)."""
    path = data_dir / API_URL_FILE
    fd, tmp = tempfile.mkstemp(dir=data_dir, prefix=f".{API_URL_FILE}.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(url + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def forget_api_url(data_dir: Path, url: str) -> None:
    """On a clean exit: remove ``api.url`` if it still names ``url`` (another ``storeplane dev``
    on the same data dir may have replaced it since)."""
    path = data_dir / API_URL_FILE
    if _read(path) == url:
        path.unlink(missing_ok=True)


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""
