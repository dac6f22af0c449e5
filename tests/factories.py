from __future__ import annotations

from datetime import date

import factory

from participants.models import (
    Cohort,
    ConsentApproval,
    ConsentSignature,
    ConsentVersion,
    Membership,
    Participant,
    Role,
    Sex,
    Site,
    User,
)
from screening.models import ScreeningState


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"T{n:02d}")
    name = factory.LazyAttribute(lambda o: f"Test site {o.code}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.LazyAttribute(lambda o: f"Person {o.username}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    role = Role.COORDINATOR
    site = factory.SubFactory(SiteFactory)


class ParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Participant

    site = factory.SubFactory(SiteFactory)
    screening_sequence = factory.Sequence(lambda n: n + 1)
    screening_number = factory.LazyAttribute(lambda o: f"{o.site.code}-{o.screening_sequence:04d}")
    cohort = Cohort.SLE
    lupus_nephritis = False
    sex = Sex.FEMALE
    birth_date = date(1987, 9, 14)
    created_by = factory.SubFactory(UserFactory)

    @classmethod
    def _create(cls, model_class: type[Participant], *args: object, **kwargs: object) -> Participant:
        """Fields of the participant's screening state (status, mark, ...) are set on its state row."""
        names = {f.name for f in ScreeningState._meta.concrete_fields} - {"participant", "site", "cohort"}
        state = {name: kwargs.pop(name) for name in list(kwargs) if name in names}
        participant: Participant = super()._create(model_class, *args, **kwargs)
        if state:
            ScreeningState.objects.filter(participant=participant).update(**state)
        return participant


def sign_current_consent(participant: Participant, user: User, signed_on: date | None = None) -> None:
    """Give the participant's site an approved consent form (version "1.0", in effect since 2000)
    and record the participant's signature of it: what enrollment requires."""
    version, _ = ConsentVersion.objects.get_or_create(
        label="1.0", defaults={"document_date": date(2000, 1, 1), "created_by": user}
    )
    ConsentApproval.objects.get_or_create(
        version=version,
        site_id=participant.site_id,
        defaults={"effective_on": date(2000, 1, 1), "recorded_by": user},
    )
    ConsentSignature.objects.create(
        participant=participant,
        version=version,
        signed_on=signed_on or participant.icf_signed or date(2000, 1, 1),
        entered_by=user,
    )
