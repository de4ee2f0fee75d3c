"""CSV cells that a spreadsheet shows as text, never runs as a formula.

Spreadsheets read a cell starting with ``=``, ``+``, ``-`` or ``@`` (and, in some, a tab or
carriage return) as a formula: a dismissal reason written ``=HYPERLINK("http://…","appeal")``
would run on the auditor's machine when the export is opened (issue 21). Such text cells get a
leading ``'``, which spreadsheets hide and which keeps the text readable as it was written.
Numbers are left as they are (a negative count stays a number).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """``value`` as a CSV writer should get it: text that starts like a formula is quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def row(values: Iterable[Any]) -> list[Any]:
    return [cell(v) for v in values]
