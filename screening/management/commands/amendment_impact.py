"""manage.py amendment_impact VERSION [--site CODE] [--as-of DATE] [--csv PATH] [--processes N]: what
a candidate protocol version would change for the participants still in screening, without storing
anything. The chunks are evaluated by N forked processes (default: one per CPU)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from exports import csv_chunks
from participants.models import Participant, Site
from screening import criteria
from screening.impact import PARTICIPANT_HEADER, impact_report, participant_rows


class Command(BaseCommand):
    help = "Impact report of a candidate protocol version (nothing is stored)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("version", help="the candidate protocol version, e.g. 2025-11-14.3")
        parser.add_argument("--site", help="one site's code (default: the whole trial)")
        parser.add_argument("--as-of", type=date.fromisoformat, help="evaluation date (default: today)")
        parser.add_argument(
            "--csv", type=Path, help="also write one row per participant and changed criterion"
        )
        parser.add_argument(
            "--processes",
            type=int,
            default=os.cpu_count() or 1,
            help="processes evaluating the chunks (default: one per CPU)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        version: str = options["version"]
        if version not in criteria.PROTOCOL_VERSIONS:
            known = ", ".join(sorted(criteria.PROTOCOL_VERSIONS))
            raise CommandError(f"unknown protocol version {version!r}; known: {known}")
        participants = Participant.objects.all()
        site_code = options["site"] or ""
        if site_code:
            site = Site.objects.filter(code=site_code).first()
            if site is None:
                raise CommandError(f"no site {site_code!r}")
            participants = participants.filter(site=site)
        as_of = options["as_of"] or timezone.localdate()
        report = impact_report(
            version, participants, as_of, site_code=site_code, processes=max(1, options["processes"])
        )
        out = self.stdout
        scope = f"site {site_code}" if site_code else "the whole trial"
        out.write(f"Impact of protocol {version} on {scope}, as of {as_of.isoformat()}")
        out.write(
            f"{report.evaluated} participants evaluated, {len(report.impacts)} with a changed criterion, "
            f"{report.status_changed} with a changed overall status"
        )
        for code, c in sorted(report.per_site.items()):
            out.write(
                f"  site {code}: {c.evaluated} evaluated, {c.changed} changed, {c.status_changed} status changes"
                + (f", {c.refused} refused by the engine" if c.refused else "")
            )
        out.write("Changes per criterion:")
        for cid, title, before, after, n in report.criterion_rows():
            out.write(f"  {cid} {before} → {after}: {n}  ({title})")
        out.write("Participants whose overall status changes:")
        for i in report.impacts:
            if i.status_changed:
                changes = ", ".join(c.text for c in i.changes)
                out.write(
                    f"  {i.screening_number} ({i.site_code}): {i.status_before} → {i.status_after}; {changes}"
                )
        if options["csv"]:
            # The exports pipeline's CSV: formulas neutralised, as in every download.
            with options["csv"].open("w", newline="", encoding="utf-8") as f:
                f.writelines(csv_chunks(PARTICIPANT_HEADER, participant_rows(report)))
            out.write(f"Written: {options['csv']}")
