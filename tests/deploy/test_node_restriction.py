"""components/node-restriction: the ValidatingAdmissionPolicy that keeps an edge node to its own
EdgeNodeInventory, evaluated with a CEL interpreter (cel-python) the way the API server applies
a policy: it matches the request's resource and operation, then its matchConditions, then every
validation must hold. The emulator does not run admission, so this is where the policy is
checked; that a real API server compiles it is only checked against the published schema."""

from __future__ import annotations

from typing import Any

import celpy
import pytest

from tests.deploy.rendered import one, render

CONTROLLER = "system:serviceaccount:edgefleet:edgefleet-controller"


def policy() -> dict[str, Any]:
    found: dict[str, Any] = one(render("kubeedge-1.21"), "ValidatingAdmissionPolicy",
                                "edgefleet-inventory-own-node")["spec"]
    return found


def evaluate(expression: str, activation: dict[str, Any]) -> Any:
    environment = celpy.Environment()
    return environment.program(environment.compile(expression)).evaluate(activation)


def admit(user: str, groups: list[str], operation: str, resource: str, name: str) -> str | None:
    """None when the policy admits the request, else the message it is refused with."""
    spec = policy()
    group, plural = "edgefleet.io", resource
    matched = any(group in rule["apiGroups"] and plural in rule["resources"]
                  and operation in rule["operations"]
                  for rule in spec["matchConstraints"]["resourceRules"])
    if not matched:
        return None
    activation = {
        "request": celpy.json_to_cel({"userInfo": {"username": user, "groups": groups},
                                      "operation": operation}),
        "object": celpy.json_to_cel({"apiVersion": "edgefleet.io/v1alpha1", "kind": "EdgeNodeInventory",
                                     "metadata": {"name": name}}),
    }
    if not all(evaluate(c["expression"], activation) for c in spec.get("matchConditions") or ()):
        return None
    for validation in spec["validations"]:
        if not evaluate(validation["expression"], activation):
            return str(evaluate(validation["messageExpression"], activation))
    return None


NODE_GROUPS = ["system:nodes", "system:authenticated"]


@pytest.mark.parametrize(("operation", "resource"), [("CREATE", "edgenodeinventories"),
                                                     ("UPDATE", "edgenodeinventories/status")])
def test_a_node_writes_its_own_inventory(operation: str, resource: str) -> None:
    assert admit("system:node:edge-1", NODE_GROUPS, operation, resource, "edge-1") is None


@pytest.mark.parametrize(("operation", "resource"), [("CREATE", "edgenodeinventories"),
                                                     ("UPDATE", "edgenodeinventories/status")])
def test_a_node_is_refused_another_nodes_inventory(operation: str, resource: str) -> None:
    assert admit("system:node:edge-1", NODE_GROUPS, operation, resource, "edge-2") == (
        "edge node system:node:edge-1 may write only its own EdgeNodeInventory, not edge-2")


def test_the_controller_writes_any_inventory() -> None:
    groups = ["system:serviceaccounts", "system:serviceaccounts:edgefleet", "system:authenticated"]
    assert admit(CONTROLLER, groups, "UPDATE", "edgenodeinventories/status", "edge-2") is None
    assert admit(CONTROLLER, groups, "CREATE", "edgenodeinventories", "edge-2") is None


def test_the_policy_is_bound_to_deny() -> None:
    binding = one(render("kubeedge-1.21"), "ValidatingAdmissionPolicyBinding", "edgefleet-inventory-own-node")
    assert binding["spec"]["validationActions"] == ["Deny"]
    assert policy()["failurePolicy"] == "Fail"
