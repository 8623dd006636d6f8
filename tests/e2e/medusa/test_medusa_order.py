"""The Medusa store app of ``images/medusa`` for real: installed from the npm registry, built,
migrated, seeded and started as a local process by ``scripts/medusa-local.sh`` (PostgreSQL
from the test suite's server, Debian's redis-server, no container), then a guest order is
placed through its Store API and found through its Admin API with the order clients.

This is also the proof that the image recipe (package.json, package-lock.json,
medusa-config.ts, the seed and ensure-admin scripts) installs, builds and serves. The first run
on a machine installs about 750 MB of npm packages (2 minutes or so); later runs reuse them.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from storeplane.domain.store import Engine
from storeplane.engines.orders import (
    Address,
    MedusaAdmin,
    MedusaStorefront,
    OrderStepError,
)
from storeplane.engines.orders.smoke import GUEST_EMAIL, OrderCheckTarget, run_order_check

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "scripts" / "medusa-local.sh"
POSTGRES_URL_ENV = "STOREPLANE_TEST_POSTGRES_URL"
MEDUSA_DB = "storeplane_medusa"  # scripts/medusa-local.sh's database (STOREPLANE_MEDUSA_DB)
# The seed's product costs 19 and its flat shipping option 5, in the region's currency (eur).
PRODUCT_PRICE = Decimal(19)
SHIPPING_PRICE = Decimal(5)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@dataclass(frozen=True)
class LocalMedusa:
    url: str
    admin_email: str
    admin_password: str
    pid: int
    log: str


def _run_script(request: pytest.FixtureRequest, command: str, timeout: float) -> str:
    """Run ``scripts/medusa-local.sh COMMAND`` with its progress (stderr) shown live, pytest's
    capture notwithstanding; return its stdout."""
    capture = request.config.pluginmanager.getplugin("capturemanager")
    assert capture is not None
    with capture.global_and_fixture_disabled():
        print(f"\n[medusa] scripts/medusa-local.sh {command}", flush=True)
        started = time.monotonic()
        done = subprocess.run(
            ["bash", str(SCRIPT), command],
            stdout=subprocess.PIPE,
            text=True,
            timeout=timeout,
            check=False,
            env=os.environ.copy(),
        )
        print(f"[medusa] {command}: exit {done.returncode} after {time.monotonic() - started:.0f}s")
    if done.returncode != 0:
        pytest.fail(
            f"scripts/medusa-local.sh {command} failed (exit {done.returncode}); its output is "
            "above, its logs in the run/ folder of the work dir it printed"
        )
    return done.stdout


@pytest.fixture(scope="module")
def medusa(request: pytest.FixtureRequest) -> Iterator[LocalMedusa]:
    if not os.environ.get(POSTGRES_URL_ENV):
        pytest.skip(
            f"{POSTGRES_URL_ENV} is not set: the local Medusa needs the test PostgreSQL; run "
            f'`export {POSTGRES_URL_ENV}="$(scripts/postgres-test.sh start)"` (scripts/test.sh does)'
        )
    out = _run_script(request, "up", timeout=840)
    values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    try:
        yield LocalMedusa(
            url=values["MEDUSA_URL"],
            admin_email=values["MEDUSA_ADMIN_EMAIL"],
            admin_password=values["MEDUSA_ADMIN_PASSWORD"],
            pid=int(values["MEDUSA_PID"]),
            log=values["MEDUSA_LOG"],
        )
    finally:
        _run_script(request, "down", timeout=60)


@pytest.fixture(scope="module")
def publishable_key(medusa: LocalMedusa) -> str:
    with MedusaAdmin(medusa.url, medusa.admin_email, medusa.admin_password) as admin:
        return admin.publishable_key()


def test_a_guest_order_is_placed_through_the_store_api_and_found_through_the_admin_api(
    medusa: LocalMedusa, publishable_key: str
) -> None:
    with MedusaStorefront(medusa.url, publishable_key) as shop:
        placed = shop.place_guest_order("guest@example.com", quantity=2)

    assert placed.id.startswith("order_")
    assert placed.status == "pending"
    assert placed.currency == "eur"
    assert placed.total == 2 * PRODUCT_PRICE + SHIPPING_PRICE
    assert placed.email == "guest@example.com"

    with MedusaAdmin(medusa.url, medusa.admin_email, medusa.admin_password) as admin:
        found = admin.order(placed.id)
        newest = admin.orders(limit=5)
    assert (found.id, found.number, found.email) == (placed.id, placed.number, placed.email)
    assert found.total == placed.total
    # The system payment provider authorizes without charging anything.
    assert found.payment_status == "authorized"
    assert placed.id in [order.id for order in newest]


def test_each_order_gets_the_next_display_number(medusa: LocalMedusa, publishable_key: str) -> None:
    with MedusaStorefront(medusa.url, publishable_key) as shop:
        first = shop.place_guest_order("first@example.com", address=Address(city="Hamburg"))
        second = shop.place_guest_order("second@example.com")
    assert int(second.number) == int(first.number) + 1


@pytest.mark.parametrize(
    ("case", "step", "status"),
    [
        ("an unknown publishable key", "list regions", 400),
        ("a wrong admin password", "admin login", 401),
        ("a country outside the region", "list regions", None),
        ("an unknown order", "read order", 404),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_failures_name_the_step_and_what_medusa_answered(
    medusa: LocalMedusa, publishable_key: str, case: str, step: str, status: int | None
) -> None:
    with pytest.raises(OrderStepError) as failure:
        if case == "an unknown publishable key":
            with MedusaStorefront(medusa.url, "pk_not_a_key") as shop:
                shop.place_guest_order("guest@example.com")
        elif case == "a wrong admin password":
            with MedusaAdmin(medusa.url, medusa.admin_email, "wrong-password") as admin:
                admin.orders()
        elif case == "a country outside the region":
            with MedusaStorefront(medusa.url, publishable_key) as shop:
                shop.place_guest_order("guest@example.com", address=Address(country_code="jp"))
        else:
            with MedusaAdmin(medusa.url, medusa.admin_email, medusa.admin_password) as admin:
                admin.order("order_does_not_exist")
    error = failure.value
    assert (error.engine, error.step, error.status) == ("medusa", step, status)
    assert str(error).startswith(f"medusa: {step}: ")
    if status is not None:
        assert error.answer, "the engine's own words are kept"


def test_the_server_listens_on_loopback_only_and_stops_by_pid(medusa: LocalMedusa) -> None:
    assert medusa.url.startswith("http://127.0.0.1:")
    os.kill(medusa.pid, 0)  # alive: `down` stops exactly this process


def test_the_smoke_checks_order_flow_passes_at_a_localhost_name_of_the_store(
    medusa: LocalMedusa,
) -> None:
    """What the check runner runs (storeplane/engines/orders/smoke.py), at the URL shape a
    ``storeplane dev`` store has: ``http://<id>.localhost:<port>``, which Python's resolver
    does not know and the loopback transport connects to 127.0.0.1 with that Host."""
    port = medusa.url.rsplit(":", 1)[1]
    url = f"http://store-smoke01.localhost:{port}"
    steps: list[str] = []
    result = run_order_check(
        Engine.MEDUSA,
        OrderCheckTarget(url, medusa.admin_email, medusa.admin_password),
        steps.append,
    )
    assert result.order_id.startswith("order_")
    assert url in result.message and "found through the Admin API" in result.message
    assert steps[0] == "admin login"
    assert steps[-2:] == ["find order in admin", "read order"]
    assert "complete cart" in steps
    with MedusaAdmin(medusa.url, medusa.admin_email, medusa.admin_password) as admin:
        assert admin.order(result.order_id).email == GUEST_EMAIL


def test_the_smoke_check_names_the_step_a_wrong_admin_password_fails(
    medusa: LocalMedusa,
) -> None:
    with pytest.raises(OrderStepError) as failure:
        run_order_check(
            Engine.MEDUSA,
            OrderCheckTarget(medusa.url, medusa.admin_email, "not-the-password"),
            lambda _step: None,
        )
    assert (failure.value.step, failure.value.status) == ("admin login", 401)


def test_an_admin_left_without_its_login_is_repaired_by_the_seed_jobs_admin_step(
    medusa: LocalMedusa, request: pytest.FixtureRequest
) -> None:
    """`medusa user` creates the user, then registers its login, then links the two. A seed pod
    cut short in between left a user nobody could log in as, and every later seed skipped
    `medusa user` because the user existed: the store's order check failed at "admin login"
    with 401 for ever. The seed Job's admin step (ensure-admin) now registers what is missing."""
    database = (
        make_url(os.environ[POSTGRES_URL_ENV])
        .set(drivername="postgresql", database=os.environ.get("STOREPLANE_MEDUSA_DB", MEDUSA_DB))
        .render_as_string(hide_password=False)
    )
    with psycopg.connect(database, autocommit=True) as connection:
        # What a `medusa user` stopped after its first step leaves: the user, no login.
        logins = connection.execute(
            "DELETE FROM provider_identity WHERE entity_id = %s RETURNING auth_identity_id",
            (medusa.admin_email,),
        ).fetchall()
        assert logins, "the admin had no login to take away"
        connection.execute(
            "DELETE FROM auth_identity WHERE id = ANY(%s)", ([row[0] for row in logins],)
        )
    with (
        MedusaAdmin(medusa.url, medusa.admin_email, medusa.admin_password) as admin,
        pytest.raises(OrderStepError) as refused,
    ):
        admin.login()
    assert (refused.value.step, refused.value.status) == ("admin login", 401)

    _run_script(request, "admin", timeout=120)

    with MedusaAdmin(medusa.url, medusa.admin_email, medusa.admin_password) as admin:
        assert admin.login()
        assert admin.orders(limit=1), "the repaired admin sees no order"
