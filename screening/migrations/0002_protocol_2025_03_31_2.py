from datetime import date

from django.db import migrations


def add_protocol(apps, schema_editor):
    ProtocolVersion = apps.get_model("screening", "ProtocolVersion")
    ProtocolVersion.objects.update_or_create(
        version="2025-03-31.2",
        defaults={"title": "ALLO-329 eligibility criteria, catalogue 2025-03-31.2",
                  "effective_from": date(2025, 3, 31), "is_current": True},
    )


class Migration(migrations.Migration):
    dependencies = [("screening", "0001_initial")]
    operations = [migrations.RunPython(add_protocol, migrations.RunPython.noop)]
