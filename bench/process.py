"""Process and disk measurements read from /proc and the file system (Linux)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path


def rss_bytes(pid: int | None = None) -> int:
    """Resident set size of a process (default: this one)."""
    status = Path(f"/proc/{pid or 'self'}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS in /proc/{pid or 'self'}/status")


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU time a process has used so far."""
    stat = Path(f"/proc/{pid or 'self'}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the name may hold spaces; fields follow it
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def release_free_memory() -> None:
    """Hand freed heap pages back to the OS (glibc), so the next RSS delta starts clean."""
    libc = ctypes.util.find_library("c")
    if libc is not None:
        ctypes.CDLL(libc).malloc_trim(0)


def folder_bytes(folder: Path) -> int:
    """Disk space used by the files under a folder (allocated blocks, so sparse files count as used)."""
    return sum(
        (Path(root) / name).stat().st_blocks * 512
        for root, _, names in os.walk(folder)
        for name in names
    )


def cpu_count() -> int:
    """CPUs this process may run on."""
    return len(os.sched_getaffinity(0))
