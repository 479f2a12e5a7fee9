"""Run a Python script as `python bench/peak_rss.py SCRIPT ARGS...` and, when it ends, write
its peak resident memory in KiB (the kernel's VmHWM of this program) to $PEAK_RSS_FILE.

Why not the child's rusage (ru_maxrss) from the bench: Python starts a child with vfork, and
Linux carries the parent's high-water mark into the child's ru_maxrss at exec. A bench that
holds the test data then reports its own peak as the command's, growing with the data size.
VmHWM belongs to the memory of the program that runs, counted from its exec.
"""

import atexit
import os
import runpy
import sys


def _report() -> None:
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(os.environ["PEAK_RSS_FILE"], "w") as out:
        out.write(peak)


if __name__ == "__main__":
    atexit.register(_report)
    sys.argv = sys.argv[1:]
    sys.path[0] = os.path.dirname(os.path.abspath(sys.argv[0]))
    runpy.run_path(sys.argv[0], run_name="__main__")
