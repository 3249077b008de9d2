#!/usr/bin/env python3
"""The asyncio check in alternating rounds: OpenICWS, then nginx + nchan, then OpenICWS again, and so on,
each measured by `asyncio-fanout.py` in a process of its own; the medians of the rounds are compared.

  python3 Benchmarks/asyncio-rounds.py --server .build/release/openicws --rounds 8

Each round starts the server afresh on a free loopback port (OpenICWS over a new data folder with the demo
directory and an admin token; nginx with a configuration written here, `/sub` and `/pub` on one channel),
runs one measurement (`--streams` streams, `--events` events at `--rate` per second; each publishing
request on a new connection, or with `--keep-alive` all on one kept-alive connection), and stops it. nginx
and its nchan module are Debian's (`apt-get install nginx-light libnginx-mod-nchan`); `--no-nchan` measures
OpenICWS alone. The open-file limit is raised to its hard limit for the servers and the client.

Prints one line per run (p50, p99, server CPU per message and its user-space part, missing messages, and the
host's steal: CPU time the hypervisor gave to other guests during the run, in ticks of 1/100 s), then the
medians and, with nchan, the ratios (CPU is counted in ticks of 10 ms, so short runs may show none). The
last line is JSON; it also counts the connections the publishing requests opened. Exits 1 when a run failed or a message was missing. Standard library only.

nchan publishes each event's key alone (about 35 bytes on the wire), OpenICWS the ICWS message the spec gives
(about 320 bytes). `--nchan-payload icws` has nchan publish that same message instead (the client checks on
OpenICWS's first stream that it is byte for byte what OpenICWS sends: `model_matches`), and the reader
looks for the key inside it on both servers, so that the two are compared on the same bytes and the same
reading work.

`--split-cpu STREAMS` runs every round a second time with STREAMS streams (say 10) and splits each server's
CPU in two: what publishing costs per event (the requests that make the event, and whatever else the server
spends meanwhile that does not grow with the streams) and what delivering costs per message. A run's CPU per
event is C(n) = publishing + n x delivering at n streams, so the two stream counts give both: delivering =
(C(streams) - C(STREAMS)) / (streams - STREAMS), publishing = C(STREAMS) - STREAMS x delivering, from the
medians of C. OpenICWS publishes an event with two durable requests (an interaction, then an assistance
request), nchan with one publish kept in memory. CPU is counted in ticks of 10 ms: the split needs runs of
tens of events (a run of a few may even give a negative part).

`--against OTHER` also runs another openicws binary in every round, between the two (OpenICWS, the other
build, nchan), measured the same way: how a change to the server compares with the build before it, in the
same rounds. Its medians are reported as `against`, with the ratios of `--server`'s to them.
"""
import argparse, json, os, resource, shutil, signal, socket, statistics, subprocess, sys, tempfile, time, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
NCHAN_MODULE = '/usr/lib/nginx/modules/ngx_nchan_module.so'


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def steal_ticks():
    with open('/proc/stat') as f:
        return int(f.readline().split()[8])


def wait_until(ready, what, process, log_path, timeout=20):
    """Waits for `ready()`; if the server exits or stays unready, stops it and fails with the end of its log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            problem = f'{what} exited with status {process.returncode} before it was ready'
            break
        if ready():
            return
        time.sleep(0.05)
    else:
        problem = f'{what} was not ready after {timeout} s'
    stop(process)
    try:
        with open(log_path, errors='replace') as log:
            tail = log.read()[-800:]
    except OSError:
        tail = '(no log)'
    raise RuntimeError(f'{problem}; {os.path.basename(log_path)} ends:\n{tail}')


def answers(url):
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def accepts(port):
    try:
        socket.create_connection(('127.0.0.1', port), timeout=1).close()
        return True
    except OSError:
        return False


def start_openicws(binary, folder, port, environment=None):
    """`environment`: the server's environment variables, if not this process's."""
    data = os.path.join(folder, 'data')
    os.makedirs(data)
    log_path = os.path.join(folder, 'openicws.log')
    with open(log_path, 'wb') as log:
        process = subprocess.Popen([binary, 'serve', '--port', str(port), '--admin-token', 't', '--data', data],
                                   stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=environment)
    wait_until(lambda: answers(f'http://127.0.0.1:{port}/health'), 'openicws', process, log_path)
    return process


def start_nchan(folder, port):
    # The configuration `icws-bench fanout --nchan` writes (Benchmarks/Sources/icws-bench/Bench.swift): keep the
    # two in step, so that both benchmarks measure the same nchan.
    with open(os.path.join(folder, 'nginx.conf'), 'w') as f:
        f.write(f"""load_module {NCHAN_MODULE};
