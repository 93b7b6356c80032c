#!/usr/bin/env python3
"""A minimal FCFS + EASY backfilling loop that counts free nodes: the baseline of bench:sim (b).

Reads an SWF log (.swf or .swf.gz) with the conventions of src/sim/readers/swf.ts: a job whose run
time is < 0 or whose requested time (field 9) is <= 0 is left out; it asks for its requested
processors (field 8), else its allocated ones (field 5), else it is left out; it is planned for its
requested time and really ends after min(max(run time, 1), requested time); jobs are taken by
submit time, ties in file order. One processor is one node. Standard library only.

usage: easy_loop.py LOG NODES   (prints one JSON line)
"""
import gzip
import heapq
import json
import resource
import sys
import time


def read_jobs(path):
    opener = gzip.open if path.endswith('.gz') else open
    jobs = []
    with opener(path, 'rt') as f:
        for line in f:
            fields = line.split()
            if not fields or fields[0].startswith(';'):
                continue
            run, requested = float(fields[3]), float(fields[8])
            if run < 0 or requested <= 0:
                continue
            nodes = int(fields[7]) if float(fields[7]) > 0 else int(fields[4]) if float(fields[4]) > 0 else 0
            if nodes == 0:
                continue
            jobs.append((float(fields[1]), nodes, requested, min(max(run, 1), requested)))
    jobs.sort(key=lambda j: j[0])  # stable: ties keep file order
    return jobs


def simulate(jobs, total):
    free = total
    running = []  # heap of (real end, planned end, nodes)
    queue = []  # indices into jobs, in arrival order
    waits = 0.0
    i = 0
    n = len(jobs)
    while i < n or queue or running:
        now = min(jobs[i][0] if i < n else float('inf'), running[0][0] if running else float('inf'))
        while running and running[0][0] == now:
            free += heapq.heappop(running)[2]
        while i < n and jobs[i][0] == now:
            if jobs[i][1] > total:
                raise SystemExit(f'job {i} asks for {jobs[i][1]} nodes; the machine has {total}')
            queue.append(i)
            i += 1
        # FCFS: start jobs from the head of the queue while they fit.
        while queue and jobs[queue[0]][1] <= free:
            j = queue.pop(0)
            free -= start(jobs[j], now, running)
            waits += now - jobs[j][0]
        if not queue or free == 0:
            continue
        # EASY: the head's reservation is when enough running jobs will have ended by their planned
        # ends (the shadow time); nodes left over then (extra) may be used past it.
        head = jobs[queue[0]][1]
        avail = free
        for planned, nodes in sorted((r[1], r[2]) for r in running):
            avail += nodes
            if avail >= head:
                shadow, extra = planned, avail - head
                break
        kept = [queue[0]]
        for j in queue[1:]:
            arrival, nodes, requested, _ = jobs[j]
            if nodes <= free and (now + requested <= shadow or nodes <= extra):
                if now + requested > shadow:
                    extra -= nodes
                free -= start(jobs[j], now, running)
                waits += now - arrival
            else:
                kept.append(j)
        queue = kept
    return waits


def start(job, now, running):
    _, nodes, requested, real = job
    heapq.heappush(running, (now + real, now + requested, nodes))
    return nodes


def main():
    path, total = sys.argv[1], int(sys.argv[2])
    t0 = time.perf_counter()
    jobs = read_jobs(path)
    t1 = time.perf_counter()
    waits = simulate(jobs, total)
    t2 = time.perf_counter()
    print(json.dumps({'jobs': len(jobs), 'meanWait': waits / len(jobs), 'parseSeconds': t1 - t0, 'simulateSeconds': t2 - t1,
                      'peakRssMiB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == '__main__':
    main()
