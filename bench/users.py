#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench/users.py: issue 15's figures, "performance as users run it", in one
run, printed as one Markdown table with the targets and PASS/MISS, plus an
SVG plot of readiness latency against start delay for both tools.

Run through bench/run (which builds and passes the paths); alone:
  bench/users.py --build build-bench [--quick] [--reference DIR]

Rows:
- one-shot CLI cycles per backend (bench/oneshot: a fresh mirakuru-run per
  cycle, --output ready --then true), against the one-shot floor (a fresh C
  program doing the same with posix_spawn: bench-service oneshot-floor); the
  systemd backend beside the sandboxed manager (tests/sandbox/mirakuru-sandbox),
  interleaved with cgroup cycles in the same sandbox;
- slow-start readiness per probe at the library level (mirakuru-bench
  slow-start), services ready after a random 0.2-3 s, and our CPU while
  waiting 3 s for tcp and http (mirakuru-bench wait-cpu); tcp and http with
  each listen watch in the same run: the event path (the default, where
  perf allows it), the 1 ms sock_diag poll, and off (before issue 15);
- side by side with Python mirakuru (the copy in ../shared/reference):
  readiness of the same bench-service after the same delays (tcp, http,
  output; stamp before listen()/write() to start() returning), start+stop as
  one fresh process per cycle (mirakuru-run with the backend a user gets by
  default, and with the process-group backend), peak RSS of that process;
- real servers from Debian, readiness against the time the server itself
  logs as ready, both tools: redis-server ("Ready to accept connections"),
  postgres ("database system is ready to accept connections";
  bench/users_postgres.py).
Ratios come from this run only. Nothing here runs in `meson test`.

