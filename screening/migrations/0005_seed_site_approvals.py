"""Every existing site has used 2025-03-31.2 from the beginning: record that as an approval already
applied, so that nothing is re-evaluated and no site changes version until an administrator
activates an amendment for it."""

from django.db import migrations
from django.utils import timezone

FIRST_VERSION = "2025-03-31.2"


def seed(apps, schema_editor):
    ProtocolVersion = apps.get_model("screening", "ProtocolVersion")
    SiteApproval = apps.get_model("screening", "SiteApproval")
    Site = apps.get_model("participants", "Site")
    protocol = ProtocolVersion.objects.filter(version=FIRST_VERSION).first()
    if protocol is None:  # a database emptied after 0002 (tests): nothing to approve
        return
    now = timezone.now()
    SiteApproval.objects.bulk_create(
        [
            SiteApproval(site=site, protocol=protocol, approved_on=protocol.effective_from, applied_at=now)
            for site in Site.objects.exclude(protocol_approvals__protocol=protocol)
        ]
    )


class Migration(migrations.Migration):
    dependencies = [("screening", "0004_site_approval")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
