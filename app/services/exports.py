"""Spreadsheet-safe cells: text a person typed must never run as a formula when the file is opened."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Text starting with a formula character gets a leading apostrophe; numbers, dates and None pass through."""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value
