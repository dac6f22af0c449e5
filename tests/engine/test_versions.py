"""Protocol versions: 2025-03-31.2 and the amendment 2025-11-14.3, side by side.

Boundaries (just below, at, just above) of every value the amendment changes and of the new
exc.major_surgery, under both versions; the version chosen for a case; the `--protocol` override;
the version files' checks; titles and texts that state each version's numbers.

Base timeline (sle-eligible): T = 2025-06-16, E = 2025-06-23, D0 = 2025-06-30, labs of 2025-06-03.
"""

from __future__ import annotations

import ast
import inspect
import io
import json
import re
import textwrap
from collections.abc import Callable
from decimal import Decimal
from importlib.resources import files
from typing import Any

import pytest

from screening.cli import run_screen
from screening.criteria import CURRENT_PROTOCOL, PROTOCOL_VERSIONS, evaluate, get_protocol, load_case
from screening.criteria.catalogue import catalogue, protocol_values
from screening.criteria.protocol import VersionFileError, load_version
from screening.criteria.registry import REGISTRY
from screening.criteria.results import CriterionResult

from .helpers import CASES, REPO, D, base, set_lab

OLD = "2025-03-31.2"
NEW = "2025-11-14.3"
Case = dict[str, Any]


def result(data: Case, cid: str, version: str) -> CriterionResult:
    return evaluate(load_case(data), get_protocol(version)).result(cid)


def test_the_current_version_is_the_amendment() -> None:
    assert CURRENT_PROTOCOL.version == NEW
    assert list(PROTOCOL_VERSIONS) == [OLD, NEW]
    data = base()
    del data["protocol_version"]
    assert evaluate(load_case(data)).protocol_version == NEW


def test_the_case_names_its_version_and_an_override_wins() -> None:
    data = base()
    assert evaluate(load_case(data)).protocol_version == OLD
    assert evaluate(load_case(data), get_protocol(NEW)).protocol_version == NEW
    data["protocol_version"] = NEW
    ev = evaluate(load_case(data))
    assert ev.protocol_version == NEW
    assert len(ev.criteria) == 58
    assert [r.id for r in ev.criteria][30:33] == ["exc.live_vaccine", "exc.major_surgery", "exc.washout"]


# ---- inc.crcl: ≥ 50 mL/min, then ≥ 40 mL/min ------------------------------------------------


def crcl_case(weight: Any) -> Case:
    """A man aged 50 on the creatinine date, creatinine 2.0 mg/dL: CrCl = 90 × weight / 144."""
    data = base("ssc-male-eligible")
    data["birth_date"] = "1975-06-01"
    set_lab(data, "weight", value=weight, unit="kg")
    set_lab(data, "creatinine", value=D("2.0"), unit="mg/dL")
    return data


@pytest.mark.parametrize(
    ("weight", "old", "new"),
    [
        (D("63.99"), "FAIL", "FAIL"),  # 39.99 mL/min
        (64, "FAIL", "PASS"),  # 40.0 exactly (the amendment's example)
        (D("64.01"), "FAIL", "PASS"),
        (D("79.99"), "FAIL", "PASS"),  # 49.99
        (80, "PASS", "PASS"),  # 50.0 exactly
    ],
)
def test_crcl_threshold(weight: Any, old: str, new: str) -> None:
    data = crcl_case(weight)
    assert result(data, "inc.crcl", OLD).outcome == old
    r = result(data, "inc.crcl", NEW)
    assert r.outcome == new
    assert "40 mL/min" in r.reason


# ---- the screening window W: 28 days, then 35 days (E − W = 2025-05-26, then 2025-05-19) -----


@pytest.mark.parametrize(
    ("collected", "old", "new"),
    [
        ("2025-05-18", "MISSING", "MISSING"),
        ("2025-05-19", "MISSING", "PASS"),
        ("2025-05-20", "MISSING", "PASS"),
        ("2025-05-25", "MISSING", "PASS"),
        ("2025-05-26", "PASS", "PASS"),
    ],
)
def test_screening_window(collected: str, old: str, new: str) -> None:
    data = set_lab(base(), "anc", collected=collected)
    assert result(data, "inc.heme.anc", OLD).outcome == old
    r = result(data, "inc.heme.anc", NEW)
    assert r.outcome == new


