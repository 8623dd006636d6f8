"""How ``storeplane stores`` finds its API: the URL ``storeplane dev`` records in its data dir,
flags before or after the subcommand, and an error that says where it looked.

The first table is the pure precedence rule (storeplane/cli/connection.py); the rest run the
real command against a real ``storeplane dev``."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from storeplane.cli.connection import API_URL_FILE, DEFAULT_API_URL, resolve
from tests.cli.run import READY_DELAY, storeplane
from tests.scenarios.dev_process import DevProcess

FLAG, ENV, FILE = "http://127.0.0.1:1111", "http://127.0.0.1:2222", "http://127.0.0.1:3333"

PRECEDENCE = [
    ("the flag wins over the environment and the file", FLAG, ENV, FILE, FLAG, "--api-url"),
    ("the environment wins over the file", None, ENV, FILE, ENV, "STOREPLANE_API_URL"),
    ("the file of a running dev is used when nothing is given", None, None, FILE, FILE, "file"),
    ("the default is the last resort", None, None, None, DEFAULT_API_URL, "the default"),
]


@pytest.mark.parametrize(
    ("flag", "env", "recorded", "expected", "source"),
    [case[1:] for case in PRECEDENCE],
    ids=[case[0] for case in PRECEDENCE],
)
def test_the_api_url_comes_from_the_first_place_that_has_one(
    tmp_path: Path,
    flag: str | None,
    env: str | None,
    recorded: str | None,
    expected: str,
    source: str,
) -> None:
    if recorded:
        (tmp_path / API_URL_FILE).write_text(recorded + "\n")
    environ = {"STOREPLANE_API_URL": env} if env else {}
    conn = resolve(flag, None, tmp_path, env=environ)
    assert conn.api_url == expected
    assert conn.url_source == (str(tmp_path / API_URL_FILE) if source == "file" else source)


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def user_dir(tmp_path: Path, dev: DevProcess) -> Path:
    """A directory whose ``.data`` is the dev server's data dir, as for a user who ran
    ``scripts/dev.sh --port N`` there."""
    (tmp_path / ".data").symlink_to(dev.data_dir)
    return tmp_path


def test_dev_records_its_url_beside_the_admin_token(dev: DevProcess) -> None:
    assert (dev.data_dir / API_URL_FILE).read_text() == dev.url + "\n"
    assert (dev.data_dir / "admin.token").exists()


def test_with_no_flags_the_cli_finds_the_dev_server_on_its_own_port(
    dev: DevProcess, user_dir: Path
) -> None:
    assert not dev.url.endswith(":8080")
    created = storeplane("stores", "create", "found-shop", cwd=user_dir)
    assert created.returncode == 0, created.stdout + created.stderr
    listed = storeplane("stores", "list", cwd=user_dir)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "found-shop" in listed.stdout


PLACES = [
    ("options before the subcommand", ["stores", "{where}", "list"]),
    ("options after the subcommand", ["stores", "list", "{where}"]),
    ("options after a subcommand with an argument", ["stores", "get", "found-shop", "{where}"]),
]


@pytest.mark.parametrize("template", [case[1] for case in PLACES], ids=[c[0] for c in PLACES])
@pytest.mark.parametrize(
    "how",
    ["api-url and token", "data dir"],
    ids=["given as --api-url and --token", "given as --data-dir"],
)
def test_connection_options_are_accepted_before_and_after_the_subcommand(
    dev: DevProcess, tmp_path: Path, template: list[str], how: str
) -> None:
    storeplane("stores", "--data-dir", str(dev.data_dir), "create", "found-shop", cwd=tmp_path)
    where = (
        ["--api-url", dev.url, "--token", dev.token or ""]
        if how == "api-url and token"
        else ["--data-dir", str(dev.data_dir)]
    )
    args = [part for arg in template for part in (where if arg == "{where}" else [arg])]
    result = storeplane(*args, cwd=tmp_path)  # tmp_path has no .data: only the options help
    assert result.returncode == 0, result.stdout + result.stderr
    assert "found-shop" in result.stdout


@pytest.mark.parametrize(
    "option",
    ["--api-url", "--token"],
    ids=["an --api-url after the subcommand wins", "a --token after the subcommand wins"],
)
def test_an_option_after_the_subcommand_wins_over_one_before(
    dev: DevProcess, tmp_path: Path, option: str
) -> None:
    wrong = f"http://127.0.0.1:{_closed_port()}" if option == "--api-url" else "sp_wrong"
    right = dev.url if option == "--api-url" else dev.token or ""
    others = ["--token", dev.token or ""] if option == "--api-url" else ["--api-url", dev.url]
    result = storeplane("stores", option, wrong, "plans", option, right, *others, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    reversed_ = storeplane("stores", option, right, "plans", option, wrong, *others, cwd=tmp_path)
    assert reversed_.returncode == 1


def test_a_token_after_the_subcommand_is_the_one_sent(dev: DevProcess, tmp_path: Path) -> None:
    result = storeplane(
        "stores", "list", "--api-url", dev.url, "--token", "sp_nobody", cwd=tmp_path
    )
    assert result.returncode == 1
    assert "HTTP 401" in result.stderr


def test_a_stale_url_file_is_named_in_the_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    (tmp_path / ".data").mkdir()
    (tmp_path / ".data" / API_URL_FILE).write_text(url + "\n")
    result = storeplane("stores", "list", cwd=tmp_path)
    assert result.returncode == 1
    assert f"cannot reach the storeplane API at {url}" in result.stderr
    assert f"the URL came from {tmp_path / '.data' / API_URL_FILE}" in result.stderr
    assert "--api-url or STOREPLANE_API_URL" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("how", "named"),
    [("--api-url", "the URL came from --api-url"), ("env", "the URL came from STOREPLANE_API_URL")],
    ids=["an unreachable --api-url says so", "an unreachable STOREPLANE_API_URL says so"],
)
def test_an_unreachable_url_names_where_it_came_from(tmp_path: Path, how: str, named: str) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    if how == "env":
        result = storeplane("stores", "list", cwd=tmp_path, STOREPLANE_API_URL=url)
    else:
        result = storeplane("stores", "list", "--api-url", url, cwd=tmp_path)
    assert result.returncode == 1
    assert f"cannot reach the storeplane API at {url}" in result.stderr
    assert named in result.stderr


def test_with_nothing_given_the_error_names_the_flags_and_the_data_dir(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if probe.connect_ex(("127.0.0.1", 8080)) == 0:
            pytest.skip("something listens on 127.0.0.1:8080, the CLI's default")
    result = storeplane("stores", "list", cwd=tmp_path)
    assert result.returncode == 1
    assert f"cannot reach the storeplane API at {DEFAULT_API_URL}" in result.stderr
    assert "no --api-url or STOREPLANE_API_URL was given" in result.stderr
    assert str(tmp_path / ".data" / API_URL_FILE) in result.stderr


def test_a_clean_exit_of_dev_removes_its_url_file(tmp_path: Path) -> None:
    process = DevProcess(tmp_path / "data", None, ready_delay=READY_DELAY).start()
    try:
        assert (process.data_dir / API_URL_FILE).read_text().strip() == process.url
    finally:
        process.stop()
    assert process.proc is not None and process.proc.returncode is not None
    assert not (process.data_dir / API_URL_FILE).exists()
    assert (process.data_dir / "admin.token").exists(), "the token stays for the next start"
