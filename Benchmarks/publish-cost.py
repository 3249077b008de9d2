#!/usr/bin/env python3
"""What publishing one event of the asyncio check costs the server, without any stream: the check's two
requests (an interaction routed to agent1 through the admin API, then agent1's assistance request on it), each
on a new connection, one pair every `--spacing` milliseconds, `--pairs` pairs per run.

  python3 Benchmarks/publish-cost.py --server .build/release/openicws
  python3 Benchmarks/publish-cost.py --server .build/release/openicws --loops 1 --spacing 2

Each run starts the server afresh on a free loopback port over a new data folder (as `asyncio-rounds.py`
does), logs agent1 in, waits a second, and then measures the pairs: the server's CPU time per pair from its
threads' `/proc/<pid>/task/<tid>/schedstat` (nanoseconds on a CPU), split into its event loops (threads named
`NIO-SGLTN-…`), SQLite's thread (`TP-…`) and the rest, and the context switches per pair. The spacing
matters: the check sends a pair every 200 ms, and threads that went to sleep cost more to wake.
`--loops N` runs the server with N event loops (NIO's `NIO_SINGLETON_GROUP_LOOP_COUNT`; the default is one
per core).

Prints one line per run, then the medians; the last line is JSON. Exits 1 when a run failed or a request was
not answered 201. Standard library only.
"""
import importlib.util, json, os, shutil, socket, statistics, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location('asyncio_rounds', os.path.join(HERE, 'asyncio-rounds.py'))
rounds = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rounds)


def request(port, method, path, headers=(), body=''):
    """One request on a new connection (`Connection: close`): its status, fields (lower-case names) and body."""
    data = body.encode()
    head = (f'{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {len(data)}\r\n'
            + ''.join(f'{k}: {v}\r\n' for k, v in headers) + '\r\n')
    with socket.create_connection(('127.0.0.1', port), timeout=10) as s:
        s.sendall(head.encode() + data)
        answer = b''
        while chunk := s.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b'\r\n\r\n')
    lines = head.decode('latin-1').split('\r\n')
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(':')
        fields.setdefault(name.strip().lower(), value.strip())
    return int(lines[0].split()[1]), fields, body


def threads(pid):
    """Per thread of `pid`: (name, nanoseconds on a CPU, context switches so far)."""
    found = {}
    for tid in os.listdir(f'/proc/{pid}/task'):
        try:
            with open(f'/proc/{pid}/task/{tid}/comm') as f:
                name = f.read().strip()
            with open(f'/proc/{pid}/task/{tid}/schedstat') as f:
                on_cpu = int(f.read().split()[0])
            with open(f'/proc/{pid}/task/{tid}/status') as f:
                switches = sum(int(line.split()[1]) for line in f if 'ctxt_switches:' in line)
        except (OSError, ValueError, IndexError):
            continue   # the thread ended meanwhile
        found[tid] = (name, on_cpu, switches)
    return found


def kind(name):
    if name.startswith('NIO-SGLTN'):
        return 'event_loops'
    if name.startswith('TP-'):
        return 'sqlite'
    return 'other'


