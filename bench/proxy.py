"""Benchmark: the same upstream called directly, through the Strongroom sidecar and through nginx
adding a static header, side by side in one run (issue 3, "Benchmark").

What it starts, all on 127.0.0.1, all stopped on exit (also on Ctrl-C and errors):

- the upstream: nginx (1 worker) answering a static 11-byte JSON body;
- the control plane (bench/controlplane.py): real control plane on SQLite in a temp folder,
  one App, one Provider allowing the upstream, ``--grants`` system Grants;
- the sidecar: ``python -m strongroom_sidecar.main`` in its own process (its RSS is its own),
  audit delivered to the control plane as usual (stdout copy off, like ``--quiet-audit``);
- nginx as a reverse proxy (``--nginx-workers``, default 1: one core, like the sidecar's single
  event loop) adding a static header and an Authorization header, keep-alive to the upstream.

What it measures, per round, paths interleaved (order rotates every round):

- max req/s: closed loop, ``--connections`` (32) connections for ``--duration`` seconds, with
  wrk (``-t1``) in its own process (``--no-wrk``: bench/loadgen.py's closed loop instead);
- latency at ``--rate`` (500) req/s: bench/loadgen.py in OPEN loop, each request timed from its
  scheduled send time; p50/p99; added = sidecar - direct within the round.

Then the median over ``--rounds`` (3). Also: the sidecar's idle RSS (VmRSS after start and a
few calls), the time from process start to ``/readyz`` 200 (median of ``--ready-starts``), and
the policy decision time with 1,000 grants (bench/policy.py if present, else the sidecar's
current decision path, bench/decision_path.py).

Needs: nginx (``apt-get install nginx-light``), wrk (``apt-get install wrk``, or ``--no-wrk``).
``--json`` prints one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import Any

import decision_path
import processes

PATHS = ("direct", "sidecar", "nginx")
BARE = "bare"
"""Optional fourth path: bench/bare_passthrough.py, the aiohttp pass-through the aims are grounded
in."""
EXPECTED_AUTH = {"direct": "no", "sidecar": "yes", "nginx": "yes", BARE: "yes"}


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- load generation ---------------------------------------------------------------------------


def _target(path: str, ports: dict[str, int]) -> tuple[int, str, dict[str, str]]:
    upstream = ports["upstream"]
    if path == "direct":
        return upstream, "/bench", {}
    if path in ("nginx", BARE):
        return ports[path], "/bench", {}
    return (
        ports["sidecar"],
        "/proxy",
        {
            "Strongroom-Target": f"http://127.0.0.1:{upstream}/bench",
            "Strongroom-Grant": "bench-0000",
        },
    )


def run_wrk(
    port: int, path: str, headers: dict[str, str], args: argparse.Namespace
) -> dict[str, Any]:
    argv = ["wrk", "-t1", f"-c{args.connections}", f"-d{args.duration:g}s", "--timeout", "5s"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    argv.append(f"http://127.0.0.1:{port}{path}")
    done = subprocess.run(
        argv, capture_output=True, text=True, check=False, timeout=args.duration + 30
    )
    if done.returncode != 0:
        raise processes.BenchError(f"wrk failed: {done.stderr.strip() or done.stdout[-500:]}")
    out = done.stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if found is None:
        raise processes.BenchError(f"cannot read wrk's output:\n{out}")
    total = re.search(r"(\d+) requests in", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": float(found.group(1)),
        "requests": int(total.group(1)) if total else 0,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "errors": sum(int(g) for g in errors.groups()) if errors else 0,
    }


def run_loadgen(
    mode: str, port: int, path: str, headers: dict[str, str], args: argparse.Namespace
) -> dict[str, Any]:
    argv = [
        sys.executable,
        str(processes.BENCH / "loadgen.py"),
        "--mode",
        mode,
        "--port",
        str(port),
        "--path",
        path,
        "--duration",
        f"{args.duration:g}",
        "--warmup",
        f"{args.warmup:g}",
        "--rate",
        f"{args.rate:g}",
        "--connections",
        str(args.connections if mode == "closed" else 16),
    ]
    for name, value in headers.items():
        argv += ["--header", f"{name}: {value}"]
    done = subprocess.run(
        argv, capture_output=True, text=True, check=False, timeout=args.duration + args.warmup + 60
    )
    if done.returncode != 0:
        raise processes.BenchError(f"loadgen failed: {done.stderr.strip()[-1000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --- the pieces --------------------------------------------------------------------------------


def check_paths(ports: dict[str, int], paths: tuple[str, ...]) -> None:
    """One call per path: the upstream's body came back, and the credential (or nginx's static
    header) reached the upstream only where it should."""
    expected_auth = EXPECTED_AUTH
    for path in paths:
        port, url_path, headers = _target(path, ports)
        status, body, answer = processes.get(port, url_path, headers)
        seen = {k.lower(): v for k, v in answer.items()}.get(processes.AUTH_SEEN.lower())
        if status != 200 or body != processes.UPSTREAM_BODY or seen != expected_auth[path]:
            raise processes.BenchError(
                f"{path}: expected 200 with the upstream's body and {processes.AUTH_SEEN}: "
                f"{expected_auth[path]}, got {status} {body[:200]!r} "
                f"({processes.AUTH_SEEN}: {seen})"
            )


def policy_decision(args: argparse.Namespace) -> dict[str, Any]:
    """bench/policy.py's number when it exists (its last stdout line is JSON with
    ``policy_decision_us``), plus the sidecar's current decision path measured here."""
    own = decision_path.measure(grants=1000, iterations=args.policy_iterations)
    result: dict[str, Any] = {
        "sidecar_decision_path_us": own["decision_us"],
        "sidecar_pre_forward_us": own["pre_forward_us"],
        "sidecar_decision_path_rules": own["rules"],
        "policy_decision_us": own["decision_us"],
        "policy_source": "bench/decision_path.py (sidecar decision path, 1,000 grants)",
    }
    script = processes.BENCH / "policy.py"
    if not script.exists():
        return result
    argv = [sys.executable, str(script), "--json"]
    if args.quick:
        argv += ["--rounds", "3", "--calls", "5000"]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)
    try:
        theirs = json.loads(done.stdout.strip().splitlines()[-1])
        value = float(theirs["policy_decision_us"])
    except (IndexError, ValueError, KeyError, TypeError):
        log(f"bench/policy.py gave no policy_decision_us (exit {done.returncode}); using ours")
        return result
    result["policy_decision_us"] = round(value, 2)
    result["policy_source"] = "bench/policy.py"
    result["policy_details"] = theirs
    return result


