"""Hypothesis fuzzing of what edgefleet reads from outside: manifests (YAML), node snapshots
and job statuses. A case fails when it raises anything but the documented error (a
traceback a user would see), or when a manifest is refused without a one-line error naming
its file and line."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from reconciler.kubeedge.status import read_job
from reconciler.manifests import load_fleet
from reconciler.observed import decode_jobs, from_snapshots

GROUP_FILE = "groups/fuzz.yaml"
VALID_GROUP: dict[str, Any] = {
    "apiVersion": "edgefleet.io/v1alpha1", "kind": "NodeGroupImages", "metadata": {"name": "fuzz"},
    "spec": {"nodes": {"names": ["edge-1"]}, "images": ["nginx:1.25"],
             "policy": {"concurrency": 2, "timeoutSeconds": 600}},
}

_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40), st.floats(allow_nan=False),
                     st.text(max_size=30))
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)), max_leaves=12)
_paths = st.lists(st.sampled_from(["apiVersion", "kind", "metadata", "name", "spec", "nodes", "names",
                                   "images", "policy", "concurrency", "timeoutSeconds", "selector",
                                   "imageSets", "rollout", "x"]), min_size=1, max_size=4)


def _mutated(doc: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    """`doc` with `value` put at `path` (creating or replacing what lies there)."""
    copy = orjson.loads(orjson.dumps(doc))
    here = copy
    for key in path[:-1]:
        nxt = here.get(key)
        if not isinstance(nxt, dict):
            nxt = here[key] = {}
        here = nxt
    here[path[-1]] = value
    return copy


def _yaml(doc: Any) -> str:
    from io import StringIO

    out = StringIO()
    YAML(typ="safe").dump(doc, out)
    return out.getvalue()


_manifests = st.one_of(
    st.builds(lambda p, v: _yaml(_mutated(VALID_GROUP, p, v)), _paths, _values),
    st.text(max_size=200),  # anything at all, YAML or not
    st.builds(lambda text, cut: text[:cut], st.just(_yaml(VALID_GROUP)), st.integers(0, 300)),
)


@dataclass
class Tally:
    """Cases run and problems found (by one worker, or summed over workers)."""

    cases: int = 0
    tracebacks: list[str] = field(default_factory=list)
    unclear: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.cases += other.cases
        self.tracebacks += other.tracebacks
        self.unclear += other.unclear


#: Inputs per hypothesis example. Hypothesis spends a few milliseconds of its own per example
#: (choice bookkeeping, mutation), more than a snapshot or job case costs: drawing a batch per
#: example spreads that over many cases. Small enough that a batch stays within hypothesis's
#: data budget (an overrun example is dropped, not run).
BATCH = {"manifests": 20, "snapshots": 8, "jobs": 20}


def fuzz(cases: int, seed: int = 0, workers: int = 1) -> dict[str, float]:
    """Run `cases` cases per target (manifests, node snapshots, job statuses), split into
    `workers` processes (each chunk with a seed of its own; `seed` 0 is derandomized)."""
    chunks = [(target, share, seed * 1000 + index)
              for target in _TARGETS
              for index, share in enumerate(_shares(cases, workers)) if share]
    tally = Tally()
    if workers <= 1:
        for chunk in chunks:
            tally.add(_chunk(chunk))
    else:
        # spawn, not fork: the caller may have threads (HTTP clients, a cluster) that a forked
        # child would inherit mid-lock. Each worker imports this module and runs whole chunks.
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            for part in pool.imap_unordered(_chunk, chunks):
                tally.add(part)
    return {
        "fuzz: cases": float(tally.cases),
        "fuzz: tracebacks": float(len(tally.tracebacks)),
        "fuzz: rejections without a one-line error naming file and line": float(len(tally.unclear)),
    }


def _shares(cases: int, workers: int) -> list[int]:
    workers = max(1, workers)
    return [cases // workers + (1 if i < cases % workers else 0) for i in range(workers)]


def _chunk(chunk: tuple[str, int, int]) -> Tally:
    """Run `cases` cases of one target with hypothesis seed `chunk_seed`."""
    name, cases, chunk_seed = chunk
    target, strategy = _TARGETS[name]
    batch = BATCH[name]
    tally = Tally()

    @settings(max_examples=-(-cases // batch), database=None, deadline=None,
              derandomize=chunk_seed == 0, phases=(Phase.generate,),
              suppress_health_check=list(HealthCheck))
    @given(st.lists(strategy, min_size=batch, max_size=batch))
    def case(values: list[Any]) -> None:
        for value in values[:cases - tally.cases]:
            tally.cases += 1
            try:
                target(value, tally)
            except Exception as error:  # any escape is a traceback a user would see
                tally.tracebacks.append(f"{name}: {type(error).__name__}: {error}"[:300])

    if chunk_seed:
        case = seed(chunk_seed)(case)
    case()
    return tally


def _manifest_case(text: str, tally: Tally) -> None:
    result = load_fleet({GROUP_FILE: text.encode("utf-8", "surrogatepass")})
    if result.fleet is None and not result.errors:
        tally.unclear.append(f"refused without an error: {text[:80]!r}")
    for error in result.errors:
        line = str(error)
        if "\n" in line or not line.startswith(f"{GROUP_FILE}:"):
            tally.unclear.append(line[:200])


def _snapshot_case(value: Any, tally: Tally) -> None:
    try:
        from_snapshots(orjson.dumps({"kind": "List", "items": value}))
    except ValueError as error:  # the documented refusal (msgspec.DecodeError)
        _one_line(error, "node snapshot", tally)


def _one_line(error: ValueError, what: str, tally: Tally) -> None:
    """A refusal the CLI prints as it is: it must say something, on one line."""
    text = str(error)
    if not text.strip() or "\n" in text:
        tally.unclear.append(f"{what}: {text[:200]!r}")


def _job_case(status: Any, tally: Tally) -> None:
    job = {"apiVersion": "operations.kubeedge.io/v1alpha2", "kind": "ImagePrePullJob",
           "metadata": {"name": "j", "creationTimestamp": "2026-01-01T00:00:00Z"},
           "spec": {"imagePrePullTemplate": {"images": ["nginx:1.25"], "nodeNames": ["edge-1"]}},
           "status": status}
    try:
        jobs = decode_jobs(orjson.dumps({"items": [job]}))
    except ValueError as error:
        _one_line(error, "job list", tally)
        return
    for decoded in jobs:
        read_job(decoded)  # "never raises"


_node = st.fixed_dictionaries({"metadata": st.one_of(_values, st.fixed_dictionaries(
    {"name": st.text(max_size=10), "labels": _values})), "status": st.one_of(_values, st.fixed_dictionaries(
        {"images": st.lists(st.fixed_dictionaries({"names": st.lists(st.text(max_size=40), max_size=3)}),
                            max_size=3), "conditions": _values}))})
_status = st.one_of(_values, st.fixed_dictionaries({
    "phase": st.one_of(st.sampled_from(["Running", "Completed", "Failure", "Unknown"]), st.text(max_size=8)),
    "nodeStatus": st.lists(st.fixed_dictionaries({
        "nodeName": st.text(max_size=8), "phase": st.text(max_size=10),
        "imageStatus": st.lists(st.fixed_dictionaries({"image": st.text(max_size=20),
                                                       "status": st.text(max_size=6)}), max_size=3),
        "actionFlow": _values}), max_size=3)}))
_TARGETS: dict[str, tuple[Callable[[Any, Tally], None], st.SearchStrategy[Any]]] = {
    "manifests": (_manifest_case, _manifests),
    "snapshots": (_snapshot_case, st.lists(_node, max_size=3)),
    "jobs": (_job_case, _status),
}
