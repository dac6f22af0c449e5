"""Protocol versions: every clinical threshold, window and setting, and Table 4, by version.

A version is data: `versions/<version>.json` (package data) gives its settings, thresholds and
Table 4 rows. The first version states every value; an amendment names the version it amends
(`based_on`) and only the values it changes. Each file is checked when the engine is imported: an
unknown name, a missing value or a value of the wrong type stops the import with a message
naming the file and the field. A new criterion is code: it registers with `introduced_in`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from importlib.resources import files
from types import MappingProxyType
from typing import Any, Final

from .table4 import CONTINUE, EXCLUDED, REVIEW, TABLE4_2025_03_31_2, TAPER, UNLISTED_AGENT, TherapyAgent


@dataclass(frozen=True, slots=True)
class Settings:
    """Protocol settings of CRITERIA.md § 1.9: configuration, not code."""

    screening_window_days: int
    lung_function_review_margin_pct: Decimal
    ln_min_nih_activity_index: int
    muscle_biopsy_window_months: int
    nyha_exclusion_min_class: int
    unlisted_agent_lookback_days: int
    # Re-screenings a screen-failed participant may have (each a new, linked attempt).
    rescreen_attempts_max: int


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Constants taken from the eligibility page (changed only by an amendment)."""

    age_min: int
    age_max: int
    anc_min_per_ul: Decimal
    platelets_min_per_ul: Decimal
    hemoglobin_min_g_dl: Decimal
    alc_min_per_ul: Decimal
    crcl_min_ml_min: Decimal
    support_free_days: int
    postmenopausal_confirm_below_age: int
    sledai_min: int
    ln_biopsy_window_months: int
    prior_immunosuppressant_months: int
    iim_score_min_without_biopsy: Decimal
    iim_score_min_with_biopsy: Decimal
    iim_ck_uln_multiple: Decimal
    iim_aldolase_max_u_l: Decimal
    cdasi_activity_min_exclusive: int
    ssc_score_min: int
    ssc_duration_months: int
    ssc_mrss_min_exclusive: int
    ssc_ck_uln_multiple: Decimal
    ssc_crp_uln_multiple: Decimal
    malignancy_months: int
    live_vaccine_days: int
    major_surgery_days: int | None  # exc.major_surgery, from 2025-11-14.3
    cardiac_months: int
    pulmonary_embolism_months: int
    hypertensive_crisis_months: int
    cns_lupus_months: int
    dialysis_months: int
    child_pugh_min_excluded: int
    pleural_effusion_min_excluded_grade: int
    lung_function_floor_pct: Decimal
    mdi_max_global_damage: Decimal
    chronicity_component_excluded: int
    chronicity_total_excluded_min: int
    chronicity_total_pass_max: int


@dataclass(frozen=True, slots=True)
class ProtocolVersion:
    version: str
    settings: Settings
    thresholds: Thresholds
    agents: Mapping[str, TherapyAgent] = field(default_factory=dict)
    unlisted_agent: TherapyAgent = UNLISTED_AGENT
    based_on: str | None = None  # the version this one amends

    def agent(self, key: str) -> TherapyAgent:
        """Table 4 row of an agent key; `other` is the unlisted agent."""
        return self.agents.get(key, self.unlisted_agent)


class VersionFileError(ValueError):
    pass


_KEYS: Final = frozenset(("version", "based_on", "source", "settings", "thresholds", "table4"))
_WASHOUT_KINDS: Final = frozenset((TAPER, CONTINUE, EXCLUDED, REVIEW))
# Table 4 columns an amendment may change, with the type of their values.
_AGENT_COLUMNS: Final = {
    "washout": "washout",
    "dosing_interval_days": "int",
    "counts_sle": "bool",
    "counts_iim": "bool",
    "counts_ssc": "bool",
    "b_cell_depleting": "bool",
}


def _typed(where: str, kind: str, value: Any) -> Any:
    """The value as the field's type, or VersionFileError."""
    if kind == "Decimal" and type(value) in (int, Decimal):
        return Decimal(value)
    if kind in ("int", "int | None") and type(value) is int:
        return value
    if kind == "int | None" and value is None:
        return None
    if kind == "bool" and type(value) is bool:
        return value
    if kind == "washout" and (type(value) is int and value > 0 or value in _WASHOUT_KINDS):
        return value
    raise VersionFileError(f"{where}: {value!r} is not a valid {kind}")


