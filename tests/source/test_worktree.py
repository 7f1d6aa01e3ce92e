"""Reading fleet files from a plain directory."""

from pathlib import Path

import pytest

from reconciler.source import FleetFiles, SourceError, read_worktree


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    files = {
        "fleet/b.yaml": b"b",
        "fleet/a.yml": b"a",
        "fleet/sub/c.yaml": b"c",
        "fleet/readme.md": b"no",
        "top.yaml": b"top",
        ".git/config.yaml": b"hidden",
        "fleet/.drafts/d.yaml": b"hidden",
    }
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    return root


def test_reads_yaml_files_sorted_skipping_hidden_directories(tree: Path) -> None:
    assert read_worktree(tree) == FleetFiles(
        revision=None,
        files={"fleet/a.yml": b"a", "fleet/b.yaml": b"b", "fleet/sub/c.yaml": b"c", "top.yaml": b"top"},
    )
    assert list(read_worktree(tree).files) == ["fleet/a.yml", "fleet/b.yaml", "fleet/sub/c.yaml", "top.yaml"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("fleet/sub", ["fleet/sub/c.yaml"], id="subdirectory"),
        pytest.param("fleet/sub/", ["fleet/sub/c.yaml"], id="trailing-slash"),
        pytest.param("./fleet/b.yaml", ["fleet/b.yaml"], id="single-file"),
        pytest.param(".", ["fleet/a.yml", "fleet/b.yaml", "fleet/sub/c.yaml", "top.yaml"], id="dot-is-root"),
    ],
)
def test_path_narrows_to_repo_relative_keys(tree: Path, path: str, expected: list[str]) -> None:
    assert list(read_worktree(tree, path).files) == expected


def test_symlinked_file_is_read_like_a_configmap_mount(tree: Path) -> None:
    (tree / "fleet" / "link.yaml").symlink_to(tree / "top.yaml")
    assert read_worktree(tree, "fleet").files["fleet/link.yaml"] == b"top"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        pytest.param("nowhere", "fleet path 'nowhere' not found in {root}", id="missing-path"),
        pytest.param(
            "fleet/readme.md",
            "fleet path 'fleet/readme.md' in {root} is not a .yaml/.yml file",
            id="not-yaml",
        ),
        pytest.param(
            "../x", "fleet path '../x' must be relative to the repository root, without '..'", id="escapes"
        ),
        pytest.param(
            "/etc", "fleet path '/etc' must be relative to the repository root, without '..'", id="absolute"
        ),
    ],
)
def test_bad_path_is_one_line_error(tree: Path, path: str, message: str) -> None:
    with pytest.raises(SourceError) as caught:
        read_worktree(tree, path)
    assert str(caught.value) == message.format(root=tree)


def test_missing_directory_is_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"^fleet directory not found: .*absent$"):
        read_worktree(tmp_path / "absent")
