"""Calendar arithmetic of CRITERIA.md § 1.4: day and month offsets, ages, window ends."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

ONE_DAY: Final = timedelta(days=1)


_ISO: Final[dict[date, str]] = {}


def iso(d: date) -> str:
    """`str(d)` ("YYYY-MM-DD") for reasons, memoised: date formatting costs more than a lookup."""
    text = _ISO.get(d)
    if text is None:
        if len(_ISO) > 100_000:
            _ISO.clear()
        text = _ISO[d] = d.isoformat()
    return text


_DAYS: Final = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def days_in_month(year: int, month: int) -> int:
    # calendar.monthrange also computes a weekday; this runs several times per evaluation.
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _DAYS[month - 1]


def add_months(d: date, n: int) -> date:
    """Same day of the month n months later (n may be negative); the month's last day if it has no such day."""
    year, month0 = divmod(d.year * 12 + d.month - 1 + n, 12)
    month = month0 + 1
    day = d.day
    if day > 28:
        last = days_in_month(year, month)
        if day > last:
            day = last
    return date(year, month, day)


def is_last_day_of_month(d: date) -> bool:
    return d.day == days_in_month(d.year, d.month)


def window_end_months(d: date, n: int) -> date:
    """Last anchor X for which d is still 'within n months before X' (month-end rule of § 1.4)."""
    end = add_months(d, n)
    if is_last_day_of_month(d):
        return date(end.year, end.month, days_in_month(end.year, end.month))
    return end


def age_on(birth: date, on: date) -> int:
    """Whole years on a date; a 29 February birthday falls on 1 March in non-leap years."""
    years = on.year - birth.year
    if (on.month, on.day) < (birth.month, birth.day):
        years -= 1
    return years


def birthday(birth: date, years: int) -> date:
    """The day the person turns `years` old (1 March for a 29 February birth in a non-leap year)."""
    year = birth.year + years
    if birth.month == 2 and birth.day == 29 and days_in_month(year, 2) == 28:
        return date(year, 3, 1)
    return date(year, birth.month, birth.day)
