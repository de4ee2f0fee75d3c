"""NCMEC's report schema as the ``ncmec-cybertip`` package models it (built from NCMEC's
documentation), used to check every report and file-details document Vigie produces.

Why a round trip: the reference model parses leniently (an unknown or misplaced element is
silently dropped), so a document is accepted only when parsing it with the reference model
and writing it back gives the same tree. A misspelt element (``legalUrl``), a wrong nesting,
elements out of order, an enumeration value the schema does not know, a value too long: each
makes the two trees differ, or the parse fail.

Why the loader: the package's async client uses Python 3.12 syntax and the package says
``Requires-Python >=3.13``; its models (``report``, ``files``, ``enums``, ``common``) are
plain 3.11 code. On Python 3.11 install it with ``pip install --ignore-requires-python
ncmec-cybertip==0.1.1`` (docs/reports.md); the models are imported without the client.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
import xml.etree.ElementTree as ET
from typing import Any

PACKAGE = "ncmec_cybertip"


class ReferenceMismatch(AssertionError):
    """The document is not what NCMEC's schema, as the reference models it, accepts."""


def _load(module: str) -> Any:
    """A module of the reference package, without running its ``__init__`` (the client)."""
    if PACKAGE not in sys.modules:
        spec = importlib.util.find_spec(PACKAGE)
        if spec is None or spec.submodule_search_locations is None:
            raise ReferenceMismatch(
                "ncmec-cybertip is not installed: pip install --ignore-requires-python "
                "ncmec-cybertip==0.1.1 (see docs/reports.md)"
            )
        package = types.ModuleType(PACKAGE)
        package.__path__ = list(spec.submodule_search_locations)
        sys.modules[PACKAGE] = package
    return importlib.import_module(f"{PACKAGE}.{module}")


def reference_enum(name: str) -> list[str]:
    """The values of one of the reference's enumerations (``IncidentType``...)."""
    return [member.value for member in getattr(_load("enums"), name)]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _prune(node: ET.Element) -> bool:
    """Drop empty elements (and empty attributes) below ``node``; True when ``node`` is empty."""
    for child in list(node):
        if _prune(child):
            node.remove(child)
    for key in [k for k, v in node.attrib.items() if v == "" or k.startswith("{")]:
        del node.attrib[key]
    return len(node) == 0 and not (node.text or "").strip() and not node.attrib


def _canonical(xml: bytes) -> str:
    root = ET.fromstring(xml)
    _prune(root)
    return ET.canonicalize(ET.tostring(root, encoding="unicode"), strip_text=True)


def _flags(xml: bytes, container: str) -> list[str]:
    node = ET.fromstring(xml).find(container)
    return [] if node is None else [child.tag for child in node]


def _model_flags(section: Any) -> list[str]:
    if section is None:
        return []
    return [_camel(k) for k, v in section.model_dump(mode="json").items() if v is True]


def _round_trip(model_cls: Any, xml: bytes) -> Any:
    try:
        model = model_cls.from_xml(xml)
    except Exception as exc:  # pydantic ValidationError, XML errors: the schema refuses it
        raise ReferenceMismatch(f"{model_cls.__name__}: {exc}") from exc
    ours, theirs = _canonical(xml), _canonical(model.to_xml(skip_empty=True))
    if ours != theirs:
        raise ReferenceMismatch(f"{model_cls.__name__}: {_first_difference(ours, theirs)}")
    return model


def _first_difference(ours: str, theirs: str) -> str:
    i = next((k for k, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b), None)
    i = min(len(ours), len(theirs)) if i is None else i
    start = max(0, i - 60)
    return f"ours …{ours[start : i + 60]}… reference …{theirs[start : i + 60]}…"


def check_report(xml: bytes) -> Any:
    """The reference ``Report`` for ``xml``; ReferenceMismatch when NCMEC would not read it so."""
    model = _round_trip(_load("report").Report, xml)
    ours = _flags(xml, "incidentSummary/reportAnnotations")
    if ours != _model_flags(model.incident_summary.report_annotations):
        raise ReferenceMismatch(f"reportAnnotations: {ours} are not all annotations it knows")
    return model


def check_file_details(xml: bytes) -> Any:
    """The reference ``FileDetails`` for ``xml``; ReferenceMismatch otherwise."""
    model = _round_trip(_load("files").FileDetails, xml)
    if _flags(xml, "fileAnnotations") != _model_flags(model.file_annotations):
        raise ReferenceMismatch("fileAnnotations: an annotation the reference does not know")
    return model


def reference_flags(module: str, cls: str) -> list[str]:
    """The presence flags a reference class knows, as element names, in the schema's order."""
    return [_camel(name) for name in getattr(_load(module), cls).model_fields]
