"""``storeplane users`` and ``storeplane tokens`` (on the database directly) against the
database of a running ``storeplane dev``, and how ``storeplane stores`` finds its token."""

from __future__ import annotations

import re
import stat

from tests.cli.run import storeplane
from tests.scenarios.dev_process import DevProcess

TOKEN_LINE = re.compile(r"^(sp_[A-Za-z0-9_-]{40,})$", re.MULTILINE)


def test_dev_writes_its_admin_token_readable_by_the_owner_only(dev: DevProcess) -> None:
    path = dev.data_dir / "admin.token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("sp_")
    assert str(path) in dev.log_path.read_text()  # the banner says where it is
    assert path.read_text().strip() not in dev.log_path.read_text()  # ...not what it is


def test_the_cli_reads_the_token_from_the_data_dir_or_the_environment(dev: DevProcess) -> None:
    assert storeplane("plans", api_url=dev.url, data_dir=dev.data_dir).returncode == 0
    token = (dev.data_dir / "admin.token").read_text().strip()
    by_env = storeplane("plans", api_url=dev.url, STOREPLANE_TOKEN=token)
    assert by_env.returncode == 0, by_env.stderr
    by_option = storeplane("--token", token, "plans", api_url=dev.url)
    assert by_option.returncode == 0, by_option.stderr


def test_without_a_token_the_cli_says_how_to_get_one(dev: DevProcess) -> None:
    result = storeplane("list", api_url=dev.url, STOREPLANE_DATA_DIR="/nonexistent")
    assert result.returncode == 1
    assert "(HTTP 401)" in result.stderr
    assert "STOREPLANE_TOKEN" in result.stderr and "--data-dir" in result.stderr


def test_users_and_tokens_are_made_and_revoked_on_the_database(dev: DevProcess) -> None:
    created = storeplane("users", "create", "bob", "--max-stores", "1", data_dir=dev.data_dir)
    assert created.returncode == 0, created.stderr
    assert re.search(r"created user bob \(member, user-\w+\)", created.stdout)
    again = storeplane("users", "create", "bob", data_dir=dev.data_dir)
    assert again.returncode == 1 and 'a user named "bob" already exists' in again.stderr

    issued = storeplane("tokens", "create", "bob", "--label", "laptop", data_dir=dev.data_dir)
    assert issued.returncode == 0, issued.stderr
    token = TOKEN_LINE.search(issued.stdout)
    token_id = re.search(r"token (tok-\w+)", issued.stdout)
    assert token and token_id, issued.stdout
    assert "shown only now" in issued.stdout

    as_bob = {"STOREPLANE_TOKEN": token.group(1)}
    made = storeplane("create", "bobs-shop", api_url=dev.url, **as_bob)
    assert made.returncode == 0, made.stderr
    listed = storeplane("list", api_url=dev.url, **as_bob)
    assert "bobs-shop" in listed.stdout and "cli-shop" not in listed.stdout
    over = storeplane("create", "bobs-second", api_url=dev.url, **as_bob)
    assert over.returncode == 1 and "(HTTP 403)" in over.stderr
    events = storeplane("events", "bobs-shop", api_url=dev.url, **as_bob)
    assert "by bob" in events.stdout

    tokens = storeplane("tokens", "list", "--user", "bob", data_dir=dev.data_dir)
    assert token_id.group(1) in tokens.stdout and "laptop" in tokens.stdout
    assert token.group(1) not in tokens.stdout
    users = storeplane("users", "list", data_dir=dev.data_dir)
    assert re.search(r"bob +│ member +│ 1 ", users.stdout), users.stdout

    revoked = storeplane("tokens", "revoke", token_id.group(1), data_dir=dev.data_dir)
    assert revoked.returncode == 0 and f"revoked token {token_id.group(1)}" in revoked.stdout
    refused = storeplane("list", api_url=dev.url, **as_bob)
    assert refused.returncode == 1
    assert "unknown or revoked" in refused.stderr and "(HTTP 401)" in refused.stderr
    unknown = storeplane("tokens", "revoke", "tok-nothere", data_dir=dev.data_dir)
    assert unknown.returncode == 1 and 'no token "tok-nothere"' in unknown.stderr
