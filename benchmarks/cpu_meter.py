"""Wall clock and the CPU time other processes used meanwhile, for the benchmarks' JSON."""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path


class CpuMeter:
    """Wall clock, plus the CPU time that processes other than this run's used meanwhile.

    ``background_cpu_s`` is the machine's busy CPU time (``/proc/stat``) less this process's and
    its reaped children's (worker processes are reaped before the block ends): on a shared
    machine it shows how much other work overlapped the measurement. ``load`` is the one-minute
    load average when the block began.
    """

    def __enter__(self) -> CpuMeter:
        self.t0, self.busy0, self.own0 = time.perf_counter(), _busy(), _own()
        self.load = os.getloadavg()[0]
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.t0
        self.background_cpu_s = max(0.0, (_busy() - self.busy0) - (_own() - self.own0))


def _busy() -> float:
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def _own() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
