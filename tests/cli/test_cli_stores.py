"""``storeplane stores ...`` against a real running ``storeplane dev``: what a user types and
reads, and the exit codes scripts rely on."""

from __future__ import annotations

import re
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from storeplane.db import SqlStoreRepository, create_engine_for
from storeplane.domain.plans import PlanName
from storeplane.domain.store import Engine, Store, StoreSpec, new_store_id
from tests.cli.run import CLI_TIMEOUT, WAIT_TIMEOUT, cli_env, storeplane
from tests.scenarios.dev_process import STOREPLANE, DevProcess

SHOP = "cli-shop"
CREATE_ARGS = ("--engine", "medusa", "--plan", "small")
WAIT = ("--wait", "--timeout", str(WAIT_TIMEOUT))  # a stuck store fails the test, not hangs it
EVENT_LINE = re.compile(r"^  \d\d:\d\d:\d\d (Normal|Warning) +(\w+) ", re.MULTILINE)
CONDITIONS = [
    "NamespaceReady",
    "PoliciesApplied",
    "WorkloadsApplied",
    "WorkloadsReady",
    "StoreReachable",
    "Ready",
]


def event_reasons(output: str) -> list[str]:
    return [match.group(2) for match in EVENT_LINE.finditer(output)]


@dataclass(frozen=True)
class Created:
    """The run of ``create SHOP --wait`` and what was true when its first event appeared."""

    returncode: int
    stdout: str
    stderr: str
    store_id: str
    running_at_first_event: bool
    phase_at_first_event: str


