"""``storeplane stores ...``: manage stores through a running storeplane API.

Every command is a thin HTTP call; what the API refuses is printed as the API worded it.
``--wait`` follows a store until it settles, printing its events as they happen.

The API token comes from ``--token`` / ``STOREPLANE_TOKEN``, else from the file
``<data dir>/admin.token`` that ``storeplane dev`` writes (``--data-dir`` /
``STOREPLANE_DATA_DIR``, default ``.data``), so against a local ``storeplane dev`` nothing has
to be configured.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import typer
from rich.console import Console
from rich.table import Table

from storeplane.cli.connection import Connection, resolve
from storeplane.domain.errors import InvalidRequestError
from storeplane.domain.labels import parse_terms
from storeplane.domain.store import is_store_id

stores_app = typer.Typer(help="Create, inspect, change and delete stores.", no_args_is_help=True)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

PHASE_STYLE = {
    "Pending": "yellow",
    "Provisioning": "cyan",
    "Ready": "green",
    "Updating": "cyan",
    "Suspended": "yellow",
    "Restoring": "cyan",
    "Failed": "bold red",
    "Deleting": "magenta",
    "Deleted": "dim",
}
_group: dict[str, Any] = {}  # the options given before the subcommand
_conn: list[Connection] = []  # the connection of the running command, set by _connect

# Accepted before the subcommand (``stores --api-url URL list``) and after it
# (``stores list --api-url URL``); after wins.
ApiUrl = Annotated[
    str | None,
    typer.Option(
        "--api-url",
        help=(
            "Base URL of the storeplane API. Default: STOREPLANE_API_URL, else the URL a running "
            "storeplane dev recorded in <data dir>/api.url, else http://127.0.0.1:8080."
        ),
        show_default=False,
    ),
]
Token = Annotated[
    str | None,
    typer.Option(
        "--token",
        help="API token. Default: STOREPLANE_TOKEN, else <data dir>/admin.token (storeplane dev).",
        show_default=False,
    ),
]
DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="The data dir of a storeplane dev (api.url, admin.token). Default: STOREPLANE_DATA_DIR, else .data.",
        show_default=False,
    ),
]


@stores_app.callback()
def _options(api_url: ApiUrl = None, token: Token = None, data_dir: DataDir = None) -> None:
    _group.update(api_url=api_url, token=token, data_dir=data_dir)


def _connect(api_url: str | None, token: str | None, data_dir: Path | None) -> None:
    """Settle the connection of this command from its own options, then the group's."""
    _conn[:] = [
        resolve(
            api_url or _group.get("api_url"),
            token or _group.get("token"),
            data_dir or _group.get("data_dir"),
            env=dict(os.environ),
        )
    ]