daemon off;
worker_processes auto;
worker_rlimit_nofile 65536;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 30000; }}
http {{
    access_log off;
    client_body_temp_path {folder};
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location = /sub {{ nchan_subscriber eventsource; nchan_channel_id bench; }}
        location = /pub {{ nchan_publisher; nchan_channel_id bench; nchan_message_buffer_length 16; }}
    }}
}}
""")
    process = subprocess.Popen(['/usr/sbin/nginx', '-p', folder, '-c', os.path.join(folder, 'nginx.conf')],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    wait_until(lambda: accepts(port), 'nginx', process, os.path.join(folder, 'error.log'))
    return process


def stop(process):
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run(mode, args, streams):
    """One run with `streams` streams: start the server, measure, stop. Returns the measurement's JSON with the
    run's steal."""
    folder = tempfile.mkdtemp(prefix=f'asyncio-rounds-{mode}-')
    port = free_port()
    try:
        if mode == 'nchan':
            server = start_nchan(folder, port)
        else:
            server = start_openicws(args.server if mode == 'icws' else args.against, folder, port)
        try:
            steal = steal_ticks()
            measured = subprocess.run(
                [sys.executable, os.path.join(HERE, 'asyncio-fanout.py'), 'nchan' if mode == 'nchan' else 'icws', str(port), str(streams),
                 str(args.events), str(args.rate), str(server.pid)],
                capture_output=True, text=True, timeout=args.events / args.rate + 600,
                env=dict(os.environ, KEEP_ALIVE='1' if args.keep_alive else '0', NCHAN_PAYLOAD=args.nchan_payload))
            steal = steal_ticks() - steal
        finally:
            stop(server)
        lines = [line for line in measured.stdout.splitlines() if line.startswith('{')]
        if measured.returncode != 0 or not lines:
            raise RuntimeError(f'the {mode} measurement failed (status {measured.returncode}): '
                               f'{(measured.stderr or measured.stdout).strip()[-800:]}')
        result = json.loads(lines[-1])
        result['steal_ticks'] = steal
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def cpu_per_event(result):
    """The server's CPU per event in a run, in milliseconds."""
    return result['server_cpu_ms'] / result['events']


def split_cpu(results, small, streams, few):
    """Publishing per event and delivering per message, from the median CPU per event at `streams` and at
    `few` streams (see --split-cpu)."""
    many_ms = statistics.median(cpu_per_event(r) for r in results)
    few_ms = statistics.median(cpu_per_event(r) for r in small)
    delivering_ms = (many_ms - few_ms) / (streams - few)
    return {
        'streams': [few, streams],
        'cpu_ms_per_event': [round(few_ms, 3), round(many_ms, 3)],
        'publishing_cpu_ms_per_event': round(few_ms - few * delivering_ms, 3),
        'delivery_cpu_us_per_message': round(delivering_ms * 1000, 2),
    }


def summary(results):
    return {
        'p50_ms': round(statistics.median(r['p50_ms'] for r in results), 1),
        'p99_ms': round(statistics.median(r['p99_ms'] for r in results), 1),
        'server_cpu_us_per_message': round(statistics.median(r['server_cpu_us_per_message'] for r in results), 2),
        'server_user_cpu_us_per_message': round(statistics.median(r['user_us'] for r in results), 2),
        'missing': sum(r['missing'] for r in results),
        'publish_connections': sum(r['publish_connections'] for r in results),
        'model_matches': sum(r.get('model_matches', 0) for r in results),
        'payload': results[0].get('payload'),
    }


