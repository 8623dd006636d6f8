"""The admission chain (storeplane/sim/admission/chain.py): phases, order, operations."""

from __future__ import annotations

from typing import Any

import pytest

from storeplane.sim.admission.chain import Attributes, Chain, Operation
from storeplane.sim.admission.plugins import default_chain
from storeplane.sim.errors import ApiError
from storeplane.sim.kinds import by_qualified

PODS = by_qualified("pods")


class Recorder:
    """A plugin that notes when each of its phases runs."""

    def __init__(self, name: str, log: list[str], operations: set[Operation], admit: bool,
                 validate: bool) -> None:  # fmt: skip
        self.name = name
        self.operations = frozenset(operations)
        self._log = log
        if admit:
            self.admit = lambda attrs: log.append(f"admit {name}")
        if validate:
            self.validate = lambda attrs: log.append(f"validate {name}")

    def handles(self, attrs: Attributes) -> bool:
        return True


def _attrs(operation: Operation) -> Attributes:
    def lookup(resource: str, namespace: str, name: str) -> Any:
        return None

    def objects(resource: str, namespace: str) -> list[Any]:
        return []

    return Attributes(PODS, operation, "shop", "web", {"spec": {}}, None, "", lookup, objects)


def test_mutators_run_before_validators_each_in_chain_order() -> None:
    log: list[str] = []
    chain = Chain([
        Recorder("a", log, {"CREATE"}, admit=False, validate=True),
        Recorder("b", log, {"CREATE"}, admit=True, validate=True),
        Recorder("c", log, {"CREATE"}, admit=True, validate=False),
    ])  # fmt: skip
    attrs = _attrs("CREATE")
    chain.admit(attrs)
    chain.validate(attrs)
    assert log == ["admit b", "admit c", "validate a", "validate b"]


def test_a_plugin_sees_only_the_operations_it_handles() -> None:
    log: list[str] = []
    chain = Chain([Recorder("create-only", log, {"CREATE"}, admit=True, validate=True)])
    chain.admit(_attrs("UPDATE"))
    chain.validate(_attrs("DELETE"))
    assert log == []


def test_the_default_chain_is_the_api_servers_order() -> None:
    chain = default_chain()
    assert [p.name for p in chain.mutators] == ["NamespaceLifecycle", "LimitRanger",
                                                "ServiceAccount"]  # fmt: skip
    assert [p.name for p in chain.validators] == ["ServiceAccount", "PodSecurity",
                                                  "ResourceQuota"]  # fmt: skip


def test_a_refusal_stops_the_chain() -> None:
    log: list[str] = []

    class Refuses:
        name = "Refuses"
        operations: frozenset[Operation] = frozenset({"CREATE"})

        def handles(self, attrs: Attributes) -> bool:
            return True

        def validate(self, attrs: Attributes) -> None:
            raise ApiError(403, "Forbidden", "no")

    chain = Chain([Refuses(), Recorder("after", log, {"CREATE"}, admit=False, validate=True)])
    with pytest.raises(ApiError):
        chain.validate(_attrs("CREATE"))
    assert log == []
