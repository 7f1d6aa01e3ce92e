"""Node identity, as Kubernetes' Node authorizer and NodeRestriction admission treat it, for the
resources the server is told are node-scoped (one object per node, named after the node).

The emulator authenticates nobody: a request says who it acts as with the `Impersonate-User`
header, as cloudcore does when it forwards an edge node's request from edgecore's MetaServer
(`system:node:<name>`). A node identity may get, create, update and patch only the object named
after its node, and may not list, watch or delete node-scoped objects; other identities, and
requests that name none, are not restricted (the emulator has no RBAC).
"""

from __future__ import annotations

from reconciler.sim.apiserver.errors import ApiError
from reconciler.sim.apiserver.routes import Route

NODE_USER_PREFIX = "system:node:"
NODE_VERBS = frozenset({"get", "create", "update", "patch"})


def node_restriction(user: str | None, verb: str, route: Route, object_name: str | None,
                     node_scoped: frozenset[tuple[str, str]]) -> ApiError | None:
    """403 Forbidden when node identity `user` may not do `verb` on `route` (`object_name`: the
    name a create's body gives); None when the request may go on."""
    if not user or not user.startswith(NODE_USER_PREFIX) or (route.group, route.plural) not in node_scoped:
        return None
    node = user.removeprefix(NODE_USER_PREFIX)
    name = route.name or object_name
    if verb in NODE_VERBS and name == node:
        return None
    resource = route.plural + (f"/{route.subresource}" if route.subresource else "")
    what = f'{route.plural}.{route.group} "{name}"' if name else f"{route.plural}.{route.group}"
    return ApiError(403, "Forbidden",
                    f'{what} is forbidden: User "{user}" cannot {verb} resource "{resource}" in API '
                    f'group "{route.group}" at the cluster scope: a node may only read and write '
                    f"its own {route.plural} object",
                    {"name": name or "", "group": route.group, "kind": route.plural})
