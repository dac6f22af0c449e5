"""manage.py verify_evaluations [--site CODE] [--chunk-size N] [--json]: re-run the engine on every
participant's current data and compare with its stored evaluation (screening/verification.py).
Exit status 1 when a participant's stored evaluation does not match its data, is stale, or is
still pending."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from participants.models import Site
from screening.models import ScreeningState
from screening.verification import CHUNK_SIZE, summary_json, verify_evaluations


class Command(BaseCommand):
    help = "Check that every participant's stored evaluation is what the engine gives on its data."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--site", help="one site's code (default: every participant)")
        parser.add_argument("--chunk-size", type=int, default=CHUNK_SIZE)
        parser.add_argument("--json", action="store_true", help="print the counts as one JSON line")

    def handle(self, *args: Any, **options: Any) -> None:
        states = ScreeningState.objects.all()
        if options["site"]:
            site = Site.objects.filter(code=options["site"]).first()
            if site is None:
                raise CommandError(f"no site {options['site']!r}")
            states = states.filter(participant__site=site)
        started = time.monotonic()
        report = verify_evaluations(states, chunk_size=options["chunk_size"])
        seconds = time.monotonic() - started
        out = self.stdout
        if options["json"]:
            out.write(summary_json(report))
        else:
            out.write(
                f"{report.checked} participants checked in {seconds:.1f} s: {report.matched} match their "
                f"data, {report.never_evaluated} never evaluated, {report.changed_after_outcome} changed "
                f"after their outcome; {report.pending} pending, {report.stale} stale, "
                f"{report.mismatched} not matching, {report.refused} refused by the engine"
            )
        for problem in report.problems:
            out.write(f"  {problem}")
        if not report.ok:
            raise SystemExit(1)
