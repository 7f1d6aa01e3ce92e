"""Pull secrets the jobs would name, and the groups that must wait for a missing one.

KubeEdge reads a job's `imageSecrets` on every edge node; a secret that does not exist fails
every node of the job ("get secret ... not found") and burns its failure budget. So a group
naming a secret the cluster lacks gets no new job until the secret exists, and the plan says
so (docs/pull-secrets.md). Pure: the fleet and the set of secrets found in, values out.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.manifests.fleet import Fleet

MISSING_SECRET = ("group {group}: pull secret {secret} does not exist on the cluster; "
                  "no jobs are created for the group until it does")


@dataclass(frozen=True, slots=True, order=True)
class MissingSecret:
    """A group (not suspended) whose images name a pull secret the cluster does not have."""

    group: str
    secret: str  # namespace/name

    def __str__(self) -> str:
        return MISSING_SECRET.format(group=self.group, secret=self.secret)


def secret_refs(fleet: Fleet) -> frozenset[str]:
    """Every `namespace/name` pull secret a job of an active (not suspended) group would name:
    what a cycle asks the cluster about."""
    return frozenset(image.secret for group in fleet.groups if not group.suspend
                     for image in group.images if image.secret)


def missing_secrets(fleet: Fleet, present: frozenset[str] | None) -> tuple[MissingSecret, ...]:
    """Per active group, each secret its images name that is not in `present`, sorted by
    (group, secret). `present` None means nobody checked (snapshots): nothing is missing."""
    if present is None:
        return ()
    return tuple(sorted(
        {MissingSecret(group.name, image.secret) for group in fleet.groups if not group.suspend
         for image in group.images if image.secret and image.secret not in present}))


def blocked_groups(missing: tuple[MissingSecret, ...]) -> frozenset[str]:
    """The groups that get no new job: those naming a missing secret."""
    return frozenset(m.group for m in missing)
