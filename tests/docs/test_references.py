"""The repository explains itself: no file cites a document that is not in the repository, and
every `docs/design.md §N` / `docs/kubeedge.md §N` citation names a section that exists."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CITATION = re.compile(r"docs/(design|kubeedge)\.md §(\d+(?:\.\d+)?)")
# The old root-level design doc, and documents that live beside the repository, not in it.
OUTSIDE = re.compile(r"(?<![/\w])DESIGN\.md|shared/[\w-]+\.md|kubeedge-reference\.md")


def tracked_texts() -> dict[str, str]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout.split()
    texts: dict[str, str] = {}
    for name in listed:
        path = REPO_ROOT / name
        if name.startswith("tests/docs/") or not path.is_file():
            continue
        try:
            texts[name] = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
    return texts


def sections(doc: str) -> set[str]:
    """Section numbers of a doc: `## 4.` -> "4", `### 4.3 ...` -> "4.3"."""
    text = (REPO_ROOT / "docs" / f"{doc}.md").read_text(encoding="utf-8")
    return set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", text, flags=re.M))


def test_nothing_cites_a_document_outside_the_repository() -> None:
    found = [f"{name}:{n}: {line.strip()}" for name, text in tracked_texts().items()
             for n, line in enumerate(text.splitlines(), 1) if OUTSIDE.search(line)]
    assert found == []


def test_every_section_citation_exists() -> None:
    known = {"design": sections("design"), "kubeedge": sections("kubeedge")}
    assert {"1", "2", "3", "4", "5", "6", "7"} <= known["design"]
    assert {"1", "2.2", "3.2", "4.3", "4.5", "4.6", "5", "6.1"} <= known["kubeedge"]
    dangling = [f"{name}: docs/{doc}.md §{number}" for name, text in tracked_texts().items()
                for doc, number in CITATION.findall(text) if number not in known[doc]]
    assert dangling == []
