from __future__ import annotations

import sys
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from screening.cli import run_screen


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--as-of: {value!r} is not a date YYYY-MM-DD") from exc


class Command(BaseCommand):
    help = (
        "Evaluate screening-case files with the criteria engine. PATH is a case file, a directory of "
        "case files, or - for standard input. Cases are evaluated under the protocol version they name "
        "(the current one when they name none) unless --protocol overrides it. Exit status 2 when an input "
        "fails validation or --protocol names an unknown version."
    )
    requires_system_checks: list[str] = []  # pure engine work: no database, no checks

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--as-of", dest="as_of", type=_date, default=None, help="evaluation date")
        parser.add_argument("--format", dest="fmt", choices=["json", "text"], default="json")
        parser.add_argument(
            "--protocol",
            dest="protocol",
            default=None,
            metavar="VERSION",
            help="evaluate every case under this protocol version, whatever the cases name",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        status = run_screen(
            options["paths"],
            options["as_of"],
            options["fmt"],
            sys.stdout,
            sys.stderr,
            sys.stdin,
            options["protocol"],
        )
        if status:
            sys.exit(status)
