"""The layout of `cox describe`: labelled values, nested by indentation, aligned.

A Page is lines of cells. Like kubectl's tabwriter, a run of consecutive
lines that all have a cell in column k aligns that column (widest cell plus
two spaces), and a line with fewer cells ends the run, so a section header
("Containers:") starts fresh alignment for the lines under it.
"""
import datetime

from google.protobuf.timestamp_pb2 import Timestamp

from controlplane.cli.printing.age import is_set

NONE = "<none>"


class Page:
    INDENT = "  "
    PADDING = 2

    def __init__(self):
        self._rows: list[list[str]] = []

    def add(self, label: str, value=None, *, level: int = 0) -> None:
        """`Label:  value`, or a bare `Label:` heading the lines that follow when value is None."""
        cell = self.INDENT * level + label + ":"
        self._rows.append([cell] if value is None else [cell, str(value)])

    def values(self, label: str, values, *, level: int = 0, empty: str = NONE) -> None:
        """A label with one value per line (labels, tolerations), or `empty`."""
        values = list(values) or [empty]
        self.add(label, values[0], level=level)
        self._rows += [[self.INDENT * level, value] for value in values[1:]]

    def mapping(self, label: str, mapping, *, level: int = 0) -> None:
        self.values(label, [f"{k}={mapping[k]}" for k in sorted(mapping)], level=level)

    def metadata(self, obj, *, namespaced: bool) -> None:
        """Name, Namespace, Labels, Annotations: the first lines of most pages."""
        meta = obj.metadata
        self.add("Name", meta.name)
        if namespaced:
            self.add("Namespace", meta.namespace)
        self.mapping("Labels", meta.labels)
        self.mapping("Annotations", meta.annotations)

    def text(self, text: str, *, level: int = 0) -> None:
        self._rows.append([self.INDENT * level + text])

    def table(self, header: list[str], rows: list[list[str]], *, level: int = 1, rule: bool = True) -> None:
        """Columns under a header, with a dashed rule beneath it (as in the Events table) if `rule`."""
        indent = self.INDENT * level
        rules = [["-" * len(title) for title in header]] if rule else []
        for row in [header, *rules, *rows]:
            self._rows.append([indent + row[0], *row[1:]])

    def render(self) -> str:
        widths = _column_widths(self._rows, self.PADDING)
        lines = []
        for row, row_widths in zip(self._rows, widths):
            cells = [cell.ljust(width) for cell, width in zip(row[:-1], row_widths)]
            lines.append(("".join(cells) + row[-1]).rstrip())
        return "\n".join(lines) + "\n"


def _column_widths(rows: list[list[str]], padding: int) -> list[list[int]]:
    """Per row, the width of each of its cells but the last (which is never padded)."""
    widths = [[0] * (len(row) - 1) for row in rows]
    for column in range(max((len(row) for row in rows), default=1) - 1):
        start = 0
        while start < len(rows):
            end = start
            while end < len(rows) and len(rows[end]) > column + 1:
                end += 1
            if end > start:
                width = max(len(rows[i][column]) for i in range(start, end)) + padding
                for i in range(start, end):
                    widths[i][column] = width
            start = end + 1
    return widths


def timestamp(stamp: Timestamp) -> str:
    """kubectl's describe time: Mon, 02 Jan 2006 15:04:05 -0700, in local time."""
    if not is_set(stamp):
        return NONE
    moment = datetime.datetime.fromtimestamp(stamp.seconds, datetime.timezone.utc).astimezone()
    return moment.strftime("%a, %d %b %Y %H:%M:%S %z")
