"""Docs that cannot rot: the README's console examples run and print what the README says."""

import re
import shlex
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from duly.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CONSOLE_BLOCKS = re.findall(r"```console\n(.*?)```", README, flags=re.DOTALL)


def console_examples() -> list[tuple[str, str]]:
    """Each ``$ duly ...`` line of the README and the output printed under it."""
    examples = []
    for block in CONSOLE_BLOCKS:
        lines = block.strip("\n").split("\n")
        command, output = lines[0], "\n".join(lines[1:])
        assert command.startswith("$ duly "), command
        examples.append((command[2:], output))
    return examples


def test_the_readme_has_console_examples():
    assert len(console_examples()) >= 3


@pytest.mark.parametrize(("command", "expected"), console_examples())
def test_a_readme_console_example_prints_what_the_readme_shows(command, expected, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, shlex.split(command)[1:])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == expected.strip()


def test_every_cli_command_is_documented_in_the_readme_or_docs():
    docs = README + "".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs").glob("*.md"))
    group = typer.main.get_group(app)
    for name in group.commands:
        if name == "version":
            continue
        assert f"duly {name}" in docs, f"`duly {name}` is not documented"


def test_the_readme_names_the_two_commands_that_ci_and_users_run():
    assert "python3 dev.py run" in README
    assert "python3 dev.py test" in README
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python3 dev.py test" in ci


def test_every_setting_read_from_the_environment_is_documented():
    docs = README + "".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs").glob("*.md"))
    code = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "src").rglob("*.py"))
    code += (ROOT / "tests" / "databases.py").read_text(encoding="utf-8")
    settings = set(re.findall(r"DULY_[A-Z_]+", code))
    assert "DULY_DATABASE_URL" in settings
    for name in sorted(settings):
        assert f"`{name}`" in docs, f"setting {name} is not documented"
