"""How a custom resource is shown at a served version other than its storage version: with
conversion strategy None the API server only rewrites `apiVersion`, then prunes the object
against the schema of the version asked for (structural pruning), so fields that version
lacks (a v1alpha2 job's status.phase read at v1alpha1) disappear from the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import orjson

from reconciler.sim.apiserver.errors import Obj
from reconciler.sim.apiserver.schema import check_object
from reconciler.sim.apiserver.stored import Record, decode

# object key -> (resourceVersion, pruned JSON): one cache per (type, version)
PrunedCache = dict[str, tuple[int, bytes]]


def pruning_view(prefix: bytes, schema: Obj, cache: PrunedCache,
                 live: Mapping[str, Record]) -> Callable[[Record], bytes]:
    """A renderer of records at the version `prefix` names, pruned to `schema`. Each object
    version is pruned once (`cache`); the cache is emptied when it holds far more entries than
    there are `live` objects (entries of deleted objects)."""

    def render_pruned(record: Record) -> bytes:
        hit = cache.get(record.key)
        if hit is not None and hit[0] == record.rv:
            return hit[1]
        body, _ = check_object(decode(record), schema, prune=True)
        shown = prefix + orjson.dumps(body)[1:]
        if len(cache) > 2 * len(live) + 64:
            cache.clear()
        cache[record.key] = (record.rv, shown)
        return shown

    return render_pruned
