#!/usr/bin/env python3
"""Bounded soak test for OpenICWS: churn login, subscribe, stream and disconnect.

A few thousand simulated clients loop until the deadline (10 minutes by default). Each cycle:

  1. log in as a demo agent (POST /icws/connection, kept-alive control connection),
  2. watch its assistance requests (PUT /icws/{sid}/messaging/subscriptions/interactions/agent-assistance),
  3. open the event stream (GET /icws/{sid}/messaging/messages, Accept: text/event-stream, cookie only,
     on a connection of its own) and read it for a random 1-10 s (the first event must be the
     assistanceRequestListMessage snapshot),
  4. end the cycle one of three ways:
       - 1 in 4 "abrupt": stop reading and reset the stream socket (SO_LINGER 0); no logout, the
         session is left to the server's idle expiry;
       - 1 in 2 "logout": DELETE /icws/{sid}/connection while the stream is open; the server must then
         send connectionStateChangeMessage and end the stream by itself;
       - 1 in 4 "close+logout": close the stream socket normally (FIN), then DELETE the connection.

Every --report-every seconds it prints one line: elapsed time, cycles, errors by kind, the server's RSS
(VmRSS from /proc/PID/status) and the openicws_sse_streams and openicws_sessions gauges of GET /metrics.
At the deadline it stops every client (sockets reset), waits up to --drain-seconds (15) for
openicws_sse_streams to return to 0 and prints a summary.

PASS (exit 0) means both:
  - the stream gauge openicws_sse_streams returned to 0 after the clients stopped, and
  - RSS plateaued: RSS at the end of the run is at most --rss-growth-percent (10) above RSS at mid-run.
Otherwise exit 1, naming the failed check(s) (an RSS that could not be measured counts as failed);
exit 2 when the server cannot be reached at the start.

How to run (from the repository root; Python 3.8+, standard library only; Linux, for /proc):

    swift build -c release --product openicws
    .build/release/openicws serve --port 8018 --data /tmp/soak-data --session-idle-seconds 60 &
    python3 Benchmarks/soak.py --url http://127.0.0.1:8018 --pid $!

    # a quick check instead of the full 10 minutes:
    python3 Benchmarks/soak.py --url http://127.0.0.1:8018 --pid $! --duration 60 --sessions 300 --report-every 10

--session-idle-seconds 60 makes the sessions abandoned by "abrupt" cycles expire within the run, so the
expiry path is churned too and the session count (and with it RSS) levels off after a minute; with the
server default (300 s) the session count only levels off after five minutes, at mid-run of a 10-minute
soak. Without --pid the script looks for the process listening on the URL's port (local servers only,
through /proc/net/tcp; /health does not report a pid). The script raises its RLIMIT_NOFILE soft limit to
the hard limit and needs about two descriptors per client; the server needs as many, so start it from a
shell whose limit is large enough (`ulimit -n 65536`).
"""

import argparse
import asyncio
import collections
import json
import os
import random
import resource
import socket
import struct
import sys
import time
import urllib.parse

LOGIN_TYPE = "urn:inin.com:connection:icAuthConnectionRequestSettings"
LIST_MESSAGE = "urn:inin.com:interactions.assistance:assistanceRequestListMessage"
STATE_CHANGE = "urn:inin.com:connection:connectionStateChangeMessage"


class CycleError(Exception):
    """A failed step of a cycle; `kind` is what the error table counts."""

    def __init__(self, kind, detail="", retry_after=None):
        super().__init__(kind)
        self.kind = kind
        self.detail = detail
        self.retry_after = retry_after


def error_kind(step, exc):
    if isinstance(exc, CycleError):
        return exc.kind
    if isinstance(exc, asyncio.TimeoutError):
        return f"{step}:timeout"
    if isinstance(exc, asyncio.IncompleteReadError):
        return f"{step}:eof"
    return f"{step}:{type(exc).__name__}"


def hard_reset(writer):
    """Close a socket with RST (SO_LINGER 0): no FIN handshake, no TIME_WAIT on our side."""
    if writer is None:
        return
    sock = writer.get_extra_info("socket")
    try:
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    writer.transport.abort()


