"""An escalation carries a copy of its participant's site and cohort (the EAC queue reads its open
items' own index): the database keeps it equal to the participant's."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from adjudication.demo import CASES_DIR, load_case_file, shift_case
from adjudication.models import Escalation
from participants.models import Cohort, Participant, Site

pytestmark = pytest.mark.django_db


def test_escalation_copies_the_participants_site_and_cohort(
    enter: Callable[..., Participant], site_a: Site, site_b: Site
) -> None:
    participant = enter("ssc-crp-only.json")
    escalation = Escalation.objects.get(participant=participant)
    assert (escalation.site_id, escalation.cohort) == (site_a.pk, Cohort.SSC)
    # A row written without them (the trigger's case) takes the participant's.
    Escalation.objects.filter(pk=escalation.pk).delete()
    escalation.pk = None
    escalation.site_id, escalation.cohort = None, ""  # type: ignore[assignment]
    escalation.save()
    escalation.refresh_from_db()
    assert (escalation.site_id, escalation.cohort) == (site_a.pk, Cohort.SSC)
    # A change of the participant's site or cohort reaches the copy (the foreign key cascades it).
    Participant.objects.filter(pk=participant.pk).update(site=site_b, cohort=Cohort.IIM)
    escalation.refresh_from_db()
    assert (escalation.site_id, escalation.cohort) == (site_b.pk, Cohort.IIM)


@pytest.mark.parametrize("trigger", ["on", "off"])
def test_the_copy_cannot_differ(enter: Callable[..., Participant], site_b: Site, trigger: str) -> None:
    """The foreign key on (participant, site, cohort) refuses a copy that differs, whoever writes it."""
    participant = enter("ssc-crp-only.json")
    with pytest.raises(IntegrityError, match="escalation_site_cohort_are_participants"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's own pending checks first
            if trigger == "off":
                cursor.execute("ALTER TABLE adjudication_escalation DISABLE TRIGGER USER")
            cursor.execute(
                "UPDATE adjudication_escalation SET site_id = %s WHERE participant_id = %s",
                [site_b.pk, participant.pk],
            )
    with pytest.raises(IntegrityError, match="escalation_site_cohort_are_participants"):
        with transaction.atomic():
            Escalation.objects.filter(participant=participant).update(cohort=Cohort.SLE)
            connection.cursor().execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.mark.django_db(transaction=True)
def test_seeded_copies_take_the_clones_site(monkeypatch: pytest.MonkeyPatch) -> None:
    """seed_population copies escalations with the triggers and foreign-key checks off: each copy
    must take its clone's site itself, not its template's."""
    # Every profile an EAC review, its data of today (as the example cases are entered).
    case = shift_case(load_case_file(CASES_DIR / "ssc-crp-only.json"))
    monkeypatch.setattr("adjudication.population._profiles", lambda rng, count, today: [case] * count)
    call_command("seed_population", "30", "--sites", "3", "--seed", "5", "--profiles", "3")
    escalations = list(Escalation.objects.select_related("participant"))
    templates = set(Participant.objects.order_by("pk").values_list("pk", flat=True)[:3])  # entered first
    copies = [e for e in escalations if e.participant_id not in templates]
    assert len(copies) >= 10
    for e in escalations:
        assert (e.site_id, e.cohort) == (e.participant.site_id, e.participant.cohort), e.participant
    assert len({e.site_id for e in copies}) == 3
