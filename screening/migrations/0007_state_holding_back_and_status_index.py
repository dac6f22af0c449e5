"""What holds a participant back, stored with the status (the dashboard reads no criterion rows),
filled from each participant's latest evaluation; an index for the status counts and pages."""

from typing import Any

from django.db import migrations, models

from screening.criteria import CRITERIA

TITLES = {c.id: c.title for c in CRITERIA}
BUCKETS = {"FAIL": "failing", "MISSING": "missing", "REVIEW": "reviews"}


def fill(apps: Any, schema_editor: Any) -> None:
    ScreeningState = apps.get_model("screening", "ScreeningState")
    Evaluation = apps.get_model("screening", "Evaluation")
    CriterionResult = apps.get_model("screening", "CriterionResult")
    latest: dict[int, Any] = {}
    for pk, participant_id, eligible_from in (
        Evaluation.objects.order_by("participant_id", "-sequence")
        .distinct("participant_id")
        .values_list("pk", "participant_id", "eligible_from")
        .iterator(chunk_size=5000)
    ):
        latest[pk] = (participant_id, eligible_from)
    ids = list(latest)
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        summaries = {pk: {"failing": [], "missing": [], "reviews": [], "eligible_from": None} for pk in chunk}
        for evaluation_id, criterion_id, outcome in (
            CriterionResult.objects.filter(evaluation_id__in=chunk, outcome__in=list(BUCKETS))
            .order_by("evaluation_id", "position")
            .values_list("evaluation_id", "criterion_id", "outcome")
        ):
            summaries[evaluation_id][BUCKETS[outcome]].append(
                [criterion_id, TITLES.get(criterion_id, criterion_id)]
            )
        states = []
        for pk, summary in summaries.items():
            participant_id, eligible_from = latest[pk]
            if summary["failing"] and eligible_from is not None:
                summary["eligible_from"] = eligible_from.isoformat()
            states.append(ScreeningState(participant_id=participant_id, holding_back=summary))
        ScreeningState.objects.bulk_update(states, ["holding_back"])


class Migration(migrations.Migration):
    dependencies = [
        ("participants", "0003_evaluation_columns_to_screening"),
        ("screening", "0006_site_approvals_and_screening_state"),
    ]

    operations = [
        migrations.AddField(
            model_name="screeningstate",
            name="holding_back",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddIndex(
            model_name="screeningstate",
            index=models.Index(fields=["status", "participant"], name="state_status_participant"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
