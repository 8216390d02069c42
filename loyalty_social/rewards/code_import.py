"""Code pools from a CSV file: every line checked first, bad lines reported with their line
numbers, and then all codes imported in one transaction or none (``offers.import_codes``).

The file: one code per line, in the first column; an optional header ``code``; blank lines
are skipped. A code is 1-200 printable characters without spaces at either end. A code twice
in the file is a bad line (the second); a code already in the pool is not (imports are
repeatable: it is simply not added again)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from ..errors import Problem
from . import offers

MAX_CODE = 200
MAX_REPORTED = 50  # bad lines listed (the count covers them all)
MAX_LINES = 1_000_000


@dataclass(frozen=True)
class Imported:
    lines: int
    codes: int
    added: int


def check(text: str) -> list[str]:
    """The codes of the file, or Problem ``validation-failed`` listing the bad lines."""
    if "\x00" in text:
        raise Problem("validation-failed", "The file holds a NUL byte: it is not a CSV text file.")
    codes: list[str] = []
    seen: dict[str, int] = {}
    errors: list[dict] = []
    bad = 0
    reader = csv.reader(io.StringIO(text, newline=""))
    for line, row in enumerate(reader, start=1):
        if line > MAX_LINES:
            raise Problem("validation-failed", f"More than {MAX_LINES} lines: split the file.")
        why = _problem(row, line, seen)
        if why == "skip":
            continue
        if why:
            bad += 1
            if len(errors) < MAX_REPORTED:
                errors.append({"line": line, "message": why})
            continue
        seen[row[0]] = line
        codes.append(row[0])
    if bad:
        raise Problem(
            "validation-failed",
            f"{bad} bad line(s); nothing was imported.",
            lines=errors,
            bad_lines=bad,
        )
    if not codes:
        raise Problem("validation-failed", "The file holds no codes.")
    return codes


def _problem(row: list[str], line: int, seen: dict[str, int]) -> str | None:
    cells = [c for c in row if c.strip()]
    if not cells:
        return "skip"
    if line == 1 and row[0].strip().lower() == "code" and len(cells) == 1:
        return "skip"
    if len(cells) > 1:
        return "one code per line (found several columns)"
    code = row[0]
    if not code:
        return "the code is in the first column"
    if code != code.strip():
        return "spaces before or after the code"
    if len(code) > MAX_CODE:
        return f"longer than {MAX_CODE} characters"
    if not code.isprintable():
        return "holds a control character"
    if code in seen:
        return f"the same code as line {seen[code]}"
    return None


def import_csv(offer_id: str, text: str) -> Imported:
    """Check the whole file, then import it (one transaction); what was added."""
    offers.get_offer(offer_id)
    codes = check(text)
    added = offers.import_codes(offer_id, codes)
    return Imported(
        lines=text.count("\n") + (0 if text.endswith("\n") else 1), codes=len(codes), added=added
    )
