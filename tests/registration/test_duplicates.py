"""The duplicate check at registration: what matches, what the coordinator is shown (nothing of
another site but the fact), the answers (not the same person with a reason, or stop) and their
audit."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from audit.models import EVENT_MODELS
from participants import services
from participants.duplicates import find_duplicates
from participants.forms import RegisterForm
from participants.models import DuplicateCheck, DuplicateOutcome, Participant, Site, User
from tests.factories import ParticipantFactory

pytestmark = pytest.mark.django_db

BORN = date(1987, 9, 14)


def register(user: User, site: Site, initials: str = "JD", **extra: Any) -> Participant:
    return services.register_participant(
        user,
        site=site,
        cohort="IIM",
        sex="F",
        birth_date=extra.pop("birth_date", BORN),
        initials=initials,
        **extra,
    )


def possible(user: User, site: Site, initials: str = "JD", **extra: Any) -> DuplicateCheck:
    with pytest.raises(services.PossibleDuplicate) as raised:
        register(user, site, initials, **extra)
    return raised.value.check


def test_a_first_registration_is_checked_and_the_clear_check_recorded(coordinator_a, site_a) -> None:
    p = register(coordinator_a, site_a, initials="jd")
    assert p.initials == "JD"
    check = DuplicateCheck.objects.get()
    assert (check.outcome, check.participant, check.checked_by) == (DuplicateOutcome.CLEAR, p, coordinator_a)
    assert check.same_site_matches == [] and check.other_site_match is False


def test_same_site_match_stops_the_registration_and_names_the_participant(coordinator_a, site_a) -> None:
    first = register(coordinator_a, site_a)
    check = possible(coordinator_a, site_a)
    assert check.outcome == DuplicateOutcome.POSSIBLE
    assert check.same_site_matches == [first.screening_number] and check.other_site_match is False
    assert Participant.objects.count() == 1
    site_a.refresh_from_db()
    assert site_a.last_screening_sequence == 1  # no number used up by the refused registration


def test_not_the_same_person_with_a_reason_registers_and_closes_the_check(coordinator_a, site_a) -> None:
    register(coordinator_a, site_a)
    check = possible(coordinator_a, site_a)
    answer = services.NotSamePerson(check.pk, "Twin sister; different hospital number")
    second = register(coordinator_a, site_a, not_same_person=answer)
    check.refresh_from_db()
    assert check.outcome == DuplicateOutcome.NOT_SAME
    assert (check.participant, check.decided_by) == (second, coordinator_a)
    assert check.reason == "Twin sister; different hospital number" and check.decided_at is not None
    assert second.screening_number.endswith("-0002")


def test_an_answer_without_a_reason_registers_nothing(coordinator_a, site_a) -> None:
    register(coordinator_a, site_a)
    check = possible(coordinator_a, site_a)
    with pytest.raises(ValidationError) as raised:
        register(coordinator_a, site_a, not_same_person=services.NotSamePerson(check.pk, "  "))
    assert "not_same_person_reason" in raised.value.error_dict
    assert Participant.objects.count() == 1
    check.refresh_from_db()
    assert check.outcome == DuplicateOutcome.POSSIBLE


def test_an_answer_to_another_check_is_a_new_warning(coordinator_a, coordinator_b, site_a, site_b) -> None:
    """The answer counts only for the check shown: same site, same identifying data, still open."""
    register(coordinator_a, site_a)
    register(coordinator_a, site_a, initials="AB")
    check_ab = possible(coordinator_a, site_a, initials="AB")
    renewed = possible(coordinator_a, site_a, not_same_person=services.NotSamePerson(check_ab.pk, "checked"))
    assert renewed.pk != check_ab.pk and renewed.initials == "JD"
    # Site B cannot use site A's check either.
    register(coordinator_b, site_b, initials="ZZ")
    other = possible(coordinator_b, site_b, initials="ZZ")
    assert other.site == site_b
    with pytest.raises(services.PossibleDuplicate):
        register(
            coordinator_b, site_b, initials="ZZ", not_same_person=services.NotSamePerson(check_ab.pk, "x")
        )


def test_a_match_registered_after_the_warning_needs_a_new_look(coordinator_a, site_a) -> None:
    register(coordinator_a, site_a)
    check = possible(coordinator_a, site_a)
    third = ParticipantFactory(
        site=site_a, created_by=coordinator_a, birth_date=BORN, initials="JD", sex="F", screening_sequence=900
    )
    renewed = possible(coordinator_a, site_a, not_same_person=services.NotSamePerson(check.pk, "checked"))
    assert third.screening_number in renewed.same_site_matches


@pytest.mark.parametrize(
    ("existing", "matches"),
    [
        ({"initials": "JD"}, True),
        ({"initials": ""}, True),  # registered before initials were asked: could be anyone
        ({"initials": "JX"}, False),
        ({"initials": "JD", "sex": "M"}, False),
        ({"initials": "JD", "birth_date": date(1987, 9, 15)}, False),
    ],
)
def test_what_counts_as_a_possible_duplicate(
    site_a, coordinator_a, existing: dict[str, Any], matches: bool
) -> None:
    values = {"birth_date": BORN, "sex": "F"} | existing
    ParticipantFactory(site=site_a, created_by=coordinator_a, **values)
    found = find_duplicates(site=site_a, birth_date=BORN, sex="F", initials="jd")
    assert bool(found) is matches


def test_the_search_costs_two_queries_whatever_the_number_of_participants(
    site_a, site_b, coordinator_a, django_assert_num_queries
) -> None:
    for site in (site_a, site_b):
        ParticipantFactory(site=site, created_by=coordinator_a, birth_date=BORN, initials="JD")
    with django_assert_num_queries(2):
        find_duplicates(site=site_a, birth_date=BORN, sex="F", initials="JD")
    for site in (site_a, site_b) * 5:
        ParticipantFactory(site=site, created_by=coordinator_a, birth_date=BORN, initials="JD")
    with django_assert_num_queries(2):
        found = find_duplicates(site=site_a, birth_date=BORN, sex="F", initials="JD")
    assert len(found.same_site) == 6 and found.other_site


def test_stop_closes_the_check_and_registers_nothing(coordinator_a, coordinator_b, site_a, site_b) -> None:
    register(coordinator_a, site_a)
    check = possible(coordinator_a, site_a)
    with pytest.raises(ValidationError):
        services.stop_registration(coordinator_b, site=site_b, check_id=check.pk)  # not site B's check
    services.stop_registration(coordinator_a, site=site_a, check_id=check.pk)
    check.refresh_from_db()
    assert (check.outcome, check.decided_by, check.participant) == (
        DuplicateOutcome.STOPPED,
        coordinator_a,
        None,
    )
    with pytest.raises(ValidationError):
        services.stop_registration(coordinator_a, site=site_a, check_id=check.pk)  # closed already


def test_the_check_and_the_answer_are_in_the_audit_trail(coordinator_a, site_a) -> None:
    register(coordinator_a, site_a)
    check = possible(coordinator_a, site_a)
    register(coordinator_a, site_a, not_same_person=services.NotSamePerson(check.pk, "different person"))
    events = EVENT_MODELS[DuplicateCheck].objects.filter(pgh_obj_id=check.pk).order_by("pgh_id")
    assert [(e.pgh_label, e.outcome) for e in events] == [("insert", "possible"), ("update", "not_same")]
    assert events[1].reason == "different person"
    assert events[0].pgh_context["user"] == coordinator_a.pk


def test_the_database_refuses_a_confirmation_without_reason(coordinator_a, site_a) -> None:
    p = register(coordinator_a, site_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        DuplicateCheck.objects.create(
            site=site_a,
            checked_by=coordinator_a,
            birth_date=BORN,
            sex="F",
            initials="JD",
            same_site_matches=["X"],
            outcome=DuplicateOutcome.NOT_SAME,
            participant=p,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Participant.objects.filter(pk=p.pk).update(initials="j.d")


@pytest.mark.parametrize(
    ("typed", "error"), [("a", True), ("A.B", True), ("ABCDE", True), ("J1", True), ("jd ", False)]
)
def test_the_form_checks_the_initials_shape(typed: str, error: bool) -> None:
    form = RegisterForm({"cohort": "IIM", "sex": "F", "birth_date": "1987-09-14", "initials": typed})
    assert form.is_valid() is not error, form.errors
    if not error:
        assert form.cleaned_data["initials"] == "JD"


# --- The page ------------------------------------------------------------------------------------


def _post(client: Client, **extra: str) -> Any:
    data = {"cohort": "IIM", "sex": "F", "birth_date": BORN.isoformat(), "initials": "JD"} | extra
    return client.post(reverse("participants:register"), data)


@pytest.fixture
def client_b(coordinator_b) -> Client:
    client = Client()
    client.force_login(coordinator_b)
    return client


def test_another_sites_duplicate_shows_only_that_one_exists(coordinator_a, site_a, client_b, site_b) -> None:
    existing = register(coordinator_a, site_a)
    response = _post(client_b)
    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="duplicate-warning"' in html
    assert "A possible duplicate exists at another site." in html
    for leak in (
        existing.screening_number,
        site_a.code,
        site_a.name,
        "Site A",
        f"/participants/{existing.pk}/",
    ):
        assert leak not in html
    assert not Participant.objects.filter(site=site_b).exists()
    check = DuplicateCheck.objects.get(site=site_b)
    assert check.same_site_matches == [] and check.other_site_match is True


def test_the_page_says_the_same_for_one_or_many_at_other_sites(coordinator_a, site_a, client_b) -> None:
    """No count: two matches elsewhere read exactly as one (the check's id aside)."""
    register(coordinator_a, site_a)
    one = _post(client_b).content.decode()
    site_c = Site.objects.create(code="C03", name="Site C")
    ParticipantFactory(site=site_c, created_by=coordinator_a, birth_date=BORN, initials="JD")
    many = _post(client_b).content.decode()

    def warning(html: str) -> str:
        start = html.index('data-testid="duplicate-warning"')
        block = html[start : html.index("</section>", start)]
        return "\n".join(line for line in block.splitlines() if 'name="duplicate_check"' not in line)

    assert warning(one) == warning(many)


def test_the_coordinator_confirms_on_the_page(coordinator_a, site_a, client_b, site_b) -> None:
    register(coordinator_a, site_a)
    check_id = DuplicateCheck.objects.count()
    _post(client_b)
    check = DuplicateCheck.objects.get(site=site_b)
    assert check.pk > check_id
    refused = _post(client_b, duplicate_check=str(check.pk), action="register")
    assert "Say why this is not the same person." in refused.content.decode()
    assert 'data-testid="duplicate-warning"' in refused.content.decode()  # the warning stays
    done = _post(
        client_b, duplicate_check=str(check.pk), action="register", not_same_person_reason="Seen both IDs"
    )
    participant = Participant.objects.get(site=site_b)
    assert done.status_code == 302 and done["Location"] == reverse(
        "participants:detail", args=[participant.pk]
    )
    check.refresh_from_db()
    assert check.outcome == DuplicateOutcome.NOT_SAME and check.participant == participant


def test_the_coordinator_stops_on_the_page(coordinator_a, site_a, client_b, site_b) -> None:
    register(coordinator_a, site_a)
    _post(client_b)
    check = DuplicateCheck.objects.get(site=site_b)
    response = _post(client_b, duplicate_check=str(check.pk), action="stop")
    assert response.status_code == 302 and response["Location"] == reverse("participants:list")
    check.refresh_from_db()
    assert check.outcome == DuplicateOutcome.STOPPED
    assert not Participant.objects.filter(site=site_b).exists()


def test_same_site_matches_are_linked(coordinator_a, site_a) -> None:
    first = register(coordinator_a, site_a)
    client = Client()
    client.force_login(coordinator_a)
    html = _post(client).content.decode()
    assert f'href="/participants/{first.pk}/"' in html and first.screening_number in html
    assert "at another site" not in html


def test_initials_of_an_earlier_participant_are_added_on_the_key_dates(coordinator_a, participant_a) -> None:
    assert participant_a.initials == ""
    p = services.update_participant(coordinator_a, participant_a, reason="", initials="mk")
    assert p.initials == "MK"
    with pytest.raises(ValidationError) as raised:
        services.update_participant(coordinator_a, p, reason="", initials="MN")
    assert "reason" in raised.value.error_dict  # a recorded value changes only with a reason
    for bad in ("", "M-K"):
        with pytest.raises(ValidationError) as raised:
            services.update_participant(coordinator_a, p, reason="typo", initials=bad)
        assert "initials" in raised.value.error_dict
    assert services.update_participant(coordinator_a, p, reason="typo", initials="MN").initials == "MN"


def test_the_key_dates_form_offers_the_initials(coordinator_a, participant_a) -> None:
    client = Client()
    client.force_login(coordinator_a)
    url = reverse("participants:edit_dates", args=[participant_a.pk])
    assert 'name="initials"' in client.get(url).content.decode()
    response = client.post(
        url, {"initials": "ab", "sex": "F", "birth_date": "1987-09-14", "lupus_nephritis": "no"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    participant_a.refresh_from_db()
    assert participant_a.initials == "AB"


def test_the_participants_audit_trail_shows_the_answer_and_nothing_of_the_other_site(
    coordinator_a, site_a, coordinator_b, site_b, client_b
) -> None:
    existing = register(coordinator_a, site_a)
    check = possible(coordinator_b, site_b)
    p = register(
        coordinator_b, site_b, not_same_person=services.NotSamePerson(check.pk, "Different mother's name")
    )
    html = client_b.get(reverse("audit:participant", args=[p.pk])).content.decode()
    assert "Confirmed not the same person" in html and "Different mother&#x27;s name" in html
    assert existing.screening_number not in html and site_a.name not in html
