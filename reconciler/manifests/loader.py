"""Load a fleet repository: files in, a validated Fleet (or every error at once) out.

Pure: the caller (the git adapter, a test) hands over the file contents by repo-relative path.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import ValidationError

from reconciler.manifests import models
from reconciler.manifests.conflicts import conflict_warnings
from reconciler.manifests.diagnostics import Diagnostic, LoadResult
from reconciler.manifests.errormap import validation_diagnostics
from reconciler.manifests.models import API_VERSION, KINDS
from reconciler.manifests.quoting import quote
from reconciler.manifests.resolve import Parsed, resolve
from reconciler.manifests.yamldoc import YamlDocument, read_documents

YAML_SUFFIXES = (".yaml", ".yml")
_API_GROUP = API_VERSION.split("/")[0] + "/"


@dataclass(slots=True)
class _Collected:
    errors: list[Diagnostic]
    notices: list[Diagnostic]
    configs: list[Parsed[models.FleetConfig]]
    image_sets: list[Parsed[models.ImageSet]]
    groups: list[Parsed[models.NodeGroupImages]]
    #: every (kind, name) written, valid or not, with the document that first named it
    names: dict[tuple[str, str], YamlDocument]
    config_docs: list[YamlDocument]
    group_docs: list[YamlDocument]


def _kind_of(doc: YamlDocument, out: _Collected) -> str | None:
    """The edgefleet kind of `doc`, or None (with a notice or an error) when it is not one."""
    data = doc.data
    if not isinstance(data, dict):
        out.notices.append(doc.diagnostic((), "not a Kubernetes-style object; ignored", severity="notice"))
        return None
    api_version, kind = data.get("apiVersion"), data.get("kind")
    if not isinstance(api_version, str) or not api_version.startswith(_API_GROUP):
        what = f"{api_version} {kind}" if isinstance(api_version, str) else "a document without apiVersion"
        out.notices.append(doc.diagnostic((), f"ignored {what} (not {API_VERSION})", severity="notice"))
        return None
    if api_version != API_VERSION:
        out.errors.append(
            doc.diagnostic(
                ("apiVersion",), f"unsupported apiVersion {quote(api_version)} (use {API_VERSION})"
            )
        )
        return None
    if not isinstance(kind, str) or kind not in KINDS:
        if "kind" not in data:
            out.errors.append(doc.diagnostic((), 'missing required key "kind"'))
            return None
        close = difflib.get_close_matches(str(kind), list(KINDS), n=1)
        hint = f'did you mean "{close[0]}"?' if close else "expected FleetConfig, ImageSet or NodeGroupImages"
        out.errors.append(doc.diagnostic(("kind",), f"unknown kind {quote(str(kind))} ({hint})"))
        return None
    return kind


def _note_name(doc: YamlDocument, kind: str, out: _Collected) -> None:
    """Record the document's name; a second document of the same kind and name is an error."""
    if kind == "FleetConfig":
        if out.config_docs:
            first = out.config_docs[0]
            out.errors.append(
                doc.diagnostic(
                    ("kind",), f"more than one FleetConfig (the first is at {first.path}:{first.start[0]})"
                )
            )
        out.config_docs.append(doc)
        return
    metadata = doc.data.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if not isinstance(name, str):
        return
    earlier = out.names.get((kind, name))
    if earlier is None:
        out.names[(kind, name)] = doc
        return
    out.errors.append(
        doc.diagnostic(
            ("metadata", "name"),
            f"duplicate {kind} name {quote(name)} (first defined at {earlier.path}:{earlier.start[0]})",
        )
    )


def _collect(path: str, content: bytes, out: _Collected) -> None:
    documents, problems = read_documents(path, content)
    out.errors.extend(problems)
    for doc in documents:
        kind = _kind_of(doc, out)
        if kind is None:
            continue
        _note_name(doc, kind, out)
        if kind == "NodeGroupImages":
            out.group_docs.append(doc)
        model = KINDS[kind]
        try:
            parsed = model.model_validate(doc.data)
        except ValidationError as err:
            out.errors.extend(validation_diagnostics(doc, model, err))
            continue
        if isinstance(parsed, models.FleetConfig):
            out.configs.append(Parsed(doc, parsed))
        elif isinstance(parsed, models.ImageSet):
            out.image_sets.append(Parsed(doc, parsed))
        else:
            out.groups.append(Parsed(doc, parsed))


def _missing_image_sets(out: _Collected) -> None:
    """Report references to ImageSets that no document defines (read from the raw data, so
    that groups with other errors are checked too)."""
    known = sorted(name for kind, name in out.names if kind == "ImageSet")
    for doc in out.group_docs:
        spec = doc.data.get("spec")
        references = spec.get("imageSets") if isinstance(spec, dict) else None
        if not isinstance(references, list):
            continue
        for j, name in enumerate(references):
            if isinstance(name, str) and name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f" (did you mean {quote(close[0])}?)" if close else ""
                out.errors.append(
                    doc.diagnostic(("spec", "imageSets", j), f"ImageSet {quote(name)} not found{hint}")
                )


def _first_per_name(items: list[Parsed[models.ImageSet]]) -> list[Parsed[models.ImageSet]]:
    seen: dict[str, Parsed[models.ImageSet]] = {}
    for item in items:
        seen.setdefault(item.model.metadata.name, item)
    return list(seen.values())


#: The warning a fleet that desires no image (allowEmpty false) gets; `validate` refuses it.
EMPTY_FLEET_WARNING = "the fleet desires no image and allowEmpty is false: a plan of this revision is refused"


def _empty_fleet_warning(out: _Collected, files: Mapping[str, bytes]) -> Diagnostic:
    message = EMPTY_FLEET_WARNING
    if out.configs:
        return out.configs[0].doc.diagnostic(("spec", "allowEmpty"), message, severity="warning")
    if out.groups:
        return out.groups[0].doc.diagnostic((), message, severity="warning")
    path = min((p for p in files if p.endswith(YAML_SUFFIXES)), default=".")
    return Diagnostic(path, 1, 1, message, "warning")


def load_fleet(files: Mapping[str, bytes]) -> LoadResult:
    """Validate and resolve a fleet repository.

    Reads `files` (repo-relative path -> content; only `*.yaml`/`*.yml` are considered, in
    path order). Returns a LoadResult with the resolved Fleet, or fleet=None and every error
    of the repository. Never raises for bad input: YAML syntax, schema and cross-document
    problems all become Diagnostics at `path:line:col`.
    """
    out = _Collected([], [], [], [], [], {}, [], [])
    for path in sorted(files):
        if path.endswith(YAML_SUFFIXES):
            _collect(path, files[path], out)
    _missing_image_sets(out)
    groups = [g for g in out.groups if out.names.get(("NodeGroupImages", g.model.metadata.name)) is g.doc]
    resolution = resolve(out.configs[0] if out.configs else None, _first_per_name(out.image_sets), groups)
    errors = out.errors + resolution.errors
    warnings = resolution.warnings
    fleet = resolution.fleet
    if not errors:
        warnings += conflict_warnings(fleet, resolution.docs)
        if not fleet.distinct_images and not fleet.allow_empty:
            warnings.append(_empty_fleet_warning(out, files))
    return LoadResult(
        fleet=None if errors else fleet,
        errors=tuple(sorted(set(errors))),
        warnings=tuple(sorted(set(warnings))),
        notices=tuple(sorted(out.notices)),
    )
