"""Kubernetes name rules (DNS-1123, label keys and values), as the API server enforces them.

Each check returns None when valid, else the reason, so callers can phrase the message.
"""

from __future__ import annotations

import json
import re

_DNS1123_LABEL = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*")
_LABEL_NAME = re.compile(r"[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?")


def dns1123_label_problem(value: str) -> str | None:
    """Why `value` is not a DNS-1123 label (a namespace, a group name), or None."""
    if len(value) > 63:
        return "must be at most 63 characters"
    if _DNS1123_LABEL.fullmatch(value) is None:
        return (
            "must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending alphanumeric"
        )
    return None


def dns1123_subdomain_problem(value: str) -> str | None:
    """Why `value` is not a DNS-1123 subdomain (a node or Secret name), or None."""
    if len(value) > 253:
        return "must be at most 253 characters"
    if _DNS1123_SUBDOMAIN.fullmatch(value) is None:
        return (
            "must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', "
            "starting and ending alphanumeric"
        )
    return None


def label_key_problem(key: str) -> str | None:
    """Why `key` is not a valid label key (`[prefix/]name`), or None."""
    prefix, slash, name = key.rpartition("/")
    if slash:
        if not prefix:
            return "label key prefix must not be empty"
        problem = dns1123_subdomain_problem(prefix)
        if problem is not None:
            return f"label key prefix {problem}"
    if not name:
        return "label key name must not be empty"
    if len(name) > 63:
        return "label key name must be at most 63 characters"
    if _LABEL_NAME.fullmatch(name) is None:
        return "label key name must be alphanumeric, '-', '_' or '.', starting and ending alphanumeric"
    return None


def label_value_problem(value: str) -> str | None:
    """Why `value` is not a valid label value (empty is valid), or None."""
    if len(value) > 63:
        return "label value must be at most 63 characters"
    if value and _LABEL_NAME.fullmatch(value) is None:
        return "label value must be alphanumeric, '-', '_' or '.', starting and ending alphanumeric"
    return None


def secret_ref_problem(value: str) -> str | None:
    """Why `value` is not a `namespace/name` Secret reference, or None."""
    namespace, slash, name = value.partition("/")
    if not slash or "/" in name:
        return "must be namespace/name (exactly one '/')"
    problem = dns1123_label_problem(namespace)
    if problem is not None:
        return f"namespace {json.dumps(namespace)} {problem}"
    problem = dns1123_subdomain_problem(name)
    if problem is not None:
        return f"name {json.dumps(name)} {problem}"
    return None
