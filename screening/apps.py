from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "screening"
    verbose_name = "Screening and eligibility"

    def ready(self) -> None:
        # The participants layer announces changes and asks for results; screening answers here.
        from participants.changes import records_changed, records_saved
        from participants.extensions import provide_latest_results, provide_protocol_version_in_force

        from .protocols import version_in_force
        from .selectors import latest_results
        from .services import on_records_changed, on_records_saved

        records_changed.connect(on_records_changed, dispatch_uid="screening.mark_for_reevaluation")
        records_saved.connect(on_records_saved, dispatch_uid="screening.evaluate_after_save")
        provide_latest_results(latest_results)
        provide_protocol_version_in_force(version_in_force)
