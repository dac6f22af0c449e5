from django.apps import AppConfig


class LabImportConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "labimport"
    verbose_name = "Hospital lab import"
