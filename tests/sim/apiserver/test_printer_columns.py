"""A CRD's additionalPrinterColumns as real kubectl prints them from the emulator's Table:
NAME, then the columns (priority > 0 only with -o wide), `date` columns as an age, a missing
value as an empty cell."""

from __future__ import annotations

from pathlib import Path

from reconciler.sim.apiserver.store import Store
from tests.sim.apiserver.builders import Kubectl

CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Cluster
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
  versions:
    - name: v1
      served: true
      storage: true
      additionalPrinterColumns:
        - {name: Replicas, type: integer, jsonPath: .spec.replicas}
        - {name: First, type: string, jsonPath: ".spec.items[0]"}
        - {name: Phase, type: string, jsonPath: .spec.phase}
        - {name: Extra, type: string, jsonPath: .spec.extra, priority: 1}
        - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
"""
WIDGETS = """\
apiVersion: example.com/v1
kind: Widget
metadata: {name: full}
spec: {replicas: 3, items: [alpha, beta], phase: Running, extra: shown-wide}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: sparse}
spec: {replicas: 1}
"""


def _rows(text: str) -> list[dict[str, str]]:
    """The rows of a kubectl table, cut at the header's column starts."""
    header, *lines = text.splitlines()
    names = header.split()
    starts = [header.index(n) for n in names]
    ends = [*starts[1:], None]
    return [{n: line[a:b].strip() for n, a, b in zip(names, starts, ends, strict=True)} for line in lines]


def test_printer_columns_as_kubectl_prints_them(kubectl: Kubectl, tmp_path: Path, store: Store) -> None:
    (tmp_path / "crd.yaml").write_text(CRD)
    kubectl("apply", "-f", str(tmp_path / "crd.yaml"))
    (tmp_path / "widgets.yaml").write_text(WIDGETS)
    kubectl("apply", "-f", str(tmp_path / "widgets.yaml"))
    printed = kubectl("get", "widgets").stdout
    assert printed.splitlines()[0].split() == ["NAME", "REPLICAS", "FIRST", "PHASE", "AGE"]
    full, sparse = _rows(printed)
    assert (full["NAME"], full["REPLICAS"], full["FIRST"], full["PHASE"]) == ("full", "3", "alpha", "Running")
    assert (sparse["NAME"], sparse["REPLICAS"], sparse["FIRST"], sparse["PHASE"]) == ("sparse", "1", "", "")
    assert full["AGE"].endswith("s") and full["AGE"][:-1].isdigit()  # an age, not a timestamp
    wide = _rows(kubectl("get", "widgets", "-o", "wide").stdout)
    assert [r["EXTRA"] for r in wide] == ["shown-wide", ""]
    one = kubectl("get", "widget", "full").stdout.splitlines()
    assert one[0].split() == ["NAME", "REPLICAS", "FIRST", "PHASE", "AGE"] and one[1].startswith("full")
