"""The worked examples of shared/labs give exactly their expected dry-run output."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.factories import SiteFactory

from .helpers import EXAMPLES, LABS, exact


def stage(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("stage_labs", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize("name", EXAMPLES)
def test_example_matches_expected_exactly(name: str) -> None:
    SiteFactory(code="S01")
    out, _ = stage(str(LABS / name), "--site", "S01", "--format", "json")
    expected = (LABS / "expected" / (name.rsplit(".", 1)[0] + ".json")).read_text(encoding="utf-8")
    assert exact(out) == exact(expected)


@pytest.mark.django_db
def test_time_zone_of_the_dates(settings) -> None:  # type: ignore[no-untyped-def]
    SiteFactory(code="S01")
    out, _ = stage(str(LABS / "oru-r01.hl7"), "--site", "S01", "--tz", "America/Chicago", "--format", "json")
    output = json.loads(out)
    assert output["time_zone"] == "America/Chicago"
    # The HIV result was collected 2025-06-02 20:30 in Chicago: 2025-06-03 in UTC.
    hiv = [row for row in output["rows"] if row["test"] == "hiv_ag_ab"]
    assert [row["collected"] for row in hiv] == ["2025-06-02"]
    settings.TIME_ZONE = "America/Chicago"
    out, _ = stage(str(LABS / "oru-r01.hl7"), "--site", "S01", "--format", "json")
    assert json.loads(out)["time_zone"] == "America/Chicago"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args, message",
    [
        (["/nonexistent/file.json", "--site", "S01"], "no such file"),
        ([str(LABS / "oru-r01.hl7"), "--site", "X99"], "unknown site"),
        ([str(LABS / "oru-r01.hl7"), "--site", "S01", "--tz", "Mars/Olympus"], "unknown time zone"),
    ],
)
def test_usage_errors_exit_2_with_nothing_on_stdout(args: list[str], message: str) -> None:
    SiteFactory(code="S01")
    out = io.StringIO()
    with pytest.raises(CommandError, match=message) as caught:
        call_command("stage_labs", *args, "--format", "json", stdout=out)
    assert caught.value.returncode == 2
    assert out.getvalue() == ""


@pytest.mark.django_db
def test_refused_file_exits_1_and_still_prints_the_object(tmp_path) -> None:  # type: ignore[no-untyped-def]
    SiteFactory(code="S01")
    path = tmp_path / "report.json"
    path.write_text('{"resourceType": "Bundle", "type": "document", "entry": []}', encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("stage_labs", str(path), "--site", "S01", "--format", "json", stdout=out)
    assert caught.value.returncode == 1
    output = json.loads(out.getvalue())
    assert output["format"] == "fhir-bundle"
    assert output["rows"] == [] and output["ignored"] == {}
    assert "document" in output["refused"]


@pytest.mark.django_db
def test_text_format_for_people() -> None:
    SiteFactory(code="S01")
    out, _ = stage(str(LABS / "observations.ndjson"), "--site", "S01")
    assert "observations.ndjson for site S01" in out
    assert "supersede" in out and "[duplicate, unmatched-patient]" in out
    assert "ignored: Patient 1" in out


@pytest.mark.django_db
def test_dry_run_writes_nothing(django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    from labimport.models import ImportedRow

    SiteFactory(code="S01")
    # Site, identifiers, earlier imports: a fixed number of queries, whatever the file's size.
    with django_assert_max_num_queries(3):
        stage(str(LABS / "synthea-transaction.json"), "--site", "S01", "--format", "json")
    assert not ImportedRow.objects.exists()
