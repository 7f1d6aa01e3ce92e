"""A branch that moves backwards is held, not followed.

A force-push that resets the branch to an older (or rewritten) commit is, far more often than
not, an accident: a stale local branch pushed with --force. Following it, as Argo CD and Flux
do, would plan the older desired state and garbage-collect the jobs of images the newer one
added while they are still pulling. edgefleet treats such a move like a revision that does
not load (docs/controller.md): the revision in force stays in force, the move is reported
(log, `edgefleet_revision_load_failing`, /status) and a cycle reads nothing new until the
branch moves forward again. Going back on purpose is a forward move in git (`git revert`), or
a restart of `edgefleet run`, which follows the branch as it finds it.
"""

from __future__ import annotations

import logging
from typing import Protocol

from reconciler.source import SourceError

log = logging.getLogger("edgefleet.git")


class History(Protocol):
    def descends_from(self, rev: str, ancestor: str) -> bool: ...


def rewind_reason(history: History, branch: str, head: str, in_force: str | None) -> str | None:
    """Why `head` may not replace the revision `in_force` yet (one line), or None when it may:
    nothing is in force yet, or `head` is `in_force` or descends from it (a fast-forward)."""
    if in_force is None or head == in_force:
        return None
    try:
        if history.descends_from(head, in_force):
            return None
    except SourceError as error:
        # The history cannot be walked (a damaged clone): reading the head will say so itself.
        log.warning("git: cannot tell whether %s descends from %s: %s", head[:12], in_force[:12], error)
        return None
    return (f"branch {branch} moved to {head[:12]}, which does not descend from {in_force[:12]} in "
            f"force (a force-push to an older or rewritten revision): keeping {in_force[:12]} until "
            f"the branch moves forward from it (git revert) or edgefleet run is restarted")
