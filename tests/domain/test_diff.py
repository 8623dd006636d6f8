import pytest

from storeplane.domain.diff import in_sync

DESIRED = {
    "apiVersion": "v1",
    "kind": "ResourceQuota",
    "metadata": {"name": "q", "namespace": "n", "labels": {"a": "1"}},
    "spec": {"hard": {"pods": "10", "requests.cpu": "1"}},
}


@pytest.mark.parametrize(
    ("live", "expected"),
    [
        (
            {
                **DESIRED,
                "metadata": {**DESIRED["metadata"], "uid": "u", "resourceVersion": "9"},
                "status": {"used": {}},
            },
            True,
        ),
        ({**DESIRED, "spec": {"hard": {"pods": "20", "requests.cpu": "1"}}}, False),
        ({**DESIRED, "spec": {"hard": {"pods": "10"}}}, False),
        (
            {
                **DESIRED,
                "metadata": {"name": "q", "namespace": "n", "labels": {"a": "1", "extra": "x"}},
            },
            True,
        ),
        ({**DESIRED, "metadata": {"name": "q", "namespace": "n", "labels": {}}}, False),
        ({**DESIRED, "spec": {"hard": {"pods": 10, "requests.cpu": "1"}}}, True),
    ],
    ids=[
        "server-added metadata and status are ignored",
        "a value edited by hand is drift",
        "a key removed by hand is drift",
        "labels added by someone else are tolerated",
        "a label we set that was removed is drift",
        "a number and its string form are equal",
    ],
)
def test_in_sync_compares_only_what_storeplane_sets(live: dict, expected: bool) -> None:
    assert in_sync(DESIRED, live) is expected


def test_lists_must_match_item_by_item() -> None:
    desired = {"spec": {"ports": [{"port": 80}]}}
    assert in_sync(desired, {"spec": {"ports": [{"port": 80, "protocol": "TCP"}]}})
    assert not in_sync(desired, {"spec": {"ports": [{"port": 80}, {"port": 81}]}})


def test_ignored_keys_are_not_compared() -> None:
    assert in_sync({"data": {"k": "new"}}, {"data": {"k": "old"}}, ignore=frozenset({"data"}))