def run(args):
    """One run: start the server, measure the pairs, stop. Returns the run's figures."""
    folder = tempfile.mkdtemp(prefix='publish-cost-')
    port = rounds.free_port()
    environment = dict(os.environ, NIO_SINGLETON_GROUP_LOOP_COUNT=str(args.loops)) if args.loops else None
    try:
        server = rounds.start_openicws(args.server, folder, port, environment=environment)
        try:
            status, fields, body = request(port, 'POST', '/icws/connection',
                                           [('Accept-Language', 'en-US'), ('Content-Type', 'application/json')],
                                           json.dumps({"__type": "urn:inin.com:connection:icAuthConnectionRequestSettings",
                                                       "applicationName": "publish-cost", "userID": "agent1", "password": "1234"}))
            if status != 201:
                raise RuntimeError(f'login answered {status}: {body[:200]!r}')
            session = json.loads(body)['sessionId']
            agent = [('ININ-ICWS-CSRF-Token', fields['inin-icws-csrf-token']), ('Cookie', fields['set-cookie'].split(';')[0]),
                     ('Content-Type', 'application/json')]
            time.sleep(1)
            before = threads(server.pid)
            start = time.monotonic()
            for number in range(args.pairs):
                time.sleep(max(0, start + number * args.spacing / 1000 - time.monotonic()))
                status, _, body = request(port, 'POST', '/admin/interactions',
                                          [('Authorization', 'Bearer t'), ('Content-Type', 'application/json')],
                                          json.dumps({"workgroup": "Support", "agent": "agent1"}))
                if status != 201:
                    raise RuntimeError(f'POST /admin/interactions answered {status}: {body[:200]!r}')
                interaction = json.loads(body)['interactionId']
                status, _, body = request(port, 'POST', f'/icws/{session}/interactions/{interaction}/agent-assistance',
                                          agent, json.dumps({"text": f"pair-{number}"}))
                if status != 201:
                    raise RuntimeError(f'the assistance request answered {status}: {body[:200]!r}')
            after = threads(server.pid)
        finally:
            rounds.stop(server)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    parts = {'event_loops': 0, 'sqlite': 0, 'other': 0}
    switches = 0
    for tid, (name, on_cpu, switched) in after.items():
        _, was_on_cpu, was_switched = before.get(tid, (name, 0, 0))
        parts[kind(name)] += on_cpu - was_on_cpu
        switches += switched - was_switched
    return {
        'cpu_us_per_pair': round(sum(parts.values()) / 1000 / args.pairs, 1),
        **{f'{part}_us_per_pair': round(ns / 1000 / args.pairs, 1) for part, ns in parts.items()},
        'context_switches_per_pair': round(switches / args.pairs, 1),
        'event_loop_threads': sum(1 for name, _, _ in after.values() if kind(name) == 'event_loops'),
    }


def main():
    parser = rounds.parser_with_server(__doc__)
    parser.add_argument('--pairs', type=int, default=100, help='pairs of requests per run (default: 100)')
    parser.add_argument('--spacing', type=float, default=200.0, help='milliseconds from one pair to the next (default: 200, as in the check)')
    parser.add_argument('--rounds', type=int, default=3, help='runs, each on a new server (default: 3)')
    parser.add_argument('--loops', type=int, default=0, help='event loops of the server (default: NIO\'s, one per core)')
    args = parser.parse_args()
    if args.pairs < 1 or args.rounds < 1 or args.spacing < 0 or args.loops < 0:
        parser.error('--pairs and --rounds must be at least 1, --spacing and --loops at least 0')

    results, failed = [], 0
    for number in range(1, args.rounds + 1):
        try:
            result = run(args)
        except (RuntimeError, OSError, ValueError, KeyError) as error:
            failed += 1
            print(f'run {number}: failed: {error}', flush=True)
            continue
        results.append(result)
        print(f"run {number}: {result['cpu_us_per_pair']:8.1f} us per pair (event loops {result['event_loops_us_per_pair']:.1f}, "
              f"SQLite {result['sqlite_us_per_pair']:.1f}, other {result['other_us_per_pair']:.1f}), "
              f"{result['context_switches_per_pair']:.1f} context switches per pair, {result['event_loop_threads']} event loops", flush=True)
    report = {'rounds': args.rounds, 'pairs': args.pairs, 'spacing_ms': args.spacing, 'loops': args.loops or None,
              'failed': failed}
    if results:
        medians = {key: statistics.median(result[key] for result in results) for key in results[0]}
        print(f"median: {medians['cpu_us_per_pair']:8.1f} us per pair (event loops {medians['event_loops_us_per_pair']:.1f}, "
              f"SQLite {medians['sqlite_us_per_pair']:.1f}, other {medians['other_us_per_pair']:.1f}), "
              f"{medians['context_switches_per_pair']:.1f} context switches per pair")
        report['median'] = medians
        report['runs'] = results
    print(json.dumps(report))
    sys.exit(1 if failed or not results else 0)


if __name__ == '__main__':
    main()