def test_a_stale_lab_is_repeated_from_the_versions_window_start() -> None:
    data = set_lab(base(), "anc", collected="2025-05-18")
    old = evaluate(load_case(data), get_protocol(OLD)).result("inc.heme.anc")
    new = evaluate(load_case(data), get_protocol(NEW)).result("inc.heme.anc")
    assert old.repeat_from is not None and old.repeat_from.isoformat() == "2025-05-26"
    assert new.repeat_from is not None and new.repeat_from.isoformat() == "2025-05-19"
    assert "2025-05-19" in new.reason


def test_results_stay_usable_35_days() -> None:
    data = base()
    assert result(data, "inc.heme.anc", OLD).valid_until.isoformat() == "2025-07-01"  # type: ignore[union-attr]
    assert result(data, "inc.heme.anc", NEW).valid_until.isoformat() == "2025-07-08"  # type: ignore[union-attr]


# ---- exc.live_vaccine: 28 days, then 42 days before E -----------------------------------------


@pytest.mark.parametrize(
    ("when", "old", "new"),
    [
        ("2025-05-11", "PASS", "PASS"),  # E − 43
        ("2025-05-12", "PASS", "FAIL"),  # E − 42
        ("2025-05-13", "PASS", "FAIL"),  # E − 41
        ("2025-05-25", "PASS", "FAIL"),  # E − 29
        ("2025-05-26", "FAIL", "FAIL"),  # E − 28
    ],
)
def test_live_vaccine_window(when: str, old: str, new: str) -> None:
    data = base()
    data["events"].append({"kind": "live_vaccine", "date": when})
    assert result(data, "exc.live_vaccine", OLD).outcome == old
    r = result(data, "exc.live_vaccine", NEW)
    assert r.outcome == new
    assert "42 days" in r.reason


def test_live_vaccine_eligible_from_under_the_amendment() -> None:
    data = base()
    data["events"].append({"kind": "live_vaccine", "date": "2025-05-14"})
    assert "live_vaccine" in data["reviewed"]
    r = evaluate(load_case(data), get_protocol(NEW)).result("exc.live_vaccine")
    assert r.outcome == "FAIL"
    assert (r.valid_until.isoformat(), r.eligible_from.isoformat()) == ("2025-06-25", "2025-06-26")  # type: ignore[union-attr]


# ---- exc.major_surgery (new in 2025-11-14.3): 28 days before E -------------------------------


def surgery(when: str | None, reviewed: bool = True) -> Case:
    data = base()
    if when is not None:
        data["events"].append({"kind": "major_surgery", "date": when, "procedure": "cholecystectomy"})
    if reviewed:
        data["reviewed"].append("major_surgery")
    return data


@pytest.mark.parametrize(
    ("when", "outcome", "valid_until", "eligible_from"),
    [
        ("2025-05-25", "PASS", None, None),  # E − 29
        ("2025-05-26", "FAIL", "2025-06-23", "2025-06-24"),  # E − 28
        ("2025-05-27", "FAIL", "2025-06-24", "2025-06-25"),  # E − 27
        ("2025-06-16", "FAIL", "2025-07-14", "2025-07-15"),  # on T
        ("2025-06-17", "PASS", None, None),  # after T: not read
    ],
)
def test_major_surgery_window(
    when: str, outcome: str, valid_until: str | None, eligible_from: str | None
) -> None:
    r = result(surgery(when), "exc.major_surgery", NEW)
    assert r.outcome == outcome, r.reason
    assert (r.valid_until.isoformat() if r.valid_until else None) == valid_until
    assert (r.eligible_from.isoformat() if r.eligible_from else None) == eligible_from


def test_major_surgery_needs_the_surgical_history() -> None:
    r = result(surgery(None, reviewed=False), "exc.major_surgery", NEW)
    assert (r.outcome, r.missing) == ("MISSING", ("reviewed.major_surgery",))
    r = result(surgery("2025-05-26", reviewed=False), "exc.major_surgery", NEW)
    assert (r.outcome, r.eligible_from) == ("FAIL", None)  # counts, but the history is incomplete


