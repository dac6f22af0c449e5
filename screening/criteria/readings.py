"""How rules read and show inputs: absent or stale results, values as recorded, latest events."""

from __future__ import annotations

from .canonical import format_decimal
from .context import Ctx
from .model import Event, LabResult
from .vocabulary import LAB_TESTS_BY_KEY, unit_label


def lab_absent_reason(ctx: Ctx, test: str) -> str:
    lab = ctx.selected.get(test)
    label = LAB_TESTS_BY_KEY[test].label
    if lab is None:
        return f"No {label} result on record."
    return (
        f"Latest {label} result {lab.collected} is before the screening window, which starts "
        f"{ctx.window_start}; repeat on or after {ctx.window_start}."
    )


def show(lab: LabResult) -> str:
    value = lab.value
    shown = format_decimal(value) if not isinstance(value, (str, int)) else str(value)
    return f"{shown} {unit_label(lab.unit)}" if lab.unit else shown


def canonical_text(lab: LabResult) -> str:
    num, den = lab.canonical_num, lab.canonical_den
    assert num is not None and den is not None
    unit = LAB_TESTS_BY_KEY[lab.test].canonical_unit
    if den == 1 and num == num.to_integral_value():
        return f"{format_decimal(num)} {unit}"
    c = num / den
    q = c.quantize(1) if c == c.to_integral_value() else round(c, 2)
    return f"{format_decimal(q)} {unit}"


def latest(events: list[Event]) -> Event | None:
    """The event with the latest date (on a tie, the one listed last)."""
    best = None
    for ev in events:
        if best is None or ev.date >= best.date:
            best = ev
    return best


def positive_antibody(lab: LabResult) -> bool:
    value = lab.value
    if isinstance(value, str):
        return value == "positive"
    assert lab.uln is not None
    return value > lab.uln


def fact_absent_reason(ctx: Ctx, key: str, label: str) -> str:
    old = ctx.dated.get(key)
    if old is None:
        return f"{label} is not recorded."
    return (
        f"{label} of {old.date} is before the screening window, which starts {ctx.window_start}; "
        f"repeat on or after {ctx.window_start}."
    )
