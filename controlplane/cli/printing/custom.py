"""What `get`'s table options add to kubectl's columns: custom-columns, --show-labels, -L and --sort-by.

Pure: objects (as their Kubernetes JSON) in, header and rows out.
"""
from controlplane.cli.printing import jsonpath

NONE = "<none>"


def parse_columns(spec: str) -> list[tuple[str, str]]:
    """`NAME:.metadata.name,IMAGE:.spec.containers[*].image` as (header, template) pairs."""
    columns = []
    for part in spec.split(","):
        header, sep, path = part.partition(":")
        if not sep or not header or not path:
            raise jsonpath.JSONPathError(f"custom-columns: expected HEADER:JSONPATH, got {part!r}")
        columns.append((header, jsonpath.relaxed(path)))
    for _, template in columns:
        jsonpath.parse(template)
    return columns


def custom_rows(columns: list[tuple[str, str]], items: list[dict]) -> tuple[list[str], list[list[str]]]:
    """The header and one row per item; several values join with commas, none is <none>."""
    rows = [[",".join(jsonpath.text(v) for v in jsonpath.find(template, item)) or NONE
             for _, template in columns] for item in items]
    return [header for header, _ in columns], rows


def label_columns(header: list[str], rows: list[list[str]], items: list[dict], *, keys: list[str],
                  show_labels: bool) -> tuple[list[str], list[list[str]]]:
    """-L KEY columns (headed by the key's last segment, upper-cased) and --show-labels' LABELS."""
    header = header + [key.rpartition("/")[2].upper() for key in keys] + (["LABELS"] if show_labels else [])
    out = []
    for row, item in zip(rows, items):
        labels = (item.get("metadata") or {}).get("labels") or {}
        cells = [labels.get(key, "") for key in keys]
        if show_labels:
            cells.append(",".join(f"{k}={labels[k]}" for k in sorted(labels)) or NONE)
        out.append(row + cells)
    return header, out


def sort_order(expression: str, items: list[dict]) -> list[int]:
    """The indexes of `items` sorted by --sort-by's path; numbers by value, the rest as text, missing first."""
    template = jsonpath.relaxed(expression)

    def key(index: int):
        found = jsonpath.find(template, items[index])
        if not found:
            return (0, 0, "")
        value = found[0]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return (1, value, "")
        return (2, 0, jsonpath.text(value))
    return sorted(range(len(items)), key=key)
