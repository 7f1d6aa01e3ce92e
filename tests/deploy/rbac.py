"""Kubernetes RBAC, evaluated over rendered objects (deploy/kustomize): which (verb, API group,
resource, subresource, namespace, name) a user may request, by the rules of the Roles and
ClusterRoles bound to it, as the RBAC authorizer decides (union of rules, no deny)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from reconciler.sim.apiserver.audit import Request

Rule = dict[str, Any]


@dataclass(frozen=True)
class Grant:
    """One rule of a role, in force cluster-wide (`namespace` None) or in one namespace."""

    role: str
    rule: Rule
    namespace: str | None


def _subject_matches(subject: dict[str, Any], user: str, groups: tuple[str, ...]) -> bool:
    kind, name = subject["kind"], subject["name"]
    if kind == "User":
        return bool(name == user)
    if kind == "Group":
        return name in groups
    return kind == "ServiceAccount" and user == f"system:serviceaccount:{subject['namespace']}:{name}"


def grants(objects: list[dict[str, Any]], user: str, groups: tuple[str, ...]) -> Iterator[Grant]:
    """Every rule bound to `user` (member of `groups`)."""
    roles = {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]): o
             for o in objects if o["kind"] in ("Role", "ClusterRole")}
    for binding in objects:
        if binding["kind"] not in ("RoleBinding", "ClusterRoleBinding"):
            continue
        if not any(_subject_matches(s, user, groups) for s in binding.get("subjects") or ()):
            continue
        namespace = binding["metadata"].get("namespace") if binding["kind"] == "RoleBinding" else None
        ref = binding["roleRef"]
        role = roles.get((ref["kind"], namespace if ref["kind"] == "Role" else None, ref["name"]))
        assert role is not None, f"{binding['kind']} {binding['metadata']['name']} binds a missing role"
        for rule in role.get("rules") or ():
            yield Grant(f"{ref['kind']}/{ref['name']}", rule, namespace)


def _resource(request: Request) -> str:
    return f"{request.resource}/{request.subresource}" if request.subresource else request.resource


def rule_allows(rule: Rule, request: Request) -> bool:
    """Whether one resource rule covers `request` (resourceNames never cover create or a list)."""
    if not ({"*", request.group} & set(rule.get("apiGroups") or ())):
        return False
    if not ({"*", _resource(request)} & set(rule.get("resources") or ())):
        return False
    if not ({"*", request.verb} & set(rule.get("verbs") or ())):
        return False
    names = rule.get("resourceNames") or ()
    return not names or (bool(request.name) and request.name in names)


def allowed(objects: list[dict[str, Any]], request: Request) -> bool:
    """Whether RBAC lets `request.user` make `request`."""
    return any(rule_allows(g.rule, request) and (g.namespace is None or g.namespace == request.namespace)
               for g in grants(objects, request.user, request.groups))


def granted_triples(objects: list[dict[str, Any]], user: str,
                    groups: tuple[str, ...]) -> set[tuple[str, str, str]]:
    """(API group, resource[/subresource], verb) of every rule bound to `user`, spelled out."""
    return {(group, resource, verb)
            for g in grants(objects, user, groups)
            for group in g.rule.get("apiGroups") or ()
            for resource in g.rule.get("resources") or ()
            for verb in g.rule.get("verbs") or ()}


def used_triples(requests: list[Request]) -> set[tuple[str, str, str]]:
    return {(r.group, _resource(r), r.verb) for r in requests}