def _fail(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(1)


def _call(method: str, path: str, **kwargs: Any) -> Any:
    conn = _conn[0]
    url = f"{conn.api_url}/api/v1{path}"
    headers = {"Authorization": f"Bearer {conn.token}"} if conn.token else {}
    try:
        response = httpx.request(method, url, timeout=30, headers=headers, **kwargs)
    except httpx.HTTPError as exc:
        _fail(
            f"cannot reach the storeplane API at {conn.api_url} ({exc}); is it running?\n"
            f"  {conn.unreachable_hint()}"
        )
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail") or response.text
        except ValueError:
            detail = response.text
        hint = ""
        if response.status_code == 401:
            hint = (
                "\n  give a token with --token or STOREPLANE_TOKEN, or --data-dir pointing at "
                "the data dir of a running storeplane dev (it writes admin.token there)"
            )
        _fail(f"{detail} (HTTP {response.status_code}){hint}")
    return response.json() if response.content else None


def _resolve(ref: str) -> str:
    """Accept a store id or a store name.

    A name means the live (not Deleted) store of that name; names are unique among live
    stores. When no live store has it, the most recent deleted store of that name, so that
    ``events my-shop`` still reads the timeline of the shop just deleted.

    An argument of the id form (``store-`` + 8 of a-z0-9) is only ever an id: new stores may
    not be named so, and an older store that is must be named by its id, so an argument can
    never pick another store than the one meant. ``store-front`` is a name."""
    if is_store_id(ref):
        return ref
    for params in ({}, {"phase": "Deleted"}):  # live stores first; both lists newest first
        page = _call("GET", "/stores", params={"q": ref, "limit": 200, **params})
        matches = [s for s in page["items"] if s["name"] == ref]
        if matches:
            return str(matches[0]["id"])
    _fail(f'no store named "{ref}"; list them with: storeplane stores list')


def _labels(terms: list[str] | None) -> dict[str, str]:
    """``--label k=v`` (repeated) as a mapping, refused with the API's own wording."""
    try:
        return parse_terms(terms or [], field="--label")
    except InvalidRequestError as exc:
        raise typer.BadParameter(exc.message, param_hint="--label") from exc


LabelOption = Annotated[
    list[str] | None,
    typer.Option(
        "--label",
        "-l",
        help="A label key=value (e.g. tier=gold); repeat for several.",
        show_default=False,
    ),
]


def _phase_option(value: str | None) -> str | None:
    """``--phase ready`` means ``Ready``: phases are matched ignoring case."""
    if value is None:
        return None
    for phase in PHASE_STYLE:
        if phase.lower() == value.lower():
            return phase
    raise typer.BadParameter(
        f'"{value}" is not a phase; use one of {", ".join(PHASE_STYLE)} (any case)',
        param_hint="--phase",
    )


def _phase(phase: str) -> str:
    return f"[{PHASE_STYLE.get(phase, 'white')}]{phase}[/]"


RUNTIME_WORDS = {
    "cluster": "cluster (a real Kubernetes cluster)",
    "local": "local (processes on this machine)",
    "simulated": "simulated (nothing runs: no real shop behind it)",
}


def _runtime(runtime: str | None, *, short: bool = False) -> str:
    """What runs the store's workloads; ``-`` until the store first answered."""
    if not runtime:
        return "-" if short else "- (not known until the store first answers)"
    if short:
        return str(runtime)
    return RUNTIME_WORDS.get(runtime, str(runtime))


def _age(iso: str) -> str:
    seconds = int((datetime.now(UTC) - datetime.fromisoformat(iso)).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def _version(store: dict[str, Any]) -> str:
    """``2.21.2``, or ``2.21.2 (runs 2.20.1)`` while an upgrade is under way or failed."""
    wanted = store.get("engine_version") or "-"
    running = store.get("running_engine_version")
    return wanted if running in (None, wanted) else f"{wanted} (runs {running})"


def _show(store: dict[str, Any]) -> None:
    console.print(f"[bold]{store['name']}[/] ({store['id']})  {_phase(store['phase'])}")
    console.print(
        f"  engine {store['engine']}, plan {store['plan']}, namespace {store['namespace']}"
    )
    console.print(f"  version {_version(store)}")
    console.print(f"  url {store.get('url') or '-'}")
    if store.get("labels"):
        console.print(
            "  labels " + ", ".join(f"{k}={v}" for k, v in sorted(store["labels"].items()))
        )
    if store.get("rollout_id"):
        console.print(f"  rollout {store['rollout_id']} (storeplane rollouts get ...)")
    console.print(f"  runtime {_runtime(store.get('workload_runtime'))}")
    if store.get("suspended"):
        console.print(
            "  [yellow]suspended[/]: workloads at zero, the URL answers a 503 maintenance page"
        )
    for domain in store.get("domains") or []:
        style = "green" if domain["status"] == "Active" else "yellow"
        console.print(
            f"  domain {domain['name']} [{style}]{domain['status']}[/] {domain['message']}"
        )
    console.print(f"  generation {store['generation']}, observed {store['observed_generation']}")
    if store.get("last_error"):
        console.print(f"  [red]last error: {store['last_error']}[/]")
    table = Table("condition", "status", "reason", "message", box=None, pad_edge=False)
    for c in store["conditions"]:
        style = {"True": "green", "False": "red"}.get(c["status"], "yellow")
        table.add_row(c["type"], f"[{style}]{c['status']}[/]", c["reason"], c["message"])
    console.print(table)


def _print_event(event: dict[str, Any]) -> None:
    when = datetime.fromisoformat(event["time"]).astimezone().strftime("%H:%M:%S")
    style = "yellow" if event["type"] == "Warning" else "dim"
    console.print(
        f"  [{style}]{when} {event['type']:<7}[/] [bold]{event['reason']}[/] {event['message']}"
    )


def _event_count(store_id: str) -> int:
    """How many events the store has now; a ``--wait`` after a change prints only later ones."""
    return len(_call("GET", f"/stores/{store_id}/events")["items"])


def _wait(store_id: str, until: set[str], timeout: float, seen: int = 0) -> dict[str, Any]:
    """Follow a store until its phase is in ``until``; print each event after the first
    ``seen`` on the way (0: the whole history, for a store just created)."""
    deadline = time.monotonic() + timeout
    with console.status("waiting...") as status:
        while True:
            store = _call("GET", f"/stores/{store_id}")
            events = _call("GET", f"/stores/{store_id}/events")["items"]
            for event in events[seen:]:
                _print_event(event)
            seen = len(events)
            status.update(f"{store['name']}: {store['phase']}")
            if store["phase"] in until:
                return dict(store)
            if time.monotonic() > deadline:
                _fail(
                    f"gave up after {timeout:.0f}s; the store is {store['phase']} (it keeps going: storeplane stores get {store_id})"
                )
            time.sleep(1)


def _finish(
    store: dict[str, Any], wait: bool, until: set[str], timeout: float, seen: int = 0
) -> None:
    if not wait:
        _show(store)
        return
    final = _wait(store["id"], until, timeout, seen)
    _show(final)
    if final["phase"] == "Failed":
        raise typer.Exit(1)


@stores_app.command()
def create(
    name: str = typer.Argument(..., help="Lower-case DNS label, 3-40 characters."),
    engine: str = typer.Option("medusa", help="medusa or woocommerce."),
    plan: str = typer.Option(
        "small", help="small, medium or large (see `storeplane stores plans`)."
    ),
    engine_version: str | None = typer.Option(
        None,
        "--engine-version",
        help="A version of the engine (GET /api/v1/engines); default: the engine's default.",
    ),
    wait: bool = typer.Option(
        False, "--wait", help="Follow the store until it is Ready or Failed."
    ),
    timeout: float = typer.Option(900, help="Seconds to wait with --wait."),
    label: LabelOption = None,
    restore_from: str | None = typer.Option(
        None,
        "--restore-from",
        metavar="STORE/BACKUP",
        help="Clone: start the new store's database as this backup (store id or name, then "
        "the backup id; see `storeplane stores backups STORE`).",
    ),
    final_backup: bool | None = typer.Option(
        None,
        "--final-backup/--no-final-backup",
        help="Take a backup before the store is deleted (default: the server's setting).",
    ),
    api_url: ApiUrl = None,
    token: Token = None,
    data_dir: DataDir = None,
) -> None:
    """Create a store (a clone with --restore-from)."""
    labels = _labels(label)
    _connect(api_url, token, data_dir)
    body: dict[str, Any] = {"name": name, "engine": engine, "plan": plan}
    if labels:
        body["labels"] = labels
    if engine_version is not None:
        body["engine_version"] = engine_version
    if final_backup is not None:
        body["final_backup"] = final_backup
    if restore_from is not None:
        body["restore_from"] = _restore_from(restore_from)
    store = _call("POST", "/stores", json=body)
    console.print(f"created {store['name']} ({store['id']})")
    _finish(store, wait, {"Ready", "Failed"}, timeout)


def _restore_from(value: str) -> dict[str, str]:
    source, _, backup = value.partition("/")
    if not source or not backup:
        _fail(f"--restore-from takes STORE/BACKUP, e.g. my-shop/backup-4k2m9x7q1z (got {value!r})")
    return {"store_id": _resolve(source), "backup_id": backup}


@stores_app.command("list")
def list_(
    phase: str | None = typer.Option(
        None,
        callback=_phase_option,
        help="Only stores in this phase (any case); Deleted lists deleted stores.",
    ),
    query: str | None = typer.Option(None, "--query", "-q", help="Only names containing this."),
    limit: int = typer.Option(50, help="At most this many."),
    label: Annotated[
        list[str] | None,
        typer.Option(
            "--label",
            "-l",
            help="Only stores with this label key=value; repeat: all must hold.",
            show_default=False,
        ),
    ] = None,
    api_url: ApiUrl = None,
    token: Token = None,
    data_dir: DataDir = None,
) -> None:
    """List stores, newest first."""
    wanted = _labels(label)
    _connect(api_url, token, data_dir)
    params: dict[str, Any] = {"phase": phase, "q": query, "limit": limit}
    params = {k: v for k, v in params.items() if v is not None}
    if wanted:
        params["label"] = [f"{k}={v}" for k, v in wanted.items()]
    page = _call("GET", "/stores", params=params)
    if not page["items"] and wanted:
        console.print("no stores with these labels")
        return
    if not page["items"]:
        console.print(
            "no stores yet: storeplane stores create my-shop --engine medusa --plan small"
        )
        return
    table = Table("ID", "NAME", "ENGINE", "VERSION", "PLAN", "PHASE", "RUNTIME", "AGE", "URL")
    for s in page["items"]:
        table.add_row(
            s["id"],
            s["name"],
            s["engine"],
            _version(s),
            s["plan"],
            _phase(s["phase"]),
            _runtime(s.get("workload_runtime"), short=True),
            _age(s["created_at"]),
            s.get("url") or "",
        )
    console.print(table)
    if page["count"] > len(page["items"]):
        console.print(f"showing {len(page['items'])} of {page['count']}")


@stores_app.command()
def get(
    store: str = typer.Argument(..., help="Store id or name."),
    api_url: ApiUrl = None,
    token: Token = None,
    data_dir: DataDir = None,
) -> None:
    """Show a store: phase, conditions, URL."""
    _connect(api_url, token, data_dir)
    _show(_call("GET", f"/stores/{_resolve(store)}"))


@stores_app.command()
def events(
    store: str = typer.Argument(..., help="Store id or name."),
    follow: bool = typer.Option(
        False, "--follow", "-f", help="Keep printing new events (Ctrl-C stops)."
    ),
    api_url: ApiUrl = None,
    token: Token = None,
    data_dir: DataDir = None,
) -> None:
    """Print a store's audit timeline, oldest first."""
    _connect(api_url, token, data_dir)
    store_id = _resolve(store)
    seen = 0
    while True:
        items = _call("GET", f"/stores/{store_id}/events")["items"]
        for event in items[seen:]:
            _print_event(event)
        seen = len(items)
        if not follow:
            return
        time.sleep(1)


@stores_app.command()
def update(
    store: str = typer.Argument(..., help="Store id or name."),
    plan: str | None = typer.Option(None, help="The new plan: small, medium or large."),
    engine_version: str | None = typer.Option(
        None,
        "--engine-version",
        help="Upgrade to this engine version (one whose upgrades_from lists the running one; "
        "its migration Job runs first).",
    ),
    label: Annotated[
        list[str] | None,
        typer.Option(
            "--label",
            "-l",
            help="Set the labels to these key=value (repeat; they replace the old ones).",
            show_default=False,
        ),
    ] = None,
    clear_labels: bool = typer.Option(False, "--clear-labels", help="Remove every label."),
    domain: Annotated[
        list[str] | None,
        typer.Option(
            "--domain",
            help="Serve the store at these custom domains too (repeat; they replace the old "
            "ones). Each shows Pending until its certificate exists, then Active.",
            show_default=False,
        ),
    ] = None,
    clear_domains: bool = typer.Option(
        False, "--clear-domains", help="Remove every custom domain."
    ),
    wait: bool = typer.Option(False, "--wait"),
    timeout: float = typer.Option(900),
    api_url: ApiUrl = None,
    token: Token = None,
    data_dir: DataDir = None,
) -> None:
    """Change a store's plan, engine version, labels or custom domains."""
    body: dict[str, Any] = {}
    if plan is not None:
        body["plan"] = plan
    if engine_version is not None:
        body["engine_version"] = engine_version
    if label:
        body["labels"] = _labels(label)
    elif clear_labels:
        body["labels"] = {}
    if domain:
        body["domains"] = list(domain)
    elif clear_domains:
        body["domains"] = []
    if not body:
        raise typer.BadParameter(
            "give --plan, --engine-version, --label, --clear-labels, --domain or --clear-domains"
        )
    _connect(api_url, token, data_dir)
    store_id = _resolve(store)
    seen = _event_count(store_id) if wait else 0
    updated = _call("PATCH", f"/stores/{store_id}", json=body)
    _finish(updated, wait, {"Ready", "Failed"}, timeout, seen)


@stores_app.command()
def delete(
    store: str = typer.Argument(..., help="Store id or name."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    wait: bool = typer.Option(False, "--wait", help="Follow until Deleted (teardown verified)."),
    timeout: float = typer.Option(600),
    api_url: ApiUrl = None,
    token: Token = None,
    data_dir: DataDir = None,
) -> None:
    """Delete a store and everything it owns in the cluster."""
    _connect(api_url, token, data_dir)
    store_id = _resolve(store)
    if not yes:
        typer.confirm(f"Delete store {store} ({store_id}) and all its data?", abort=True)
    seen = _event_count(store_id) if wait else 0
    deleted = _call("DELETE", f"/stores/{store_id}")
    _finish(deleted, wait, {"Deleted"}, timeout, seen)


@stores_app.command()
def retry(
    store: str = typer.Argument(..., help="Store id or name."),
    wait: bool = typer.Option(False, "--wait"),
    timeout: float = typer.Option(900),
    api_url: ApiUrl = None,
    token: Token = None,
    data_dir: DataDir = None,
) -> None:
    """Reconcile a store now with a fresh deadline (a Failed one: a new attempt)."""
    _connect(api_url, token, data_dir)
    store_id = _resolve(store)
    seen = _event_count(store_id) if wait else 0
    retried = _call("POST", f"/stores/{store_id}/retry")
    _finish(retried, wait, {"Ready", "Failed", "Deleted"}, timeout, seen)


@stores_app.command()
def suspend(
    store: str = typer.Argument(..., help="Store id or name."),
    wait: bool = typer.Option(False, "--wait", help="Follow until Suspended."),
    timeout: float = typer.Option(600),
    api_url: ApiUrl = None,
    token: Token = None,
    data_dir: DataDir = None,
) -> None:
    """Suspend a store: workloads to zero, a 503 maintenance page, data kept."""
    _connect(api_url, token, data_dir)
    store_id = _resolve(store)
    seen = _event_count(store_id) if wait else 0
    suspended = _call("POST", f"/stores/{store_id}/suspend")
    _finish(suspended, wait, {"Suspended", "Failed"}, timeout, seen)


@stores_app.command()
def resume(
    store: str = typer.Argument(..., help="Store id or name."),
    wait: bool = typer.Option(False, "--wait", help="Follow until Ready."),
    timeout: float = typer.Option(900),
    api_url: ApiUrl = None,
    token: Token = None,
    data_dir: DataDir = None,
) -> None:
    """Resume a suspended store on the same data."""
    _connect(api_url, token, data_dir)
    store_id = _resolve(store)
    seen = _event_count(store_id) if wait else 0
    resumed = _call("POST", f"/stores/{store_id}/resume")
    _finish(resumed, wait, {"Ready", "Failed"}, timeout, seen)


@stores_app.command()
def plans(
    api_url: ApiUrl = None,
    token: Token = None,
    data_dir: DataDir = None,
) -> None:
    """Show the plans and their quotas."""
    _connect(api_url, token, data_dir)
    table = Table(
        "PLAN", "REQUESTS cpu/mem", "LIMITS cpu/mem", "PODS", "PVCS", "STORAGE", "DESCRIPTION"
    )
    for p in _call("GET", "/plans")["items"]:
        q = p["quota"]
        table.add_row(
            p["name"],
            f"{q['requests_cpu']} / {q['requests_memory']}",
            f"{q['limits_cpu']} / {q['limits_memory']}",
            str(q["pods"]),
            str(q["persistentvolumeclaims"]),
            q["requests_storage"],
            p["description"],
        )
    console.print(table)


CHECK_STYLE = {"Running": "cyan", "Passed": "green", "Failed": "bold red"}


def _print_check(check: dict[str, Any]) -> None:
    status = check["status"]
    style = CHECK_STYLE.get(status, "white")
    if status == "Passed":
        console.print(f"[{style}]Passed[/] order {check['order_id']}: {check['message']}")
    elif status == "Failed":
        console.print(f"[{style}]Failed[/] at step {check['step']!r}: {check['message']}")
    else:
        console.print(f"[{style}]Running[/] {check.get('step') or ''}: {check['message']}")


@stores_app.command()
def check(
    store: str = typer.Argument(..., help="Store id or name."),
    wait: bool = typer.Option(
        False, "--wait", help="Follow the check, printing each step, until Passed or Failed."
    ),
    timeout: float = typer.Option(600, help="Seconds to wait with --wait."),
    api_url: ApiUrl = None,
    token: Token = None,
    data_dir: DataDir = None,
) -> None:
    """Run an order check: a real guest order placed in the store, found again in its admin.

    Exits 1 when the check fails (or the store has nothing real to check: simulated, not
    Ready). The order is real: cancel it in the store's admin afterwards."""
    _connect(api_url, token, data_dir)
    store_id = _resolve(store)
    started = _call("POST", f"/stores/{store_id}/checks")
    console.print(f"order check {started['id']} of {store} ({store_id}) started")
    if not wait:
        _print_check(started)
        console.print(f"  follow it: storeplane stores check-status {store} {started['id']}")
        return
    final = _follow_check(store_id, started, timeout)
    _print_check(final)
    if final["status"] != "Passed":
        raise typer.Exit(1)


def _follow_check(store_id: str, check: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Poll the check until it ends, printing each step once as it starts."""
    deadline = time.monotonic() + timeout
    last_step: str | None = None
    with console.status("checking...") as status:
        while True:
            if check["status"] != "Running":
                return check
            if check.get("step") and check["step"] != last_step:
                last_step = check["step"]
                console.print(f"  [dim]{datetime.now().strftime('%H:%M:%S')}[/] {last_step}")
                status.update(f"order check: {last_step}")
            if time.monotonic() > deadline:
                _fail(
                    f"gave up after {timeout:.0f}s; the check is still running (it keeps going: "
                    f"storeplane stores check-status {store_id} {check['id']})"
                )
            time.sleep(0.5)
            check = _call("GET", f"/stores/{store_id}/checks/{check['id']}")


@stores_app.command("check-status")
def check_status(
    store: str = typer.Argument(..., help="Store id or name."),
    check_id: str | None = typer.Argument(None, help="The check's id; default: every check."),
    api_url: ApiUrl = None,
    token: Token = None,
    data_dir: DataDir = None,
) -> None:
    """Show one order check, or the store's checks, newest first."""
    _connect(api_url, token, data_dir)
    store_id = _resolve(store)
    if check_id is not None:
        _print_check(_call("GET", f"/stores/{store_id}/checks/{check_id}"))
        return
    items = _call("GET", f"/stores/{store_id}/checks")["items"]
    if not items:
        console.print(f"no order checks yet: storeplane stores check {store} --wait")
        return
    table = Table("CHECK", "STATUS", "STEP", "ORDER", "STARTED", "BY", "MESSAGE")
    for c in items:
        table.add_row(
            c["id"],
            f"[{CHECK_STYLE.get(c['status'], 'white')}]{c['status']}[/]",
            c.get("step") or "",
            c.get("order_id") or "",
            _age(c["started_at"]),
            c["requested_by"],
            c["message"],
        )
    console.print(table)


@stores_app.command()
def logs(
    store: str = typer.Argument(..., help="Store id or name."),
    pod: str | None = typer.Option(None, "--pod", help="The pod; left out: list the pods."),
    container: str | None = typer.Option(
        None, "--container", "-c", help="The container (needed when the pod has several)."
    ),
    tail: int = typer.Option(500, "--tail", help="How many of the last lines."),
    api_url: ApiUrl = None,
    token: Token = None,
    data_dir: DataDir = None,
) -> None:
    """Print what a container of the store's pod printed (as kubectl logs does).

    Without --pod, or with a pod the store does not have, it lists the store's pods and their
    containers (and exits 1)."""
    _connect(api_url, token, data_dir)
    store_id = _resolve(store)
    params: dict[str, Any] = {"tail": tail}
    if pod:
        params["pod"] = pod
    if container:
        params["container"] = container
    log = _call("GET", f"/stores/{store_id}/logs", params=params)
    # Exactly what the container printed: no markup, no wrapping.
    sys.stdout.write(log["text"])
    if log["text"] and not log["text"].endswith("\n"):
        sys.stdout.write("\n")


BACKUP_STYLE = {"Succeeded": "green", "Failed": "red", "Running": "yellow"}


def _print_backup(backup: dict[str, Any]) -> None:
    style = BACKUP_STYLE.get(backup["status"], "white")
    size = f"{backup['size_bytes']} bytes" if backup.get("size_bytes") is not None else "-"
    console.print(
        f"[{style}]{backup['status']}[/] {backup['id']} ({backup['kind']}, {size}, "
        f"{backup['engine']} {backup['engine_version']}, {backup.get('target', '?')} target): "
        f"{backup['message']}"
    )


@stores_app.command()
def backup(
    store: str = typer.Argument(..., help="Store id or name."),
    wait: bool = typer.Option(False, "--wait", help="Follow it until Succeeded or Failed."),
    timeout: float = typer.Option(900, help="Seconds to wait with --wait."),
    api_url: ApiUrl = None,
    token: Token = None,
    data_dir: DataDir = None,
) -> None:
    """Back a store's database up; exits 1 if the backup fails."""
    _connect(api_url, token, data_dir)
    store_id = _resolve(store)
    taken = _call("POST", f"/stores/{store_id}/backups")
    deadline = time.monotonic() + timeout
    while wait and taken["status"] == "Running":
        if time.monotonic() > deadline:
            _fail(f"gave up after {timeout:.0f}s; backup {taken['id']} is still running")
        time.sleep(1)
        taken = _call("GET", f"/stores/{store_id}/backups/{taken['id']}")
    _print_backup(taken)
    if taken["status"] == "Failed":
        raise typer.Exit(1)


@stores_app.command()
def backups(
    store: str = typer.Argument(..., help="Store id or name (a Deleted store's id too)."),
    api_url: ApiUrl = None,
    token: Token = None,
    data_dir: DataDir = None,
) -> None:
    """List a store's backups, newest first."""
    _connect(api_url, token, data_dir)
    store_id = _resolve(store)
    items = _call("GET", f"/stores/{store_id}/backups")["items"]
    if not items:
        console.print(f"{store} has no backups: take one with storeplane stores backup {store}")
    for item in items:
        _print_backup(item)


@stores_app.command()
def restore(
    store: str = typer.Argument(..., help="Store id or name."),
    backup_id: str = typer.Argument(..., metavar="BACKUP", help="One of the store's backups."),
    wait: bool = typer.Option(False, "--wait", help="Follow until Ready or Failed."),
    timeout: float = typer.Option(900),
    api_url: ApiUrl = None,
    token: Token = None,
    data_dir: DataDir = None,
) -> None:
    """Restore one of a store's backups into it (phase Restoring, then Ready)."""
    _connect(api_url, token, data_dir)
    store_id = _resolve(store)
    seen = _event_count(store_id)
    restoring = _call("POST", f"/stores/{store_id}/restore", json={"backup_id": backup_id})
    console.print(f"restoring {backup_id} into {store} ({store_id})")
    _finish(restoring, wait, {"Ready", "Failed"}, timeout, seen)
