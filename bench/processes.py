"""The processes bench/proxy.py starts, and the guarantee that it stops every one of them.

Every child runs in its own session (so a Ctrl-C in the terminal reaches only the benchmark,
which then stops the children in order: sidecar before control plane, so audit can flush) and
is registered in a :class:`Children` the moment it exists. Everything listens on 127.0.0.1.
"""

from __future__ import annotations

import getpass
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
HOST = "127.0.0.1"
# The nginx upstream answers this body; bench/proxy.py checks it came back through every path.
UPSTREAM_BODY = '{"ok":true}'
AUTH_SEEN = "X-Bench-Auth-Seen"
"""Upstream response header: ``yes`` when the request carried an Authorization header, ``no``
otherwise (the value itself is never echoed)."""
NGINX_STATIC_HEADER = "X-Bench-Static"


class BenchError(Exception):
    """The benchmark cannot run as asked; the message says what is missing or what to do."""


def require_tools(need_wrk: bool) -> None:
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        raise BenchError(
            "nginx is not installed: it is the upstream and the reference proxy. "
            "Install it with `apt-get install nginx-light` (as root)."
        )
    if need_wrk and shutil.which("wrk") is None:
        raise BenchError(
            "wrk is not installed (max req/s load generator): `apt-get install wrk`, "
            "or pass --no-wrk to use the slower Python closed-loop client."
        )


