"""axe-core (axe-playwright-python, pinned; axe.min.js ships in the package) run on a page in the
browser: serious and critical violations fail the test, named with their elements."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe

BLOCKING = ("serious", "critical")
# Rules of lesser impact that the pages must pass too: one name per navigation landmark, and no
# table column without a header a screen reader can announce.
ALSO_BLOCKING = ("landmark-unique", "empty-table-header")
_axe = Axe()


def violations(page: Any) -> list[dict[str, Any]]:
    """The serious and critical violations of the page as it stands, and those of ALSO_BLOCKING."""
    results = _axe.run(page)
    return [
        v
        for v in results.response["violations"]
        if v.get("impact") in BLOCKING or v.get("id") in ALSO_BLOCKING
    ]


def describe(found: list[dict[str, Any]]) -> str:
    lines = []
    for v in found:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:5]:
            lines.append(
                f"    {' '.join(node['target'])}: {node.get('failureSummary', '').splitlines()[-1:]}"
            )
    return "\n".join(lines)


def assert_accessible(page: Any, name: str) -> None:
    found = violations(page)
    assert not found, f"{name}: axe-core finds serious or critical violations\n{describe(found)}"
