"""Hand the decisions already reached over to the evaluation layer (screening.Adjudication), which
the engine now reads them from. Oldest first, keeping each decision's time, so that the engine's
"latest wins" order is unchanged. Nothing is removed from the committee's own records."""

from django.db import migrations


def hand_over(apps, schema_editor):
    EscalationDecision = apps.get_model("adjudication", "EscalationDecision")
    Adjudication = apps.get_model("screening", "Adjudication")
    taken = set(Adjudication.objects.exclude(source_id=None).values_list("source_id", flat=True))
    Adjudication.objects.bulk_create(
        [
            Adjudication(
                participant_id=d.escalation.participant_id,
                criterion_id=d.criterion_id,
                review_by=d.review_by,
                decision=d.decision,
                date=d.date,
                evidence_digest=d.evidence_digest,
                source_id=d.pk,
                recorded_at=d.decided_at,
            )
            for d in EscalationDecision.objects.select_related("escalation").order_by("decided_at", "pk")
            if d.pk not in taken
        ]
    )


def take_back(apps, schema_editor):
    # screening.Adjudication is append-only (a database trigger): its table goes with the
    # screening migration that created it.
    pass


class Migration(migrations.Migration):
    dependencies = [
        ("adjudication", "0003_alter_signature_signer_name"),
        ("screening", "0003_adjudication"),
    ]

    operations = [migrations.RunPython(hand_over, take_back)]
