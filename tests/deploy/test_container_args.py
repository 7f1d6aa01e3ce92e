"""The commands the manifests run are commands edgefleet accepts: the container args of the
controller and the agent, with `$(VAR)` expanded from their env as the kubelet does, parse as
`edgefleet run` / `edgefleet agent` options (an option renamed in the CLI and not in
deploy/kustomize fails here, not on a cluster)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer.main
from typer.exceptions import TyperException

from reconciler.cli import app
from reconciler.cli.run import parse_duration
from tests.deploy.rendered import OVERLAYS, one, render

#: What the downward API would give, for expansion.
FIELD_VALUES = {"metadata.namespace": "edgefleet", "spec.nodeName": "edge-1"}


def expanded_args(objects: list[dict[str, Any]], kind: str, name: str) -> tuple[list[str], dict[str, str]]:
    """The container's args as the kubelet expands them, and its environment (Secrets left out)."""
    container = one(objects, kind, name)["spec"]["template"]["spec"]["containers"][0]
    config = {o["metadata"]["name"]: o.get("data", {}) for o in objects if o["kind"] == "ConfigMap"}
    env: dict[str, str] = {}
    for item in container.get("env") or ():
        source = item.get("valueFrom") or {}
        if "fieldRef" in source:
            env[item["name"]] = FIELD_VALUES[source["fieldRef"]["fieldPath"]]
        elif "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            env[item["name"]] = config[ref["name"]][ref["key"]]
    unresolved = [a for a in container["args"] for v in re.findall(r"\$\((\w+)\)", a) if v not in env]
    assert unresolved == [], "the kubelet would pass these literally"
    return [re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], a) for a in container["args"]], env


def parse(args: list[str]) -> dict[str, Any]:
    """The parameters `edgefleet <args>` would run with (TyperException, a usage error, when it
    would refuse them)."""
    root = typer.main.get_command(app)
    command = root.commands[args[0]]  # type: ignore[attr-defined]
    with command.make_context(f"edgefleet {args[0]}", args[1:]) as context:
        return dict(context.params)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_controller_args_are_an_edgefleet_run(overlay: str, monkeypatch: pytest.MonkeyPatch) -> None:
    args, env = expanded_args(render(overlay), "Deployment", "edgefleet-controller")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert args[0] == "run"
    params = parse(args)
    assert params["lease_namespace"] == "edgefleet"
    assert params["repo"].startswith("https://")
    for option in ("interval", "resync"):
        assert parse_duration(params[option], f"--{option}") > 0
    assert params["log_format"] == "json"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_agent_args_are_an_edgefleet_agent(overlay: str, monkeypatch: pytest.MonkeyPatch) -> None:
    args, env = expanded_args(render(overlay), "DaemonSet", "edgefleet-agent")
    monkeypatch.delenv("NODE_NAME", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert args[0] == "agent"
    params = parse(args)
    assert params["node_name"] == "edge-1", "from $NODE_NAME, the downward API's spec.nodeName"
    assert params["server"] == "http://127.0.0.1:10550"
    assert params["once"] is False and params["dry_run"] is False
    for option in ("interval", "resync"):
        assert parse_duration(params[option], f"--{option}") > 0


def test_a_misspelt_option_is_refused() -> None:
    with pytest.raises(TyperException, match="No such option"):
        parse(["run", "--repo=https://git.example.com/f.git", "--lease-namespce=edgefleet"])
