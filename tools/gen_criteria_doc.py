"""Write docs/criteria.md from the engine's registrations, protocol versions and documented choices.

python tools/gen_criteria_doc.py          # rewrite docs/criteria.md
python tools/gen_criteria_doc.py --check  # exit 1 if the committed file is out of date
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import fields
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from screening.criteria import CURRENT_PROTOCOL, ENGINE_VERSION, PROTOCOL_VERSIONS  # noqa: E402
from screening.criteria.canonical import format_decimal  # noqa: E402
from screening.criteria.catalogue import RULE_MODULES, CriterionInfo, catalogue  # noqa: E402
from screening.criteria.choices import CHOICES  # noqa: E402
from screening.criteria.protocol import ProtocolVersion  # noqa: E402

TARGET = REPO / "docs" / "criteria.md"
PACKAGE = REPO / "screening" / "criteria"


def _value(v: object) -> str:
    if v is None:
        return "—"  # the version has no criterion that reads it
    return format_decimal(v) if isinstance(v, Decimal) else str(v)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _anchor(cid: str) -> str:
    return cid.replace(".", "")


def registration_sites() -> dict[str, tuple[str, str, int]]:
    """Criterion id → (module file, rule function, line of the function or of its registration).

    Read from the source, so that the compiled build (which keeps no line numbers) gives the same."""
    sites: dict[str, tuple[str, str, int]] = {}
    for module in RULE_MODULES:
        name = module.__name__.rsplit(".", 1)[1]
        tree = ast.parse((PACKAGE / f"{name}.py").read_text(encoding="utf-8"))
        for node in tree.body:
            calls: list[ast.Call] = []
            if isinstance(node, ast.FunctionDef):
                calls = [d for d in node.decorator_list if isinstance(d, ast.Call)]
                target, line = node.name, node.lineno
            elif isinstance(node, ast.AnnAssign | ast.Assign):
                value = node.value
                if isinstance(value, ast.Call) and isinstance(value.func, ast.Call):
                    calls = [value.func]
                t = node.target if isinstance(node, ast.AnnAssign) else node.targets[0]
                assert isinstance(t, ast.Name)
                target, line = t.id, node.lineno
            for call in calls:
                if getattr(call.func, "id", None) == "criterion" and isinstance(call.args[0], ast.Constant):
                    sites[str(call.args[0].value)] = (f"{name}.py", target, line)
    return sites


def _versions() -> list[ProtocolVersion]:
    return sorted(PROTOCOL_VERSIONS.values(), key=lambda p: p.version)


def _differences(versions: list[ProtocolVersion]) -> list[str]:
    """One table row per item that differs between the versions, the versions side by side."""
    rows: list[str] = []
    for kind, attr in (("setting", "settings"), ("threshold", "thresholds")):
        for f in fields(getattr(versions[0], attr)):
            values = [_value(getattr(getattr(p, attr), f.name)) for p in versions]
            if len(set(values)) > 1:
                rows.append(f"| {kind} `{f.name}` | " + " | ".join(values) + " |")
    keys = sorted({k for p in versions for k in p.agents})
    for key in keys:
        agents = [p.agents.get(key) for p in versions]
        if len({repr(a) for a in agents}) > 1:
            for f in fields(agents[0] or versions[0].unlisted_agent):
                values = [_value(getattr(a, f.name)) if a else "—" for a in agents]
                if len(set(values)) > 1:
                    rows.append(f"| Table 4 `{key}` {f.name} | " + " | ".join(values) + " |")
    catalogues = [{c.id: c for c in catalogue(p)} for p in versions]
    ids = [c.id for c in catalogue(versions[-1])]
    for cid in ids:
        infos = [cat.get(cid) for cat in catalogues]
        if any(i is None for i in infos):
            cells = ["—" if i is None else "added" for i in infos]
            rows.append(f"| criterion [`{cid}`](#{_anchor(cid)}) | " + " | ".join(cells) + " |")
            continue
        titles = [_cell(i.title) for i in infos if i is not None]
        if len(set(titles)) > 1:
            rows.append(f"| title of [`{cid}`](#{_anchor(cid)}) | " + " | ".join(titles) + " |")
    return rows


def _reads(cid: str, versions: list[ProtocolVersion]) -> str:
    by_version = [{c.id: c for c in catalogue(p)}.get(cid) for p in versions]
    present = [(p, c) for p, c in zip(versions, by_version, strict=True) if c is not None]
    names = [name for name, _ in present[-1][1].reads]
    items = []
    for name in names:
        values = [(p.version, dict(c.reads)[name]) for p, c in present]
        if len({v for _, v in values}) == 1:
            items.append(f"`{name}` = {values[0][1]}")
        else:
            items.append(f"`{name}` = " + ", ".join(f"{v} ({version})" for version, v in values))
    return "; ".join(items)


def render() -> str:
    versions = _versions()
    current = CURRENT_PROTOCOL
    criteria = catalogue(current)
    sites = registration_sites()
    names = " and ".join(f"**{p.version}**" for p in versions)
    out: list[str] = [
        "# Screening criteria as implemented",
        "",
        "<!-- Generated by tools/gen_criteria_doc.py from screening/criteria (the registrations in the",
        "     rules_*.py modules, versions/*.json, choices.py). Do not edit by hand: run",
        "     `python tools/gen_criteria_doc.py`. -->",
        "",
        f"Protocol versions {names}; the current version (a case that names none) is "
        f"**{current.version}**. Engine {ENGINE_VERSION}. Every result is PASS, FAIL, MISSING, REVIEW or "
        "NOT_APPLICABLE, and the overall status is INELIGIBLE if any criterion fails, else INCOMPLETE if any is "
        "missing, else PENDING_REVIEW if any awaits review, else ELIGIBLE (CRITERIA.md § 1.2).",
        "",
        "Each criterion is registered next to its rule function (linked below) with its page quote, rule text "
        "and the thresholds and settings it reads; titles and texts are filled in with the numbers of the "
        "version that evaluates. The texts below are those of the current version; the Page line quotes the "
        "public eligibility page (lost symbols restored in brackets). *Timing* marks the criteria whose FAIL "
        "can clear with time alone, and so can carry `eligible_from`. The setting `screening_window_days` (W) "
        "is read by every criterion that reads a lab result or a dated fact (CRITERIA.md § 1.5), so it is not "
        "listed per criterion.",
        "",
        "## Versions",
        "",
        "| version | criteria | based on |",
        "|---|---|---|",
    ]
    for p in versions:
        out.append(f"| {p.version} | {len(catalogue(p))} | {p.based_on or '—'} |")
    if len(versions) > 1:
        out += [
            "",
            "## Differences between versions",
            "",
            "| item | " + " | ".join(p.version for p in versions) + " |",
            "|---|" + "---|" * len(versions),
            *_differences(versions),
        ]
    out += [
        "",
        "## Contents",
        "",
        "| # | criterion | section | title | rule function | timing |",
        "|---|---|---|---|---|---|",
    ]
    for i, c in enumerate(criteria, 1):
        path, fn, line = sites[c.id]
        out.append(
            f"| {i} | [`{c.id}`](#{_anchor(c.id)}) | {c.section} | {_cell(c.title)} | "
            f"[`{path[:-3]}.{fn}`](../screening/criteria/{path}#L{line}) | {'yes' if c.timing else ''} |"
        )
    section = ""
    for c in criteria:
        if c.section != section:
            section = c.section
            out += ["", f"## {section}"]
        out += _criterion(c, sites[c.id], versions)
    out += [
        "",
        "## Settings and thresholds by version",
        "",
        "Settings (CRITERIA.md § 1.9) are configuration; thresholds come from the page and change only with an "
        "amendment. Both belong to the protocol version (`screening/criteria/versions/<version>.json`).",
        "",
        "| name | kind | " + " | ".join(p.version for p in versions) + " |",
        "|---|---|" + "---|" * len(versions),
    ]
    for kind, attr in (("setting", "settings"), ("threshold", "thresholds")):
        for f in fields(getattr(current, attr)):
            values = " | ".join(_value(getattr(getattr(p, attr), f.name)) for p in versions)
            out.append(f"| `{f.name}` | {kind} | {values} |")
    out += [
        "",
        "## Choices where the protocol is ambiguous",
        "",
        "Where the page is silent, truncated or open to two readings, the engine applies the reading below "
        "until the sponsor answers (CRITERIA.md § 11 lists the questions).",
        "",
    ]
    for ch in CHOICES:
        where = ", ".join(f"`{cid}`" for cid in ch.criteria) if ch.criteria else "the `screen` command"
        q = f" ({ch.question})" if ch.question else ""
        out.append(f"- **{ch.topic}**{q}, {where}: {ch.reading}")
    out.append("")
    return "\n".join(out)


def _criterion(c: CriterionInfo, site: tuple[str, str, int], versions: list[ProtocolVersion]) -> list[str]:
    path, fn, line = site
    out = ["", f"### {c.id}", "", f"**{c.title}**" + (" (timing)" if c.timing else ""), ""]
    out.append(f"- Rule function: [`{path[:-3]}.{fn}`](../screening/criteria/{path}#L{line}) ({path}:{line})")
    if c.introduced_in:
        out.append(f"- Introduced in protocol {c.introduced_in}; absent from earlier versions.")
    if c.reads:
        out.append(f"- Reads: {_reads(c.id, versions)}")
    if c.page_text:
        out.append(f"- Page: “{c.page_text}”")
    if c.cohort:
        out.append(f"- Cohort: {c.cohort}; NOT_APPLICABLE in the other cohorts.")
    out.append(f"- {c.rule}")
    for p in versions:
        other = {o.id: o for o in catalogue(p)}.get(c.id)
        if other is not None and other.rule != c.rule:
            out.append(f"- Under {p.version}: {other.rule}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description="Generate docs/criteria.md")
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/criteria.md is out of date")
    args = parser.parse_args()
    text = render()
    if args.check:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET.relative_to(REPO)} is out of date: run python tools/gen_criteria_doc.py")
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