As root it runs inside a cgroup v2 directory made for it
(tests/sandbox/in-test-cgroup: it re-executes itself there), so that every
cgroup the library makes lies below a directory of the bench's own.
"""
import argparse
import ctypes
import datetime
import os
import random
import re
import select
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import users_postgres  # noqa: E402


def log(msg):
    print(f'bench/users: {msg}', file=sys.stderr, flush=True)


def median_p95(v):
    s = sorted(v)
    if not s:
        return float('nan'), float('nan')
    return statistics.median(s), s[min(len(s) - 1, max(0, -(-95 * len(s) // 100) - 1))]


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Fifo:
    """The stamp FIFO bench-service writes CLOCK_MONOTONIC nanoseconds to."""

    def __init__(self, tmp):
        self.path = os.path.join(tmp, 'users.fifo')
        os.mkfifo(self.path)
        self.fd = os.open(self.path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        self.buf = b''

    def drain(self):
        self.buf = b''
        try:
            while os.read(self.fd, 4096):
                pass
        except BlockingIOError:
            pass

    def stamp(self, timeout=30):
        end = time.monotonic() + timeout
        while b'\n' not in self.buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                raise TimeoutError('no stamp from bench-service')
            self.buf += os.read(self.fd, 4096)
        line, self.buf = self.buf.split(b'\n', 1)
        return int(line)


# --- ours: mirakuru-bench ----------------------------------------------------
def run_mirakuru_bench(a, what, delays, tmp, **extra):
    env = dict(os.environ, BENCH_SERVICE=a.service, BENCH_TMPDIR=tmp, BENCH_NO_HEADER='1',
               BENCH_RUNS=str(len(delays)), BENCH_DELAYS_MS=' '.join(map(str, delays)), **extra)
    p = subprocess.run([a.bench, *what], env=env, capture_output=True, text=True)
    if p.returncode != 0:
        log(f'mirakuru-bench {what} failed: {p.stderr[-2000:]}')
    rows = [line.split('\t') for line in p.stdout.splitlines() if line.count('\t') >= 10]
    samples = [line.split('\t')[1:] for line in p.stderr.splitlines() if line.startswith('SLOWSTART\t')]
    return rows, samples


# --- Python mirakuru -----------------------------------------------------------
def python_slow_start(a, delays, tmp):
    sys.path.insert(0, a.reference)
    from mirakuru import HTTPExecutor, OutputExecutor, TCPExecutor  # noqa: E402

    fifo = Fifo(tmp)
    port = free_port()
    out = {}
    for probe in ('tcp', 'http', 'output'):
        lat, cpu, wall = [], 0.0, 0.0
        for d in delays:
            env = {'BENCH_STAMP_FIFO': fifo.path, 'BENCH_DELAY_US': str(d * 1000)}
            if probe == 'tcp':
                ex = TCPExecutor([a.service, 'tcp', str(port)], host='127.0.0.1', port=port, timeout=30, envvars=env)
            elif probe == 'http':
                ex = HTTPExecutor([a.service, 'http', str(port)], url=f'http://127.0.0.1:{port}/', timeout=30,
                                  envvars=env)
            else:
                ex = OutputExecutor([a.service, 'output'], banner='BENCH READY', timeout=30, envvars=env)
            fifo.drain()
            r0, t0 = os.times(), time.monotonic_ns()
            ex.start()
            t = time.monotonic_ns()
            r1 = os.times()
            cpu += (r1.user + r1.system) - (r0.user + r0.system)
            wall += (t - t0) / 1e9
            stamp = fifo.stamp()
            ex.stop()
            lat.append((t - stamp) / 1e3)
            print(f'SLOWSTART\tpython\t{probe}\t{d}\t{lat[-1]:.1f}', file=a.samples)
        out[probe] = (lat, 100.0 * cpu / wall if wall else float('nan'))
    os.close(fifo.fd)
    return out


# --- one-shot cycles -------------------------------------------------------------
SERVICE = ['sh', '-c', 'echo ready; exec sleep 300']


def timed_wait4(a, argv, env=None):
    """ms and peak RSS (KiB) of ARGV, spawned by bench-service rusage: a
    process Python forks or vforks would count Python's pages as its own."""
    p = subprocess.run([a.service, 'rusage', *argv], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    if p.returncode != 0:
        raise RuntimeError(f'{argv[0]} exited {p.returncode}')
    ms, rss = p.stdout.split()[-2:]
    return float(ms), int(rss)


def backend_used(a, env=None):
    """The backend mirakuru-run really uses (its --verbose "containment:")."""
    p = subprocess.run([a.mirakuru_run, '--verbose', '--output', 'ready', '--then', 'true', '--'] + SERVICE, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    m = re.search(r'containment: ([a-z-]+)', p.stderr)
    return m.group(1) if m else f'unknown (exit {p.returncode})'


def oneshot_side_by_side(a, n):
    """Fresh process per cycle, interleaved: mirakuru-run with the default
    backend (auto: what users get) and with the process-group backend,
    Python mirakuru, and the floor. ms and peak RSS (KiB) of the process."""
    code = ('import subprocess, sys; sys.path.insert(0, sys.argv[1]); from mirakuru import OutputExecutor; '
            "e = OutputExecutor(['sh', '-c', 'echo ready; exec sleep 300'], banner='ready', timeout=30); "
            "e.start(); subprocess.run(['sh', '-c', 'true'], check=True); e.stop()")
    auto = {k: v for k, v in os.environ.items() if k != 'MIRAKURU_CONTAINMENT'}
    pgroup = dict(auto, MIRAKURU_CONTAINMENT='process-group')
    res = {'mirakuru-run': ([], []), 'mirakuru-run-pgroup': ([], []), 'python': ([], []), 'floor': ([], [])}
    res['auto'] = backend_used(a, auto)
    cli = [a.mirakuru_run, '--output', 'ready', '--then', 'true', '--'] + SERVICE
    for _ in range(n):
        for name, argv, e in (
                ('mirakuru-run', cli, auto),
                ('mirakuru-run-pgroup', cli, pgroup),
                ('python', [sys.executable, '-c', code, a.reference], None),
                ('floor', [a.service, 'oneshot-floor'], None)):
            ms, rss = timed_wait4(a, argv, e)
            res[name][0].append(ms)
            res[name][1].append(rss)
    return res


def oneshot_backends(a, n, backends='cgroup process-group', sandbox=None):
    """bench/oneshot: a fresh mirakuru-run per cycle per backend (cgroup in
    a test cgroup; with SANDBOX, beside its systemd manager).
    {backend: (median, p10, p90 ms, the backend really used)}."""
    argv = [os.path.join(HERE, 'oneshot'), str(n), a.mirakuru_run]
    if sandbox:
        argv = [sandbox] + argv
    p = subprocess.run(argv, capture_output=True, text=True, env=dict(os.environ, BENCH_ONESHOT_BACKENDS=backends))
    out = {}
    for line in p.stdout.splitlines():
        f = [x.strip() for x in line.strip('|').split('|')]
        if len(f) == 6 and f[1] in backends.split():
            out[f[1]] = (float(f[2]), float(f[3]), float(f[4]), f[5])
    if p.returncode != 0 or not out:
        log(f'bench/oneshot {"in " + sandbox if sandbox else ""} failed (exit {p.returncode}): {p.stderr[-1000:]}')
    return out


def sandbox_path():
    """The sandboxed systemd manager's wrapper, when this machine can host it."""
    for s in (os.path.join(SRC, 'tests', 'sandbox', 'mirakuru-sandbox'),
              os.path.join(SRC, '..', 'shared', 'tools', 'with-systemd-sandbox')):
        if os.access(s, os.X_OK):
            return s
    return None


def then_stamp(a, path):
    """mirakuru-run's --then stamp: sh execs (no fork) bench-stamp, a C
    program linked against libc alone that writes CLOCK_REALTIME at its
    main() to PATH. (`date +%s.%N > F` costs sh's fork and date's locale
    loading, ~2 ms here: the user's command, not the readiness.)"""
    return f'exec {shlex.quote(a.stamp)} {shlex.quote(path)}'


# --- redis -------------------------------------------------------------------------
def redis_logged_ready(path):
    """Wall-clock seconds of redis' "Ready to accept connections" line."""
    for _ in range(200):
        try:
            with open(path) as f:
                for line in f:
                    if 'Ready to accept connections' in line:
                        m = re.search(r'(\d+ \w+ \d{4} [\d:]+\.\d{3})', line)
                        if m:
                            d = datetime.datetime.strptime(m.group(1), '%d %b %Y %H:%M:%S.%f')
                            return d.replace(tzinfo=datetime.datetime.now().astimezone().tzinfo).timestamp()
        except FileNotFoundError:
            pass
        time.sleep(0.01)
    raise TimeoutError('redis logged no "Ready to accept connections"')


def redis_side_by_side(a, n, tmp):
    redis = shutil.which('redis-server')
    if not redis:
        return None
    sys.path.insert(0, a.reference)
    from mirakuru import TCPExecutor  # noqa: E402

    lib = ctypes.CDLL(a.libmirakuru)
    lib.mk_executor_get_error.restype = ctypes.c_char_p
    res = {'mirakuru': [], 'python': [], 'mirakuru-run': []}
    for i in range(n):
        for tool in ('mirakuru', 'python', 'mirakuru-run'):
            port = free_port()
            logf = os.path.join(tmp, f'redis-{tool}-{i}.log')
            argv = [redis, '--port', str(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
                    '--logfile', logf, '--dir', tmp, '--daemonize', 'no']
            if tool == 'mirakuru':
                e = ctypes.c_void_p()
                assert lib.mk_executor_new(ctypes.byref(e)) == 0
                cargv = (ctypes.c_char_p * (len(argv) + 1))(*[x.encode() for x in argv], None)
                assert lib.mk_executor_set_argv(e, cargv) == 0
                assert lib.mk_executor_set_timeout(e, ctypes.c_uint64(30_000_000)) == 0
                assert lib.mk_executor_add_tcp_probe(e, b'127.0.0.1', ctypes.c_uint16(port)) == 0
                r = lib.mk_executor_start(e)
                t = time.time()
                if r < 0:
                    raise RuntimeError(f'redis start: {lib.mk_executor_get_error(e)}')
                lib.mk_executor_stop(e)
                lib.mk_executor_unref(e)
            elif tool == 'mirakuru-run':
                stamp = os.path.join(tmp, f'then-{i}')
                subprocess.run([a.mirakuru_run, '--tcp', f'127.0.0.1:{port}', '--then', then_stamp(a, stamp),
                                '--', *argv], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                with open(stamp) as f:
                    t = float(f.read())
            else:
                ex = TCPExecutor(argv, host='127.0.0.1', port=port, timeout=30)
                ex.start()
                t = time.time()
                ex.stop()
            res[tool].append((t - redis_logged_ready(logf)) * 1000)
    return res


def postgres_rows(pg, row, pf):
    """The postgres rows: ours against Python's OutputExecutor (the same
    line), and what pytest-postgresql's TCP way gives."""
    med = {t: statistics.median(v) for t, v in pg.items() if isinstance(v, list) and v}
    pm, tm = med['python-output'], med['pytest-postgresql']
    early = sum(v < 0 for v in pg['pytest-postgresql'])
    n = len(pg['pytest-postgresql'])
    py = f'Python OutputExecutor {pm:.1f}; pytest-postgresql (TCPExecutor on pg_ctl) {tm:.1f}, {early}/{n} before ready'
    note = f' ({pg["unclean"]} starts after an unclean shutdown)' if pg['unclean'] else ''
    lm = med['mirakuru']
    row(f'postgres {pg["version"]}: start() return after its "database system is ready to accept connections" log '
        f'(ms; log has 1 ms resolution), output probe on that line, library{note}', f'{lm:.1f}', py,
        f'{pm / max(lm, 0.5):.0f}x OutputExecutor (mirakuru floored at 0.5 ms)', '>= 20x Python',
        pf(pm / max(lm, 0.5) >= 20))
    cm = med['mirakuru-run']
    row('postgres via mirakuru-run --output, `--then` stamp (sh execs a stamp program) after the log (ms)', f'{cm:.1f}', py,
        f'{pm / max(cm, 0.5):.0f}x OutputExecutor', '>= 20x Python', pf(pm / max(cm, 0.5) >= 20))
    xm = med['mirakuru-run-pg_isready']
    row("postgres via mirakuru-run --exec-probe 'pg_isready ...' (the probe's back-off), `--then` stamp (ms)",
        f'{xm:.1f}', py, f'{pm / max(xm, 0.5):.1f}x OutputExecutor', '-', '-')


# --- the plot ------------------------------------------------------------------------
MARKS = {'mirakuru': 'dot', 'mirakuru-poll': 'triangle', 'python': 'square', 'mirakuru-poll-off': 'cross'}
LABELS = {'mirakuru': 'mirakuru (event path)', 'mirakuru-poll': 'mirakuru, 1 ms poll', 'python': 'Python mirakuru',
          'mirakuru-poll-off': 'mirakuru, watch off (before)'}
COLORS = {'tcp': '#1f77b4', 'http': '#d62728', 'output': '#2ca02c', 'unix': '#9467bd', 'pid file': '#8c564b',
          'notify': '#e377c2'}


def mark(kind, cx, cy, c):
    if kind == 'square':
        return f'<rect x="{cx - 3:.1f}" y="{cy - 3:.1f}" width="6" height="6" fill="none" stroke="{c}"/>'
    if kind == 'triangle':
        return (f'<path d="M{cx:.1f},{cy - 3.5:.1f}L{cx + 3.5:.1f},{cy + 3:.1f}L{cx - 3.5:.1f},{cy + 3:.1f}Z" '
                f'fill="none" stroke="{c}"/>')
    if kind == 'cross':
        return (f'<path d="M{cx - 3:.1f},{cy - 3:.1f}L{cx + 3:.1f},{cy + 3:.1f}M{cx - 3:.1f},{cy + 3:.1f}'
                f'L{cx + 3:.1f},{cy - 3:.1f}" stroke="{c}"/>')
    return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3" fill="{c}" fill-opacity="0.8"/>'


def svg_plot(samples, path, title):
    import math
    W, H, L, R, T, B = 1000, 560, 70, 260, 40, 50
    pts = [(tool, probe, float(d), max(float(v), 1.0)) for tool, probe, d, v in samples]
    if not pts:
        return
    ymin, ymax = 10.0, max(1e6, max(p[3] for p in pts))
    lo, hi = math.log10(ymin), math.log10(ymax)

    def x(d):
        return L + (d - 0) / 3000.0 * (W - L - R)

    def y(v):
        return T + (hi - math.log10(max(v, ymin))) / (hi - lo) * (H - T - B)

    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
         f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="14">{title}</text>']
    for e in range(int(math.floor(lo)), int(math.ceil(hi)) + 1):
        v = 10 ** e
        label = f'{v / 1000:g} ms' if v >= 1000 else f'{v:g} us'
        o.append(f'<line x1="{L}" x2="{W - R}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>')
        o.append(f'<text x="{L - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{label}</text>')
    for d in range(0, 3001, 500):
        o.append(f'<line x1="{x(d):.1f}" x2="{x(d):.1f}" y1="{T}" y2="{H - B}" stroke="#eee"/>')
        o.append(f'<text x="{x(d):.1f}" y="{H - B + 16}" text-anchor="middle">{d / 1000:g} s</text>')
    o.append(f'<text x="{(L + W - R) / 2}" y="{H - 12}" text-anchor="middle">start delay of the service '
             '(exec to listen()/write()/rename()/sd_notify())</text>')
    o.append(f'<text transform="translate(16,{(T + H - B) / 2}) rotate(-90)" text-anchor="middle">'
             'readiness latency (log scale)</text>')
    o.append(f'<rect x="{L}" y="{T}" width="{W - L - R}" height="{H - T - B}" fill="none" stroke="#444"/>')
    for tool, probe, d, v in pts:
        c = COLORS.get(probe, '#333')
        o.append(mark(MARKS.get(tool, 'dot'), x(d), y(v), c))
    ly = T + 10
    for tool in MARKS:
        for probe in COLORS:
            if not any(p[0] == tool and p[1] == probe for p in pts):
                continue
            lx = W - R + 14
            o.append(mark(MARKS[tool], lx, ly - 4, COLORS[probe]))
            o.append(f'<text x="{lx + 10}" y="{ly}" font-size="11">{LABELS[tool]}, {probe}</text>')
            ly += 16
    o.append('</svg>')
    with open(path, 'w') as f:
        f.write('\n'.join(o) + '\n')


# --- main ---------------------------------------------------------------------------------
def main():
    if os.getuid() == 0 and not os.environ.get('BENCH_USERS_IN_TEST_CGROUP'):
        wrap = os.path.join(SRC, 'tests', 'sandbox', 'in-test-cgroup')
        env = dict(os.environ, BENCH_USERS_IN_TEST_CGROUP='1')
        os.execve(wrap, [wrap, sys.executable, os.path.abspath(__file__), *sys.argv[1:]], env)
    ap = argparse.ArgumentParser()
    ap.add_argument('--build', default=os.path.join(SRC, 'build-bench'))
    ap.add_argument('--quick', action='store_true')
    ap.add_argument('--reference', default=os.path.join(SRC, '..', 'shared', 'reference', 'mirakuru-3.0.2'))
    ap.add_argument('--results', default=os.path.join(HERE, 'results'))
    ap.add_argument('--seed', type=int, default=15)
    a = ap.parse_args()
    a.bench = os.path.join(a.build, 'bench', 'mirakuru-bench')
    a.service = os.path.join(a.build, 'bench', 'bench-service')
    a.stamp = os.path.join(a.build, 'bench', 'bench-stamp')
    a.then_stamp = lambda path: then_stamp(a, path)
    a.mirakuru_run = os.path.join(a.build, 'src', 'mirakuru-run', 'mirakuru-run')
    a.libmirakuru = os.path.join(a.build, 'src', 'libmirakuru', 'libmirakuru.so.0')
    have_python = os.path.isfile(os.path.join(a.reference, 'mirakuru', '__init__.py'))
    os.makedirs(a.results, exist_ok=True)
    n_slow = 6 if a.quick else 20
    n_cycle = 5 if a.quick else 20
    rng = random.Random(a.seed)
    delays = [rng.randint(200, 3000) for _ in range(n_slow)]
    started = time.time()
    rows = []  # figure, mirakuru, other, ratio, target, verdict

    def row(fig, ours, other='-', ratio='-', target='-', verdict='-'):
        rows.append((fig, ours, other, ratio, target, verdict))

    def pf(ok):
        return 'PASS' if ok else 'MISS'

    tmp = tempfile.mkdtemp(prefix='mkusers.')
    a.samples = open(os.path.join(a.results, 'users-samples.tsv'), 'w')
    try:
        log(f'one-shot cycles per backend ({n_cycle} each)...')
        ob = oneshot_backends(a, n_cycle)
        log(f'one-shot side by side with Python mirakuru and the floor ({n_cycle} each)...')
        side = oneshot_side_by_side(a, n_cycle) if have_python else None
        floor_ms = statistics.median(side['floor'][0]) if side else float('nan')
        for b in ('process-group', 'cgroup'):
            if b in ob:
                m, p10, p90, _ = ob[b]
                row(f'one-shot cycle, {b} backend (ms, median; p10-p90)', f'{m:.2f} ({p10:.2f}-{p90:.2f})',
                    f'floor {floor_ms:.2f}', f'{m / floor_ms:.1f}x floor',
                    '<= 3x floor' if b == 'cgroup' else '-',
                    pf(m <= 3 * floor_ms) if b == 'cgroup' else '-')
        if 'cgroup' in ob and 'process-group' in ob:
            r = ob['cgroup'][0] / ob['process-group'][0]
            row('one-shot cycle, cgroup / process-group', f'{r:.2f}x', '-', f'{r:.2f}', '<= 1.3x', pf(r <= 1.3))
        sandbox = sandbox_path() if os.getuid() == 0 else None
        if sandbox and not os.environ.get('BENCH_SKIP_SYSTEMD'):
            log(f'one-shot cycles, systemd backend beside the sandboxed manager, interleaved with cgroup ({n_cycle} each)...')
            sd = oneshot_backends(a, n_cycle, 'systemd cgroup', sandbox)
            if sd.get('systemd', (0, 0, 0, ''))[3] == 'systemd' and 'cgroup' in sd:
                m, p10, p90, _ = sd['systemd']
                cm, cp10, cp90, _ = sd['cgroup']
                row('one-shot cycle, systemd backend, sandboxed manager (ms, median; p10-p90)',
                    f'{m:.2f} ({p10:.2f}-{p90:.2f})', f'cgroup in the same sandbox {cm:.2f} ({cp10:.2f}-{cp90:.2f})',
                    f'{m / cm:.2f}x cgroup', '<= 2x cgroup', pf(m <= 2 * cm))
            else:
                used = sd.get('systemd', (0, 0, 0, 'nothing'))[3]
                row('one-shot cycle, systemd backend', f'not measured: the runs got {used} (see the messages above)')
        else:
            row('one-shot cycle, systemd backend', 'not measured: needs root and tests/sandbox/mirakuru-sandbox')

        log(f'slow-start readiness per probe, ours ({n_slow} delays of 0.2-3 s each)...')
        ours_rows, ours_samples = run_mirakuru_bench(a, ['slow-start'], delays, tmp)
        for s in ours_samples:
            print('SLOWSTART\t' + '\t'.join(s), file=a.samples)
        ours = {}
        for r in ours_rows:
            if r[0].startswith('slow-start') and r[3] != '-':
                ours[r[1]] = (float(r[3]), float(r[4]), r[6])
        # tcp and http with each listen watch: the event path (the default above,
        # where perf allows it), the 1 ms sock_diag poll, and off (before issue 15).
        watch = {}
        for how, what in (('poll', 'the 1 ms sock_diag poll (event path off)'),
                          ('off', 'the listen watch off (before issue 15: back-off connects alone)')):
            log(f'slow-start readiness, ours with {what}...')
            w_rows, w_samples = run_mirakuru_bench(a, ['slow-start'], delays, tmp, BENCH_LISTEN_WATCH=how)
            for s in w_samples:
                print('SLOWSTART\t' + '\t'.join(s), file=a.samples)
            watch[how] = {r[1]: (float(r[3]), float(r[4]), r[6]) for r in w_rows
                          if r[0].startswith('slow-start') and r[3] != '-'}
        before = {k: v[:2] for k, v in watch['off'].items()}
        cpu_rows = []
        for how in ('event', 'poll', 'off'):
            log(f'CPU while waiting 3 s, ours, listen watch {how}...')
            c_rows, _ = run_mirakuru_bench(a, ['wait-cpu'], [1] * (1 if a.quick else 10), tmp, BENCH_LISTEN_WATCH=how)
            cpu_rows += [(how, r) for r in c_rows]

        py = {}
        if have_python:
            log(f'slow-start readiness, Python mirakuru ({n_slow} delays each)...')
            py = python_slow_start(a, delays, tmp)
        for probe in ('tcp', 'http', 'output', 'unix', 'pid file', 'notify'):
            if probe not in ours:
                row(f'slow-start readiness, {probe}', 'not measured (see the messages above the table)')
                continue
            m, p, cpu = ours[probe]
            other, ratio, target, verdict = '-', '-', '-', '-'
            if probe in py:
                pm, pp = median_p95(py[probe][0])
                other = f'Python {pm / 1000:.1f} ms (p95 {pp / 1000:.1f})'
                ratio = f'{pm / m:.0f}x'
            if probe in before:
                bm, bp = before[probe]
                other = f'before (watch off) {bm / 1000:.1f} ms (p95 {bp / 1000:.1f}); ' + other
            if probe in ('tcp', 'http'):
                target = 'median <= 1 ms, p95 <= 3 ms'
                verdict = pf(m <= 1000 and p <= 3000)
                if probe in py:
                    target += '; >= 20x Python'
                    verdict = pf(m <= 1000 and p <= 3000 and pm / m >= 20)
            elif probe == 'output' and probe in py:
                target, verdict = '>= 20x Python', pf(pm / m >= 20)
            row(f'slow-start readiness, {probe} (library level)', f'{m / 1000:.2f} ms (p95 {p / 1000:.2f}); {cpu}',
                other, ratio, target, verdict)
            if probe in watch['poll']:
                wm, wp, wcpu = watch['poll'][probe]
                row(f'slow-start readiness, {probe}, event path off: the 1 ms poll', f'{wm / 1000:.2f} ms (p95 '
                    f'{wp / 1000:.2f}); {wcpu}', '-', '-', 'median <= 1 ms, p95 <= 3 ms', pf(wm <= 1000 and wp <= 3000))
        for how, r in cpu_rows:
            if r[0].startswith('CPU'):
                v = float(r[3])
                other = '-'
                if r[1] in py:
                    other = f'Python {py[r[1]][1]:.2f}% (over its 0.2-3 s waits)'
                if r[7] != '-':
                    other += f'; floor: a bare 1 ms sleep loop costs {float(r[7]):.2f}%'
                used = r[0].split(', ', 1)[1] if ', ' in r[0] else how
                row(f'CPU while waiting 3 s, {r[1]}, asked for watch {how} ({used}) (% of one core)', f'{v:.2f}%', other,
                    '-', '<= 2%', pf(v <= 2))

        if side:
            mm, pm = statistics.median(side['mirakuru-run'][0]), statistics.median(side['python'][0])
            row('start+stop, one fresh process per cycle (ms), the default backend', f'{mm:.2f} (mirakuru-run; auto '
                f'chose {side["auto"]})', f'Python {pm:.1f}', f'{pm / mm:.0f}x', '>= 25x', pf(pm / mm >= 25))
            gm = statistics.median(side['mirakuru-run-pgroup'][0])
            row('start+stop, one fresh process per cycle (ms), process-group backend', f'{gm:.2f} (mirakuru-run)',
                f'Python {pm:.1f}', f'{pm / gm:.0f}x', '-', '-')
            rm, rp = statistics.median(side['mirakuru-run'][1]), statistics.median(side['python'][1])
            row('peak RSS of the supervisor process (KiB)', f'{rm:.0f}', f'Python {rp:.0f}', f'{rp / rm:.1f}x smaller',
                '>= 5x smaller', pf(rp / rm >= 5))

        n_redis = 3 if a.quick else 10
        log(f'redis-server readiness, both tools ({n_redis} each)...')
        try:
            red = redis_side_by_side(a, n_redis, tmp) if have_python else None
        except Exception as ex:  # a real server that will not start is a row, not a crash
            red = None
            log(f'redis: {ex}')
        if red:
            mm, pm = statistics.median(red['mirakuru']), statistics.median(red['python'])
            row('redis-server: start() return after its "Ready to accept connections" log (ms; log has 1 ms '
                'resolution)', f'{mm:.1f}', f'Python {pm:.1f}', f'{pm / max(mm, 0.5):.0f}x (mirakuru floored at 0.5 ms)',
                '>= 20x Python', pf(pm / max(mm, 0.5) >= 20))
            cm = statistics.median(red['mirakuru-run'])
            row('redis-server via mirakuru-run, `--then` stamp (sh execs a stamp program) after the log (ms)', f'{cm:.1f}',
                f'Python {pm:.1f}', f'{pm / max(cm, 0.5):.0f}x', '>= 20x Python', pf(pm / max(cm, 0.5) >= 20))
        else:
            row('redis-server readiness', 'not measured: redis-server or Python mirakuru missing')
        n_pg = 3 if a.quick else 10
        log(f'postgres readiness, both tools ({n_pg} starts each, one data directory)...')
        try:
            pg = users_postgres.postgres_side_by_side(a, n_pg, tmp, log, free_port) if have_python else None
        except Exception as ex:  # a real server that will not start is a row, not a crash
            pg = None
            log(f'postgres: {ex}')
        if pg:
            postgres_rows(pg, row, pf)
        else:
            row('postgres readiness', 'not measured: postgres, Python mirakuru or initdb missing (see the messages above)')
    finally:
        a.samples.close()
        shutil.rmtree(tmp, ignore_errors=True)

    with open(os.path.join(a.results, 'users-samples.tsv')) as f:
        samples = [line.rstrip('\n').split('\t')[1:] for line in f if line.startswith('SLOWSTART')]
    svg = os.path.join(a.results, 'readiness-vs-delay.svg')
    svg_plot(samples, svg, f'Readiness vs start delay: mirakuru (dots: event path; triangles: 1 ms poll; crosses: watch off), '
             f'Python mirakuru 3.0.2 (squares), '
             f'{time.strftime("%Y-%m-%d", time.gmtime())}')
    table = ['| Figure | mirakuru | before, Python mirakuru, floor | Ratio | Target | Verdict |', '|---|---|---|---|---|---|']
    table += ['| ' + ' | '.join(r) + ' |' for r in rows]
    table.append('')
    table.append(f'{"bench/run --quick" if a.quick else "bench/run"}: {n_slow} delays per probe (seed {a.seed}), '
                 f'{n_cycle} one-shot cycles per variant; {os.cpu_count()} CPUs, Linux {os.uname().release}, '
                 f'load {os.getloadavg()[0]:.2f} at the end; {time.time() - started:.0f} s; plot: {svg}.')
    text = '\n'.join(table) + '\n'
    with open(os.path.join(a.results, 'users.md'), 'w') as f:
        f.write(text)
    print(text)


if __name__ == '__main__':
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    main()
