"""``storeplane rollouts ...``: take an engine version across the fleet in waves, through a
running storeplane API (admins only).

``create`` and ``get --watch`` show a live progress display (one bar per wave, the stores
under way and every failure with its cause) until the rollout stops (Succeeded, Halted,
Aborted, or Paused). Exit codes for scripts: 0 when it Succeeded (or, without a watch, was
recorded), 1 when it Halted or was Aborted, or the API refused the request.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from storeplane.cli.stores import ApiUrl, DataDir, LabelOption, Token, _call, _connect, _labels

rollouts_app = typer.Typer(
    help="Roll an engine version out across stores in waves that halt by themselves (admins).",
    no_args_is_help=True,
)
console = Console(soft_wrap=True)

PHASE_STYLE = {
    "Running": "cyan",
    "Paused": "yellow",
    "Halted": "bold red",
    "Succeeded": "green",
    "Aborted": "magenta",
}
STATUS_STYLE = {
    "Pending": "dim",
    "Upgrading": "cyan",
    "Checking": "cyan",
    "Done": "green",
    "Failed": "bold red",
}
STOPPED = {"Succeeded", "Halted", "Aborted", "Paused"}


def _wave(text: str) -> int | str:
    """A wave as typed: ``2`` is a count, ``50%`` a percentage (the API checks the rest)."""
    return int(text) if text.isdigit() else text


def render(rollout: dict[str, Any]) -> Group:
    """The progress display of one rollout (also what ``get`` prints once)."""
    phase = rollout["phase"]
    head = Text.from_markup(
        f"[bold]{rollout['id']}[/] {rollout['engine']} -> {rollout['to_version']}  "
        f"[{PHASE_STYLE.get(phase, 'white')}]{phase}[/]  gate {rollout['gate']}, "
        f"max_failures {rollout['max_failures']}"
    )
    waves = Table(box=None, pad_edge=False, show_header=True)
    for column in ("wave", "progress", "done", "failed", "stores"):
        waves.add_column(column)
    total = len(rollout["waves"])
    for index, wave in enumerate(rollout["waves"], start=1):
        size = len(wave["stores"])
        finished = wave["done"] + wave["failed"]
        marker = " <" if index == rollout["current_wave"] and phase == "Running" else ""
        waves.add_row(
            f"{index}/{total}{marker}",
            ProgressBar(total=max(size, 1), completed=finished if size else 1, width=30),
            str(wave["done"]),
            f"[red]{wave['failed']}[/]" if wave["failed"] else "0",
            str(size),
        )
    busy = [s for s in rollout["stores"] if s["status"] in ("Upgrading", "Checking", "Failed")]
    stores = Table(box=None, pad_edge=False)
    for column in ("store", "wave", "status", "cause"):
        stores.add_column(column)
    for s in busy:
        style = STATUS_STYLE.get(s["status"], "white")
        stores.add_row(
            f"{s['name']} ({s['store_id']})",
            str(s["wave"]),
            f"[{style}]{s['status']}[/]",
            s.get("cause") or "",
        )
    parts: list[Any] = [head, Text(rollout["message"]), waves]
    if busy:
        parts.append(stores)
    return Group(*parts)


def _follow(rollout: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Show the rollout live until it stops or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    with Live(render(rollout), console=console, refresh_per_second=4, transient=False) as live:
        while rollout["phase"] not in STOPPED and time.monotonic() < deadline:
            time.sleep(1)
            rollout = _call("GET", f"/rollouts/{rollout['id']}")
            live.update(render(rollout))
    return rollout


def _finish(rollout: dict[str, Any], watch: bool, timeout: float) -> None:
    if watch:
        rollout = _follow(rollout, timeout)
    else:
        console.print(render(rollout))
    if rollout["phase"] in ("Halted", "Aborted"):
        raise typer.Exit(1)


@rollouts_app.command()
def create(
    engine: str = typer.Option(..., help="medusa or woocommerce."),
    to_version: str = typer.Option(..., "--to", help="The version (GET /api/v1/engines)."),
    label: LabelOption = None,
    plan: Annotated[
        list[str] | None, typer.Option("--plan", help="Only stores of this plan (repeat: any).")
    ] = None,
    name: Annotated[
        list[str] | None, typer.Option("--store", help="Only this store, by name or id (repeat).")
    ] = None,
    wave: Annotated[
        list[str] | None,
        typer.Option(
            "--wave",
            help="A wave: stores upgraded so far, as a count (2) or a percentage (50%); "
            "repeat in order, end with 100%. Default: 1 then 100%.",
        ),
    ] = None,
    max_failures: int = typer.Option(0, help="Failed stores allowed before it halts."),
    gate: str = typer.Option("ready", help="ready, or smoke (an order check after each upgrade)."),
    watch: bool = typer.Option(
        True, "--watch/--no-watch", help="Show live progress until it stops."
    ),
    timeout: float = typer.Option(3600, help="Seconds to watch."),
    api_url: ApiUrl = None,
    token: Token = None,
    data_dir: DataDir = None,
) -> None:
    """Start a rollout of ENGINE to a version across the selected stores."""
    labels = _labels(label)
    _connect(api_url, token, data_dir)
    body = {
        "engine": engine,
        "to_version": to_version,
        "selector": {"labels": labels, "plans": plan or [], "names": name or []},
        "waves": [_wave(w) for w in wave] if wave else [1, "100%"],
        "max_failures": max_failures,
        "gate": gate,
    }
    rollout = _call("POST", "/rollouts", json=body)
    stores, waves = len(rollout["stores"]), len(rollout["waves"])
    console.print(
        f"created {rollout['id']}: {stores} store{'s' * (stores != 1)} in {waves} "
        f"wave{'s' * (waves != 1)}"
    )
    _finish(rollout, watch, timeout)


@rollouts_app.command("list")
def list_(
    limit: int = typer.Option(50, help="At most this many."),
    api_url: ApiUrl = None,
    token: Token = None,
    data_dir: DataDir = None,
) -> None:
    """List rollouts, newest first."""
    _connect(api_url, token, data_dir)
    page = _call("GET", "/rollouts", params={"limit": limit})
    if not page["items"]:
        console.print("no rollouts yet: storeplane rollouts create --engine medusa --to VERSION")
        return
    table = Table("ID", "ENGINE", "TO", "PHASE", "WAVE", "DONE", "FAILED", "CREATED BY")
    for r in page["items"]:
        done = sum(w["done"] for w in r["waves"])
        failed = sum(w["failed"] for w in r["waves"])
        style = PHASE_STYLE.get(r["phase"], "white")
        table.add_row(
            r["id"],
            r["engine"],
            r["to_version"],
            f"[{style}]{r['phase']}[/]",
            f"{r['current_wave']}/{len(r['waves'])}",
            f"{done}/{len(r['stores'])}",
            str(failed),
            r["created_by"],
        )
    console.print(table)


@rollouts_app.command()
def get(
    rollout_id: str = typer.Argument(..., help="The rollout's id."),
    watch: bool = typer.Option(False, "--watch", "-w", help="Show live progress until it stops."),
    timeout: float = typer.Option(3600, help="Seconds to watch."),
    api_url: ApiUrl = None,
    token: Token = None,
    data_dir: DataDir = None,
) -> None:
    """Show a rollout: phase, waves, the stores under way and every failure's cause."""
    _connect(api_url, token, data_dir)
    _finish(_call("GET", f"/rollouts/{rollout_id}"), watch, timeout)


