from typing import Any

from django.core.management.base import BaseCommand

from participants.demo import load_demo_data


class Command(BaseCommand):
    help = "Load demo sites, users and participants (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = load_demo_data()
        self.stdout.write(
            f"Demo data: {counts['users']} users and {counts['participants']} participants created."
        )
