"""Calendar arithmetic of CRITERIA.md § 1.4: day and month offsets, ages, window ends."""

from __future__ import annotations

from calendar import monthrange
from datetime import date, timedelta

ONE_DAY = timedelta(days=1)


def add_days(d: date, n: int) -> date:
    return d + timedelta(days=n)


def add_months(d: date, n: int) -> date:
    """Same day of the month n months later (n may be negative); the month's last day if it has no such day."""
    total = d.year * 12 + (d.month - 1) + n
    year, month0 = divmod(total, 12)
    month = month0 + 1
    last = monthrange(year, month)[1]
    return date(year, month, d.day if d.day <= last else last)


def is_last_day_of_month(d: date) -> bool:
    return d.day == monthrange(d.year, d.month)[1]


def window_end_days(d: date, n: int) -> date:
    """Last anchor X for which d is still 'within n days before X'."""
    return d + timedelta(days=n)


def window_end_months(d: date, n: int) -> date:
    """Last anchor X for which d is still 'within n months before X' (month-end rule of § 1.4)."""
    end = add_months(d, n)
    if is_last_day_of_month(d):
        return date(end.year, end.month, monthrange(end.year, end.month)[1])
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
    if birth.month == 2 and birth.day == 29 and monthrange(year, 2)[1] == 28:
        return date(year, 3, 1)
    return date(year, birth.month, birth.day)
