"""`edgefleet validate --registry` as CI runs it: exit codes and `path:line:col` of a bad tag."""

from __future__ import annotations

import base64
import json
import textwrap
from pathlib import Path

import typer
from click.testing import CliRunner, Result

from reconciler.cli import app
from tests.gitserve import free_port

from .conftest import PASSWORD, USER, Pushed, Secured


def run(*args: str) -> Result:
    return CliRunner().invoke(typer.main.get_group(app), ["validate", *args], prog_name="edgefleet")


def write_fleet(root: Path, images: list[str], insecure: list[str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "fleet.yaml").write_text(
        "apiVersion: edgefleet.io/v1alpha1\nkind: FleetConfig\n"
        f"spec:\n  registries: {{insecure: {json.dumps(insecure)}}}\n"
    )
    listed = "".join(f"    - {image}\n" for image in images)
    (root / "groups.yaml").write_text(
        textwrap.dedent("""\
            apiVersion: edgefleet.io/v1alpha1
            kind: NodeGroupImages
            metadata: {name: cameras}
            spec:
              nodes: {nodeGroup: cameras}
              images:
            """)
        + listed
    )
    return root


def test_all_images_exist_exit_0(pushed: Pushed, tmp_path: Path) -> None:
    host = pushed.registry.host
    fleet = write_fleet(tmp_path / "fleet", [f"{host}/test/multi:1", f"{host}/test/single:1"], [host])
    result = run(str(fleet), "--registry")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "valid: 1 groups, 0 image sets, 2 distinct images (images per group: cameras 2)",
        "registry: 2 of 2 images found, 0 missing, 0 not checked",
    ]
    assert result.stderr == ""


def test_a_typo_in_a_tag_is_exit_1_at_its_line(pushed: Pushed, tmp_path: Path) -> None:
    host = pushed.registry.host
    fleet = write_fleet(tmp_path / "fleet", [f"{host}/test/multi:1", f"{host}/test/single:1.0"], [])
    result = run(str(fleet), "--registry", "--insecure-registry", host)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f'{fleet.as_posix()}/groups.yaml:8:7: image "{host}/test/single:1.0" is not in its registry: '
        f"tag '1.0' not found in {host}/test/single"
    ]
    assert "1 of 2 images found, 1 missing" in result.stdout


def test_without_registry_flag_nothing_is_asked(tmp_path: Path) -> None:
    dead = f"127.0.0.1:{free_port()}"
    result = run(str(write_fleet(tmp_path / "fleet", [f"{dead}/a/b:1"], [dead])))
    assert result.exit_code == 0 and "registry:" not in result.stdout


def test_a_registry_that_does_not_answer_is_a_warning_unless_strict(tmp_path: Path) -> None:
    dead = f"127.0.0.1:{free_port()}"
    fleet = write_fleet(tmp_path / "fleet", [f"{dead}/a/b:1"], [dead])
    lenient = run(str(fleet), "--registry", "--registry-timeout", "2")
    strict = run(str(fleet), "--registry", "--registry-timeout", "2", "--strict")
    assert lenient.exit_code == 0
    line = f'{fleet.as_posix()}/groups.yaml:7:7: image "{dead}/a/b:1" could not be checked: registry {dead}'
    assert lenient.stderr.startswith(f"warning: {line} did not answer: ConnectError")
    assert len(lenient.stderr.splitlines()) == 1  # the adapter's log line is not printed twice
    assert strict.exit_code == 1
    assert strict.stderr.startswith(f"{line} did not answer")


def test_docker_config_and_ca_for_a_private_registry(basic_tls: Secured, tmp_path: Path) -> None:
    host = basic_tls.registry.host
    fleet = write_fleet(tmp_path / "fleet", [f"{host}/team/app:1"], [])
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {host: {"auth": auth}}}))
    ok = run(str(fleet), "--registry", "--docker-config", str(config), "--registry-ca", str(basic_tls.tls.ca))
    denied = run(str(fleet), "--registry", "--registry-ca", str(basic_tls.tls.ca), "--strict")
    assert ok.exit_code == 0, ok.stderr
    assert "1 of 1 images found" in ok.stdout
    assert denied.exit_code == 1 and "access denied (HTTP 401)" in denied.stderr
    for result in (ok, denied):
        assert PASSWORD not in result.output and auth not in result.output


def test_an_unreadable_docker_config_is_one_line(tmp_path: Path, pushed: Pushed) -> None:
    fleet = write_fleet(tmp_path / "fleet", [pushed.ref("test/single:1")], [pushed.registry.host])
    config = tmp_path / "config.json"
    config.write_text('{"auths": {"x": {"auth": "' + PASSWORD + '"}}}')
    result = run(str(fleet), "--registry", "--docker-config", str(config))
    assert result.exit_code == 1
    assert (
        result.stderr == f'error: --docker-config {config}: an "auth" value is not base64 of user:password\n'
    )
