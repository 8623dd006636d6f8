"""Run one order check of a store: its admin login from the cluster, then the engine's order
flow against the store's public URL, and the outcome as a finished check and an event.

Called by :class:`storeplane.reconciler.checks.CheckRunner` for a check it claimed. Never
raises for the store's or the cluster's problems: every failure is a ``Failed`` check naming
the step and the cause. The order flow is synchronous and runs in a worker thread; its steps
are handed back to the event loop through ``on_step``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from storeplane.domain.checks import SmokeCheck, not_checkable
from storeplane.domain.conditions import Reason
from storeplane.domain.errors import ReconcileError
from storeplane.domain.events import Event
from storeplane.domain.store import Store
from storeplane.engines import CREDENTIALS_SECRET, profile_for
from storeplane.engines.orders import OrderStepError
from storeplane.engines.orders.smoke import OrderCheckTarget, run_order_check
from storeplane.reconciler.context import ReconcileContext

log = logging.getLogger(__name__)
ADMIN_PASSWORD_KEY = "admin-password"
PRECONDITION_STEP = "check the store"
CREDENTIALS_STEP = "read admin login"


async def run_smoke_check(
    check: SmokeCheck,
    store: Store,
    ctx: ReconcileContext,
    on_step: Callable[[str], None],
    *,
    timeout: float,
) -> tuple[SmokeCheck, Event]:
    """The finished check and its ``SmokeTestPassed`` / ``SmokeTestFailed`` event.

    ``on_step`` is called on the event loop's thread with each step as it starts."""
    loop = asyncio.get_running_loop()
    current = [check.step or PRECONDITION_STEP]

    def step(name: str) -> None:
        current[0] = name
        on_step(name)

    def from_thread(name: str) -> None:
        loop.call_soon_threadsafe(step, name)

    def failed(at: str, message: str) -> tuple[SmokeCheck, Event]:
        done = check.failed(at, message, now=ctx.clock())
        event = Event.warning(
            store.id,
            Reason.SMOKE_TEST_FAILED,
            f"order check {check.id} failed at step {at!r}: {message}",
            time=ctx.clock(),
            generation=store.generation,
        )
        return done, event

    step(PRECONDITION_STEP)
    why = not_checkable(store)
    if why is not None:
        return failed(PRECONDITION_STEP, why)
    if not store.url:
        return failed(PRECONDITION_STEP, f"store {store.id} has no URL to place an order at")

    step(CREDENTIALS_STEP)
    try:
        secret = await ctx.cluster.read_secret(store.namespace, CREDENTIALS_SECRET)
    except ReconcileError as exc:
        return failed(CREDENTIALS_STEP, f"the cluster did not answer: {exc.message}")
    password = (secret or {}).get(ADMIN_PASSWORD_KEY)
    if not password:
        where = f"Secret {store.namespace}/{CREDENTIALS_SECRET}"
        missing = "does not exist" if secret is None else f"has no {ADMIN_PASSWORD_KEY!r} key"
        return failed(CREDENTIALS_STEP, f"{where} {missing}; the next reconcile recreates it")

    profile = profile_for(store.spec.engine)
    target = OrderCheckTarget(
        base_url=store.url,
        admin_email=profile.admin_email(store, ctx.exposure),
        admin_password=password,
    )
    try:
        result = await asyncio.wait_for(
            asyncio.to_thread(run_order_check, store.spec.engine, target, from_thread),
            timeout=timeout,
        )
    except OrderStepError as exc:
        return failed(exc.step, str(exc))
    except TimeoutError:
        return failed(
            current[0],
            f"the check did not finish within {timeout:.0f}s at {store.url} (the store is slow "
            "or stopped answering mid-order)",
        )
    except Exception as exc:  # a bug in a client, not the store: still a finished check
        log.exception("order check %s crashed", check.id)
        return failed(current[0], f"unexpected error: {type(exc).__name__}: {exc}")
    done = check.passed(result.order_id, result.message, now=ctx.clock())
    event = Event.normal(
        store.id,
        Reason.SMOKE_TEST_PASSED,
        f"order check {check.id} passed: {result.message}",
        time=ctx.clock(),
        generation=store.generation,
    )
    return done, event
