"""docs/criteria.md is generated from the catalogue and committed up to date."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from screening.criteria import CRITERIA
from screening.criteria.choices import CHOICES

from .helpers import REPO


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_criteria_doc", REPO / "tools" / "gen_criteria_doc.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_criteria_md_is_up_to_date() -> None:
    committed = (REPO / "docs" / "criteria.md").read_text(encoding="utf-8")
    assert committed == _generator().render(), "run: python tools/gen_criteria_doc.py"


def test_every_criterion_and_choice_is_documented() -> None:
    text = _generator().render()
    for c in CRITERIA:
        assert f"### {c.id}\n" in text
    assert "## Choices where the protocol is ambiguous" in text
    for choice in CHOICES:
        assert f"**{choice.topic}**" in text
    known = {c.id for c in CRITERIA}
    assert all(cid in known for choice in CHOICES for cid in choice.criteria)
