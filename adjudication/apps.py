from django.apps import AppConfig


class AdjudicationConfig(AppConfig):
    name = "adjudication"
    verbose_name = "Eligibility Adjudication Committee"

    def ready(self) -> None:
        from screening.evaluation import evaluations_stored
        from screening.outcomes import outcome_recorded
        from screening.pages import register_participant_panel

        from .selectors import escalations_panel
        from .services import on_evaluations_stored, on_outcome_recorded

        evaluations_stored.connect(on_evaluations_stored, dispatch_uid="adjudication.sync_escalations")
        outcome_recorded.connect(on_outcome_recorded, dispatch_uid="adjudication.outcome_withdraws_escalations")
        register_participant_panel("escalations", escalations_panel)