def test_major_surgery_is_ignored_under_the_first_version() -> None:
    data = surgery("2025-06-01")
    data.setdefault("adjudications", []).append(
        {
            "criterion": "exc.major_surgery",
            "review_by": "eac",
            "decision": "accept",
            "date": "2025-06-10",
            "evidence_digest": "0" * 64,
        }
    )
    ev = evaluate(load_case(data), get_protocol(OLD))
    assert len(ev.criteria) == 57
    assert "exc.major_surgery" not in [r.id for r in ev.criteria]
    assert ev.overall == "ELIGIBLE"
    assert evaluate(load_case(data), get_protocol(NEW)).overall == "INELIGIBLE"


# ---- Table 4: anifrolumab washout 14 days, then 28 days ---------------------------------------


@pytest.mark.parametrize(
    ("last_dose", "old", "new"),
    [
        ("2025-06-02", "PASS", "PASS"),  # D0 − 28
        ("2025-06-03", "PASS", "FAIL"),  # D0 − 27
        ("2025-06-16", "PASS", "FAIL"),  # D0 − 14
    ],
)
def test_anifrolumab_washout(last_dose: str, old: str, new: str) -> None:
    data = base()
    data["therapies"].append(
        {"agent": "anifrolumab", "start": "2024-09-02", "last_dose": last_dose, "ongoing": False}
    )
    assert result(data, "exc.washout", OLD).outcome == old
    assert result(data, "exc.washout", NEW).outcome == new


def test_only_anifrolumab_changes_in_table4() -> None:
    old, new = get_protocol(OLD), get_protocol(NEW)
    changed = sorted(k for k in old.agents if old.agents[k] != new.agents[k])
    assert changed == ["anifrolumab"]
    assert (old.agent("anifrolumab").washout, new.agent("anifrolumab").washout) == (14, 28)


# ---- titles and texts state the numbers of their version ---------------------------------------


def test_titles_and_rules_state_each_versions_numbers() -> None:
    old = {c.id: c for c in catalogue(OLD)}
    new = {c.id: c for c in catalogue(NEW)}
    assert old["inc.crcl"].title == "Creatinine clearance ≥ 50 mL/min"
    assert new["inc.crcl"].title == "Creatinine clearance ≥ 40 mL/min"
    assert old["exc.live_vaccine"].title == "Live vaccine within 4 weeks"
    assert new["exc.live_vaccine"].title == "Live vaccine within 6 weeks"
    assert "E − 42 days" in new["exc.live_vaccine"].rule
    assert new["exc.major_surgery"].title == "Major surgery within 4 weeks"
    assert "exc.major_surgery" not in old
    assert dict(new["inc.crcl"].reads) == {"crcl_min_ml_min": "40"}


def test_no_text_is_left_with_a_placeholder() -> None:
    for version in PROTOCOL_VERSIONS:
        for c in catalogue(version):
            for text in (c.title, c.page_text, c.rule):
                assert "{" not in text.replace("{dermatomyositis", ""), (version, c.id, text)


