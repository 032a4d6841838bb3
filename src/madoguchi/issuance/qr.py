"""QR codes as PDF path operators; imports nothing but segno, so worker processes start fast."""

from __future__ import annotations

import segno


def qr_path_literal(payload: str) -> tuple[int, str]:
    """(modules per side, PDF path operators filling the dark modules, in module units).

    One rectangle per horizontal run of dark modules. A fixed mask skips segno's mask scoring
    (the slowest part of encoding; every mask gives a valid code)."""
    matrix = segno.make(payload, error="m", micro=False, mask=2, boost_error=False).matrix
    modules = len(matrix)
    runs: list[str] = []
    for row_index, row in enumerate(matrix):
        bottom = modules - row_index - 1
        column = 0
        while column < modules:
            if row[column]:
                start = column
                while column < modules and row[column]:
                    column += 1
                runs.append(f"{start} {bottom} {column - start} 1 re")
            else:
                column += 1
    return modules, " ".join(runs) + " f"
