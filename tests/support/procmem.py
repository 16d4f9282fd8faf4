"""A process's memory as the kernel counts it, for benches: resident, proportional and unique set sizes.

VmRSS counts every resident page the process maps, shared libraries included;
PSS divides each shared page among the processes mapping it; USS (private
clean + dirty) is what would be freed if the process exited. All from /proc
(status and smaps_rollup), in MB; no sampling, so load on the machine does
not distort them as it does timings.
"""
from pathlib import Path

_STATUS = {"VmRSS": "RSS MB", "RssAnon": "anon MB", "RssFile": "file MB", "Threads": "threads"}


def memory(pid: int) -> dict[str, float]:
    """RSS, its anonymous and file-backed parts, PSS, USS (MB) and the thread count of `pid`."""
    status = _fields(Path(f"/proc/{pid}/status").read_text())
    rollup = _fields(Path(f"/proc/{pid}/smaps_rollup").read_text())
    mb = {label: int(status[key]) / 1024 for key, label in _STATUS.items() if key != "Threads"}
    mb["PSS MB"] = int(rollup["Pss"]) / 1024
    mb["USS MB"] = (int(rollup["Private_Clean"]) + int(rollup["Private_Dirty"])) / 1024
    mb["threads"] = int(status["Threads"])
    return mb


def rss_mb(pid: int) -> float:
    return memory(pid)["RSS MB"]


def _fields(text: str) -> dict[str, str]:
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and value.split():
            fields[key.strip()] = value.split()[0]
    return fields
