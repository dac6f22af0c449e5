from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from audit.roles import grant_runtime_role


class Command(BaseCommand):
    help = (
        "Give the application's runtime database role its privileges (run as the owner after "
        "`migrate`): SELECT and INSERT only on the history tables, no ownership of anything."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("role", help="The runtime role, e.g. allo329_app (it must exist).")

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            grant_runtime_role(options["role"])
        self.stdout.write(f"Runtime privileges granted to {options['role']}.")
