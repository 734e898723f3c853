"""Spreadsheet-safe cells and workbooks: text a person typed must never run as a formula when the file is opened."""

import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Text starting with a formula character gets a leading apostrophe; numbers, dates and None pass through."""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def workbook_bytes(sheets: Iterable[tuple[str, Sequence | None, Iterable[Sequence]]]) -> bytes:
    """An XLSX of (title, header, rows) sheets: a bold, frozen header row when there is one; every cell made safe."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title)
        if header:
            sheet.freeze_panes = "A2"
            cells = []
            for text in header:
                cell = WriteOnlyCell(sheet, value=safe_cell(text))
                cell.font = bold
                cells.append(cell)
            sheet.append(cells)
        for row in rows:
            sheet.append([safe_cell(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