def measure_ready(
    children: processes.Children, workdir: Path, cp: dict[str, str], starts: int
) -> list[float]:
    """Extra sidecar starts, each stopped again, only for the start-to-ready time."""
    times = []
    for i in range(starts):
        proc, _, _, seconds = processes.start_sidecar(children, workdir, cp, f"ready-{i}")
        times.append(seconds)
        children.stop(proc)
    return times


def median(values: list[float]) -> float:
    return round(statistics.median(values), 3) if values else float("nan")


def closed_loop(
    path: str, ports: dict[str, int], pids: dict[str, list[int]], args: argparse.Namespace
) -> dict[str, Any]:
    """Max req/s for one path, plus the CPU the proxy under test spent per request (a number
    that moves far less than req/s on a shared, noisy machine)."""
    port, url_path, headers = _target(path, ports)
    before = processes.cpu_seconds(pids[path]) if path in pids else 0.0
    if args.no_wrk:
        result = run_loadgen("closed", port, url_path, headers, args)
        requests = result["completed"]
    else:
        result = run_wrk(port, url_path, headers, args)
        requests = result["requests"]
    if path in pids and requests:
        spent = processes.cpu_seconds(pids[path]) - before
        result["cpu_us_per_req"] = round(spent / requests * 1e6, 1)
    return result


