#!/usr/bin/env python3
"""Hostile-client probes against a running OpenICWS: the attacks of docs/RELIABILITY.md, one line each.

Standard library only. Start a server with an admin token, then run the probes:

    swift build -c release --product openicws
    ulimit -n 65536
    .build/release/openicws serve --port 8018 --data /tmp/faults-data --admin-token t &
    python3 Benchmarks/faults.py --url http://127.0.0.1:8018 --admin-token t

Probes (each prints what the server did):
  idle      N sockets that send nothing (default 19,000, or what the open-file limit allows): /health answers
            while they are open, and the server closes them after --request-head-timeout-seconds.
  halfhead  2,000 sockets that send half a request head: closed after the head timeout.
  hugebody  POST with Content-Length 10 GB and no body: answered and closed at once.
  brute     wrong passwords for one user until 429, then the right one (still 429).
  watches   watches on one session until the cap (400 error.request.limitExceeded).
  chat      chat lines on one request until the cap.
  garbage   requests the HTTP parser rejects: ICWS bodies, 431 for a 200 KB URL.
Exit status 0 when every probe saw what it expects, 1 otherwise.
"""
import argparse
import json
import resource
import socket
import sys
import time
import urllib.error
import urllib.request

OK = True


def report(name, passed, detail):
    global OK
    OK = OK and passed
    print(f"{'PASS' if passed else 'FAIL'} {name:9} {detail}", flush=True)


def http(base, method, path, body=None, headers=None, timeout=10):
    request = urllib.request.Request(base + path, method=method, data=body.encode() if body else None)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    if body:
        request.add_header("Content-Type", "application/json")
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read().decode(), time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode(), time.monotonic() - started


def login(base, user="agent1", password="1234"):
    body = json.dumps({"__type": "urn:inin.com:connection:icAuthConnectionRequestSettings",
                       "applicationName": "faults", "userID": user, "password": password})
    status, headers, text, _ = http(base, "POST", "/icws/connection", body, {"Accept-Language": "en-US"})
    if status != 201:
        return status, None
    sid = headers["ININ-ICWS-Session-ID"]
    cookie = headers["Set-Cookie"].split(";")[0]
    return status, (sid, {"ININ-ICWS-CSRF-Token": headers["ININ-ICWS-CSRF-Token"], "Cookie": cookie})


def wait_closed(sockets, seconds):
    """How many of `sockets` the server closed within `seconds`."""
    deadline = time.monotonic() + seconds
    closed = set()
    while time.monotonic() < deadline and len(closed) < len(sockets):
        for index, sock in enumerate(sockets):
            if index in closed:
                continue
            try:
                data = sock.recv(65536)
                if data == b"":
                    closed.add(index)
            except BlockingIOError:
                pass
            except OSError:
                closed.add(index)
        time.sleep(0.2)
    return len(closed)


def read_all(sock):
    """What the server sends until it closes the connection (or resets it)."""
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk
    except OSError:
        return data


def open_sockets(host, port, count, payload=b""):
    sockets = []
    for _ in range(count):
        try:
            sock = socket.create_connection((host, port), timeout=5)
        except OSError:
            break
        if payload:
            sock.sendall(payload)
        sock.setblocking(False)
        sockets.append(sock)
    return sockets


def probe_idle(base, host, port, count, head_timeout):
    sockets = open_sockets(host, port, count)
    started = time.monotonic()
    status, _, _, took = http(base, "GET", "/health", timeout=10)
    closed = wait_closed(sockets, head_timeout + 10)
    report("idle", status == 200 and closed == len(sockets),
           f"{len(sockets)} silent sockets open; /health answered {status} in {took * 1000:.0f} ms; "
           f"{closed} closed by the server within {time.monotonic() - started:.1f} s")
    for sock in sockets:
        sock.close()


def probe_halfhead(host, port, head_timeout):
    sockets = open_sockets(host, port, 2000, b"GET /health HTTP/1.1\r\nHost: x\r\n")
    started = time.monotonic()
    closed = wait_closed(sockets, head_timeout + 10)
    report("halfhead", closed == len(sockets), f"{closed} of {len(sockets)} half-sent heads closed within {time.monotonic() - started:.1f} s")
    for sock in sockets:
        sock.close()


def probe_hugebody(host, port):
    sock = socket.create_connection((host, port), timeout=40)
    started = time.monotonic()
    sock.sendall(b"POST /icws/connection HTTP/1.1\r\nHost: x\r\nAccept-Language: en\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 10000000000\r\n\r\n")
    data = read_all(sock)
    first = data.split(b"\r\n", 1)[0].decode(errors="replace")
    report("hugebody", first.startswith("HTTP/1.1 4") and time.monotonic() - started < 35,
           f"answered '{first}' and closed after {time.monotonic() - started:.1f} s")


