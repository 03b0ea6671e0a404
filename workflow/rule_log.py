"""The log of a rule: what its script prints goes to the terminal and to the rule's `log:` file, and at the end
the job's wall time and peak memory (the figures its `resources:` are declared from)."""

import atexit
import resource
import sys
import time
from pathlib import Path


class _Tee:
    """A text stream that writes to several streams (the terminal's and the log file)."""

    def __init__(self, *streams):
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
            stream.flush()
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()

    def isatty(self) -> bool:
        return self.streams[0].isatty()


def log_to(path) -> None:
    """From now on, copy this process's stdout and stderr (tracebacks included) into the file at path."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    log = open(path, "w", encoding="utf-8", buffering=1)
    sys.stdout = _Tee(sys.__stdout__, log)
    sys.stderr = _Tee(sys.__stderr__, log)
    atexit.register(_report_usage, time.perf_counter())


def _report_usage(start_s: float) -> None:
    """Print the job's wall time (s) and peak resident memory (MB; this process or its largest child)."""
    peak_kb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)  # kB on Linux
    print(f"job usage: wall {time.perf_counter() - start_s:.1f} s, peak memory {peak_kb / 1024:.0f} MB")