def _attributes_read(fn: Callable[..., Any]) -> set[str]:
    """The thresholds and settings a rule function reads as `….th.NAME` or `….settings.NAME`."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
            if node.value.attr in ("th", "settings"):
                names.add(node.attr)
    return names


def test_each_registration_declares_what_its_rule_reads() -> None:
    values = protocol_values(CURRENT_PROTOCOL)
    for reg in REGISTRY:
        assert set(reg.reads) <= set(values), reg.id
        if inspect.isfunction(reg.rule) and reg.rule.__name__ != "rule":
            assert _attributes_read(reg.rule) <= set(reg.reads), reg.id


# ---- the version files -------------------------------------------------------------------------


def _first() -> dict[str, Any]:
    return json.loads(
        files("screening.criteria").joinpath("versions", f"{OLD}.json").read_text(encoding="utf-8"),
        parse_float=Decimal,
    )


@pytest.mark.parametrize(
    ("name", "change", "message"),
    [
        (f"{NEW}.json", {"thresholds": {"crcl_min": 40}}, "thresholds.crcl_min is not a known threshold"),
        (f"{NEW}.json", {"thresholds": {"live_vaccine_days": "42"}}, "thresholds.live_vaccine_days: '42'"),
        (f"{NEW}.json", {"thresholds": {"crcl_min_ml_min": True}}, "thresholds.crcl_min_ml_min: True"),
        (f"{NEW}.json", {"settings": {"screening_window_days": 35.5}}, "settings.screening_window_days"),
        (f"{NEW}.json", {"table4": {"anifrolumabb": {"washout": 28}}}, "table4.anifrolumabb is not an agent"),
        (
            f"{NEW}.json",
            {"table4": {"anifrolumab": {"label": "x"}}},
            "table4.anifrolumab.label is not a column",
        ),
        (f"{NEW}.json", {"table4": {"anifrolumab": {"washout": 0}}}, "table4.anifrolumab.washout: 0"),
        (f"{NEW}.json", {"based_on": "2024-01-01.1"}, "based_on '2024-01-01.1' is not an earlier version"),
        (f"{NEW}.json", {"criteria": []}, "criteria is not a known key"),
        ("2025-11-14.4.json", {}, "does not match the file name"),
    ],
)
def test_a_bad_amendment_file_is_refused(name: str, change: dict[str, Any], message: str) -> None:
    data: dict[str, Any] = {"version": NEW, "based_on": OLD, "settings": {}, "thresholds": {}, "table4": {}}
    data.update(change)
    with pytest.raises(VersionFileError, match=re.escape(message)):
        load_version(name, data, {OLD: get_protocol(OLD)})


def test_a_first_version_states_every_value() -> None:
    data = _first()
    del data["thresholds"]["sledai_min"]
    with pytest.raises(VersionFileError, match="thresholds.sledai_min is missing"):
        load_version(f"{OLD}.json", data, {})
    assert load_version(f"{OLD}.json", _first(), {}) == get_protocol(OLD)


# ---- screen --protocol --------------------------------------------------------------------------


def _screen(paths: list[str], protocol: str | None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = run_screen(paths, None, "json", out, err, io.StringIO(""), protocol)
    return status, out.getvalue(), err.getvalue()


@pytest.mark.skipif(not CASES.is_dir(), reason="shared examples folder is absent")
def test_protocol_override_evaluates_every_case_under_it() -> None:
    status, out, err = _screen([str(CASES)], NEW)
    assert (status, err) == (0, "")
    results = json.loads(out)
    assert len(results) == 37
    assert {r["protocol_version"] for r in results} == {NEW}
    status, out, _ = _screen([str(CASES)], None)
    assert {r["protocol_version"] for r in json.loads(out)} == {OLD, NEW}


@pytest.mark.skipif(not CASES.is_dir(), reason="shared examples folder is absent")
def test_an_unknown_protocol_is_refused_before_anything_is_evaluated() -> None:
    status, out, err = _screen([str(CASES), str(CASES / "sle-eligible.json")], "2025-11-14")
    assert (status, out) == (2, "")
    assert err.startswith("--protocol: unknown protocol version '2025-11-14'")
    assert "2025-03-31.2, 2025-11-14.3" in err


def test_manage_py_screen_names_protocol_in_its_help_and_refuses_an_unknown_one() -> None:
    from .test_screen_command import manage

    done = manage(str(REPO / "tests" / "engine" / "data" / "sle-eligible.json"), "--protocol", "2024")
    assert (done.returncode, done.stdout) == (2, "")
    assert "--protocol: unknown protocol version '2024'" in done.stderr
    done = manage(str(REPO / "tests" / "engine" / "data" / "sle-eligible.json"), "--protocol", NEW)
    assert done.returncode == 0
    assert json.loads(done.stdout)["protocol_version"] == NEW


def test_every_version_value_is_an_integer_or_a_decimal() -> None:
    """The version loader knows three kinds of value; a new kind needs the loader to learn it."""
    from dataclasses import fields

    from screening.criteria.protocol import Settings, Thresholds

    for cls in (Settings, Thresholds):
        for f in fields(cls):
            assert f.type in ("int", "Decimal", "int | None", int, Decimal, type), (
                cls.__name__,
                f.name,
                f.type,
            )
