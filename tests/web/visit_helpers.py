"""A screening case file as the screening visit form's fields: one post per blood draw date."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from screening.criteria.vocabulary import BILAG_DOMAINS, FACT_KEYS_BY_KEY, UNIT_ALIASES, FactType

from ..conftest import REPO_ROOT

CASES = REPO_ROOT.parent / "shared" / "cases"


def load_case(name: str) -> dict[str, Any]:
    return json.loads((CASES / f"{name}.json").read_text(), parse_float=Decimal)


def draws(case: dict[str, Any]) -> list[str]:
    """The case's collection dates, the most frequent first (the visit's own blood draw)."""
    dates = [lab["collected"] for lab in case["labs"]]
    return sorted(set(dates), key=lambda d: (-dates.count(d), d))


def lab_fields(lab: dict[str, Any]) -> dict[str, str]:
    prefix = f"lab-{lab['test']}-"
    out: dict[str, str] = {}
    if isinstance(lab["value"], str):
        out[prefix + "value_text"] = lab["value"]
    else:
        out[prefix + "value_number"] = str(lab["value"])
        out[prefix + "unit"] = UNIT_ALIASES.get(lab.get("unit", ""), lab.get("unit", ""))
        if "uln" in lab:
            out[prefix + "uln"] = str(lab["uln"])
    if "specimen" in lab:
        out[prefix + "specimen"] = lab["specimen"]
    return out


def fact_fields(key: str, value: Any) -> dict[str, str]:
    fact = FACT_KEYS_BY_KEY[key]
    out: dict[str, str] = {}
    if fact.dated and isinstance(value, dict) and "date" in value:
        out[f"fact-{key}__date"] = value["date"]
        value = value["value"]
    if fact.type is FactType.BILAG:
        for domain in BILAG_DOMAINS:
            out[f"fact-bilag2004__{domain}"] = value[domain]
    elif fact.type is FactType.BOOL:
        out[f"fact-{key}"] = "yes" if value else "no"
    else:
        out[f"fact-{key}"] = str(value)
    return out


def therapy_fields(i: int, therapy: dict[str, Any]) -> dict[str, str]:
    prefix = f"therapy-{i}-"
    out = {prefix + "agent": therapy["agent"], prefix + "start": therapy["start"]}
    if therapy.get("agent_name"):
        out[prefix + "agent_name"] = therapy["agent_name"]
    if therapy.get("last_dose"):
        out[prefix + "last_dose"] = therapy["last_dose"]
    if therapy.get("ongoing"):
        out[prefix + "ongoing"] = "on"
    if therapy.get("stopped_for_intolerance"):
        out[prefix + "stopped_for_intolerance"] = "on"
    return out


def visit_posts(case: dict[str, Any]) -> list[dict[str, Any]]:
    """The visit form posts that enter the case: the first holds the main blood draw, the facts,
    the therapies and the history areas; each further collection date is one more post."""
    first, *others = draws(case)
    posts: list[dict[str, Any]] = []
    main: dict[str, Any] = {"draw-collected": first}
    for lab in case["labs"]:
        if lab["collected"] == first:
            main |= lab_fields(lab)
    for key, value in case.get("facts", {}).items():
        main |= fact_fields(key, value)
    for i, therapy in enumerate(case.get("therapies", [])):
        main |= therapy_fields(i, therapy)
    main["history-areas"] = list(case.get("reviewed", []))
    posts.append(main)
    for day in others:
        post: dict[str, Any] = {"draw-collected": day}
        for lab in case["labs"]:
            if lab["collected"] == day:
                post |= lab_fields(lab)
        posts.append(post)
    return posts