# ---------------------------------------------------------------- HTTP/1.1 over asyncio streams


async def read_head(reader):
    """Reads a status line and headers; returns (status, {lower-name: value}, [set-cookie values])."""
    line = await reader.readline()
    if not line:
        raise asyncio.IncompleteReadError(b"", None)
    parts = line.decode("latin-1").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise CycleError("http:bad-status-line", line[:80])
    status = int(parts[1])
    headers, cookies = {}, []
    while True:
        line = await reader.readline()
        if not line:
            raise asyncio.IncompleteReadError(b"", None)
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name, value = name.strip().lower(), value.strip()
        if name == "set-cookie":
            cookies.append(value)
        headers[name] = value
    return status, headers, cookies


async def read_chunk(reader):
    """One chunk of a chunked body; b"" at the terminating chunk."""
    size_line = await reader.readline()
    if not size_line:
        raise asyncio.IncompleteReadError(b"", None)
    size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
    if size == 0:
        while (await reader.readline()) not in (b"\r\n", b"\n", b""):
            pass
        return b""
    data = await reader.readexactly(size + 2)
    return data[:-2]


async def read_body(reader, headers):
    if "chunked" in headers.get("transfer-encoding", "").lower():
        parts = []
        while True:
            chunk = await read_chunk(reader)
            if not chunk:
                return b"".join(parts)
            parts.append(chunk)
    length = int(headers.get("content-length", "0") or 0)
    return await reader.readexactly(length) if length else b""


class HttpConnection:
    """One kept-alive HTTP/1.1 connection for ordinary request/response exchanges."""

    def __init__(self, host, port, host_header, timeout):
        self.host, self.port, self.host_header, self.timeout = host, port, host_header, timeout
        self.reader = self.writer = None
        self.used = False  # a request already went over the current socket

    def close(self, reset=True):
        if self.writer is not None:
            if reset:
                hard_reset(self.writer)
            else:
                self.writer.close()
        self.reader = self.writer = None

    async def _exchange(self, data):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.used = False
        self.writer.write(data)
        await self.writer.drain()
        status, headers, cookies = await read_head(self.reader)
        body = await read_body(self.reader, headers)
        self.used = True
        if headers.get("connection", "").lower() == "close":
            self.close(reset=False)
        return status, headers, cookies, body

    async def request(self, method, path, headers=None, body=b""):
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host_header}"]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        lines.append(f"Content-Length: {len(body)}")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        for attempt in (0, 1):
            reused = self.writer is not None and self.used
            try:
                return await asyncio.wait_for(self._exchange(data), self.timeout)
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                # A kept-alive socket the server closed while idle: retry once on a fresh one.
                if attempt == 0 and reused:
                    continue
                raise
            except BaseException:
                self.close()
                raise


def error_id(body):
    try:
        return json.loads(body).get("errorId") or "-"
    except Exception:
        return "-"


# ---------------------------------------------------------------- the churning client


class Stats:
    def __init__(self):
        self.cycles = 0
        self.by_mode = collections.Counter()
        self.errors = collections.Counter()
        self.error_samples = {}
        self.logins = 0
        self.events = 0
        self.pings = 0

    def error(self, kind, detail=""):
        self.errors[kind] += 1
        if kind not in self.error_samples and detail:
            self.error_samples[kind] = str(detail)[:200]


