from django.apps import AppConfig


class AdjudicationConfig(AppConfig):
    name = "adjudication"
    verbose_name = "Eligibility Adjudication Committee"

    def ready(self) -> None:
        from screening.evaluation import evaluations_stored
        from screening.pages import register_participant_panel

        from .selectors import escalations_panel
        from .services import on_evaluations_stored

        evaluations_stored.connect(on_evaluations_stored, dispatch_uid="adjudication.sync_escalations")
        register_participant_panel("escalations", escalations_panel)
