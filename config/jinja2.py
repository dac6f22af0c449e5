"""The Jinja2 environment of the pages' hot parts (the dashboard's rows and expiring list).

Django's template engine costs a few microseconds a variable and more a loop or filter; a page of
50 rows with their cells spent most of its rendering there. Jinja2 compiles a template to Python
code, so the same markup costs a fraction. Output is escaped as Django escapes it (`&#x27;`,
`&quot;`), so a part moved here renders character for character as it did
(tests/web/test_dashboard.py compares them).
"""

from __future__ import annotations

import html
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from screening.templatetags.screening_ui import criterion_title, days_until


def _as_django_escapes(value: Any, _escape: Any = html.escape, _markup: Any = Markup) -> Any:
    """Django's `conditional_escape` (which is `html.escape`), on every value a template prints;
    Jinja2's autoescape then leaves the result, markup already, alone. A value prints as `str()`
    gives it: dates and numbers reach these templates as text, formatted by their selector."""
    kind = type(value)
    if kind is str:
        return _markup(_escape(value))
    if kind is int:
        return _markup(value)
    return value if hasattr(value, "__html__") else _markup(_escape(str(value)))


def environment(**options: Any) -> Environment:
    env = Environment(**options, finalize=_as_django_escapes)
    env.filters.update(criterion_title=criterion_title, days_until=days_until)
    return env
