"""Forges (GitHub, GitLab): where `edgefleet review` posts its one comment per pull request."""

from reconciler.forge.comments import (
    CommentTarget,
    ForgeError,
    PostResult,
    parse_github_target,
    parse_gitlab_target,
    post_sticky_comment,
)

__all__ = [
    "CommentTarget",
    "ForgeError",
    "PostResult",
    "parse_github_target",
    "parse_gitlab_target",
    "post_sticky_comment",
]
