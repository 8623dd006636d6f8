"""Two ``storeplane serve`` replicas share one PostgreSQL database and one cluster: the work
is split through leases, a store is never reconciled by both at once, and when one replica is
killed the other takes its stores over within the lease time."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.scenarios.dev_process import wait_until
from tests.scenarios.processes import Process, pass_intervals

STORES = 100
LEASE_SECONDS = 5


@pytest.mark.postgres
@pytest.mark.slow
def test_two_replicas_share_the_work_and_survive_one_dying(db_url: str, tmp_path: Path) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("replicas share work through PostgreSQL row locks; SQLite is single-node")
    kubeconfig = tmp_path / "kubeconfig"
    sim = Process(
        "sim",
        ["sim", "--port", "0", "--kubeconfig", str(kubeconfig), "--ready-delay", "0.5"],
        tmp_path,
    )
    env = {
        "STOREPLANE_DATABASE_URL": db_url,
        "STOREPLANE_LEASE_SECONDS": str(LEASE_SECONDS),
        "STOREPLANE_POLL_SECONDS": "0.3",
        "STOREPLANE_WORKERS": "8",
        "STOREPLANE_DATA_DIR": str(tmp_path / "data"),
    }
    serve = ["serve", "--host", "127.0.0.1", "--port", "0", "--kubeconfig", str(kubeconfig), "-v"]
    a = Process("replica-a", serve, tmp_path, env)
    b = Process("replica-b", serve, tmp_path, env)
    try:
        sim.start(r"kubeconfig written")
        url = a.start(r"serving at (http://\S+)").group(1)
        b.start(r"serving at (http://\S+)")
        # The first replica on the empty database made the admin and printed its token once.
        tokens = re.findall(r"bootstrap admin token: (sp_\S+)", a.out_path.read_text())
        assert len(tokens) == 1, a.out_path.read_text()
        assert "bootstrap admin token" not in b.out_path.read_text()
        auth = {"Authorization": f"Bearer {tokens[0]}"}
        ids = []
        for n in range(STORES):
            response = httpx.post(
                f"{url}/api/v1/stores",
                json={"name": f"replica-{n:03d}", "engine": "medusa"},
                headers=auth,
                timeout=10,
            )
            assert response.status_code == 202, response.text
            ids.append(response.json()["id"])

        def ready_count() -> int:
            return int(
                httpx.get(
                    f"{url}/api/v1/stores",
                    params={"phase": "Ready", "limit": 1},
                    headers=auth,
                ).json()["count"]
            )

        wait_until(ready_count, lambda n: n >= STORES // 4, 120, "a quarter of the stores Ready")
        b.kill()
        killed_at = datetime.now(UTC)
        wait_until(
            ready_count,
            lambda n: n == STORES,
            180,
            "every store Ready after replica b died",
            a.err_path,
        )
    finally:
        for process in (a, b, sim):
            process.stop()

    spans_a = pass_intervals(a)
    spans_b = pass_intervals(b, killed_at)
    assert spans_b, "replica b did no work before it was killed: the test proves nothing"
    assert len(spans_a) + len(spans_b) >= STORES
    overlaps = [
        (store, sa, sb)
        for store in set(spans_a) & set(spans_b)
        for sa in spans_a[store]
        for sb in spans_b[store]
        if sa[0] < sb[1] and sb[0] < sa[1]
    ]
    assert overlaps == [], f"stores reconciled by both replicas at once: {overlaps[:5]}"
    # b's stores were taken over: every store is Ready, and a worked on some of b's stores
    # after the kill, no sooner than their leases allowed.
    taken_over = [s for s in spans_b if any(start > killed_at for start, _ in spans_a.get(s, []))]
    assert taken_over, "replica a never picked up any of replica b's stores"
    assert os.environ.get("STOREPLANE_TEST_POSTGRES_URL")
