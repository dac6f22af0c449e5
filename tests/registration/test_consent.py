"""Consent form versions: the administrator's register, the participant's signatures, the version
in effect at a site on a day, the re-consent item and the enrollment block, and the annotating
selector the screening log reads."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from audit.models import EVENT_MODELS
from participants import services
from participants.consent import (
    approve_consent_version,
    consent_status,
    enrollment_block,
    in_effect_column,
    record_consent,
    register_consent_version,
    with_consent,
)
from participants.models import ConsentSignature, ConsentVersion, Participant, Role, Site, User
from tests.factories import ParticipantFactory

pytestmark = pytest.mark.django_db

JAN, FEB, MAR, APR = date(2025, 1, 10), date(2025, 2, 10), date(2025, 3, 10), date(2025, 4, 10)


@pytest.fixture
def admin(make_user) -> User:  # type: ignore[no-untyped-def]
    return make_user(Role.ADMIN, None, "admin.c")


@pytest.fixture
def v1(admin: User, site_a: Site) -> ConsentVersion:
    version = register_consent_version(admin, label="1.0", document_date=JAN)
    approve_consent_version(admin, version=version, site=site_a, effective_on=JAN)
    return version


@pytest.fixture
def v2(admin: User) -> ConsentVersion:
    return register_consent_version(admin, label="2.0", document_date=FEB)


def test_only_an_administrator_registers_and_approves(coordinator_a, site_a, admin) -> None:
    with pytest.raises(PermissionDenied):
        register_consent_version(coordinator_a, label="1.0", document_date=JAN)
    version = register_consent_version(admin, label="1.0", document_date=JAN)
    with pytest.raises(PermissionDenied):
        approve_consent_version(coordinator_a, version=version, site=site_a, effective_on=JAN)


def test_the_register_refuses_what_cannot_be(admin, site_a, v1, v2) -> None:
    def refused(call, field: str) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(ValidationError) as raised:
            call()
        assert field in raised.value.error_dict

    refused(lambda: register_consent_version(admin, label=" 1.0 ", document_date=JAN), "label")
    refused(
        lambda: register_consent_version(admin, label="9", document_date=date.today() + timedelta(1)),
        "document_date",
    )
    refused(lambda: approve_consent_version(admin, version=v2, site=site_a, effective_on=JAN), "effective_on")
    refused(lambda: approve_consent_version(admin, version=v1, site=site_a, effective_on=MAR), "version")
    v3 = register_consent_version(admin, label="3.0", document_date=JAN)
    refused(lambda: approve_consent_version(admin, version=v3, site=site_a, effective_on=JAN), "effective_on")


def test_a_signature_must_be_of_a_version_in_use_at_the_site(
    coordinator_a, participant_a, admin, site_b, v1, v2
) -> None:
    def refused(version: ConsentVersion, signed_on: date, field: str) -> None:
        with pytest.raises(ValidationError) as raised:
            record_consent(coordinator_a, participant_a, version=version, signed_on=signed_on)
        assert field in raised.value.error_dict

    refused(v2, MAR, "version")  # not approved at site A (only at B)
    approve_consent_version(admin, version=v2, site=site_b, effective_on=FEB)
    refused(v2, MAR, "version")
    refused(v1, JAN - timedelta(days=1), "signed_on")  # before it took effect
    refused(v1, date.today() + timedelta(days=1), "signed_on")
    assert not ConsentSignature.objects.exists()


def test_the_first_signature_fills_the_icf_date_a_reconsent_does_not(
    coordinator_a, participant_a, admin, site_a, v1, v2
) -> None:
    record_consent(coordinator_a, participant_a, version=v1, signed_on=FEB)
    participant_a.refresh_from_db()
    assert participant_a.icf_signed == FEB
    approve_consent_version(admin, version=v2, site=site_a, effective_on=MAR)
    record_consent(coordinator_a, participant_a, version=v2, signed_on=APR)
    participant_a.refresh_from_db()
    assert participant_a.icf_signed == FEB
    with pytest.raises(ValidationError):
        record_consent(coordinator_a, participant_a, version=v2, signed_on=APR)  # already on record


def test_another_sites_coordinator_cannot_record(coordinator_b, participant_a, v1) -> None:
    with pytest.raises(PermissionDenied):
        record_consent(coordinator_b, participant_a, version=v1, signed_on=FEB)


def test_enrollment_block_follows_the_version_in_effect(
    coordinator_a, participant_a, admin, site_a, v2
) -> None:
    p = participant_a
    assert "No consent form version is approved at A01" in (enrollment_block(p, FEB) or "")
    v1 = register_consent_version(admin, label="1.0", document_date=JAN)
    approve_consent_version(admin, version=v1, site=site_a, effective_on=JAN)
    assert "No signed consent is recorded; version 1.0" in (enrollment_block(p, FEB) or "")
    record_consent(coordinator_a, p, version=v1, signed_on=FEB)
    assert enrollment_block(p, FEB) is None
    assert enrollment_block(p, FEB - timedelta(days=1)) is not None  # not yet signed on that day
    # Version 2.0 approved, taking effect in March: February is still fine, March is blocked.
    approve_consent_version(admin, version=v2, site=site_a, effective_on=MAR)
    assert enrollment_block(p, FEB + timedelta(days=5)) is None
    reason = enrollment_block(p, MAR) or ""
    assert reason.startswith("Re-consent needed") and "version 1.0" in reason and "version 2.0" in reason
    record_consent(coordinator_a, p, version=v2, signed_on=APR)
    assert enrollment_block(p, MAR) is not None  # signed only in April
    assert enrollment_block(p, APR) is None


def test_a_voided_signature_does_not_count(coordinator_a, participant_a, v1) -> None:
    signature = record_consent(coordinator_a, participant_a, version=v1, signed_on=FEB)
    services.void_record(coordinator_a, signature, reason="wrong participant")
    assert enrollment_block(participant_a, MAR) is not None
    record_consent(coordinator_a, participant_a, version=v1, signed_on=FEB)  # recorded again
    assert enrollment_block(participant_a, MAR) is None


def test_another_sites_approval_does_not_matter(coordinator_a, participant_a, admin, site_b, v1, v2) -> None:
    record_consent(coordinator_a, participant_a, version=v1, signed_on=FEB)
    approve_consent_version(admin, version=v2, site=site_b, effective_on=MAR)
    assert enrollment_block(participant_a, APR) is None
    assert not consent_status(participant_a, APR).reconsent_needed


def test_signatures_are_audited(coordinator_a, participant_a, v1) -> None:
    signature = record_consent(coordinator_a, participant_a, version=v1, signed_on=FEB)
    event = EVENT_MODELS[ConsentSignature].objects.get(pgh_obj_id=signature.pk)
    assert event.pgh_context["user"] == coordinator_a.pk and event.signed_on == FEB


def test_with_consent_reads_everything_in_one_query(
    coordinator_a, site_a, admin, v1, v2, django_assert_num_queries
) -> None:
    approve_consent_version(admin, version=v2, site=site_a, effective_on=MAR)
    signed_v1, signed_both, unsigned = (
        ParticipantFactory(site=site_a, created_by=coordinator_a) for _ in range(3)
    )
    record_consent(coordinator_a, signed_v1, version=v1, signed_on=FEB)
    record_consent(coordinator_a, signed_both, version=v1, signed_on=FEB)
    record_consent(coordinator_a, signed_both, version=v2, signed_on=APR)
    with django_assert_num_queries(1):
        rows = {p.pk: p for p in with_consent(Participant.objects.all(), APR)}
    assert (rows[signed_v1.pk].consent_version, rows[signed_v1.pk].consent_signed_on) == ("1.0", FEB)
    assert rows[signed_v1.pk].consent_in_effect_signed is False
    assert (rows[signed_both.pk].consent_version, rows[signed_both.pk].consent_signed_on) == ("2.0", APR)
    assert rows[signed_both.pk].consent_in_effect_signed is True
    assert rows[unsigned.pk].consent_version is None and rows[unsigned.pk].consent_in_effect_signed is False
    assert {p.consent_version_in_effect for p in rows.values()} == {"2.0"}
    for _ in range(10):
        record_consent(
            coordinator_a,
            ParticipantFactory(site=site_a, created_by=coordinator_a),
            version=v1,
            signed_on=FEB,
        )
    with django_assert_num_queries(1):
        assert len(list(with_consent(Participant.objects.all(), APR))) == 13


def test_the_form_in_effect_read_with_the_participant_is_the_one_queried(
    coordinator_a, site_a, admin, v1, v2, participant_a, django_assert_num_queries
) -> None:
    """The participant page reads the form in effect with the participant (`in_effect_column`):
    the status is the one `version_in_effect` gives, on each day, with one query fewer."""
    approve_consent_version(admin, version=v2, site=site_a, effective_on=MAR)
    record_consent(coordinator_a, participant_a, version=v1, signed_on=FEB)
    for day in (JAN - timedelta(days=1), FEB, MAR, APR):
        queried = consent_status(participant_a, day)
        read = Participant.objects.annotate(**in_effect_column(day)).get(pk=participant_a.pk)
        with django_assert_num_queries(1):
            status = consent_status(read, day)
        assert (status.in_effect is None) == (queried.in_effect is None)
        if queried.in_effect is not None:
            assert status.in_effect is not None
            assert (status.in_effect.pk, status.in_effect.version_id, status.in_effect.effective_on) == (
                queried.in_effect.pk,
                queried.in_effect.version_id,
                queried.in_effect.effective_on,
            )
            assert status.in_effect.version.label == queried.in_effect.version.label
        assert (status.reconsent_needed, status.version_not_recorded) == (
            queried.reconsent_needed,
            queried.version_not_recorded,
        )
        assert status.block_reason(site_a.code) == queried.block_reason(site_a.code)
    # Read for another day, the column is not used: the form in effect is queried.
    read = Participant.objects.annotate(**in_effect_column(APR)).get(pk=participant_a.pk)
    with django_assert_num_queries(2):
        assert consent_status(read, FEB).in_effect.version_id == v1.pk  # type: ignore[union-attr]
    read = Participant.objects.annotate(**in_effect_column(JAN - timedelta(days=1))).get(pk=participant_a.pk)
    with django_assert_num_queries(2):
        assert consent_status(read, FEB).in_effect.version_id == v1.pk  # type: ignore[union-attr]


# --- Pages ---------------------------------------------------------------------------------------


def test_the_participant_page_lists_reconsent_needed(
    coordinator_a, participant_a, admin, site_a, v1, v2
) -> None:
    client = Client()
    client.force_login(coordinator_a)
    url = reverse("participants:detail", args=[participant_a.pk])
    assert 'data-testid="consent-version-missing"' in client.get(url).content.decode()
    record_consent(coordinator_a, participant_a, version=v1, signed_on=FEB)
    html = client.get(url).content.decode()
    assert 'data-testid="consent-worklist"' not in html and "1.0 (2025-02-10)" in html
    approve_consent_version(admin, version=v2, site=site_a, effective_on=MAR)
    html = client.get(url).content.decode()
    assert 'data-testid="reconsent-needed"' in html and "Re-consent needed" in html


def test_the_coordinator_records_and_voids_a_signature_on_the_consent_page(
    coordinator_a, participant_a, v1
) -> None:
    client = Client()
    client.force_login(coordinator_a)
    url = reverse("participants:consent", args=[participant_a.pk])
    refused = client.post(url, {"version": v1.pk, "signed_on": (JAN - timedelta(days=3)).isoformat()})
    assert refused.status_code == 200 and "is in use at A01 only from 2025-01-10" in refused.content.decode()
    response = client.post(url, {"version": v1.pk, "signed_on": FEB.isoformat()})
    assert response.status_code == 302
    signature = ConsentSignature.objects.get()
    void = reverse("participants:void_consent", args=[participant_a.pk, signature.pk])
    assert "Reason for voiding" in client.post(void, {"reason": ""}).content.decode()
    assert client.post(void, {"reason": "entered twice"}).status_code == 302
    signature.refresh_from_db()
    assert signature.state == "voided" and signature.void_reason == "entered twice"


def test_the_administrator_registers_a_version_and_its_approval_on_the_page(admin, site_a) -> None:
    client = Client()
    client.force_login(admin)
    url = reverse("participants:consent_versions")
    assert (
        client.post(url, {"action": "version", "label": "3.1", "document_date": "2025-01-10"}).status_code
        == 302
    )
    version = ConsentVersion.objects.get(label="3.1")
    response = client.post(
        url, {"action": "approval", "version": version.pk, "site": site_a.pk, "effective_on": "2025-01-01"}
    )
    assert "cannot take effect before the date printed on it" in response.content.decode()
    response = client.post(
        url, {"action": "approval", "version": version.pk, "site": site_a.pk, "effective_on": "2025-02-01"}
    )
    assert response.status_code == 302
    html = client.get(url).content.decode()
    assert "3.1" in html and "2025-02-01" in html