def _change(action: str, rollout_id: str, watch: bool, timeout: float) -> None:
    rollout = _call("POST", f"/rollouts/{rollout_id}/{action}")
    console.print(f"{rollout['id']}: {rollout['phase']}")
    _finish(rollout, watch, timeout)


@rollouts_app.command()
def pause(
    rollout_id: str = typer.Argument(..., help="The rollout's id."),
    api_url: ApiUrl = None,
    token: Token = None,
    data_dir: DataDir = None,
) -> None:
    """Start no new store (upgrades under way finish)."""
    _connect(api_url, token, data_dir)
    _change("pause", rollout_id, False, 0)


@rollouts_app.command()
def resume(
    rollout_id: str = typer.Argument(..., help="The rollout's id."),
    watch: bool = typer.Option(False, "--watch", "-w", help="Show live progress until it stops."),
    timeout: float = typer.Option(3600, help="Seconds to watch."),
    api_url: ApiUrl = None,
    token: Token = None,
    data_dir: DataDir = None,
) -> None:
    """Go on (after a halt, the failed stores are retried first)."""
    _connect(api_url, token, data_dir)
    _change("resume", rollout_id, watch, timeout)


@rollouts_app.command()
def abort(
    rollout_id: str = typer.Argument(..., help="The rollout's id."),
    api_url: ApiUrl = None,
    token: Token = None,
    data_dir: DataDir = None,
) -> None:
    """End it: stores not started stay where they are."""
    _connect(api_url, token, data_dir)
    rollout = _call("POST", f"/rollouts/{rollout_id}/abort")
    console.print(f"{rollout['id']}: {rollout['phase']}")
    console.print(render(rollout))