def _kind(annotation: object) -> str:
    """A field's type: "int", "Decimal" or "int | None" (the only three a version holds).

    Python keeps annotations as strings here; the compiled build keeps int and Decimal as types
    and erases `int | None` to `type`, so anything else is the optional integer."""
    if annotation in ("int", int):
        return "int"
    if annotation in ("Decimal", Decimal):
        return "Decimal"
    return "int | None"


def _values(name: str, section: str, cls: Any, data: Any, base: Any) -> Any:
    if not isinstance(data, dict):
        raise VersionFileError(f"{name}: {section} must be an object")
    known = {f.name: _kind(f.type) for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise VersionFileError(f"{name}: {section}.{unknown[0]} is not a known {section[:-1]}")
    if base is None:
        absent = [k for k in known if k not in data]
        if absent:
            raise VersionFileError(
                f"{name}: {section}.{absent[0]} is missing (a first version states every value)"
            )
    changes = {k: _typed(f"{name}: {section}.{k}", known[k], v) for k, v in data.items()}
    return cls(**changes) if base is None else replace(base, **changes)


def _agents(name: str, data: Any, base: Mapping[str, TherapyAgent]) -> Mapping[str, TherapyAgent]:
    if not isinstance(data, dict):
        raise VersionFileError(f"{name}: table4 must be an object")
    agents = dict(base)
    for key, change in data.items():
        if key not in agents:
            raise VersionFileError(f"{name}: table4.{key} is not an agent of Table 4")
        if not isinstance(change, dict) or not change:
            raise VersionFileError(f"{name}: table4.{key} must name the columns it changes")
        for column, value in change.items():
            kind = _AGENT_COLUMNS.get(column)
            if kind is None:
                raise VersionFileError(
                    f"{name}: table4.{key}.{column} is not a column an amendment may change"
                )
            agents[key] = replace(
                agents[key], **{column: _typed(f"{name}: table4.{key}.{column}", kind, value)}
            )
    return MappingProxyType(agents)


def load_version(name: str, data: Any, known: Mapping[str, ProtocolVersion]) -> ProtocolVersion:
    """One version file, checked; an amendment applies its changes to the version it names."""
    if not isinstance(data, dict):
        raise VersionFileError(f"{name}: a version file is a JSON object")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise VersionFileError(f"{name}: {unknown[0]} is not a known key")
    version = data.get("version")
    if not isinstance(version, str) or name != f"{version}.json":
        raise VersionFileError(f"{name}: version {version!r} does not match the file name")
    based_on = data.get("based_on")
    base: ProtocolVersion | None = None
    if based_on is not None:
        base = known.get(based_on)
        if base is None:
            raise VersionFileError(f"{name}: based_on {based_on!r} is not an earlier version")
    return ProtocolVersion(
        version=version,
        settings=_values(name, "settings", Settings, data.get("settings", {}), base and base.settings),
        thresholds=_values(
            name, "thresholds", Thresholds, data.get("thresholds", {}), base and base.thresholds
        ),
        agents=_agents(
            name,
            data.get("table4", {}),
            base.agents if base is not None else {row.key: row for row in TABLE4_2025_03_31_2},
        ),
        based_on=based_on,
    )


def _load_versions() -> Mapping[str, ProtocolVersion]:
    folder = files(__name__.rpartition(".")[0]).joinpath("versions")
    known: dict[str, ProtocolVersion] = {}
    # Versions are named by date, so name order is the order in which they were issued.
    for entry in sorted((e for e in folder.iterdir() if e.name.endswith(".json")), key=lambda e: e.name):
        data = json.loads(entry.read_text(encoding="utf-8"), parse_float=Decimal)
        p = load_version(entry.name, data, known)
        known[p.version] = p
    return MappingProxyType(known)


PROTOCOL_VERSIONS: Final[Mapping[str, ProtocolVersion]] = _load_versions()
# A case that names no version, and no override: the latest version.
CURRENT_PROTOCOL: Final[ProtocolVersion] = PROTOCOL_VERSIONS[max(PROTOCOL_VERSIONS)]


def get_protocol(version: str) -> ProtocolVersion:
    try:
        return PROTOCOL_VERSIONS[version]
    except KeyError:
        raise KeyError(
            f"unknown protocol version {version!r}; known: {', '.join(PROTOCOL_VERSIONS)}"
        ) from None
