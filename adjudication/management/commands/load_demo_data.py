from typing import Any

from django.core.management.base import BaseCommand

from adjudication.demo import load_demo_escalations
from screening.demo import load_demo_data


class Command(BaseCommand):
    help = "Load demo sites, users and participants (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = load_demo_data()
        # Review items for every demo reviewer (after the sites and users exist).
        review = load_demo_escalations()
        self.stdout.write(
            f"Demo data: {counts['users']} users and {counts['participants'] + review['participants']}"
            " participants created."
        )
