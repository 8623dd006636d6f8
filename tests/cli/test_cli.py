"""``storeplane --help`` and ``storeplane stores --help`` list every command."""

from __future__ import annotations

import pytest

from tests.cli.run import storeplane


@pytest.mark.parametrize(
    ("args", "commands"),
    [
        (["--help"], ["dev", "serve", "sim", "stores", "rollouts", "users", "tokens", "db"]),
        (
            ["stores", "--help"],
            [
                "create",
                "list",
                "get",
                "events",
                "update",
                "delete",
                "retry",
                "suspend",
                "resume",
                "plans",
                "check",
                "check-status",
                "logs",
                "backup",
                "backups",
                "restore",
            ],
        ),
    ],
    ids=["storeplane --help lists the commands", "storeplane stores --help lists the commands"],
)
def test_help_lists_the_commands(args: list[str], commands: list[str]) -> None:
    result = storeplane(*args)
    assert result.returncode == 0, result.stderr
    listed = [
        line.strip("│ ").split()[0]
        for line in result.stdout.splitlines()
        if line.startswith("│ ") and not line.startswith("│ --")
    ]
    assert listed == commands


def test_stores_help_names_the_api_url_option() -> None:
    result = storeplane("stores", "--help")
    assert "--api-url" in result.stdout
    assert "STOREPLANE_API_URL" in result.stdout


def test_no_arguments_prints_the_help() -> None:
    result = storeplane()
    assert "Usage: storeplane" in result.stdout + result.stderr
    assert "stores" in result.stdout + result.stderr