def parser_with_server(description):
    """An argument parser for a benchmark of `Benchmarks/` with its `--server` option."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--server', default=os.path.join(HERE, '..', '.build', 'release', 'openicws'),
                        help='the openicws binary (default: the package\'s release build)')
    return parser


def main():
    parser = parser_with_server(__doc__)
    parser.add_argument('--rounds', type=int, default=8, help='rounds; each runs OpenICWS, then --against\'s build if given, then nchan (default 8)')
    parser.add_argument('--streams', type=int, default=2000, help='EventSource streams (default 2000)')
    parser.add_argument('--events', type=int, default=60, help='events per run (default 60)')
    parser.add_argument('--rate', type=float, default=5, help='events per second (default 5)')
    parser.add_argument('--no-nchan', action='store_true', help='measure OpenICWS alone')
    parser.add_argument('--keep-alive', action='store_true',
                        help='send the publishing requests on one kept-alive connection instead of a new one each')
    parser.add_argument('--split-cpu', type=int, default=0, metavar='STREAMS',
                        help='also run every round with STREAMS streams, and split each server\'s CPU into publishing '
                             'per event and delivering per message (see above)')
    parser.add_argument('--against', metavar='OTHER',
                        help='another openicws binary to run in every round as well, to compare a build with another')
    parser.add_argument('--nchan-payload', choices=['key', 'icws'], default='key',
                        help='what nchan publishes: the event\'s key alone (default), or the ICWS message OpenICWS '
                             'sends for it, so that the reader does the same work on both servers')
    args = parser.parse_args()
    if args.rounds < 1 or args.streams < 1 or args.events < 1 or args.rate <= 0:
        parser.error('--rounds, --streams and --events must be at least 1, and --rate above 0')
    if args.split_cpu and not 0 < args.split_cpu < args.streams:
        parser.error('--split-cpu needs fewer streams than --streams, and at least 1')
    if not (os.path.isfile(args.server) and os.access(args.server, os.X_OK)):
        parser.error(f'no openicws binary at {args.server} (swift build -c release --product openicws)')
    if args.against and not (os.path.isfile(args.against) and os.access(args.against, os.X_OK)):
        parser.error(f'no openicws binary at {args.against} (--against)')
    if not args.no_nchan and not (os.path.isfile(NCHAN_MODULE) and os.access('/usr/sbin/nginx', os.X_OK)):
        parser.error('nginx with nchan is missing (apt-get install nginx-light libnginx-mod-nchan), or pass --no-nchan')
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    needed = args.streams + 64
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < needed:
        parser.error(f'{args.streams} streams need about {needed} open files; the hard limit is {hard}')

    modes = ['icws'] + (['against'] if args.against else []) + ([] if args.no_nchan else ['nchan'])
    names = {'icws': 'openicws', 'against': 'against', 'nchan': 'nchan'}
    results = {mode: [] for mode in modes}
    failed = False
    small = {mode: [] for mode in modes}
    # The rounds at --streams, then (with --split-cpu) the same rounds at the few streams.
    for streams, kept in [(args.streams, results)] + ([(args.split_cpu, small)] if args.split_cpu else []):
        for round_number in range(1, args.rounds + 1):
            for mode in modes:
                try:
                    r = run(mode, args, streams)
                except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
                    print(f'round {round_number} {names[mode]:8} streams {streams} failed: {error}', flush=True)
                    failed = True
                    continue
                kept[mode].append(r)
                print(f"round {round_number} {names[mode]:8} p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms  "
                      f"cpu {r['server_cpu_us_per_message']:6.2f} us/message (user {r['user_us']:5.2f}), "
                      f"{cpu_per_event(r):6.2f} ms/event  streams {streams}  missing {r['missing']}  "
                      f"steal {r['steal_ticks']}", flush=True)
    report = {'rounds': args.rounds, 'streams': args.streams, 'events': args.events, 'rate': args.rate,
              'keep_alive': args.keep_alive, 'nchan_payload': args.nchan_payload, 'split_cpu': args.split_cpu,
              'against_server': args.against}
    for mode in modes:
        if results[mode]:
            report[names[mode]] = summary(results[mode])
            s = report[names[mode]]
            print(f"median   {names[mode]:8} p50 {s['p50_ms']:6.1f} ms  p99 {s['p99_ms']:6.1f} ms  "
                  f"cpu {s['server_cpu_us_per_message']:6.2f} us/message (user {s['server_user_cpu_us_per_message']:5.2f})  missing {s['missing']} "
                  f"(over {len(results[mode])} runs)")
            if small[mode]:
                s['cpu_split'] = split_cpu(results[mode], small[mode], args.streams, args.split_cpu)
                s['missing'] += sum(r['missing'] for r in small[mode])
                split = s['cpu_split']
                print(f"split    {names[mode]:8} publishing {split['publishing_cpu_ms_per_event']:6.3f} ms/event  "
                      f"delivering {split['delivery_cpu_us_per_message']:6.2f} us/message "
                      f"(from {split['cpu_ms_per_event'][0]:.3f} ms/event at {args.split_cpu} streams, "
                      f"{split['cpu_ms_per_event'][1]:.3f} at {args.streams})")
    def ratio(ours_value, theirs_value):
        # CPU is counted in ticks of 10 ms: a short run may show none.
        return round(ours_value / theirs_value, 3) if theirs_value > 0 else None

    if 'openicws' in report and 'nchan' in report:
        ours, theirs = report['openicws'], report['nchan']
        report['ratio'] = {'p99': ratio(ours['p99_ms'], theirs['p99_ms']),
                           'server_cpu_per_message': ratio(ours['server_cpu_us_per_message'], theirs['server_cpu_us_per_message'])}
        if 'cpu_split' in ours and 'cpu_split' in theirs:
            report['ratio']['delivery_cpu_per_message'] = ratio(
                ours['cpu_split']['delivery_cpu_us_per_message'], theirs['cpu_split']['delivery_cpu_us_per_message'])
        shown = {key: 'n/a' if value is None else f'{value:.2f} x' for key, value in report['ratio'].items()}
        print(f"openicws / nchan: p99 {shown['p99']}, server CPU per message {shown['server_cpu_per_message']}"
              + (f", delivering alone {shown['delivery_cpu_per_message']}" if 'delivery_cpu_per_message' in shown else ''))
    if 'openicws' in report and 'against' in report:
        ours, other = report['openicws'], report['against']
        report['ratio_against'] = {'p99': ratio(ours['p99_ms'], other['p99_ms']),
                                   'server_cpu_per_message': ratio(ours['server_cpu_us_per_message'], other['server_cpu_us_per_message'])}
        shown = {key: 'n/a' if value is None else f'{value:.2f} x' for key, value in report['ratio_against'].items()}
        print(f"openicws / against: p99 {shown['p99']}, server CPU per message {shown['server_cpu_per_message']}")
    print(json.dumps(report))
    missing = any(s.get('missing', 0) for s in (report.get(names[m], {}) for m in modes))
    sys.exit(1 if failed or missing or any(not results[m] or (args.split_cpu and not small[m]) for m in modes) else 0)


if __name__ == '__main__':
    main()