class Client:
    def __init__(self, index, args, target, stats, deadline):
        self.index, self.args, self.stats, self.deadline = index, args, stats, deadline
        self.host, self.port, self.host_header = target
        self.control = HttpConnection(self.host, self.port, self.host_header, args.timeout)
        self.stream_writer = None
        self.users = args.user

    def stop_sockets(self):
        self.control.close()
        hard_reset(self.stream_writer)
        self.stream_writer = None

    async def run(self):
        try:
            while time.monotonic() < self.deadline:
                step = ["login"]
                try:
                    await self.cycle(step)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # one failed cycle; count it and go on
                    kind = error_kind(step[0], exc)
                    self.stats.error(kind, getattr(exc, "detail", "") or repr(exc))
                    self.stop_sockets()
                    pause = random.uniform(0.5, 1.5)
                    if isinstance(exc, CycleError) and exc.retry_after:
                        pause = min(exc.retry_after, 30.0)
                    await asyncio.sleep(min(pause, max(0.0, self.deadline - time.monotonic())))
        finally:
            self.stop_sockets()

    async def cycle(self, step):
        args = self.args
        # 1. log in
        step[0] = "login"
        user = self.users[self.index % len(self.users)]
        body = json.dumps({"__type": LOGIN_TYPE, "applicationName": "openicws-soak",
                           "userID": user, "password": args.password}).encode()
        status, headers, cookies, resp = await self.control.request(
            "POST", "/icws/connection",
            {"Accept-Language": "en-US", "Content-Type": "application/json"}, body)
        if status != 201:
            retry = headers.get("retry-after")
            raise CycleError(f"login:{status} {error_id(resp)}", resp[:200],
                             float(retry) if retry and retry.replace(".", "", 1).isdigit() else None)
        self.stats.logins += 1
        sid = headers.get("inin-icws-session-id")
        csrf = headers.get("inin-icws-csrf-token")
        cookie = cookies[0].split(";", 1)[0] if cookies else None
        if not (sid and csrf and cookie):
            raise CycleError("login:missing-credentials", f"headers={headers}")
        auth = {"ININ-ICWS-CSRF-Token": csrf, "Cookie": cookie}

        # 2. subscribe
        step[0] = "subscribe"
        status, _, _, resp = await self.control.request(
            "PUT", f"/icws/{sid}/messaging/subscriptions/interactions/agent-assistance", auth)
        if status != 204:
            raise CycleError(f"subscribe:{status} {error_id(resp)}", resp[:200])

        # 3. stream
        step[0] = "stream-open"
        reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), args.timeout)
        self.stream_writer = writer
        writer.write((f"GET /icws/{sid}/messaging/messages HTTP/1.1\r\nHost: {self.host_header}\r\n"
                      f"Accept: text/event-stream\r\nCookie: {cookie}\r\n\r\n").encode("latin-1"))
        status, headers, _, = await asyncio.wait_for(read_head(reader), args.timeout)
        if status != 200 or "text/event-stream" not in headers.get("content-type", ""):
            body = await asyncio.wait_for(read_body(reader, headers), args.timeout)
            raise CycleError(f"stream-open:{status} {error_id(body)}", body[:200])
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        sse = SSEReader(reader, chunked, self.stats)

        step[0] = "stream"
        window = random.uniform(args.min_read, args.max_read)
        until = min(time.monotonic() + window, self.deadline)
        opened = time.monotonic()
        ended = await sse.read_until(until)
        if ended:
            raise CycleError("stream:ended-early", f"after {len(sse.messages)} messages")
        if not sse.messages:
            if time.monotonic() >= self.deadline:
                return  # the run ended under this read: neither a cycle nor an error
            raise CycleError("stream:no-snapshot", f"no message within {time.monotonic() - opened:.1f}s")
        first = sse.messages[0]
        if first.get("__type") != LIST_MESSAGE or first.get("isDelta") is not False:
            raise CycleError("stream:bad-first-message", json.dumps(first)[:200])

        # 4. end the cycle
        roll = random.random()
        if roll < 0.25:
            step[0] = "abrupt"
            self.stats.by_mode["abrupt"] += 1
            hard_reset(writer)
            self.stream_writer = None
        elif roll < 0.75:
            step[0] = "logout"
            self.stats.by_mode["logout"] += 1
            await self.logout(sid, auth)
            step[0] = "stream-after-logout"
            before = len(sse.messages)
            ended = await sse.read_until(time.monotonic() + args.timeout)
            if not ended:
                raise CycleError("stream-after-logout:not-ended", f"still open {args.timeout}s after logout")
            if not any(m.get("__type") == STATE_CHANGE for m in sse.messages[before:]):
                raise CycleError("stream-after-logout:no-state-change", "stream ended without connectionStateChangeMessage")
            writer.close()
            self.stream_writer = None
        else:
            step[0] = "close+logout"
            self.stats.by_mode["close+logout"] += 1
            writer.close()
            self.stream_writer = None
            await self.logout(sid, auth)
        self.stats.cycles += 1

    async def logout(self, sid, auth):
        status, _, _, resp = await self.control.request("DELETE", f"/icws/{sid}/connection", auth)
        if status != 200:
            raise CycleError(f"logout:{status} {error_id(resp)}", resp[:200])


