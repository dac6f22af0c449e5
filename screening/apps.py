from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "screening"
    verbose_name = "Screening and eligibility"

    def ready(self) -> None:
        # The participants layer announces changes and asks for results; screening answers here.
        from django.db.models.signals import post_save

        from participants.changes import records_changed, records_changed_many, records_saved
        from participants.extensions import provide_expiring_soon, provide_protocol_version_in_force
        from participants.models import Participant

        from .protocols import version_in_force
        from .selectors import expiring_soon
        from .services import (
            on_participant_saved,
            on_records_changed,
            on_records_changed_many,
            on_records_saved,
        )

        post_save.connect(
            on_participant_saved, sender=Participant, dispatch_uid="screening.state_of_new_participant"
        )

        records_changed.connect(on_records_changed, dispatch_uid="screening.mark_for_reevaluation")
        records_changed_many.connect(
            on_records_changed_many, dispatch_uid="screening.mark_many_for_reevaluation"
        )
        records_saved.connect(on_records_saved, dispatch_uid="screening.evaluate_after_save")
        provide_expiring_soon(expiring_soon)
        provide_protocol_version_in_force(version_in_force)