def nginx_binary() -> str:
    return shutil.which("nginx") or "/usr/sbin/nginx"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class Children:
    """Started processes, stopped in reverse order by :meth:`stop_all` (SIGTERM, then SIGKILL
    after a grace period)."""

    def __init__(self) -> None:
        self._procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(
        self, name: str, argv: list[str], log: Path, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        out = log.open("wb")
        try:
            proc = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        finally:
            out.close()
        self._procs.append((name, proc))
        return proc

    def stop(self, proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._procs = [(n, p) for n, p in self._procs if p is not proc]

    def stop_all(self) -> None:
        for _, proc in reversed(list(self._procs)):
            self.stop(proc)

    def check_alive(self) -> None:
        for name, proc in self._procs:
            if proc.poll() is not None:
                raise BenchError(f"{name} exited with code {proc.returncode}; see its log")


def wait_http(port: int, path: str, timeout: float, *, expect: int = 200) -> float:
    """Poll ``GET path`` every 5 ms until it answers ``expect``; the seconds it took."""
    began = time.perf_counter()
    deadline = began + timeout
    while True:
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=1.0)
            conn.request("GET", path)
            if conn.getresponse().status == expect:
                conn.close()
                return time.perf_counter() - began
            conn.close()
        except OSError:
            pass
        if time.perf_counter() > deadline:
            raise BenchError(f"127.0.0.1:{port}{path} did not answer {expect} within {timeout}s")
        time.sleep(0.005)


def get(
    port: int, path: str, headers: dict[str, str] | None = None
) -> tuple[int, str, dict[str, str]]:
    conn = http.client.HTTPConnection(HOST, port, timeout=5.0)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read().decode(), dict(response.getheaders())
    finally:
        conn.close()


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of ``pids`` (from /proc/<pid>/stat)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def with_children(pid: int) -> list[int]:
    """``pid`` and its direct children (nginx: the master and its workers)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *(int(c) for c in children)]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    raise BenchError(f"/proc/{pid}/status has no VmRSS")


# --- nginx -------------------------------------------------------------------------------------


def _nginx_common(workdir: Path, name: str, workers: str) -> str:
    user = ""
    if os.geteuid() == 0:
        # A root master would drop its workers to `nobody`, who cannot use the temp folder.
        user = f"user {getpass.getuser()};"
    temp = workdir / f"{name}-temp"
    temp.mkdir(exist_ok=True)
    return f"""
{user}
worker_processes {workers};
daemon off;
pid {workdir}/{name}.pid;
error_log {workdir}/{name}-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {temp}/body;
  proxy_temp_path {temp}/proxy;
  fastcgi_temp_path {temp}/fastcgi;
  uwsgi_temp_path {temp}/uwsgi;
  scgi_temp_path {temp}/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
"""


def upstream_config(workdir: Path, port: int, workers: str) -> str:
    return (
        _nginx_common(workdir, "upstream", workers)
        + f"""
  map $http_authorization $bench_auth_seen {{ "" "no"; default "yes"; }}
  server {{
    listen {HOST}:{port} backlog=4096;
    location / {{
      default_type application/json;
      add_header {AUTH_SEEN} $bench_auth_seen;
      return 200 '{UPSTREAM_BODY}';
    }}
  }}
}}
"""
    )


def proxy_config(workdir: Path, port: int, upstream_port: int, workers: str) -> str:
    return (
        _nginx_common(workdir, "nginx-proxy", workers)
        + f"""
  upstream bench_upstream {{ server {HOST}:{upstream_port}; keepalive 64; }}
  server {{
    listen {HOST}:{port} backlog=4096;
    location / {{
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header {NGINX_STATIC_HEADER} "static";
      proxy_set_header Authorization "Bearer static-bench-value";
    }}
  }}
}}
"""
    )


def start_bare(children: Children, workdir: Path, port: int, upstream_port: int) -> int:
    argv = [
        sys.executable,
        str(BENCH / "bare_passthrough.py"),
        "--port",
        str(port),
        "--upstream-port",
        str(upstream_port),
    ]
    proc = children.start("bare aiohttp pass-through", argv, workdir / "bare.log")
    wait_http(port, "/bench", 30.0)
    return proc.pid


def start_nginx(children: Children, workdir: Path, name: str, config: str, port: int) -> int:
    path = workdir / f"{name}.conf"
    path.write_text(config)
    argv = [nginx_binary(), "-p", str(workdir), "-c", str(path)]
    check = subprocess.run([*argv, "-t"], capture_output=True, text=True, check=False)
    if check.returncode != 0:
        raise BenchError(f"nginx refused the generated {path}: {check.stderr.strip()}")
    proc = children.start(name, argv, workdir / f"{name}.log")
    wait_http(port, "/", 10.0)
    return proc.pid


# --- control plane and sidecar -----------------------------------------------------------------


def start_control_plane(
    children: Children, workdir: Path, upstream_port: int, grants: int
) -> dict[str, str]:
    info = workdir / "controlplane.json"
    argv = [
        sys.executable,
        str(BENCH / "controlplane.py"),
        "--dir",
        str(workdir),
        "--upstream-port",
        str(upstream_port),
        "--grants",
        str(grants),
    ]
    proc = children.start("control plane", argv, workdir / "controlplane.log")
    deadline = time.monotonic() + 60.0
    while not info.exists():
        if proc.poll() is not None:
            log = (workdir / "controlplane.log").read_text()[-2000:]
            raise BenchError(f"the control plane exited ({proc.returncode}):\n{log}")
        if time.monotonic() > deadline:
            raise BenchError("the control plane did not start within 60 s")
        time.sleep(0.02)
    document: dict[str, str] = json.loads(info.read_text())
    return document


def sidecar_env(cp: dict[str, str], proxy_port: int, health_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_SIDECAR_")}
    prefix = "STRONGROOM_SIDECAR_"
    env.update(
        {
            prefix + "CONTROL_PLANE_URL": cp["url"],
            prefix + "CONTROL_PLANE_TOKEN_FILE": cp["token_file"],
            prefix + "NAMESPACE": "default",
            prefix + "APP": "bench",
            prefix + "CALLER": "bench/sidecar",
            prefix + "LISTEN_HOST": HOST,
            prefix + "PROXY_PORT": str(proxy_port),
            prefix + "HEALTH_HOST": HOST,
            prefix + "HEALTH_PORT": str(health_port),
            prefix + "ALLOW_LOOPBACK_TARGETS": "true",
            # Audit still goes to the control plane (POST /v1/audit); only the stdout copy,
            # which `strongroom dev --quiet-audit` also turns off, is skipped.
            prefix + "AUDIT_STDOUT": "false",
            prefix + "SHUTDOWN_GRACE": "5",
        }
    )
    return env


def start_sidecar(
    children: Children, workdir: Path, cp: dict[str, str], label: str
) -> tuple[subprocess.Popen[bytes], int, int, float]:
    """Start ``strongroom-sidecar`` (its real ``main``) and wait for ``/readyz``; returns the
    process, proxy port, health port and seconds from process start to the first 200."""
    proxy_port, health_port = free_port(), free_port()
    argv = [sys.executable, "-m", "strongroom_sidecar.main"]
    began = time.perf_counter()
    proc = children.start(
        f"sidecar ({label})",
        argv,
        workdir / f"sidecar-{label}.log",
        sidecar_env(cp, proxy_port, health_port),
    )
    try:
        wait_http(health_port, "/readyz", 30.0)
    except BenchError:
        children.stop(proc)
        log = (workdir / f"sidecar-{label}.log").read_text()[-2000:]
        raise BenchError(f"the sidecar did not become ready; its log ends with:\n{log}") from None
    return proc, proxy_port, health_port, time.perf_counter() - began


def sidecar_metric(health_port: int, name: str) -> float:
    status, text, _ = get(health_port, "/metrics")
    if status != 200:
        raise BenchError(f"sidecar /metrics answered {status}")
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise BenchError(f"sidecar /metrics has no {name}")


def wait_audit_flushed(health_port: int, timeout: float = 15.0) -> None:
    """Let the sidecar deliver its audit backlog so the next measurement does not pay for it."""
    deadline = time.monotonic() + timeout
    while sidecar_metric(health_port, "strongroom_sidecar_audit_buffer_depth") > 0:
        if time.monotonic() > deadline:
            raise BenchError(f"the sidecar's audit buffer did not drain within {timeout}s")
        time.sleep(0.1)
