"""Spreadsheet-safe cells and workbooks: text a person typed must never run as a formula when the file is opened.

In a CSV every cell is text until the spreadsheet guesses otherwise, so text that starts like a formula gets a
leading apostrophe (which shows). In an XLSX a cell says what it holds: such text is written as a text cell, marked
as typed with a quote prefix so that editing it keeps it text, and reads exactly as the person typed it.
"""

import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _formula_like(value) -> bool:
    return isinstance(value, str) and value[:1] in FORMULA_STARTS


def safe_cell(value):
    """For a CSV: text starting with a formula character gets a leading apostrophe; anything else passes through."""
    return "'" + value if _formula_like(value) else value


def _xlsx_cell(sheet, value, font=None):
    """For an XLSX: text starting with a formula character as a text cell (never a formula); anything else as is."""
    from openpyxl.cell import WriteOnlyCell

    if not _formula_like(value) and font is None:
        return value
    cell = WriteOnlyCell(sheet, value=value)
    if _formula_like(value):
        cell.data_type = "s"  # openpyxl takes a string starting with "=" for a formula
        cell.quotePrefix = True
    if font is not None:
        cell.font = font
    return cell


def workbook_bytes(sheets: Iterable[tuple[str, Sequence | None, Iterable[Sequence]]]) -> bytes:
    """An XLSX of (title, header, rows) sheets: a bold, frozen header row when there is one; every cell made safe."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title)
        if header:
            sheet.freeze_panes = "A2"
            sheet.append([_xlsx_cell(sheet, text, bold) for text in header])
        for row in rows:
            sheet.append([_xlsx_cell(sheet, v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
