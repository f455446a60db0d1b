"""CSV responses: a header row, then the rows a batch of lines at a time; timestamps ISO 8601 UTC, empty
cells for null, and text a spreadsheet would run as a formula quoted (CSV injection)."""

import csv
import io
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from fastapi.responses import StreamingResponse

from app.domain.clock import as_utc

BATCH_ROWS = 1000
FORMULA_STARTS = frozenset("=+-@\t\r")


def csv_response(
    columns: Sequence[str], rows: AsyncIterator[Mapping[str, Any]], filename: str
) -> StreamingResponse:
    return StreamingResponse(
        csv_lines(columns, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def csv_lines(columns: Sequence[str], rows: AsyncIterator[Mapping[str, Any]]) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    pending = 0
    async for row in rows:
        writer.writerow([_cell(row.get(name)) for name in columns])
        pending += 1
        if pending >= BATCH_ROWS:
            yield _drain(buffer)
            pending = 0
    yield _drain(buffer)


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, str) and value[:1] in FORMULA_STARTS and not _is_number(value):
        return "'" + value
    return "" if value is None else value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
