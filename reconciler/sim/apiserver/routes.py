"""REST path and query-string parsing for the embedded API server."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs

from reconciler.sim.apiserver.errors import ApiError
from reconciler.sim.apiserver.store import Store


@dataclass(frozen=True)
class Route:
    """A resource request path: /api/v1/... or /apis/<group>/<version>/..."""

    group: str
    version: str
    plural: str
    namespace: str | None
    name: str | None
    subresource: str | None


def parse_resource_path(store: Store, path: str) -> Route | None:
    """The Route of a resource path, or None when `path` is not one (discovery and the like).
    ApiError 404 for a path below a group version that names nothing servable."""
    segments = [s for s in path.split("/") if s]
    if len(segments) >= 3 and segments[0] == "api" and segments[1] == "v1":
        group, version, rest = "", "v1", segments[2:]
    elif len(segments) >= 4 and segments[0] == "apis":
        group, version, rest = segments[1], segments[2], segments[3:]
    else:
        return None
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces" and _is_namespaced(store, group, rest[2]):
        namespace, rest = rest[1], rest[2:]
    if len(rest) > 3:
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    rt = store.resource(group, rest[0])
    if version not in rt.versions:
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    if rt.namespaced is False and namespace is not None:
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    name = rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else None
    if subresource is not None and (subresource != "status" or not rt.has_status):
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    return Route(group, version, rest[0], namespace, name, subresource)


def _is_namespaced(store: Store, group: str, plural: str) -> bool:
    try:
        return store.resource(group, plural).namespaced
    except ApiError:
        return False


class Query:
    """The query parameters the server reads, with Kubernetes' spellings and defaults."""

    def __init__(self, query: str) -> None:
        self._values = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}

    def get(self, key: str, default: str = "") -> str:
        return self._values.get(key, default)

    def flag(self, key: str) -> bool:
        return self._values.get(key, "").lower() in ("true", "1")

    def integer(self, key: str, default: int = 0) -> int:
        raw = self._values.get(key)
        if raw in (None, ""):
            return default
        try:
            return int(raw)  # type: ignore[arg-type]
        except ValueError:
            raise ApiError(400, "BadRequest", f"invalid {key} {raw!r}: not an integer") from None

    @property
    def dry_run(self) -> bool:
        return self._values.get("dryRun") == "All"

    @property
    def field_validation(self) -> str:
        """Strict, Warn (the default since Kubernetes 1.23) or Ignore; 400 otherwise."""
        value = self._values.get("fieldValidation") or "Warn"
        if value not in ("Strict", "Warn", "Ignore"):
            raise ApiError(400, "BadRequest", f'fieldValidation "{value}" is invalid: valid values '
                           "are Ignore, Warn, Strict")
        return value