def probe_brute(base):
    user = f"agent{int(time.time()) % 3 + 1}"
    statuses = []
    for _ in range(30):
        status, _ = login(base, user, "wrong")
        statuses.append(status)
        if status == 429:
            break
    right, _ = login(base, user)
    report("brute", 429 in statuses and right == 429,
           f"{statuses.count(400)} wrong passwords answered 400, then 429; the right password then: {right}")


def probe_watches(base):
    _, session = login(base, "agent2")
    sid, headers = session
    statuses = []
    for index in range(60):
        status, _, text, _ = http(base, "PUT", f"/icws/{sid}/messaging/subscriptions/queues/q{index}",
                                  json.dumps({"queueIds": [{"queueType": 1, "queueName": "agent2"}], "attributeNames": ["Eic_State"]}),
                                  headers)
        statuses.append(status)
        if status >= 400:
            break
    refused = statuses[-1]
    report("watches", refused == 400 and len(statuses) == 51, f"{len(statuses) - 1} watches accepted, then {refused} {text[:80]}")
    http(base, "DELETE", f"/icws/{sid}/connection", None, headers)


def probe_chat(base, token):
    _, session = login(base, "agent3")
    sid, headers = session
    _, _, created, _ = http(base, "POST", "/admin/interactions", json.dumps({"workgroup": "Support", "agent": "agent3"}),
                            {"Authorization": f"Bearer {token}"})
    interaction = json.loads(created)["interactionId"]
    _, _, body, _ = http(base, "POST", f"/icws/{sid}/interactions/{interaction}/agent-assistance", json.dumps({"text": "help"}), headers)
    assistance = json.loads(body)["assistanceId"]
    count = 0
    status = 0
    for _ in range(600):
        status, _, text, _ = http(base, "POST", f"/icws/{sid}/interactions/agent-assistance/{assistance}",
                                  json.dumps({"text": "x" * 2000}), headers)
        if status >= 300:
            break
        count += 1
    report("chat", status == 400, f"{count} chat lines of 2,000 characters accepted, then {status} {text[:80]}")
    http(base, "DELETE", f"/icws/{sid}/connection", None, headers)


def probe_garbage(host, port):
    cases = [("bare LF", b"GET /health HTTP/1.1\nHost: x\n\n", "400"),
             ("unknown method", b"BREW /health HTTP/1.1\r\nHost: x\r\n\r\n", "400"),
             ("CL+TE", b"POST /icws/connection HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400"),
             ("200 KB URL", b"GET /" + b"a" * 200_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", "431")]
    results = []
    for name, payload, expected in cases:
        sock = socket.create_connection((host, port), timeout=5)
        sock.sendall(payload)
        data = read_all(sock)
        head, _, body = data.partition(b"\r\n\r\n")
        status = head.split(b" ")[1].decode() if b" " in head else "none"
        try:
            error_id = json.loads(body).get("errorId")
        except ValueError:
            error_id = None
        results.append((name, status == expected and error_id is not None, f"{name}: {status} {error_id}"))
    report("garbage", all(passed for _, passed, _ in results), "; ".join(detail for _, _, detail in results))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8018")
    parser.add_argument("--admin-token", default="t")
    parser.add_argument("--idle-sockets", type=int, default=19_000)
    parser.add_argument("--head-timeout", type=float, default=10, help="the server's --request-head-timeout-seconds")
    parser.add_argument("--only", help="comma-separated probe names")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    host, port = args.url.split("//")[1].split(":")
    port = int(port.rstrip("/"))
    base = args.url.rstrip("/")
    only = set(args.only.split(",")) if args.only else None
    probes = [
        ("idle", lambda: probe_idle(base, host, port, min(args.idle_sockets, hard - 200), args.head_timeout)),
        ("halfhead", lambda: probe_halfhead(host, port, args.head_timeout)),
        ("hugebody", lambda: probe_hugebody(host, port)),
        ("garbage", lambda: probe_garbage(host, port)),
        ("watches", lambda: probe_watches(base)),
        ("chat", lambda: probe_chat(base, args.admin_token)),
        ("brute", lambda: probe_brute(base)),
    ]
    for name, probe in probes:
        if only is None or name in only:
            probe()
    sys.exit(0 if OK else 1)


if __name__ == "__main__":
    main()
