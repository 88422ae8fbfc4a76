# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench/users_postgres.py: issue 15's postgres row for bench/users.py.

Postgres from Debian (/usr/lib/postgresql/*/bin), initdb once, then N
starts per tool on that data directory, interleaved, each on a free port;
as root, postgres runs as the postgres user (setpriv), as
tests/integration/real/real-postgres.sh does. Each start's figure is the
tool's "ready" stamp minus the time postgres itself logs "database system is
ready to accept connections" (log_line_prefix='%m ', log_timezone=UTC: the
millisecond wall clock of that line), read from a copy of the log in a file:
our output capture (mk_executor_set_output_file, --log) for our tools, a
tee for Python's OutputExecutor, pg_ctl's -l for the pytest-postgresql way.

Tools, in this order in each round:
- mirakuru: the library through ctypes, an output probe on that line,
  kill mode mixed (the postmaster stops its workers itself);
- mirakuru-run: --output on that line, --then 'exec bench-stamp F' as
  stamp (users.py's then_stamp(), as for redis);
- mirakuru-run-pg_isready: the same with --exec-probe 'pg_isready ...';
- python-output: Python mirakuru's OutputExecutor on that line (stderr
  through `2>&1 | tee` to its pipe);
- pytest-postgresql: what pytest-postgresql's PostgreSQLExecutor does, a
  Python mirakuru TCPExecutor (0.1 s poll) on `pg_ctl start -w`, stopped with
  `pg_ctl stop -m f`: it is ready when postgres listens, which is before
  postgres is ready (a negative figure: it returns early).
"""
import ctypes
import datetime
import glob
import os
import re
import shlex
import subprocess
import sys
import time

READY = 'database system is ready to accept connections'
TOOLS = ('mirakuru', 'mirakuru-run', 'mirakuru-run-pg_isready', 'python-output', 'pytest-postgresql')


def pg_bin():
    dirs = sorted(glob.glob('/usr/lib/postgresql/*/bin'), key=lambda d: [int(x) for x in re.findall(r'\d+', d)])
    for d in reversed(dirs):
        if all(os.access(os.path.join(d, b), os.X_OK) for b in ('initdb', 'postgres', 'pg_ctl')):
            return d
    return None


class Postgres:
    """One initdb'd data directory under TMP, started as the postgres user
    when we are root."""

    def __init__(self, tmp, log):
        self.bin = pg_bin()
        if not self.bin:
            raise RuntimeError('no /usr/lib/postgresql/*/bin: the Debian package postgresql is not installed')
        self.log = log
        self.dir = os.path.join(tmp, 'pg')
        os.mkdir(self.dir, 0o700)
        self.as_user = []
        if os.getuid() == 0:
            import pwd
            pw = pwd.getpwnam('postgres')
            os.chown(tmp, pw.pw_uid, pw.pw_gid)  # postgres must reach its data dir
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.as_user = ['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups', '--']
        self.data = os.path.join(self.dir, 'data')
        p = subprocess.run(self.as_user + [os.path.join(self.bin, 'initdb'), '-D', self.data, '-U', 'postgres',
                                           '--auth=trust', '--no-sync'], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f'initdb failed: {p.stderr[-1000:]}')
        self.n = 0

    def settings(self, port):
        return ['-p', str(port), '-k', self.dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off',
                '-c', 'log_destination=stderr', '-c', 'logging_collector=off', '-c', 'log_line_prefix=%m ',
                '-c', 'log_timezone=UTC']

    def argv(self, port):
        return self.as_user + [os.path.join(self.bin, 'postgres'), '-D', self.data] + self.settings(port)

    def logfile(self, tool):
        self.n += 1
        return os.path.join(self.dir, f'{self.n:03d}-{tool}.log')

    def wait_gone(self, timeout=30):
        """Until the last server of this data directory is gone (its
        postmaster.pid removed), so the next start finds it free."""
        pid_file = os.path.join(self.data, 'postmaster.pid')
        end = time.monotonic() + timeout
        while os.path.exists(pid_file):
            if time.monotonic() > end:
                raise RuntimeError('postgres still running after the stop (postmaster.pid left)')
            time.sleep(0.01)

    def stop_leftover(self):
        """A server a failed start left behind: pg_ctl stop, by its data dir."""
        if os.path.exists(os.path.join(self.data, 'postmaster.pid')):
            subprocess.run(self.as_user + [os.path.join(self.bin, 'pg_ctl'), 'stop', '-D', self.data, '-m', 'i',
                                           '-w'], capture_output=True)
            self.wait_gone()


def logged_ready(path, timeout=10):
    """Wall-clock seconds of the LAST "ready to accept connections" line."""
    end = time.monotonic() + timeout
    while True:
        found = None
        try:
            with open(path, errors='replace') as f:
                for line in f:
                    if READY in line:
                        m = re.match(r'(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) UTC', line)
                        if m:
                            found = m.group(1)
        except FileNotFoundError:
            pass
        if found:
            d = datetime.datetime.strptime(found, '%Y-%m-%d %H:%M:%S.%f')
            return d.replace(tzinfo=datetime.timezone.utc).timestamp()
        if time.monotonic() > end:
            raise TimeoutError(f'postgres logged no "{READY}" in {path}')
        time.sleep(0.01)


def unclean(path):
    with open(path, errors='replace') as f:
        return 'not properly shut down' in f.read()


def run_library(a, pg, port, logf):
    lib = a.lib
    e = ctypes.c_void_p()
    assert lib.mk_executor_new(ctypes.byref(e)) == 0
    try:
        argv = pg.argv(port)
        cargv = (ctypes.c_char_p * (len(argv) + 1))(*[x.encode() for x in argv], None)
        assert lib.mk_executor_set_argv(e, cargv) == 0
        assert lib.mk_executor_set_timeout(e, ctypes.c_uint64(60_000_000)) == 0
        assert lib.mk_executor_set_kill_mode(e, 1) == 0  # MK_KILL_MIXED
        assert lib.mk_executor_set_output_file(e, 3, logf.encode()) == 0  # MK_STREAM_BOTH
        assert lib.mk_executor_add_output_probe(e, READY.encode(), 3) == 0
        r = lib.mk_executor_start(e)
        t = time.time()
        if r < 0:
            raise RuntimeError(f'postgres start (library): {lib.mk_executor_get_error(e)}')
        lib.mk_executor_stop(e)
    finally:
        lib.mk_executor_unref(e)
    return t


def run_cli(a, pg, port, logf, probe):
    stamp = logf + '.then'
    p = subprocess.run([a.mirakuru_run, '--timeout', '60', '--kill-mode', 'mixed', '--log', logf, *probe,
                        '--then', a.then_stamp(stamp), '--', *pg.argv(port)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise RuntimeError(f'mirakuru-run exited {p.returncode}: {p.stderr[-1000:]}')
    with open(stamp) as f:
        return float(f.read())


def run_python_output(a, pg, port, logf):
    from mirakuru import OutputExecutor
    cmd = f'{shlex.join(pg.argv(port))} 2>&1 | tee -a {shlex.quote(logf)}'
    ex = OutputExecutor(['sh', '-c', cmd], banner=READY, timeout=60)
    ex.start()
    t = time.time()
    ex.stop()
    return t


def run_pytest_postgresql(a, pg, port, logf):
    """pytest-postgresql's PostgreSQLExecutor: a TCPExecutor (sleep 0.1) on
    `pg_ctl start -w`, the postgres options through -o, log through -l;
    stopped with `pg_ctl stop -m f`, then the executor's own stop."""
    from mirakuru import TCPExecutor
    from mirakuru.exceptions import ProcessFinishedWithError
    pg_ctl = os.path.join(pg.bin, 'pg_ctl')
    opts = shlex.join(['-F'] + pg.settings(port))
    cmd = (f'{shlex.join(pg.as_user)} {pg_ctl} start -D {shlex.quote(pg.data)} -o {shlex.quote(opts)} '
           f'-l {shlex.quote(logf)} -w')
    locale = {'LC_ALL': 'C.UTF-8', 'LC_CTYPE': 'C.UTF-8', 'LANG': 'C.UTF-8'}
    # stderr: pg_ctl -w, still waiting when the TCP probe succeeds, says
    # "could not start server" once the stop below ends the server.
    ex = TCPExecutor(cmd, host='127.0.0.1', port=port, shell=True, timeout=60, sleep=0.1, envvars=locale,
                     stderr=subprocess.DEVNULL)
    ex.start()
    t = time.time()
    subprocess.run(f'{shlex.join(pg.as_user)} {pg_ctl} stop -D {shlex.quote(pg.data)} -m f', shell=True,
                   check=True, capture_output=True)
    try:
        ex.stop()
    except ProcessFinishedWithError:
        pass
    return t


def postgres_side_by_side(a, n, tmp, log, free_port):
    """{tool: [ms after postgres logged ready]}, plus 'unclean' (starts that
    found the previous shutdown unclean) and 'version'."""
    sys.path.insert(0, a.reference)
    a.lib = ctypes.CDLL(a.libmirakuru)
    a.lib.mk_executor_get_error.restype = ctypes.c_char_p
    pg = Postgres(tmp, log)
    res = {t: [] for t in TOOLS}
    res['unclean'] = 0
    res['version'] = os.path.basename(os.path.dirname(pg.bin))
    try:
        for _ in range(n):
            for tool in TOOLS:
                port = free_port()
                logf = pg.logfile(tool)
                if tool == 'mirakuru':
                    t = run_library(a, pg, port, logf)
                elif tool == 'mirakuru-run':
                    t = run_cli(a, pg, port, logf, ['--output', READY])
                elif tool == 'mirakuru-run-pg_isready':
                    t = run_cli(a, pg, port, logf, ['--exec-probe', f'pg_isready -q -h 127.0.0.1 -p {port} -U postgres -d postgres'])
                elif tool == 'python-output':
                    t = run_python_output(a, pg, port, logf)
                else:
                    t = run_pytest_postgresql(a, pg, port, logf)
                pg.wait_gone()
                res[tool].append((t - logged_ready(logf)) * 1000)
                res['unclean'] += unclean(logf)
    finally:
        pg.stop_leftover()
    return res