class SSEReader:
    """Decodes an event stream (chunked or not) into messages."""

    def __init__(self, reader, chunked, stats):
        self.reader, self.chunked, self.stats = reader, chunked, stats
        self.buffer = b""
        self.messages = []

    async def _next_bytes(self):
        if self.chunked:
            return await read_chunk(self.reader)
        return await self.reader.read(65536)

    async def read_until(self, until):
        """Reads events until the monotonic time `until`; True when the server ended the stream."""
        while True:
            left = until - time.monotonic()
            if left <= 0:
                return False
            try:
                data = await asyncio.wait_for(self._next_bytes(), left)
            except asyncio.TimeoutError:
                return False
            except (asyncio.IncompleteReadError, ConnectionError):
                return True
            if not data:
                return True
            self.buffer += data.replace(b"\r\n", b"\n")
            while b"\n\n" in self.buffer:
                event, self.buffer = self.buffer.split(b"\n\n", 1)
                self._event(event)

    def _event(self, event):
        data_lines = []
        for line in event.split(b"\n"):
            if line.startswith(b":"):
                self.stats.pings += 1
            elif line.startswith(b"data:"):
                data_lines.append(line[5:].lstrip(b" "))
        if data_lines:
            self.stats.events += 1
            try:
                self.messages.append(json.loads(b"\n".join(data_lines)))
            except ValueError:
                self.stats.error("stream:bad-json", b"\n".join(data_lines)[:200])


# ---------------------------------------------------------------- server observation


async def fetch_metrics(target, timeout=10.0):
    """GET /metrics on a fresh connection; returns {name-with-labels: value}."""
    host, port, host_header = target
    conn = HttpConnection(host, port, host_header, timeout)
    try:
        status, _, _, body = await conn.request("GET", "/metrics", {"Connection": "close"})
    finally:
        conn.close(reset=False)
    if status != 200:
        raise RuntimeError(f"/metrics answered {status}")
    values = {}
    for line in body.decode("utf-8", "replace").splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, value = line.rpartition(" ")
        try:
            values[name.strip()] = float(value)
        except ValueError:
            pass
    return values


