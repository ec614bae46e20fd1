"""`duly report monthly` over the shipped example config and events (March 2026).

Silver misses 4 of its 6 decided targets that month (2 of 6 met) and owes the 5 % credit tier;
gold meets all 6 and owes nothing.
"""

from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from duly.cli import app
from duly.service.monthly_report import pdf_converter

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "examples" / "sla.yaml"
EVENTS = ROOT / "examples" / "events.jsonl"
NOW = "2026-03-31T12:00:00Z"
runner = CliRunner()


def monthly(*args: str | Path) -> Result:
    base = ["report", "monthly", "-c", CONFIG, "-e", EVENTS, "--now", NOW, "--month", "2026-03"]
    return runner.invoke(app, [str(a) for a in (*base, *args)])


def test_the_command_writes_the_html_report_and_says_what_it_found(tmp_path):
    out = tmp_path / "silver.html"
    result = monthly("--agreement", "silver", "--out", out, "--tz", "Europe/Stockholm")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"wrote {out}: 6 measured, 33.33 % met; credit owed: 5 %"
    html = out.read_text(encoding="utf-8")
    HTMLParser().feed(html)
    assert html.startswith("<!doctype html>")
    assert "Silver support: service report" in html


def test_without_out_the_file_is_named_after_the_agreement_and_month(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = monthly("--agreement", "gold")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "wrote gold-2026-03.html: 6 measured, 100 % met; no credit owed"
    assert (tmp_path / "gold-2026-03.html").exists()


def test_a_ticket_url_links_the_breached_tickets(tmp_path):
    out = tmp_path / "silver.html"
    url = "https://desk.example.com/tickets/{id}"
    assert monthly("-a", "silver", "-o", out, "--ticket-url", url).exit_code == 0
    assert 'href="https://desk.example.com/tickets/T-1005"' in out.read_text(encoding="utf-8")


def test_an_unknown_agreement_is_refused_before_anything_is_written(tmp_path):
    out = tmp_path / "x.html"
    result = monthly("--agreement", "platinum", "--out", out)
    assert result.exit_code == 1
    assert "--agreement: no agreement 'platinum'" in result.stderr
    assert not out.exists()


def test_a_month_not_written_yyyy_mm_is_refused(tmp_path):
    args = ["report", "monthly", "-c", CONFIG, "-e", EVENTS, "-a", "gold", "--month", "03/2026"]
    result = runner.invoke(app, [str(a) for a in (*args, "-o", tmp_path / "x.html")])
    assert result.exit_code == 1
    assert "--month: '03/2026' is not a month; write it like 2026-03" in result.stderr
    assert not (tmp_path / "x.html").exists()


def test_without_a_converter_the_pdf_is_refused_but_the_html_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no chromium here
    out, pdf = tmp_path / "gold.html", tmp_path / "gold.pdf"
    result = monthly("-a", "gold", "-o", out, "--pdf", pdf)
    assert result.exit_code == 1
    assert "no PDF converter is installed" in result.stderr
    assert out.exists()
    assert not pdf.exists()


@pytest.mark.skipif(pdf_converter() is None, reason="Chromium is not installed")
def test_with_chromium_the_report_is_also_printed_to_pdf(tmp_path):
    out, pdf = tmp_path / "gold.html", tmp_path / "gold.pdf"
    result = monthly("-a", "gold", "-o", out, "--pdf", pdf)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith(f"wrote {pdf}")
    assert pdf.read_bytes().startswith(b"%PDF")
