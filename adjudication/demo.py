"""Demo escalations: borderline example cases entered at both demo sites, so that every demo
reviewer has open items (none of their own site). Loading twice changes nothing.

`load_demo_escalations()` is called by the demo loader after `screening.demo.load_demo_data()`.
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from participants.case_import import import_case
from participants.consent import record_consent
from participants.models import ConsentVersion, Site, User
from screening.evaluation import evaluate_participant
from screening.models import Evaluation, Trigger

from .models import Escalation
from .services import sync_escalations

CASES_DIR = Path(settings.BASE_DIR).parent / "shared" / "cases"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Added to the participants demo (which already enters sle-ln-no-biopsy at S01, ssc-crp-only and
# ssc-lung-borderline at S02): case file, site code of the coordinator who enters it.
# Initials of these participants: none shared with the other demo participants (screening.demo).
DEMO_INITIALS = ("PY", "QZ", "RA")

DEMO_CASES = [
    ("ssc-early-progression.json", "S01"),  # ssc.activity REVIEW (eac), early mRSS progression
    ("sle-ln-low-activity.json", "S02"),  # sle.ln_biopsy REVIEW (eac), activity index below 10
    ("sle-postmenopausal-after-cyclophosphamide.json", "S02"),  # investigator sign-off for inv.s02
]


def load_case_file(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    return data


def shift_case(case: dict[str, Any], as_of: date | None = None) -> dict[str, Any]:
    """The case with every date moved by the same number of days so that `dates.as_of` becomes
    `as_of` (today by default): results stay as fresh as they were in the example."""
    target = as_of or timezone.localdate()
    delta = target - date.fromisoformat(case["dates"]["as_of"])

    def move(value: Any) -> Any:
        if isinstance(value, str) and _DATE.match(value):
            return (date.fromisoformat(value) + delta).isoformat()
        if isinstance(value, dict):
            return {k: move(v) for k, v in value.items()}
        if isinstance(value, list):
            return [move(v) for v in value]
        return value

    shifted: dict[str, Any] = move(case)
    shifted["adjudications"] = []
    return shifted


def enter_case(coordinator: Any, site: Any, case: dict[str, Any], *, initials: str = "") -> Any:
    """Enter the case for a new participant at `site`, evaluate it and open its escalations now
    (the after-commit signal then finds them up to date, also inside an outer transaction)."""
    participant = import_case(coordinator, site, case, initials=initials)
    evaluation = evaluate_participant(
        participant.pk, trigger=Trigger.MANUAL, detail="demo case", user=coordinator
    )
    if evaluation is not None:
        sync_escalations(evaluation)
    participant.refresh_from_db()
    return participant


def load_demo_escalations() -> dict[str, int]:
    """Enter the demo cases once (marked by their case id in nothing but the evaluation detail)."""
    if Evaluation.objects.filter(trigger_detail__startswith="demo case").exists():
        return {"participants": 0, "escalations": 0}
    before = Escalation.objects.count()
    entered = 0
    # The consent form every demo participant signed on its ICF date (screening.demo loads it).
    signed = ConsentVersion.objects.filter(label="1.0").first()
    for (filename, site_code), initials in zip(DEMO_CASES, DEMO_INITIALS, strict=True):
        path = CASES_DIR / filename
        site = Site.objects.filter(code=site_code).first()
        coordinator = User.objects.filter(username=f"coord.{site_code.lower()}").first()
        if not path.exists() or site is None or coordinator is None:
            continue
        participant = enter_case(coordinator, site, shift_case(load_case_file(path)), initials=initials)
        if signed is not None and participant.icf_signed is not None:
            record_consent(coordinator, participant, version=signed, signed_on=participant.icf_signed)
        entered += 1
    return {"participants": entered, "escalations": Escalation.objects.count() - before}
