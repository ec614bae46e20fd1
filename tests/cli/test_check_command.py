"""`duly check`: a summary and exit 0 for a usable config, every problem and exit 1 otherwise."""

import re
from pathlib import Path

from typer.testing import CliRunner

from duly.cli import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "sla.yaml"
runner = CliRunner()
PROBLEM_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<field>[^:]+): (?P<reason>.+)$")

BROKEN = """\
priorities: [low, high]
agreements:
  - id: gold
    kind: gold
    policies:
      - id: all
        targets:
          first_reply: {within: 1x, calendar: nowhere}
"""


def test_the_example_config_passes_with_a_summary_of_what_it_holds():
    result = runner.invoke(app, ["check", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "ok: 4 agreements, 7 policies, 2 calendars\n"


def test_a_broken_config_prints_every_problem_as_file_line_field_reason_and_exits_1(tmp_path):
    config = tmp_path / "sla.yaml"
    config.write_text(BROKEN, encoding="utf-8")
    result = runner.invoke(app, ["check", str(config)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    parsed = [PROBLEM_LINE.match(line) for line in lines]
    assert all(parsed), lines
    assert [(m["file"], m["line"], m["field"]) for m in parsed if m] == [
        (str(config), "4", "agreements[0].kind"),
        (str(config), "8", "agreements[0].policies[0].targets.first_reply.within"),
        (str(config), "8", "agreements[0].policies[0].targets.first_reply.calendar"),
    ]
    assert lines[0].endswith("unknown kind 'gold'; expected one of sla, ola, uc")
    assert result.stderr == f"3 problems in {config}\n"


def test_a_folder_is_checked_as_one_config(tmp_path):
    (tmp_path / "calendars.yaml").write_text("calendars: {office: 24x7}\n", encoding="utf-8")
    (tmp_path / "gold.yml").write_text(
        "agreements:\n"
        "  - id: gold\n"
        "    policies: [{id: all, targets: {resolution: {within: 8h, calendar: office}}}]\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "ok: 1 agreement, 1 policy, 1 calendar\n"


def test_a_duplicate_across_the_files_of_a_folder_fails_the_check(tmp_path):
    (tmp_path / "a.yaml").write_text("agreements: [{id: gold}]\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("agreements: [{id: gold}]\n", encoding="utf-8")
    result = runner.invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stdout == (
        f"{tmp_path / 'b.yaml'}:1: agreements[0].id: duplicate agreement id 'gold'; "
        f"first defined at {tmp_path / 'a.yaml'}:1\n"
    )


def test_a_yaml_syntax_error_is_printed_with_its_line(tmp_path):
    config = tmp_path / "sla.yaml"
    config.write_text("agreements:\n  - id: gold\n    name: [open\n", encoding="utf-8")
    result = runner.invoke(app, ["check", str(config)])
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{config}:")
    assert "not valid YAML" in result.stdout
    assert result.stderr == f"1 problem in {config}\n"


def test_a_missing_config_fails_with_its_path(tmp_path):
    missing = tmp_path / "nope.yaml"
    result = runner.invoke(app, ["check", str(missing)])
    assert result.exit_code == 1
    assert result.stdout == f"{missing}: no such file or folder\n"


def test_check_is_listed_in_the_help_and_describes_its_argument():
    assert "check" in runner.invoke(app, ["--help"]).output
    result = runner.invoke(app, ["check", "--help"])
    assert result.exit_code == 0
    words = " ".join(result.output.split())
    assert "duly check [OPTIONS] {CONFIG}" in words
    assert "FILE:LINE: FIELD: REASON" in words
