"""Validated documents to the Fleet contract: ImageSets expanded, images normalized, defaults
applied; plus the cross-document errors found on the way (missing ImageSets, conflicting
secrets) and the warnings about groups (selects nothing, desires nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from reconciler.manifests import models
from reconciler.manifests.diagnostics import Diagnostic
from reconciler.manifests.fleet import (
    Fleet,
    GroupImage,
    JobPolicy,
    LabelRequirement,
    NodeGroupSpec,
    NodeSelection,
    SourceLocation,
)
from reconciler.manifests.imageref import normalize_image
from reconciler.manifests.quoting import quote
from reconciler.manifests.rollout_policy import RolloutPolicy
from reconciler.manifests.rollout_spec import rollout_policy_of
from reconciler.manifests.schedule import duration_seconds
from reconciler.manifests.selection import why_selects_nothing
from reconciler.manifests.yamldoc import Loc, YamlDocument

M = TypeVar("M", models.FleetConfig, models.ImageSet, models.NodeGroupImages)


@dataclass(frozen=True, slots=True)
class Parsed(Generic[M]):
    """A document that passed its model, with the YAML it came from."""

    doc: YamlDocument
    model: M


@dataclass(slots=True)
class Resolution:
    fleet: Fleet
    errors: list[Diagnostic] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    docs: dict[str, YamlDocument] = field(default_factory=dict)  # group name -> document


def effective_policy(base: JobPolicy, spec: models.PolicySpec) -> JobPolicy:
    """`base` with every key that `spec` sets replaced."""
    return JobPolicy(
        concurrency=base.concurrency if spec.concurrency is None else spec.concurrency,
        failure_tolerate=base.failure_tolerate if spec.failure_tolerate is None else spec.failure_tolerate,
        timeout_seconds=base.timeout_seconds if spec.timeout_seconds is None else spec.timeout_seconds,
        retry_times=base.retry_times if spec.retry_times is None else spec.retry_times,
        check_items=base.check_items if spec.check_items is None else tuple(sorted(set(spec.check_items))),
        max_nodes_per_job=base.max_nodes_per_job
        if spec.max_nodes_per_job is None
        else spec.max_nodes_per_job,
    )


def selection_of(nodes: models.NodesSpec) -> NodeSelection:
    """The NodeSelection value of a validated `nodes` block."""
    if nodes.node_group is not None:
        return NodeSelection(kind="nodeGroup", node_group=nodes.node_group)
    if nodes.selector is not None:
        labels = tuple(sorted((nodes.selector.match_labels or {}).items()))
        expressions = tuple(
            sorted(
                LabelRequirement(e.key, e.operator, tuple(sorted(set(e.values or ()))))
                for e in nodes.selector.match_expressions or ()
            )
        )
        return NodeSelection(kind="selector", match_labels=labels, match_expressions=expressions)
    return NodeSelection(kind="names", names=tuple(sorted(set(nodes.names or ()))))


@dataclass(slots=True)
class _Wanted:
    """One image a group wants, with the explicit secret (if any) and where it came from."""

    explicit: str | None
    place: Loc
    origin: str  # "here" or the ImageSet document location, for messages


def _group_images(
    group: Parsed[models.NodeGroupImages],
    sets: dict[str, Parsed[models.ImageSet]],
    default_secret: str | None,
    out: Resolution,
) -> tuple[GroupImage, ...]:
    spec, doc = group.model.spec, group.doc
    wanted: dict[str, _Wanted] = {}

    def want(entry: models.ImageEntry, place: Loc, origin: str) -> None:
        image = normalize_image(entry.image)
        seen = wanted.get(image)
        if seen is None:
            wanted[image] = _Wanted(entry.image_secret, place, origin)
            return
        if entry.image_secret is None or entry.image_secret == seen.explicit:
            return
        if seen.explicit is None:
            seen.explicit, seen.place, seen.origin = entry.image_secret, place, origin
            return
        out.errors.append(
            doc.diagnostic(
                place,
                f"image {quote(image)} has two imageSecrets in this group: {quote(entry.image_secret)} "
                f"({origin}) and {quote(seen.explicit)} ({seen.origin})",
            )
        )

    for i, entry in enumerate(spec.images):
        place = ("spec", "images", i)
        want(entry, place, f"line {doc.position(place)[0]}")
    for j, set_name in enumerate(spec.image_sets):
        image_set = sets.get(set_name)
        if image_set is None:
            continue
        for k, entry in enumerate(image_set.model.spec.images):
            line = image_set.doc.position(("spec", "images", k))[0]
            want(
                entry, ("spec", "imageSets", j), f"ImageSet {quote(set_name)} at {image_set.doc.path}:{line}"
            )
    group_secret = spec.image_secret or default_secret
    return tuple(sorted(GroupImage(image, w.explicit or group_secret) for image, w in wanted.items()))


def _group_warnings(group: Parsed[models.NodeGroupImages], spec: NodeGroupSpec, out: Resolution) -> None:
    doc, nodes = group.doc, group.model.spec.nodes
    why = why_selects_nothing(spec.selection)
    if why is not None:
        place = ("spec", "nodes", "names" if spec.selection.kind == "names" else "selector")
        out.warnings.append(
            doc.diagnostic(place, f"group {quote(spec.name)} selects no node: {why}", severity="warning")
        )
    elif (
        spec.selection.kind == "selector"
        and not spec.selection.match_labels
        and not (spec.selection.match_expressions)
    ):
        out.warnings.append(
            doc.diagnostic(
                ("spec", "nodes", "selector"),
                f"group {quote(spec.name)} has an empty selector, which selects every edge node",
                severity="warning",
            )
        )
    if nodes.names is not None and len(set(nodes.names)) != len(nodes.names):
        out.warnings.append(
            doc.diagnostic(("spec", "nodes", "names"), "a node name is listed twice", severity="warning")
        )
    if not spec.images:
        out.warnings.append(
            doc.diagnostic(("spec",), f"group {quote(spec.name)} desires no image", severity="warning")
        )


def _rollout(spec: models.NodeGroupImagesSpec, defaults: models.DefaultsSpec) -> RolloutPolicy | None:
    """The group's rollout policy: each of rollout, windows, bandwidth from the group if it sets
    it, else from FleetConfig spec.defaults."""
    return rollout_policy_of(spec.rollout or defaults.rollout,
                             defaults.windows if spec.windows is None else spec.windows,
                             spec.bandwidth or defaults.bandwidth)


def resolve(
    config: Parsed[models.FleetConfig] | None,
    image_sets: list[Parsed[models.ImageSet]],
    groups: list[Parsed[models.NodeGroupImages]],
) -> Resolution:
    """Build the Fleet from validated documents (names already unique per kind).

    A reference to an ImageSet that is not among `image_sets` is skipped here: the loader
    reports missing ones, and invalid ones have their own errors.
    """
    config_spec = config.model.spec if config is not None else models.FleetConfigSpec()
    defaults = effective_policy(JobPolicy(), config_spec.defaults)
    sets = {s.model.metadata.name: s for s in image_sets}
    out = Resolution(fleet=Fleet(groups=(), defaults=defaults, allow_empty=config_spec.allow_empty))
    resolved: list[NodeGroupSpec] = []
    for group in groups:
        spec = group.model.spec
        name = group.model.metadata.name
        out.docs[name] = group.doc
        resolved.append(
            NodeGroupSpec(
                name=name,
                selection=selection_of(spec.nodes),
                images=_group_images(group, sets, config_spec.defaults.image_secret, out),
                policy=effective_policy(defaults, spec.policy),
                suspend=spec.suspend,
                image_sets=tuple(dict.fromkeys(spec.image_sets)),
                source=SourceLocation(group.doc.path, group.doc.start[0]),
                pin_digests=config_spec.pin_digests if spec.pin_digests is None else spec.pin_digests,
                rollout=_rollout(spec, config_spec.defaults),
            )
        )
        _group_warnings(group, resolved[-1], out)
    set_images = tuple(
        sorted(
            (name, tuple(sorted({normalize_image(e.image) for e in s.model.spec.images})))
            for name, s in sets.items()
        )
    )
    out.fleet = Fleet(
        groups=tuple(sorted(resolved, key=lambda g: g.name)),
        defaults=defaults,
        allow_empty=config_spec.allow_empty,
        image_sets=set_images,
        insecure_registries=tuple(sorted(set(config_spec.registries.insecure))),
        pin_digests=config_spec.pin_digests,
        drift_report=config_spec.drift_report,
        agent_stale_after_seconds=duration_seconds(config_spec.agent_reports.stale_after),
        agent_gc_high_percent=config_spec.agent_reports.gc_high_threshold_percent,
    )
    return out
