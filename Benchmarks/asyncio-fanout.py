#!/usr/bin/env python3
"""A cross-check of `icws-bench fanout` with a different client: one Python asyncio process (standard
library only) holding N EventSource streams, as a Python integration would.

  python3 asyncio-fanout.py icws  PORT N EVENTS RATE SERVER_PID   # openicws serve --admin-token t
  python3 asyncio-fanout.py nchan PORT N EVENTS RATE NGINX_PID    # nginx with nchan: /sub, /pub

icws: N supervisor sessions (supervisor1/supervisor2, password 1234, the demo directory) watch
supervisor-assistance on their own stream; each event is one interaction routed to agent1 (admin API) and
one assistance request on it, left active (one message per supervisor per event, none coalesced).
nchan: N subscribers of channel `bench` on /sub; each event is one POST to /pub.
Each stream's body is decoded as an HTTP client does: chunk by chunk if the response is chunked (size line,
bytes, CRLF), else as it comes until the connection closes; then split into events at blank lines.
Latency runs from sending the publishing request to each subscriber reading the message; the server's CPU
(its child processes included, user and all) is divided by the messages read. Prints one JSON line.
Each publishing request goes on a new connection (`Connection: close`); with KEEP_ALIVE=1 they all share one
kept-alive connection, as a client with a connection pool sends them.
With NCHAN_PAYLOAD=icws, nchan publishes what OpenICWS sends for the same event (the supervisor-assistance
delta, about 300 bytes of JSON, with the event's key as its problem description) instead of the key alone,
and the reader finds the key in it as it does in OpenICWS's messages: the readers then do the same work.
`model_matches` counts the messages of OpenICWS's first stream that are byte for byte that payload.
With GO_FILE set, it writes GO_FILE.ready once the streams are open and waits for GO_FILE before publishing
(to start a profiler first)."""
import asyncio, json, os, sys, time

MODE, PORT, N, E, RATE = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
SERVER_PID = int(sys.argv[6])

def stat_fields(pid):
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()
    except OSError:
        return None

def cpu(pid, part=None):
    """CPU seconds of `pid` and its children: user, system (`part`), or both."""
    total = 0.0
    pids = [pid] + [int(p) for p in os.listdir('/proc') if p.isdigit() and (stat_fields(p) or ['', ''])[1] == str(pid)]
    for p in pids:
        f = stat_fields(p)
        if f is None:
            continue
        total += ((int(f[11]) if part != 'sys' else 0) + (int(f[12]) if part != 'user' else 0)) / os.sysconf('SC_CLK_TCK')
    return total

def request_bytes(method, path, headers, body, close):
    """A request's bytes: head (with `Connection: close` when asked) and body."""
    data = body.encode() if body else b''
    head = f'{method} {path} HTTP/1.1\r\nHost: x\r\n' + ('Connection: close\r\n' if close else '')
    head += f'Content-Length: {len(data)}\r\n' + ''.join(f'{k}: {v}\r\n' for k, v in headers) + '\r\n'
    return head.encode() + data

def parse_head(header):
    """A response head's status and its fields (lower-case names, the first of repeated ones)."""
    lines = header.decode().split('\r\n')
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(':')
        if k:
            hdrs.setdefault(k.strip().lower(), v.strip())
    return int(lines[0].split()[1]), hdrs

async def read_chunk(r):
    """The next chunk of a chunked body, decoded as an HTTP client does (size line, that many bytes, CRLF);
    b'' for the last one (whose empty trailer is read too)."""
    size = int((await r.readline()).split(b';')[0], 16)
    chunk = await r.readexactly(size) if size else b''
    await r.readline()
    return chunk

async def request(method, path, headers=(), body=None):
    r, w = await asyncio.open_connection('127.0.0.1', PORT)
    w.write(request_bytes(method, path, headers, body, close=True))
    raw = await r.read()
    w.close()
    header, _, rest = raw.partition(b'\r\n\r\n')
    status, hdrs = parse_head(header)
    return status, hdrs, rest

KEEP_ALIVE = os.environ.get('KEEP_ALIVE') == '1'
ICWS_PAYLOAD = MODE == 'icws' or os.environ.get('NCHAN_PAYLOAD') == 'icws'

def icws_delta(number, key):
    """What OpenICWS writes to a supervisor for the check's `number`th event (0-based): its delta's JSON."""
    request = {"action": 0, "assistanceId": f"a{number + 1}",
               "initiator": {"action": 1, "displayName": "Agent One", "userId": "agent1"},
               "interactionId": str(1000000001 + number), "problemDescription": key, "state": 0, "workgroup": "Support"}
    return json.dumps({"__type": "urn:inin.com:interactions.assistance:supervisorAssistanceRequestMessage",
                       "isDelta": True, "requestsAdded": [request]}, separators=(',', ':'))

publisher = [None]   # the kept-alive connection of the publishing requests
publish_connections = [0]   # connections the publishing requests opened

async def publish_request(method, path, headers=(), body=None):
    """A publishing request: on a new connection each, or with KEEP_ALIVE=1 on one kept-alive connection."""
    if not KEEP_ALIVE:
        publish_connections[0] += 1
        return await request(method, path, headers, body)
    if publisher[0] is None:
        publisher[0] = await asyncio.open_connection('127.0.0.1', PORT)
        publish_connections[0] += 1
    r, w = publisher[0]
    w.write(request_bytes(method, path, headers, body, close=False))
    status, hdrs = parse_head(await r.readuntil(b'\r\n\r\n'))
    if 'content-length' in hdrs:
        rest = await r.readexactly(int(hdrs['content-length']))
    elif hdrs.get('transfer-encoding', '').lower() == 'chunked':
        rest = b''
        while chunk := await read_chunk(r):
            rest += chunk
    else:
        rest = b''
    if hdrs.get('connection', '').lower() == 'close':
        w.close()
        publisher[0] = None
    return status, hdrs, rest

