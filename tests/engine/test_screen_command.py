"""The `screen` command: a file, a directory (one bad file among good ones), stdin, text, --as-of."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from screening.cli import case_files, run_screen
from screening.criteria import dumps, evaluate, evaluation_to_json, load_case

from .helpers import CASES, DATA, REPO, base

ENV_URLS = {
    "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/allo_engine"),
    "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1"),
}


def screen(*args: str, stdin: str = "") -> tuple[int, str, str]:
    """run_screen in process, the way the management command calls it."""
    out, err = io.StringIO(), io.StringIO()
    fmt = "json"
    as_of = None
    paths: list[str] = []
    items = list(args)
    while items:
        a = items.pop(0)
        if a == "--format":
            fmt = items.pop(0)
        elif a == "--as-of":
            from datetime import date

            as_of = date.fromisoformat(items.pop(0))
        else:
            paths.append(a)
    status = run_screen(paths, as_of, fmt, out, err, io.StringIO(stdin))
    return status, out.getvalue(), err.getvalue()


def manage(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **ENV_URLS}
    return subprocess.run(
        [sys.executable, str(REPO / "manage.py"), "screen", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )


def write(path: Path, data: Any) -> Path:
    path.write_text(dumps(data, indent=2), encoding="utf-8")
    return path


def expected_json(data: dict[str, Any]) -> Any:
    return json.loads(dumps(evaluation_to_json(evaluate(load_case(data)))), parse_float=Decimal)


def test_one_file_prints_the_result_object(tmp_path: Path) -> None:
    path = write(tmp_path / "a.json", base())
    status, out, err = screen(str(path))
    assert (status, err) == (0, "")
    result = json.loads(out, parse_float=Decimal)
    assert result == expected_json(base())
    assert list(result) == [
        "case_id",
        "protocol_version",
        "as_of",
        "overall",
        "valid_until",
        "eligible_from",
        "criteria",
    ]
    assert len(result["criteria"]) == 57
    assert list(result["criteria"][0]) == [
        "id",
        "outcome",
        "review_by",
        "reason",
        "missing",
        "valid_until",
        "eligible_from",
        "repeat_from",
        "evidence_digest",
        "evidence",
    ]


def test_directory_with_one_bad_file_prints_the_others_and_exits_2(tmp_path: Path) -> None:
    good = base()
    write(tmp_path / "a-good.json", good)
    bad = base()
    bad["case_id"] = "bad"
    bad["labs"][0]["unit"] = "mg/dL"
    write(tmp_path / "b-bad.json", bad)
    other = base("ssc-male-eligible")
    write(tmp_path / "c-good.json", other)
    status, out, err = screen(str(tmp_path))
    assert status == 2
    results = json.loads(out, parse_float=Decimal)
    assert [r["case_id"] for r in results] == [good["case_id"], other["case_id"]]
    assert str(tmp_path / "b-bad.json") in err
    assert "labs/0/unit" in err
    assert "a-good.json" not in err and "c-good.json" not in err


def test_directory_skips_schema_documents_and_subdirectories(tmp_path: Path) -> None:
    write(tmp_path / "case.json", base())
    (tmp_path / "schema.json").write_text(
        json.dumps({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"}),
        encoding="utf-8",
    )
    (tmp_path / "expected").mkdir()
    (tmp_path / "expected" / "case.json").write_text(
        '{"overall": "ELIGIBLE", "criteria": {}}', encoding="utf-8"
    )
    (tmp_path / "notes.txt").write_text("not a case", encoding="utf-8")
    assert case_files(tmp_path) == [str(tmp_path / "case.json"), str(tmp_path / "schema.json")]
    status, out, err = screen(str(tmp_path))
    assert (status, err) == (0, "")
    assert len(json.loads(out)) == 1


def test_a_schema_document_named_on_its_own_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "schema.json"
    path.write_text(json.dumps({"$schema": "x"}), encoding="utf-8")
    status, out, err = screen(str(path))
    assert status == 2 and out == ""
    assert str(path) in err


def test_empty_directory_prints_an_empty_array(tmp_path: Path) -> None:
    assert screen(str(tmp_path)) == (0, "[]\n", "")


def test_stdin(tmp_path: Path) -> None:
    status, out, err = screen("-", stdin=dumps(base()))
    assert (status, err) == (0, "")
    assert json.loads(out, parse_float=Decimal) == expected_json(base())


def test_stdin_invalid_json_names_the_input() -> None:
    status, out, err = screen("-", stdin="{not json")
    assert status == 2 and out == ""
    assert err.startswith("<stdin>: invalid JSON")


def test_text_format_is_a_per_criterion_report(tmp_path: Path) -> None:
    path = write(tmp_path / "a.json", base())
    status, out, err = screen("--format", "text", str(path))
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("sle-eligible: ELIGIBLE (as of 2025-06-16, protocol 2025-03-31.2")
    assert any("inc.heme.anc" in line and "ANC" in line and "1000" in line for line in lines)
    ids = [line.split()[1] for line in lines if line.startswith("    ")]
    assert len(ids) == 57


def test_as_of_replaces_the_evaluation_date(tmp_path: Path) -> None:
    path = write(tmp_path / "a.json", base())
    status, out, _ = screen("--as-of", "2025-07-02", str(path))
    assert status == 0
    result = json.loads(out)
    assert result["as_of"] == "2025-07-02"
    # The labs of 2025-06-03 leave the window of an enrollment on 2025-07-02 (window start 2025-06-04).
    anc = next(r for r in result["criteria"] if r["id"] == "inc.heme.anc")
    assert anc["outcome"] == "MISSING" and anc["repeat_from"] == "2025-06-04"


def test_missing_file_exits_2(tmp_path: Path) -> None:
    status, out, err = screen(str(tmp_path / "absent.json"))
    assert status == 2 and out == ""
    assert "absent.json" in err


def test_exact_decimals_survive_the_output(tmp_path: Path) -> None:
    data = base("ssc-male-eligible")
    for lab in data["labs"]:
        if lab["test"] == "fvc_pct_pred":
            lab["value"] = Decimal("39.99999999999999999999")
    data.setdefault("facts", {})["autoimmune_lung_disease"] = True
    path = write(tmp_path / "a.json", data)
    status, out, _ = screen(str(path))
    assert status == 0
    assert "39.99999999999999999999" in out
    result = json.loads(out, parse_float=Decimal)
    lung = next(r for r in result["criteria"] if r["id"] == "exc.lung_function")
    assert lung["outcome"] == "REVIEW"


@pytest.mark.slow
def test_manage_py_screen_file_directory_and_stdin(tmp_path: Path) -> None:
    write(tmp_path / "a.json", base())
    bad = base()
    del bad["dates"]["as_of"]
    write(tmp_path / "b.json", bad)
    proc = manage(str(tmp_path))
    assert proc.returncode == 2
    assert len(json.loads(proc.stdout)) == 1
    assert "b.json: dates: 'as_of' is a required property" in proc.stderr
    proc = manage(str(DATA / "sle-eligible.json"), "--format", "text", "--as-of", "2025-06-17")
    assert proc.returncode == 0, proc.stderr
    assert "as of 2025-06-17" in proc.stdout
    proc = manage("-", stdin=(DATA / "iim-eligible.json").read_text(encoding="utf-8"))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["case_id"] == "iim-eligible"


@pytest.mark.slow
@pytest.mark.skipif(not CASES.is_dir(), reason=f"shared examples folder {CASES} is absent")
def test_manage_py_screen_on_the_shared_cases_exits_0() -> None:
    proc = manage(str(CASES))
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    names = sorted(p.stem for p in CASES.glob("*.json") if p.name != "schema.json")
    assert sorted(r["case_id"] for r in results) == names
    for r in results:
        want = json.loads((CASES / "expected" / f"{r['case_id']}.json").read_text(encoding="utf-8"))
        assert r["overall"] == want["overall"]


def test_a_large_directory_is_screened_in_worker_processes_in_file_order(tmp_path: Path) -> None:
    names = []
    for i in range(230):
        data = base(["sle-eligible", "iim-eligible", "ssc-male-eligible", "sle-ln-eligible"][i % 4])
        data["case_id"] = f"case-{i:03d}"
        names.append(data["case_id"])
        write(tmp_path / f"case-{i:03d}.json", data)
    bad = base()
    bad["labs"][0]["collected"] = "2025-13-01"
    write(tmp_path / "case-100-bad.json", bad)
    status, out, err = screen(str(tmp_path))
    assert status == 2
    assert [r["case_id"] for r in json.loads(out)] == names
    assert err.startswith(f"{tmp_path / 'case-100-bad.json'}: labs/0/collected: ")
    assert len(out.splitlines()) == 232  # "[", one line per case, "]"