def start_profile(pid: int, seconds: float, output: Path) -> subprocess.Popen[bytes] | None:
    """py-spy on the sidecar during one max-throughput run (``--profile``)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        log("--profile: py-spy is not installed (`pip install py-spy`); not profiling")
        return None
    argv = [spy, "record", "-p", str(pid), "-d", f"{max(1, int(seconds)):d}", "-r", "250"]
    argv += ["-f", "raw", "-o", str(output), "--nonblocking"]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run(args: argparse.Namespace, workdir: Path, children: processes.Children) -> dict[str, Any]:
    paths = PATHS if args.no_bare else (*PATHS, BARE)
    ports = {"upstream": processes.free_port(), "nginx": processes.free_port()}
    pids: dict[str, list[int]] = {}
    workers = str(args.nginx_workers)
    log(f"starting nginx upstream and nginx proxy (worker_processes {workers}) in {workdir}")
    processes.start_nginx(
        children,
        workdir,
        "upstream",
        processes.upstream_config(workdir, ports["upstream"], workers),
        ports["upstream"],
    )
    nginx_pid = processes.start_nginx(
        children,
        workdir,
        "nginx-proxy",
        processes.proxy_config(workdir, ports["nginx"], ports["upstream"], workers),
        ports["nginx"],
    )
    pids["nginx"] = processes.with_children(nginx_pid)
    if BARE in paths:
        ports[BARE] = processes.free_port()
        pids[BARE] = [processes.start_bare(children, workdir, ports[BARE], ports["upstream"])]
    log("starting the control plane")
    cp = processes.start_control_plane(children, workdir, ports["upstream"], args.grants)

    log(f"measuring sidecar start-to-ready ({args.ready_starts} extra starts)")
    ready_times = measure_ready(children, workdir, cp, args.ready_starts)
    sidecar, ports["sidecar"], health_port, ready_seconds = processes.start_sidecar(
        children, workdir, cp, "bench"
    )
    pids["sidecar"] = [sidecar.pid]
    ready_times.append(ready_seconds)

    check_paths(ports, paths)
    port, url_path, headers = _target("sidecar", ports)
    for _ in range(20):
        processes.get(port, url_path, headers)
    processes.wait_audit_flushed(health_port)
    time.sleep(1.0)
    idle_rss = processes.rss_mib(sidecar.pid)
    log(f"sidecar idle RSS {idle_rss:.1f} MiB, ready in {median(ready_times):.3f} s")

    rounds: list[dict[str, Any]] = []
    for r in range(args.rounds):
        shift = r % len(paths)
        order = paths[shift:] + paths[:shift]
        result: dict[str, Any] = {"order": list(order), "closed": {}, "open": {}}
        for path in order:
            spy = None
            if args.profile and r == 0 and path == "sidecar":
                spy = start_profile(sidecar.pid, args.duration - 1, Path(args.profile))
            closed = closed_loop(path, ports, pids, args)
            if spy is not None:
                spy.wait()
                log(f"py-spy folded stacks written to {args.profile}")
            result["closed"][path] = closed
            cpu = f", {closed['cpu_us_per_req']} µs CPU/req" if "cpu_us_per_req" in closed else ""
            log(f"round {r + 1}: {path:7} max {closed['rps']:9.1f} req/s{cpu}")
            if path == "sidecar":
                processes.wait_audit_flushed(health_port)
            children.check_alive()
            time.sleep(args.pause)
        for path in order:
            port, url_path, headers = _target(path, ports)
            opened = run_loadgen("open", port, url_path, headers, args)
            result["open"][path] = opened
            log(
                f"round {r + 1}: {path:7} at {args.rate:g}/s p50 {opened['p50_ms']:.3f} ms "
                f"p99 {opened['p99_ms']:.3f} ms "
                f"({opened['non_2xx']} non-2xx, {opened['errors']} errors)"
            )
            if path == "sidecar":
                processes.wait_audit_flushed(health_port)
            children.check_alive()
            time.sleep(args.pause)
        sidecar_open, direct_open = result["open"]["sidecar"], result["open"]["direct"]
        result["added_p50_ms"] = round(sidecar_open["p50_ms"] - direct_open["p50_ms"], 3)
        result["added_p99_ms"] = round(sidecar_open["p99_ms"] - direct_open["p99_ms"], 3)
        rounds.append(result)

    rss_after = processes.rss_mib(sidecar.pid)
    delivered = processes.sidecar_metric(health_port, "strongroom_sidecar_audit_delivered_total")
    dropped = processes.sidecar_metric(health_port, "strongroom_sidecar_audit_dropped_total")
    log("measuring the policy decision time with 1,000 grants")
    policy = policy_decision(args)

    summary: dict[str, Any] = {}
    for path in paths:
        summary[f"{path}_rps"] = round(median([x["closed"][path]["rps"] for x in rounds]), 1)
    for path in paths:
        summary[f"{path}_p50_ms"] = median([x["open"][path]["p50_ms"] for x in rounds])
        summary[f"{path}_p99_ms"] = median([x["open"][path]["p99_ms"] for x in rounds])
    for path in pids:
        values = [x["closed"][path].get("cpu_us_per_req") for x in rounds]
        summary[f"{path}_cpu_us_per_req"] = median([v for v in values if v is not None])
    summary["added_p50_ms"] = median([x["added_p50_ms"] for x in rounds])
    summary["added_p99_ms"] = median([x["added_p99_ms"] for x in rounds])
    summary["sidecar_vs_nginx_rps"] = round(summary["sidecar_rps"] / summary["nginx_rps"], 3)
    if BARE in paths:
        summary["bare_vs_nginx_rps"] = round(summary["bare_rps"] / summary["nginx_rps"], 3)
        summary["bare_added_p50_ms"] = median(
            [x["open"][BARE]["p50_ms"] - x["open"]["direct"]["p50_ms"] for x in rounds]
        )
        summary["bare_added_p99_ms"] = median(
            [x["open"][BARE]["p99_ms"] - x["open"]["direct"]["p99_ms"] for x in rounds]
        )
    summary["idle_rss_mib"] = round(idle_rss, 1)
    summary["rss_after_load_mib"] = round(rss_after, 1)
    summary["ready_s"] = median(ready_times)
    summary["ready_s_all"] = [round(t, 3) for t in ready_times]
    summary.update(policy)
    summary["audit_delivered"] = int(delivered)
    summary["audit_dropped"] = int(dropped)
    summary["failed_requests"] = sum(
        x[kind][p]["non_2xx"] + x[kind][p]["errors"]
        for x in rounds
        for kind in ("closed", "open")
        for p in paths
    )
    summary["settings"] = {
        "rounds": args.rounds,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "rate": args.rate,
        "connections": args.connections,
        "max_rps_tool": "loadgen closed loop" if args.no_wrk else "wrk -t1",
        "nginx_workers": workers,
        "grants_in_sidecar": args.grants,
        "quick": args.quick,
    }
    summary["machine"] = machine()
    summary["rounds_detail"] = rounds
    return summary


def machine() -> dict[str, Any]:
    nginx = subprocess.run(
        [processes.nginx_binary(), "-v"], capture_output=True, text=True, check=False
    )
    wrk = shutil.which("wrk")
    import aiohttp

    meminfo = Path("/proc/meminfo").read_text().split("\n", 1)[0]
    return {
        "nproc": len(__import__("os").sched_getaffinity(0)),
        "memory": " ".join(meminfo.split()[1:]),
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "nginx": nginx.stderr.strip().removeprefix("nginx version: "),
        "wrk": wrk is not None,
        "kernel": platform.release(),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON (last line)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=1.0, help="uncounted seconds (loadgen)")
    parser.add_argument("--rate", type=float, default=500.0, help="open-loop requests per second")
    parser.add_argument("--connections", type=int, default=32, help="closed-loop connections")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between measurements")
    parser.add_argument("--grants", type=int, default=1, help="grants the sidecar receives")
    parser.add_argument(
        "--ready-starts", type=int, default=2, help="extra starts timed for ready_s"
    )
    parser.add_argument("--nginx-workers", default="1", help="worker_processes (1 or auto)")
    parser.add_argument("--policy-iterations", type=int, default=50_000)
    parser.add_argument("--no-wrk", action="store_true", help="max req/s with bench/loadgen.py")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare aiohttp path")
    parser.add_argument(
        "--profile", metavar="FILE", help="py-spy the sidecar in round 1's max req/s run"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (logs)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 round of 2 s")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.duration, args.warmup, args.pause = 1, 2.0, 0.5, 0.2
        args.ready_starts, args.policy_iterations = 0, 10_000
    return args


def _interrupted(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        processes.require_tools(need_wrk=not args.no_wrk)
    except processes.BenchError as e:
        print(f"bench/proxy.py: {e}", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="strongroom-bench-"))
    children = processes.Children()
    try:
        summary = run(args, workdir, children)
    except processes.BenchError as e:
        print(f"bench/proxy.py: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench/proxy.py: interrupted; stopping everything", file=sys.stderr)
        return 130
    finally:
        children.stop_all()
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print_table(summary)
    if args.json:
        print(json.dumps(summary, separators=(",", ":")))
    return 0


def print_table(s: dict[str, Any]) -> None:
    out = sys.stderr
    print("", file=out)
    print(f"{'path':8} {'max req/s':>10} {'p50 ms':>8} {'p99 ms':>8}", file=out)
    for path in (*PATHS, BARE):
        if f"{path}_rps" not in s:
            continue
        cpu = s.get(f"{path}_cpu_us_per_req")
        print(
            f"{path:8} {s[f'{path}_rps']:10.1f} {s[f'{path}_p50_ms']:8.3f} "
            f"{s[f'{path}_p99_ms']:8.3f}" + (f"   {cpu} µs CPU/req" if cpu else ""),
            file=out,
        )
    print(
        f"added by the sidecar: p50 {s['added_p50_ms']:.3f} ms, p99 {s['added_p99_ms']:.3f} ms; "
        f"sidecar/nginx req/s {s['sidecar_vs_nginx_rps']:.1%}",
        file=out,
    )
    print(
        f"sidecar idle RSS {s['idle_rss_mib']} MiB (after load {s['rss_after_load_mib']} MiB), "
        f"ready in {s['ready_s']} s, policy decision {s['policy_decision_us']} µs "
        f"({s['policy_source']})",
        file=out,
    )


if __name__ == "__main__":
    sys.exit(main())
