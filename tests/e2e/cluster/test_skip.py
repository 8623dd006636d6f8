"""The cluster kit is skipped, saying why and how to run it, where no cluster is configured
(every machine of the test command)."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.e2e.cluster.kit import KUBECONFIG_ENV, REPO, SKIP_REASON

KIT = Path(__file__).with_name("test_stores_on_a_cluster.py")


def test_without_a_kubeconfig_every_cluster_test_is_skipped_with_the_reason(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if k != KUBECONFIG_ENV}
    report = tmp_path / "report.xml"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(KIT),
            "-p",
            "no:cacheprovider",
            "-q",
            f"--junitxml={report}",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    cases = ET.parse(report).getroot().iter("testcase")
    skips = {case.get("name"): case.find("skipped") for case in cases}
    assert set(skips) == {
        "test_both_stores_become_ready",
        "test_a_guest_order_in_the_medusa_store_is_found_by_its_admin",
        "test_a_guest_order_in_the_woocommerce_store_is_found_by_its_admin",
        "test_deleting_both_stores_leaves_nothing_behind",
    }
    for name, skipped in skips.items():
        assert skipped is not None, f"{name} ran without a cluster"
        assert skipped.get("message") == SKIP_REASON, name
    assert KUBECONFIG_ENV in SKIP_REASON and "scripts/e2e-kind.sh" in SKIP_REASON


def test_the_skip_reason_says_what_to_set_and_how_to_get_a_cluster() -> None:
    assert SKIP_REASON == (
        "STOREPLANE_E2E_KUBECONFIG is not set: the real-cluster end-to-end kit needs a "
        "Kubernetes cluster (scripts/e2e-kind.sh makes one with kind or k3d and runs these tests)"
    )