received = {}   # event key -> list of receipt times
sent_at = {}
counts = [0]

model_matches = [0]   # messages of the first ICWS stream that are byte for byte what `icws_delta` makes

async def subscriber(path, headers, ready, compare=False):
    r, w = await asyncio.open_connection('127.0.0.1', PORT)
    w.write((f'GET {path} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n' + ''.join(f'{k}: {v}\r\n' for k, v in headers) + '\r\n').encode())
    head = await r.readuntil(b'\r\n\r\n')
    chunked = b'transfer-encoding: chunked' in head.lower()
    ready.set_result(None) if not ready.done() else None
    buf = b''
    while True:
        # Neither server frames its streams in chunks today; a chunked one is decoded all the same.
        chunk = await read_chunk(r) if chunked else await r.read(65536)
        if not chunk:
            return
        now = time.monotonic()
        buf += chunk
        while b'\n\n' in buf:
            event, _, buf = buf.partition(b'\n\n')
            for line in event.split(b'\n'):
                if not line.startswith(b'data: '):
                    continue
                data = line[6:]
                counts[0] += 1
                if not ICWS_PAYLOAD:
                    key = data.decode()
                    received.setdefault(key, []).append(now)
                else:
                    at = data.find(b'"problemDescription":"')
                    if at >= 0 and b'requestsAdded' in data:
                        start = at + len(b'"problemDescription":"')
                        key = data[start:data.index(b'"', start)].decode()
                        received.setdefault(key, []).append(now)
                        if compare:
                            model_matches[0] += data == icws_delta(int(key.rpartition('-')[2]), key).encode()

async def main():
    subs = []
    if MODE == 'nchan':
        for i in range(N):
            f = asyncio.get_running_loop().create_future()
            subs.append(asyncio.create_task(subscriber('/sub', [], f)))
            await f
    else:
        agent = None
        for i in range(N + 1):
            user = 'agent1' if i == N else f'supervisor{1 + i % 2}'
            body = json.dumps({"__type": "urn:inin.com:connection:icAuthConnectionRequestSettings", "applicationName": "asyncio", "userID": user, "password": "1234"})
            status, h, b = await request('POST', '/icws/connection', [('Accept-Language', 'en-US'), ('Content-Type', 'application/json')], body)
            sid = json.loads(b)['sessionId']
            hdrs = [('ININ-ICWS-CSRF-Token', h['inin-icws-csrf-token']), ('Cookie', h['set-cookie'].split(';')[0])]
            if i == N:
                agent = (sid, hdrs)
                break
            await request('PUT', f'/icws/{sid}/messaging/subscriptions/interactions/supervisor-assistance', hdrs + [('Content-Type', 'application/json')], '{}')
            f = asyncio.get_running_loop().create_future()
            subs.append(asyncio.create_task(subscriber(f'/icws/{sid}/messaging/messages', hdrs[1:], f, compare=i == 0)))
            await f
    await asyncio.sleep(2)
    if os.environ.get('GO_FILE'):
        open(os.environ['GO_FILE'] + '.ready', 'w').close()
        while not os.path.exists(os.environ['GO_FILE']):
            await asyncio.sleep(0.1)
    before = cpu(SERVER_PID)
    before_user = cpu(SERVER_PID, 'user')
    counts[0] = 0
    start = time.monotonic()
    for e in range(E):
        due = start + e / RATE
        await asyncio.sleep(max(0, due - time.monotonic()))
        key = f'event-{e}'
        if MODE == 'nchan':
            # The reader finds the key inside the ICWS message, or reads the (quoted) key as the whole message.
            body, sent_key = (icws_delta(e, key), key) if ICWS_PAYLOAD else (json.dumps(key),) * 2
            sent_at[sent_key] = time.monotonic()
            await publish_request('POST', '/pub', [('Content-Type', 'text/plain')], body)
        else:
            sid, hdrs = agent
            st, h, b = await publish_request('POST', '/admin/interactions', [('Authorization', 'Bearer t'), ('Content-Type', 'application/json')], json.dumps({"workgroup": "Support", "agent": "agent1"}))
            iid = json.loads(b)['interactionId']
            sent_at[key] = time.monotonic()
            st, h, b = await publish_request('POST', f'/icws/{sid}/interactions/{iid}/agent-assistance', hdrs + [('Content-Type', 'application/json')], json.dumps({"text": key}))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and sum(len(received.get(k, [])) for k in sent_at) < N * E:
        await asyncio.sleep(0.1)
    used = cpu(SERVER_PID) - before
    used_user = cpu(SERVER_PID, 'user') - before_user
    took = max(t for k in sent_at for t in received.get(k, [0])) - start
    lat = sorted((t - sent_at[k]) * 1000 for k in sent_at for t in received.get(k, []))
    got = len(lat)
    print(json.dumps({"mode": MODE, "subscribers": N, "events": E, "received": got, "missing": N * E - got,
                      "p50_ms": round(lat[len(lat) // 2], 1), "p99_ms": round(lat[int(len(lat) * 0.99)], 1),
                      "messages": counts[0], "server_cpu_ms": round(used * 1e3, 1), "server_cpu_us_per_message": round(used * 1e6 / max(counts[0], 1), 2), "user_us": round(used_user * 1e6 / max(counts[0], 1), 2), "seconds_to_last": round(took, 1),
                      "publish_connections": publish_connections[0], "model_matches": model_matches[0],
                      "payload": 'icws' if ICWS_PAYLOAD else 'key'}))
    for s in subs:
        s.cancel()

asyncio.run(main())
