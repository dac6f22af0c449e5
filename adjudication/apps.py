from django.apps import AppConfig


class AdjudicationConfig(AppConfig):
    name = "adjudication"
    verbose_name = "Eligibility Adjudication Committee"

    def ready(self) -> None:
        from screening.services import evaluation_stored

        from .services import on_evaluation_stored

        evaluation_stored.connect(on_evaluation_stored, dispatch_uid="adjudication.sync_escalations")
