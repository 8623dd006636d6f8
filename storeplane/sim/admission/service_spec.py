"""Service spec rules the OpenAPI schemas cannot express, in the API server's words.

Called by :func:`storeplane.sim.admission.validation.validate` for Services, as
``ValidateService`` checks them: a Service that is not headless or ``ExternalName`` has
ports (``spec.ports: Required value``); with more than one port every port is named
(``spec.ports[0].name: Required value``), names are DNS labels and unique (``Duplicate
value: "http"``); ``port`` in 1..65535; ``targetPort`` a number in range or a port name;
the same ``port``/``protocol`` twice is ``spec.ports[1]: Duplicate value:
core.ServicePort{...}``.
"""

from __future__ import annotations

import json
from typing import Any

from .names import LABEL_MSG, LABEL_RE
from .podspec import int_or_name_errors, port_number_error

Obj = dict[str, Any]
Cause = tuple[str, str]


def _go_port(port: Obj) -> str:
    """A ServicePort as Go's ``%#v`` prints the internal type."""
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, str) and not target.isdigit():
        target_go = f"intstr.IntOrString{{Type:1, IntVal:0, StrVal:{json.dumps(target)}}}"
    else:
        target_go = f'intstr.IntOrString{{Type:0, IntVal:{int(target or 0)}, StrVal:""}}'
    return (
        f"core.ServicePort{{Name:{json.dumps(port.get('name') or '')}, "
        f"Protocol:{json.dumps(port.get('protocol') or 'TCP')}, AppProtocol:(*string)(nil), "
        f"Port:{port.get('port')}, TargetPort:{target_go}, NodePort:{port.get('nodePort') or 0}}}"
    )


def spec_errors(obj: Obj) -> list[Cause]:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return []
    ports = [p for p in spec.get("ports") or [] if isinstance(p, dict)]
    headless = spec.get("clusterIP") == "None"
    errors: list[Cause] = []
    if not ports and not headless and spec.get("type") != "ExternalName":
        errors.append(("spec.ports", "Required value"))
    names: set[str] = set()
    keys: set[tuple[Any, str]] = set()
    for i, port in enumerate(ports):
        path = f"spec.ports[{i}]"
        name = port.get("name")
        if len(ports) > 1 and not name:
            errors.append((f"{path}.name", "Required value"))
        if isinstance(name, str) and name:
            if not LABEL_RE.match(name):
                errors.append((f"{path}.name", f'Invalid value: "{name}": {LABEL_MSG}'))
            if name in names:
                errors.append((f"{path}.name", f'Duplicate value: "{name}"'))
            names.add(name)
        found = port_number_error(f"{path}.port", port.get("port"))
        if found:
            errors.append(found)
        if "targetPort" in port:
            errors += int_or_name_errors(f"{path}.targetPort", port["targetPort"])
        key = (port.get("port"), str(port.get("protocol") or "TCP"))
        if key in keys:
            errors.append((path, f"Duplicate value: {_go_port(port)}"))
        keys.add(key)
    return errors
