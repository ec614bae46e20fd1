"""Rows of a report printed as a table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from duly.core.durations import format_duration


class Format(StrEnum):
    """How a report is printed."""

    table = "table"
    csv = "csv"
    json = "json"


def _cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and column.endswith("_s"):
        return format_duration(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def emit(
    rows: Iterable[Mapping[str, Any]],
    fmt: Format,
    columns: Sequence[str] = (),
    labels: Mapping[str, str] | None = None,
) -> None:
    """Print ``rows`` in ``fmt``; ``columns`` fixes the column order (else the first row's);
    ``labels`` renames table headers (CSV and JSON keep the column names)."""
    data = list(rows)
    names = list(columns) or (list(data[0]) if data else [])
    if fmt is Format.json:
        typer.echo(json.dumps(data, default=str, indent=2))
        return
    if fmt is Format.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=names, lineterminator="\n")
        writer.writeheader()
        for row in data:
            writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in names})
        typer.echo(buffer.getvalue(), nl=False)
        return
    table = Table(show_lines=False)
    for name in names:
        label = (labels or {}).get(name, name).removesuffix("_s")
        table.add_column(label.replace("_", " "), overflow="fold")
    for row in data:
        table.add_row(*(_cell(k, row.get(k)) for k in names))
    Console(width=max(120, 14 * len(names))).print(table)
