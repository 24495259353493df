"""CPU time of a process from /proc, shared by the benchmarks."""

import os


def thread_cpu_ns(pid):
    """CPU time of all of pid's threads from schedstat, in ns (utime+stime in /proc/PID/stat
    are tick-sampled). Includes softirq work done in the threads' context, as stime does."""
    total = 0
    for task in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, task)) as f:
                total += int(f.read().split()[0])
        except FileNotFoundError:
            pass  # the thread ended
    return total