def read_rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def find_listener_pid(port):
    """The pid of a local process listening on TCP `port`, found through /proc (Linux); None if unknown."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add(f"socket:[{fields[9]}]")
        except OSError:
            pass
    if not inodes:
        return None
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    return int(pid)
        except OSError:
            continue
    return None


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard
    if hard == resource.RLIM_INFINITY:
        try:
            with open("/proc/sys/fs/nr_open") as f:
                target = int(f.read())
        except OSError:
            target = 1 << 20
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def fmt_mib(value):
    return "n/a" if value is None else f"{value:.1f} MiB"


def fmt_gauge(value):
    return "?" if value is None else str(int(value))


# ---------------------------------------------------------------- main


async def main(args):
    url = urllib.parse.urlsplit(args.url)
    if url.scheme != "http":
        print(f"soak: only http:// URLs are supported, not {args.url}", file=sys.stderr)
        return 2
    host = url.hostname or "127.0.0.1"
    port = url.port or 80
    target = (host, port, url.netloc)

    limit = raise_nofile()
    max_sessions = max(1, (limit - 64) // 2)
    if args.sessions > max_sessions:
        print(f"soak: RLIMIT_NOFILE is {limit}: lowering --sessions from {args.sessions} to {max_sessions} "
              f"(two sockets per client); raise the hard limit for more", flush=True)
        args.sessions = max_sessions

    try:
        metrics = await fetch_metrics(target)
    except Exception as exc:
        print(f"soak: cannot read {args.url}/metrics: {exc!r}", file=sys.stderr)
        return 2

    pid = args.pid
    if pid is None:
        if host in ("127.0.0.1", "localhost", "::1", "0.0.0.0"):
            pid = find_listener_pid(port)
        if pid is None:
            print("soak: note: no --pid and no local process found listening on the port "
                  "(/health reports none): RSS is not measured and the plateau check fails", flush=True)
        else:
            try:
                comm = open(f"/proc/{pid}/comm").read().strip()
            except OSError:
                comm = "?"
            print(f"soak: server pid {pid} ({comm}) found listening on port {port}", flush=True)

    rss_start = read_rss_mib(pid) if pid else None
    print(f"soak: {args.url} for {args.duration:.0f}s, {args.sessions} clients as {','.join(args.user)}, "
          f"RLIMIT_NOFILE {limit}, RSS at start {fmt_mib(rss_start)}, "
          f"streams {fmt_gauge(metrics.get('openicws_sse_streams'))}, "
          f"sessions {fmt_gauge(metrics.get('openicws_sessions'))}", flush=True)

    stats = Stats()
    start = time.monotonic()
    deadline = start + args.duration
    rss_samples = []  # (seconds since start, MiB)

    async def start_client(i):
        # Spread the first logins over the ramp so thousands of clients do not connect at once.
        await asyncio.sleep(args.ramp_seconds * i / max(1, args.sessions))
        await Client(i, args, target, stats, deadline).run()

    tasks = [asyncio.ensure_future(start_client(i)) for i in range(args.sessions)]

    async def sampler():
        while True:
            if pid:
                rss = read_rss_mib(pid)
                if rss is not None:
                    rss_samples.append((time.monotonic() - start, rss))
            await asyncio.sleep(1.0)

    sampling = asyncio.ensure_future(sampler())

    last_cycles = 0
    next_report = start + args.report_every
    while time.monotonic() < deadline:
        await asyncio.sleep(max(0.0, min(next_report, deadline) - time.monotonic()))
        if time.monotonic() < next_report - 0.01:
            break  # the deadline came first
        next_report += args.report_every
        try:
            m = await fetch_metrics(target)
            streams, sessions = m.get("openicws_sse_streams"), m.get("openicws_sessions")
        except Exception as exc:
            stats.error(f"metrics:{type(exc).__name__}", repr(exc))
            streams = sessions = None
        errors = " ".join(f"{k}={v}" for k, v in sorted(stats.errors.items())) or "none"
        print(f"[{time.monotonic() - start:6.0f}s] cycles={stats.cycles} (+{stats.cycles - last_cycles}) "
              f"logins={stats.logins} errors={sum(stats.errors.values())} ({errors}) "
              f"rss={fmt_mib(read_rss_mib(pid) if pid else None)} "
              f"sse_streams={fmt_gauge(streams)} sessions={fmt_gauge(sessions)}", flush=True)
        last_cycles = stats.cycles

    # Stop every client: cancelling resets its sockets.
    rss_end = read_rss_mib(pid) if pid else None
    if rss_end is not None:
        rss_samples.append((time.monotonic() - start, rss_end))
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    sampling.cancel()
    stopped = time.monotonic()
    print(f"soak: clients stopped at {stopped - start:.0f}s; waiting up to {args.drain_seconds:.0f}s "
          f"for openicws_sse_streams to reach 0", flush=True)

    streams = sessions = None
    drain_deadline = stopped + args.drain_seconds
    while True:
        try:
            m = await fetch_metrics(target)
            streams, sessions = m.get("openicws_sse_streams"), m.get("openicws_sessions")
        except Exception as exc:
            print(f"soak: /metrics failed while draining: {exc!r}", flush=True)
        if streams == 0 or time.monotonic() >= drain_deadline:
            break
        await asyncio.sleep(0.5)
    drained_after = time.monotonic() - stopped
    rss_after_drain = read_rss_mib(pid) if pid else None

    def rss_at(fraction):
        if not rss_samples:
            return None
        t = fraction * args.duration
        return min(rss_samples, key=lambda s: abs(s[0] - t))[1]

    rss_10, rss_50 = rss_at(0.10), rss_at(0.50)
    elapsed = stopped - start
    print()
    print("== soak summary ==")
    print(f"run:        {elapsed:.0f}s, {args.sessions} clients, {stats.cycles} cycles "
          f"({stats.cycles / max(elapsed, 1e-9):.1f}/s), {stats.logins} logins; "
          + ", ".join(f"{k} {v}" for k, v in sorted(stats.by_mode.items())))
    print(f"events:     {stats.events} messages, {stats.pings} pings received on streams")
    print(f"errors:     {sum(stats.errors.values())}")
    for kind, count in sorted(stats.errors.items(), key=lambda kv: -kv[1]):
        sample = stats.error_samples.get(kind, "")
        print(f"  {count:8d}  {kind}" + (f"   e.g. {sample}" if sample else ""))
    print(f"rss:        start {fmt_mib(rss_start)}, 10% {fmt_mib(rss_10)}, 50% {fmt_mib(rss_50)}, "
          f"end {fmt_mib(rss_end)}, after drain {fmt_mib(rss_after_drain)}")
    print(f"gauges:     openicws_sse_streams {fmt_gauge(streams)} ({drained_after:.1f}s after stop), "
          f"openicws_sessions {fmt_gauge(sessions)} (abandoned sessions wait for idle expiry)")

    failures = []
    if streams != 0:
        failures.append(f"stream gauge is {fmt_gauge(streams)}, not 0, {args.drain_seconds:.0f}s after the clients stopped")
    if rss_50 is None or rss_end is None:
        failures.append("RSS was not measured (give --pid of the server)")
    else:
        growth = (rss_end / rss_50 - 1.0) * 100.0
        if growth > args.rss_growth_percent:
            failures.append(f"RSS grew {growth:.1f}% from mid-run to end "
                            f"(limit {args.rss_growth_percent:g}%): no plateau")
        else:
            print(f"plateau:    end RSS {growth:+.1f}% vs mid-run (limit +{args.rss_growth_percent:g}%)")
    if stats.cycles == 0:
        failures.append("no cycle completed")
    if failures:
        for failure in failures:
            print(f"FAIL: {failure}")
        return 1
    print("PASS: stream gauge back to 0 and RSS plateaued")
    return 0


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0],
                                epilog="See the module docstring for how to run it and what PASS means.")
    p.add_argument("--url", default="http://127.0.0.1:8018", help="server base URL (default: %(default)s)")
    p.add_argument("--duration", type=float, default=600.0, help="seconds of churn (default: %(default)s)")
    p.add_argument("--sessions", type=int, default=2000, help="concurrent churning clients (default: %(default)s)")
    p.add_argument("--pid", type=int, help="server pid for RSS (default: the local process listening on the port)")
    p.add_argument("--user", action="append",
                   help="demo agent to log in as (repeatable, clients take turns; default: agent1)")
    p.add_argument("--password", default="1234", help="its password (default: the demo's %(default)s)")
    p.add_argument("--report-every", type=float, default=30.0, help="seconds between report lines (default: %(default)s)")
    p.add_argument("--rss-growth-percent", type=float, default=10.0,
                   help="largest allowed RSS growth from mid-run to end (default: %(default)s)")
    p.add_argument("--drain-seconds", type=float, default=15.0,
                   help="how long the stream gauge may take to reach 0 after the stop (default: %(default)s)")
    p.add_argument("--ramp-seconds", type=float, default=None,
                   help="spread client starts over this long (default: min(10, duration/10))")
    p.add_argument("--min-read", type=float, default=1.0, help="shortest stream read, seconds (default: %(default)s)")
    p.add_argument("--max-read", type=float, default=10.0, help="longest stream read, seconds (default: %(default)s)")
    p.add_argument("--timeout", type=float, default=30.0, help="per-request timeout, seconds (default: %(default)s)")
    p.add_argument("--seed", type=int, help="random seed (default: random)")
    args = p.parse_args(argv)
    if not args.user:
        args.user = ["agent1"]
    if args.ramp_seconds is None:
        args.ramp_seconds = min(10.0, args.duration / 10.0)
    if args.sessions < 1 or args.duration <= 0 or args.report_every <= 0 or args.min_read > args.max_read:
        p.error("need --sessions >= 1, --duration > 0, --report-every > 0 and --min-read <= --max-read")
    if args.seed is not None:
        random.seed(args.seed)
    return args


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main(parse_args())))
    except KeyboardInterrupt:
        sys.exit(130)
