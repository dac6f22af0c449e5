from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from adjudication.population import seed_population


class Command(BaseCommand):
    help = (
        "Add N participants over K sites (S01, S02, …): varied cohorts, stages and statuses, with "
        "records, stored evaluations and open escalations (benchmarks, load tests, demos)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("n", type=int, help="participants to add")
        parser.add_argument("--sites", type=int, default=10, help="sites to spread them over (default 10)")
        parser.add_argument("--seed", type=int, default=329, help="the same seed gives the same population")
        parser.add_argument(
            "--profiles",
            type=int,
            default=300,
            help="distinct cases entered and evaluated; the rest copy them",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["n"] < 1 or options["sites"] < 1:
            self.stderr.write("N and --sites must be at least 1.")
            raise SystemExit(2)
        report = seed_population(
            options["n"], sites=options["sites"], seed=options["seed"], profiles=options["profiles"]
        )
        self.stdout.write(
            f"{report.participants} participants over {report.sites} sites from {report.profiles} profiles: "
            f"{report.evaluations} evaluations, {report.open_escalations} open escalations, "
            f"in {report.seconds:.1f} s."
        )
