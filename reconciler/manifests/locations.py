"""Where each image of a valid fleet is written, for messages about the image itself
(`validate --registry` names the `path:line:col` of a tag the registry does not have).

Pure: reads the same file contents as `load_fleet`.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.manifests.imageref import ImageRefError, normalize_image
from reconciler.manifests.loader import YAML_SUFFIXES
from reconciler.manifests.yamldoc import read_documents

Place = tuple[str, int, int]  # path, line, column (1-based)


def image_locations(files: Mapping[str, bytes]) -> dict[str, tuple[Place, ...]]:
    """Normalized image -> every place (sorted) an ImageSet or NodeGroupImages lists it.

    Entries that are not valid references are skipped: the loader reports those.
    """
    places: dict[str, set[Place]] = {}
    for path in sorted(files):
        if not path.endswith(YAML_SUFFIXES):
            continue
        documents, _ = read_documents(path, files[path])
        for doc in documents:
            data = doc.data
            if not isinstance(data, dict) or data.get("kind") not in ("ImageSet", "NodeGroupImages"):
                continue
            spec = data.get("spec")
            entries = spec.get("images") if isinstance(spec, dict) else None
            for i, entry in enumerate(entries if isinstance(entries, list) else []):
                text = entry.get("image") if isinstance(entry, dict) else entry
                if not isinstance(text, str):
                    continue
                try:
                    image = normalize_image(text)
                except ImageRefError:
                    continue
                loc = ("spec", "images", i, "image") if isinstance(entry, dict) else ("spec", "images", i)
                line, col = doc.position(loc)
                places.setdefault(image, set()).add((path, line, col))
    return {image: tuple(sorted(found)) for image, found in places.items()}
