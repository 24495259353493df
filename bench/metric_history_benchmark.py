#!/usr/bin/env python3
"""Metric history's store footprint and read time, on SQLite and on PostgreSQL (a server of
the run's own, fsync on): runs bench/metric_history_benchmark.cc on each and prints its
figures. Goal (issue 14): at most 64 KiB per series per day.

    python3 bench/metric_history_benchmark.py --bench build/bench/bench/metric_history_benchmark
        [--quick]
"""
import argparse
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "testing"))

import pg_server  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", required=True)
    ap.add_argument("--quick", action="store_true", help="3 series, 1 day (a smoke run)")
    args = ap.parse_args()
    size = ["--series", "3", "--days", "1"] if args.quick else ["--series", "100", "--days", "2"]
    subprocess.run([args.bench] + size, check=True)
    pg = pg_server.PostgresServer(durable=True)
    try:
        subprocess.run([args.bench] + size + ["--database", pg.create_database()], check=True)
    finally:
        pg.close()


if __name__ == "__main__":
    main()