@pytest.fixture(scope="module")
def created(dev: DevProcess) -> Created:
    """``create SHOP --engine medusa --plan small --wait``, read line by line as it runs."""
    proc = subprocess.Popen(
        [str(STOREPLANE), "stores", "--api-url", dev.url, "create", SHOP, *CREATE_ARGS, *WAIT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(dev.data_dir),
    )
    assert proc.stdout is not None and proc.stderr is not None
    lines: list[str] = []
    store_id = ""
    running, phase = False, ""
    try:
        # The CLI gives up by itself after --timeout, which ends this loop.
        for line in proc.stdout:
            lines.append(line)
            if not store_id and (found := re.match(rf"created {SHOP} \((store-\w+)\)", line)):
                store_id = found.group(1)
            if not phase and EVENT_LINE.match(line):
                running = proc.poll() is None
                phase = str(dev.store(store_id)["phase"])
        returncode = proc.wait(CLI_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return Created(returncode, "".join(lines), proc.stderr.read(), store_id, running, phase)


@pytest.fixture
def ready_store(dev: DevProcess, request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """A store of its own for a test that changes it, made Ready through the API."""
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:30].strip("-")
    response = dev.api("POST", "/stores", json={"name": name, "engine": "medusa", "plan": "small"})
    assert response.status_code == 202, response.text
    yield dev.wait_for(response.json()["id"], {"Ready"})


def assert_shows_store(output: str, name: str, store_id: str, phase: str) -> None:
    assert f"{name} ({store_id})  {phase}" in output
    for condition in CONDITIONS:
        assert re.search(rf"^{condition} +(True|False|Unknown) +\w+", output, re.MULTILINE), (
            condition
        )


def store_url(dev: DevProcess, store_id: str) -> str:
    """Where storeplane dev serves a store: <id>.localhost on its own port."""
    return f"http://{store_id}.localhost:{dev.url.rsplit(':', 1)[1]}"


def test_create_with_wait_prints_events_as_they_happen_and_ends_ready(
    dev: DevProcess, created: Created
) -> None:
    assert created.returncode == 0, created.stdout + created.stderr
    assert created.stdout.startswith(f"created {SHOP} ({created.store_id})\n")
    reasons = event_reasons(created.stdout)
    assert reasons[:2] == ["Created", "PhaseChanged"]
    for later in ("NamespaceCreated", "PoliciesApplied", "WorkloadsApplied"):
        assert later in reasons
    assert "Provisioning → Ready" in created.stdout
    # The first events were printed while the store was still on its way, not at the end.
    assert created.running_at_first_event
    assert created.phase_at_first_event != "Ready"
    assert_shows_store(created.stdout, SHOP, created.store_id, "Ready")
    assert re.search(r"^Ready +True +ReconcileSucceeded", created.stdout, re.MULTILINE)
    assert "engine medusa, plan small" in created.stdout
    assert f"url {store_url(dev, created.store_id)}" in created.stdout
    assert created.stderr == ""


def test_list_shows_the_store_in_a_table(dev: DevProcess, created: Created) -> None:
    result = storeplane("list", api_url=dev.url, data_dir=dev.data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    header = next(line for line in result.stdout.splitlines() if "NAME" in line)
    assert re.findall(r"[A-Z]+", header) == [
        "ID", "NAME", "ENGINE", "VERSION", "PLAN", "PHASE", "RUNTIME", "AGE", "URL",
    ]  # fmt: skip
    row = next(line for line in result.stdout.splitlines() if created.store_id in line)
    cells = [cell.strip() for cell in re.split(r"[│┃|]", row) if cell.strip()]
    assert cells[:6] == [created.store_id, SHOP, "medusa", "2.21.2", "small", "Ready"]
    assert cells[6] == "simulated"  # the test dev runs --simulate-workloads
    assert cells[-1] == store_url(dev, created.store_id)


@pytest.mark.parametrize(
    "by", ["name", "id"], ids=["get by name shows the conditions", "get by id shows the same"]
)
def test_get_shows_the_store_and_its_conditions(dev: DevProcess, created: Created, by: str) -> None:
    result = storeplane(
        "get", SHOP if by == "name" else created.store_id, api_url=dev.url, data_dir=dev.data_dir
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert_shows_store(result.stdout, SHOP, created.store_id, "Ready")
    assert "generation 1, observed 1" in result.stdout
    assert "runtime simulated (nothing runs: no real shop behind it)" in result.stdout


def test_events_prints_the_timeline_oldest_first(dev: DevProcess, created: Created) -> None:
    result = storeplane("events", SHOP, api_url=dev.url, data_dir=dev.data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    api_reasons = [e["reason"] for e in dev.events(created.store_id)]
    assert event_reasons(result.stdout) == api_reasons
    assert api_reasons[0] == "Created"
    assert f"store '{SHOP}' created with engine medusa 2.21.2 and plan small" in result.stdout


def test_check_of_a_simulated_store_says_there_is_no_real_store_and_exits_1(
    dev: DevProcess, created: Created
) -> None:
    result = storeplane("check", SHOP, "--wait", api_url=dev.url, data_dir=dev.data_dir)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "workloads are simulated" in result.stderr
    assert "no real store to check" in result.stderr and "(HTTP 409)" in result.stderr
    listed = storeplane("check-status", SHOP, api_url=dev.url, data_dir=dev.data_dir)
    assert listed.returncode == 0 and "no order checks yet" in listed.stdout


def test_logs_without_a_pod_lists_the_stores_pods_and_a_pod_prints_its_output(
    dev: DevProcess, created: Created
) -> None:
    pods = dev.kube(f"api/v1/namespaces/{created.store_id}/pods").json()["items"]
    server = next(p for p in pods if p["metadata"]["name"].startswith("medusa-server"))
    name = server["metadata"]["name"]
    listing = storeplane("logs", SHOP, api_url=dev.url, data_dir=dev.data_dir)
    assert listing.returncode == 1
    assert "the store's pods are:" in listing.stderr and name in listing.stderr
    assert "storeplane stores logs --pod NAME" in listing.stderr
    container = server["spec"]["containers"][0]["name"]
    output = storeplane(
        "logs", SHOP, "--pod", name, "-c", container, api_url=dev.url, data_dir=dev.data_dir
    )
    assert output.returncode == 0, output.stdout + output.stderr
    assert output.stdout == ""  # a simulated container printed nothing
    unknown = storeplane("logs", SHOP, "--pod", "nope", api_url=dev.url, data_dir=dev.data_dir)
    assert unknown.returncode == 1 and "has no pod 'nope'" in unknown.stderr


def test_update_with_wait_follows_the_new_generation_to_ready(
    dev: DevProcess, ready_store: dict[str, Any]
) -> None:
    result = storeplane(
        "update",
        ready_store["name"],
        "--plan",
        "medium",
        *WAIT,
        api_url=dev.url,
        data_dir=dev.data_dir,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    reasons = event_reasons(result.stdout)
    assert reasons[0] == "UpdateRequested", "only events since the update are printed"
    assert "plan changed from small to medium" in result.stdout
    assert "Updating → Ready" in result.stdout
    assert_shows_store(result.stdout, ready_store["name"], ready_store["id"], "Ready")
    assert "engine medusa, plan medium" in result.stdout
    assert "generation 2, observed 2" in result.stdout
    assert dev.store(ready_store["id"])["plan"] == "medium"


def test_an_engine_version_is_chosen_at_create_and_upgraded_by_update(dev: DevProcess) -> None:
    created = storeplane(
        "create", "versioned-shop", "--engine-version", "2.20.1", *WAIT,
        api_url=dev.url, data_dir=dev.data_dir,
    )  # fmt: skip
    assert created.returncode == 0, created.stdout + created.stderr
    assert "version 2.20.1" in created.stdout
    refused = storeplane(
        "update", "versioned-shop", "--engine-version", "2.19.0",
        api_url=dev.url, data_dir=dev.data_dir,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "known versions: 2.21.2, 2.20.1" in refused.stdout + refused.stderr
    upgraded = storeplane(
        "update", "versioned-shop", "--engine-version", "2.21.2", *WAIT,
        api_url=dev.url, data_dir=dev.data_dir,
    )  # fmt: skip
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    reasons = event_reasons(upgraded.stdout)
    assert reasons[0] == "UpdateRequested"
    for reason in ("UpgradeStarted", "MigrationSucceeded", "UpgradeCompleted"):
        assert reason in reasons, upgraded.stdout
    assert "version 2.21.2" in upgraded.stdout and "(runs" not in upgraded.stdout


def test_suspend_and_resume_with_wait_follow_the_store_there_and_back(
    dev: DevProcess, ready_store: dict[str, Any]
) -> None:
    name = ready_store["name"]
    suspended = storeplane("suspend", name, *WAIT, api_url=dev.url, data_dir=dev.data_dir)
    assert suspended.returncode == 0, suspended.stdout + suspended.stderr
    reasons = event_reasons(suspended.stdout)
    assert reasons[0] == "SuspendRequested" and "StoreSuspended" in reasons
    assert_shows_store(suspended.stdout, name, ready_store["id"], "Suspended")
    assert "suspended: workloads at zero" in suspended.stdout
    resumed = storeplane("resume", name, *WAIT, api_url=dev.url, data_dir=dev.data_dir)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    reasons = event_reasons(resumed.stdout)
    assert reasons[0] == "ResumeRequested" and "StoreResumed" in reasons
    assert_shows_store(resumed.stdout, name, ready_store["id"], "Ready")


def test_update_sets_custom_domains_and_refuses_a_wildcard(
    dev: DevProcess, ready_store: dict[str, Any]
) -> None:
    name = ready_store["name"]
    result = storeplane(
        "update", name, "--domain", "cli.example.com", *WAIT, api_url=dev.url, data_dir=dev.data_dir
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "DomainsChanged" in event_reasons(result.stdout)
    assert "domain cli.example.com Active" in result.stdout
    refused = storeplane(
        "update", name, "--domain", "*.example.com", api_url=dev.url, data_dir=dev.data_dir
    )
    assert refused.returncode == 1
    assert "wildcards are not allowed" in refused.stderr
    cleared = storeplane(
        "update", name, "--clear-domains", *WAIT, api_url=dev.url, data_dir=dev.data_dir
    )
    assert cleared.returncode == 0 and dev.store(ready_store["id"])["domains"] == []


def test_delete_with_wait_ends_deleted_with_nothing_left(
    dev: DevProcess, ready_store: dict[str, Any]
) -> None:
    result = storeplane(
        "delete", ready_store["name"], "--yes", *WAIT, api_url=dev.url, data_dir=dev.data_dir
    )
    assert result.returncode == 0, result.stdout + result.stderr
    reasons = event_reasons(result.stdout)
    assert reasons[0] == "DeletionRequested", "only events since the deletion are printed"
    assert "TeardownVerified" in reasons
    assert f"{ready_store['name']} ({ready_store['id']})  Deleted" in result.stdout
    assert dev.store(ready_store["id"])["phase"] == "Deleted"
    assert dev.labelled_objects(ready_store["id"]) == []


def test_delete_without_yes_asks_and_a_no_changes_nothing(
    dev: DevProcess, created: Created
) -> None:
    result = subprocess.run(
        [str(STOREPLANE), "stores", "--api-url", dev.url, "delete", SHOP],
        input="n\n",
        capture_output=True,
        text=True,
        env=cli_env(dev.data_dir),
        timeout=CLI_TIMEOUT,
        check=False,
    )
    assert result.returncode == 1
    assert f"Delete store {SHOP} ({created.store_id}) and all its data?" in result.stdout
    assert "Aborted" in result.stdout + result.stderr
    assert dev.store(created.store_id)["phase"] == "Ready"


def test_plans_lists_the_three_plans(dev: DevProcess) -> None:
    result = storeplane("plans", api_url=dev.url, data_dir=dev.data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [
        line for line in result.stdout.splitlines() if re.match(r"^│ (small|medium|large) ", line)
    ]
    assert [row.split()[1] for row in rows] == ["small", "medium", "large"]
    assert "1 / 2Gi" in rows[0] and "2 / 4Gi" in rows[1] and "4 / 8Gi" in rows[2]


REFUSED = [
    (
        "a name with upper case and an underscore is refused with the API's rule",
        ["create", "Bad_Name"],
        ("POST", "/stores", {"name": "Bad_Name", "engine": "medusa", "plan": "small"}),
        "name must be a lower-case DNS label",
    ),
    (
        "a name already taken is refused and says so",
        ["create", SHOP, "--engine", "woocommerce"],
        ("POST", "/stores", {"name": SHOP, "engine": "woocommerce", "plan": "small"}),
        f'a store named "{SHOP}" already exists',
    ),
    (
        "a name of the id form is refused and says why",
        ["create", "store-abcd1234"],
        ("POST", "/stores", {"name": "store-abcd1234", "engine": "medusa", "plan": "small"}),
        "must not look like a store id",
    ),
    (
        "an unknown plan is refused",
        ["create", "new-shop", "--plan", "huge"],
        ("POST", "/stores", {"name": "new-shop", "engine": "medusa", "plan": "huge"}),
        "huge",
    ),
    (
        "an unknown engine is refused",
        ["create", "new-shop", "--engine", "magento"],
        ("POST", "/stores", {"name": "new-shop", "engine": "magento", "plan": "small"}),
        "magento",
    ),
]


@pytest.mark.parametrize(
    ("args", "same_request", "words"),
    [case[1:] for case in REFUSED],
    ids=[case[0] for case in REFUSED],
)
def test_refused_input_prints_the_api_message_verbatim_and_exits_1(
    dev: DevProcess,
    created: Created,
    args: list[str],
    same_request: tuple[str, str, dict[str, str]],
    words: str,
) -> None:
    method, path, body = same_request
    answer = dev.api(method, path, json=body)
    assert answer.status_code in (409, 422), answer.text
    result = storeplane(*args, api_url=dev.url, data_dir=dev.data_dir)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == f"error: {answer.json()['detail']} (HTTP {answer.status_code})"
    assert words in result.stderr


def test_an_id_form_argument_is_only_ever_an_id_and_other_arguments_are_names(
    dev: DevProcess,
) -> None:
    target = dev.api("POST", "/stores", json={"name": "id-target", "engine": "medusa"}).json()
    front = dev.api("POST", "/stores", json={"name": "store-front", "engine": "medusa"}).json()
    # A store named like the target's id, as one could be before such names were refused:
    # written to the dev database directly, since the API refuses the name now.
    engine = create_engine_for(f"sqlite:///{dev.data_dir / 'storeplane.db'}")
    try:
        legacy = Store.create(
            StoreSpec(name=target["id"], engine=Engine.MEDUSA, plan=PlanName.SMALL),
            store_id=new_store_id(),
            url=None,
            now=datetime.now(UTC),
            deadline=timedelta(minutes=10),
        )
        SqlStoreRepository(engine).create(legacy, [])
    finally:
        engine.dispose()
    for argument, expected in [
        (target["id"], f"id-target ({target['id']})"),
        (legacy.id, f"{target['id']} ({legacy.id})"),
        ("store-front", f"store-front ({front['id']})"),
    ]:
        result = storeplane("get", argument, api_url=dev.url, data_dir=dev.data_dir)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(expected), (argument, result.stdout)


def test_an_unknown_store_name_says_how_to_list_them(dev: DevProcess) -> None:
    result = storeplane("get", "no-such-shop", api_url=dev.url, data_dir=dev.data_dir)
    assert result.returncode == 1
    assert 'no store named "no-such-shop"' in result.stderr
    assert "storeplane stores list" in result.stderr


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    "args",
    [["list"], ["create", "some-shop"], ["plans"]],
    ids=[
        "list with no API running says it cannot reach it",
        "create with no API running says it cannot reach it",
        "plans with no API running says it cannot reach it",
    ],
)
def test_an_unreachable_api_is_a_clear_error(args: list[str]) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    started = time.monotonic()
    result = storeplane(*args, api_url=url)
    assert result.returncode == 1
    assert result.stdout == ""
    assert f"error: cannot reach the storeplane API at {url}" in result.stderr
    assert "is it running?" in result.stderr
    assert "Traceback" not in result.stderr
    assert time.monotonic() - started < 30
