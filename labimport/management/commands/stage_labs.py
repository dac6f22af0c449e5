"""`manage.py stage_labs FILE --site CODE [--tz ZONE] [--format json|text]`: the dry run of a lab file.

Writes nothing. Exit status 0 when the file was read, 1 when it is refused (the object is still
printed), 2 for a usage error (message on stderr, nothing on stdout). See shared/labs/README.md § 1.
"""

from __future__ import annotations

import io
import os
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from labimport.dryrun import DryRun, write_json
from labimport.matching import site_dry_run
from participants.models import Site

USAGE = 2
REFUSED = 1


class _Verbatim:
    """Writes to a command's output as given (OutputWrapper ends every write with a newline)."""

    def __init__(self, out: OutputWrapper) -> None:
        self.out = out

    def write(self, text: str) -> None:
        self.out.write(text, ending="")


class Command(BaseCommand):
    help = "Show what importing a FHIR R4 or HL7 v2 lab file for a site would stage; writes nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--site", required=True, help="the site's code")
        parser.add_argument(
            "--tz", help="IANA time zone of collection dates (default: the site's, else TIME_ZONE)"
        )
        parser.add_argument("--format", choices=["json", "text"], default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        path: str = options["file"]
        if not os.path.isfile(path):
            raise CommandError(f"no such file: {path}", returncode=USAGE)
        site = Site.objects.filter(code=options["site"]).first()
        if site is None:
            raise CommandError(f"unknown site: {options['site']}", returncode=USAGE)
        zone_name = options["tz"] or getattr(site, "time_zone", "") or settings.TIME_ZONE
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise CommandError(f"unknown time zone: {zone_name}", returncode=USAGE) from None
        run = site_dry_run(site, path, zone=zone, zone_name=zone_name)
        if options["format"] == "json":
            read = write_json(run, _Verbatim(self.stdout))
        else:
            read = self._write_text(run)
        if not read:
            raise CommandError(f"refused: {run.refused}", returncode=REFUSED)

    def _write_text(self, run: DryRun) -> bool:
        """A table for people: one line per row, then the counts."""
        out = io.StringIO()
        out.write(
            f"{run.file} for site {run.site}, dates in {run.time_zone}: {run.format or 'unknown format'}\n"
        )
        actions: dict[str, int] = {}
        for n, row in enumerate(run.rows, start=1):
            actions[row.action] = actions.get(row.action, 0) + 1
            value = "" if row.value is None else f"{row.value} {row.unit or ''}".strip()
            if row.uln is not None:
                value += f" (ULN {row.uln})"
            patient = row.participant or (f"{row.patient.system}|{row.patient.value}" if row.patient else "-")
            out.write(
                f"{n:>5} {row.action:<9} {row.test or '-':<14} {value or '-':<24} "
                f"{row.collected or '-'}  {patient}  {row.source or '-'}"
                + (f"  [{', '.join(row.problems)}]" if row.problems else "")
                + "\n"
            )
        if run.refused:
            out.write(f"refused: {run.refused}\n")
        else:
            out.write(
                ", ".join(f"{count} {action}" for action, count in sorted(actions.items())) or "no rows"
            )
            out.write("\n")
            if run.ignored:
                out.write("ignored: " + ", ".join(f"{k} {v}" for k, v in sorted(run.ignored.items())) + "\n")
        self.stdout.write(out.getvalue(), ending="")
        return run.refused is None
