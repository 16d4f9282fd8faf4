"""Aligned text columns, as kubectl's tabwriter lays them out.

Each column is as wide as its widest cell plus three spaces; the last column
is not padded. A Table remembers its widths, so rows printed later by
`get -w` line up under the header printed first (a column only ever grows).
"""


class Table:
    PADDING = 3

    def __init__(self, header: list[str]):
        self.header = list(header)
        self._widths = [len(cell) for cell in header]

    def lines(self, rows: list[list[str]], *, header: bool = False) -> list[str]:
        """The rows (after the header if asked) as text lines, widening columns to fit them."""
        every = ([self.header] if header else []) + [list(row) for row in rows]
        for row in every:
            for index, cell in enumerate(row):
                self._widths[index] = max(self._widths[index], len(cell))
        return [self._line(row) for row in every]

    def _line(self, row: list[str]) -> str:
        cells = [cell.ljust(width + self.PADDING) for cell, width in zip(row[:-1], self._widths)]
        return "".join(cells) + row[-1]
