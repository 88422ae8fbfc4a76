/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * libmirakuru: start the processes a test needs, wait until each is really
 * ready, and afterwards guarantee that the whole process tree is gone.
 *
 * The model is mirakuru's executor: one MkExecutor is one service, a command
 * plus how to tell it is ready (its probes) plus how to stop it. Every
 * executor runs on an sd-event loop; several executors may share one loop.
 *
 *     __attribute__((cleanup(mk_executor_unrefp))) MkExecutor *e = NULL;
 *     const char *argv[] = { "redis-server", "--port", "6390", NULL };
 *     r = mk_executor_new(&e);
 *     r = mk_executor_set_argv(e, argv);
 *     r = mk_executor_add_tcp_probe(e, "localhost", 6390);
 *     r = mk_executor_start(e);          // returns once redis answers
 *     ... use it ...
 *     r = mk_executor_stop(e);           // returns once every process is gone
 *
 * Conventions, as in systemd's libraries:
 *  - Functions return 0 (or a positive value) on success and a negative
 *    errno-style value on failure. The library never prints; when something
 *    fails, mk_executor_get_error() explains it in words for people.
 *  - Output parameters are named ret_* and are written only on success.
 *  - Objects are reference counted; unref accepts NULL and returns NULL.
 *    mk_executor_unrefp() is for __attribute__((cleanup)).
 *  - Times are microseconds (uint64_t), like sd-event; MK_USEC_INFINITY
 *    means "no limit".
 *  - No call is thread safe; use an executor from one thread at a time.
 *  - The library does not install signal handlers and does not need
 *    SIGCHLD blocked: child exits are watched through pidfds.
 *
 * Between library calls (a test body that makes none, or a caller's own
 * loop that does not run):
 *  - Output is drained all the same, by a thread of the library's own that
 *    does nothing else (every signal blocked in it; it exists while some
 *    service's output is open): a service never blocks on a full pipe, and
 *    what it printed is in the capture.
 *  - The state is never stale: mk_executor_is_running(), _get_state(),
 *    _get_exit(), _get_output() and _read_output() look at the service
 *    itself when called (a main process that exited is reaped then).
 *  - Callbacks, probes, deadlines and the stop timeout run only from the
 *    loop: while a blocking call runs it, or while the caller runs a loop
 *    it attached. A caller that attaches its own loop must run it for an
 *    asynchronous start or stop to progress; for nothing else.
 *
 * When the caller's callbacks run: only from the loop (never from another
 * thread, never from inside a getter), and never once a stop, a kill or
 * the last unref of the executor has begun: after mk_executor_stop() or
 * mk_executor_kill() is called, and always within mk_executor_unref(), no
 * line handler, exit handler or check of the caller's is called again
 * until the next start. Lines still waiting for the loop then go to the
 * capture only (mk_executor_wait() delivers a service's last lines before
 * it returns: call it first to see them). Exceptions: mk_executor_kill()
 * without WAIT on a ready service only signals and stops nothing;
 * mk_executor_set_callbacks_during_stop() lets callbacks go on through a
 * stop (never through the last unref); and the done handler of an
 * asynchronous call reports that call. A test that fails and unwinds its
 * stack (cmocka's longjmp) can therefore free its executor in teardown
 * with userdata that is gone.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with hidden visibility; what this header declares is its API. */
#pragma GCC visibility push(default)

#define MK_USEC_PER_MSEC UINT64_C(1000)
#define MK_USEC_PER_SEC UINT64_C(1000000)
#define MK_USEC_INFINITY UINT64_MAX

/* Defaults, also used by mirakuru-run. */
#define MK_DEFAULT_START_TIMEOUT_USEC (60 * MK_USEC_PER_SEC)
#define MK_DEFAULT_STOP_TIMEOUT_USEC (10 * MK_USEC_PER_SEC)
#define MK_DEFAULT_CAPTURE_BYTES ((size_t) 1024 * 1024)

typedef struct MkExecutor MkExecutor;

/* Output streams of a service; a bit mask. */
typedef enum MkStream {
        MK_STREAM_STDOUT = 1 << 0,
        MK_STREAM_STDERR = 1 << 1,
        MK_STREAM_BOTH = MK_STREAM_STDOUT | MK_STREAM_STDERR,
} MkStream;

/* Where an executor is in its life. */
typedef enum MkState {
        MK_STATE_IDLE,     /* never started, stopped, or a failed start torn down */
        MK_STATE_STARTING, /* spawned, waiting for probes */
        MK_STATE_READY,    /* every probe passed; the service is running */
        MK_STATE_STOPPING, /* stop or kill in progress */
        MK_STATE_EXITED,   /* ready, then the main process exited on its own;
                            * mk_executor_stop() collects the rest */
} MkState;

/* How the processes of a service are held together (see mk_executor_set_containment()). */
typedef enum MkContainment {
        MK_CONTAINMENT_AUTO,          /* systemd, then cgroup, then process-group */
        MK_CONTAINMENT_SYSTEMD,       /* a transient systemd scope, created over sd-bus */
        MK_CONTAINMENT_CGROUP,        /* a cgroup v2 directory of our own */
        MK_CONTAINMENT_PROCESS_GROUP, /* own session + process group, subreaper */
} MkContainment;

/* Which processes the stop signal goes to (systemd's KillMode=). The kill
 * signal after the stop timeout always goes to every process left. */
typedef enum MkKillMode {
        MK_KILL_CONTROL_GROUP, /* every process of the service (the default) */
        MK_KILL_MIXED,         /* only the main process (see mk_executor_get_pid()),
                                * and a launcher still running beside the pid
                                * file's main process (pg_ctl start waiting for
                                * its server), as systemd signals its control
                                * process; every process when no main process
                                * is known */
} MkKillMode;

/* How the main process of a service ended. */
typedef struct MkExit {
        int code;   /* CLD_EXITED, CLD_KILLED or CLD_DUMPED (see waitid(2)) */
        int status; /* the exit code for CLD_EXITED, else the signal number */
        bool clean; /* exit 0, the expected exit code, or death by the stop signal */
} MkExit;

/* Called when an asynchronous start or stop has finished; result as the
 * blocking call would have returned it. */
typedef void (*MkDoneHandler)(MkExecutor *e, int result, void *userdata);

/* Called when the main process exits, whatever the state (also during stop). */
typedef void (*MkExitHandler)(MkExecutor *e, const MkExit *exit, void *userdata);

/* Called for every complete line a service prints (without the newline,
 * and without a '\r' before it). LINE is NUL terminated at LENGTH (a line
 * may hold NULs of its own: LENGTH counts them). Lines longer than the
 * capture buffer are delivered in pieces. */
typedef void (*MkLineHandler)(MkExecutor *e, MkStream stream, const char *line, size_t length,
                              void *userdata);

/* ------------------------------------------------------------------------ */
/* Creating and configuring an executor                                     */
/* ------------------------------------------------------------------------ */

/* Creates an executor with no command. Returns -ENOMEM. */
int mk_executor_new(MkExecutor **ret);
MkExecutor *mk_executor_ref(MkExecutor *e);
/* Drops a reference. The last one stops a running service (blocking, with
 * the configured stop signal and timeouts) and frees the executor. */
MkExecutor *mk_executor_unref(MkExecutor *e);
void mk_executor_unrefp(MkExecutor **e);

/* The command, as an argv array (copied). argv[0] is looked up in PATH
 * (of the service's environment) unless it contains a slash.
 * -EINVAL for an empty argv, -EBUSY while the service runs.
 * In C11 and later this name is also a macro that takes main()'s
 * char **argv, a char *argv[] and a const char *argv[] as they are,
 * without a cast and without a warning (C++ converts them by itself). */
int mk_executor_set_argv(MkExecutor *e, const char *const *argv);
#if !defined(__cplusplus) && defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#  define mk_executor_set_argv(e, argv)                                  \
        mk_executor_set_argv((e), _Generic((argv),                      \
                char **: (const char *const *) (argv),                  \
                char *const *: (const char *const *) (argv),            \
                const char **: (const char *const *) (argv),            \
                default: (argv)))
#endif
/* The command as one string, split into words like a POSIX shell would:
 * blanks separate words; 'single quotes' and "double quotes" group;
 * backslash escapes. No variables, globs or substitutions.
 * -EINVAL for unbalanced quotes or an empty command. */
int mk_executor_set_command_line(MkExecutor *e, const char *command_line);
/* The command as a script for /bin/sh -c (shell mode). */
int mk_executor_set_shell_command(MkExecutor *e, const char *script);
/* A name for messages and for the service's scope or cgroup; default: the
 * basename of argv[0]. */
int mk_executor_set_name(MkExecutor *e, const char *name);
const char *mk_executor_get_name(MkExecutor *e);

/* Environment: the caller's environment (as at start), unless
 * mk_executor_set_clean_env() is true, plus overrides. value NULL removes
 * NAME. -EINVAL for a name that is empty or holds '='. What systemd gives
 * the caller itself (NOTIFY_SOCKET, LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES,
 * WATCHDOG_PID, WATCHDOG_USEC) is never inherited; set it explicitly (or
 * use the notify and listen probes) to give it to the service. */
int mk_executor_set_env(MkExecutor *e, const char *name, const char *value);
int mk_executor_unset_env(MkExecutor *e, const char *name);
/* Start from an empty environment instead of the caller's (PATH is still
 * used to find the command). */
int mk_executor_set_clean_env(MkExecutor *e, bool clean);
/* Working directory of the service; NULL: the caller's. */
int mk_executor_set_cwd(MkExecutor *e, const char *directory);
/* Standard input of the service: an fd of the caller's (duplicated), or -1
 * for /dev/null (the default). */
int mk_executor_set_stdin_fd(MkExecutor *e, int fd);

/* One deadline for the whole start: spawning, placement and every probe.
 * Default MK_DEFAULT_START_TIMEOUT_USEC; MK_USEC_INFINITY waits forever. */
int mk_executor_set_timeout(MkExecutor *e, uint64_t usec);
/* The stop signal (default SIGTERM), sent to every process of the service
 * (or, with MK_KILL_MIXED, to its main process). */
int mk_executor_set_stop_signal(MkExecutor *e, int signo);
/* Where the stop signal goes (default MK_KILL_CONTROL_GROUP, as systemd's
 * default KillMode=control-group: shell wrappers and servers that do not
 * pass the signal on to their workers stop at once). MK_KILL_MIXED suits
 * servers whose main process stops its workers itself (postgres, haproxy
 * -W, nginx): they see the stop signal once, in the main process, and
 * whatever is left when the stop timeout passes gets the kill signal.
 * -EINVAL for another value. */
int mk_executor_set_kill_mode(MkExecutor *e, MkKillMode mode);
MkKillMode mk_executor_get_kill_mode(MkExecutor *e);
/* "control-group", "mixed"; -EINVAL / NULL otherwise. */
int mk_kill_mode_from_string(const char *s, MkKillMode *ret);
const char *mk_kill_mode_to_string(MkKillMode mode);
/* The kill signal (default SIGKILL), sent when the stop timeout passes. */
int mk_executor_set_kill_signal(MkExecutor *e, int signo);
/* How long stop waits after the stop signal (default MK_DEFAULT_STOP_TIMEOUT_USEC). */
int mk_executor_set_stop_timeout(MkExecutor *e, uint64_t usec);
/* An exit code that counts as clean besides 0 (mirakuru's expected_returncode);
 * -1 for none (the default). */
int mk_executor_set_expected_exit(MkExecutor *e, int code);

/* Before spawning, probes that look at an address (tcp, unix, http) check
 * that nothing answers there yet; if something does, start fails with
 * -EADDRINUSE (mirakuru's pre_start_check). Default on. */
int mk_executor_set_pre_check(MkExecutor *e, bool enabled);

/* A caller's check (an MkCheckHandler), called by every start before
 * spawning, besides the probes' own (whatever mk_executor_set_pre_check()
 * says): > 0 means the service (or something in its place) already runs,
 * and the start fails with -EADDRINUSE; 0 lets it start; a negative errno
 * fails the start with it (mirakuru's overridable pre_start_check()).
 * NULL removes it. */
typedef int (*MkCheckHandler)(MkExecutor *e, void *userdata);
int mk_executor_set_pre_start_check(MkExecutor *e, MkCheckHandler check, void *userdata);

/* What may change between runs: every setting may be changed while the
 * executor is idle (never started, stopped, or after a failed start), and
 * applies from the next start; while it runs, setters return -EBUSY, except
 * mk_executor_set_line_handler() and mk_executor_set_exit_handler(), which
 * take effect at once. Probes stay for later starts until removed with
 * mk_executor_clear_probes(). */

/* ------------------------------------------------------------------------ */
/* Output                                                                   */
/* ------------------------------------------------------------------------ */

/* The service's stdout and stderr are always drained, even after readiness
 * and between library calls (see the top of this header), so a chatty
 * service never blocks on a full pipe. The newest bytes of each stream are
 * kept in a ring buffer of this size (default MK_DEFAULT_CAPTURE_BYTES); 0
 * keeps nothing. */
int mk_executor_set_capture_size(MkExecutor *e, size_t bytes);
/* Also copy STREAM(s) to FD (duplicated; -1 stops copying). The copy never
 * blocks a loop: it is written by the library's output thread, as fast as
 * FD takes it (a reader that does not keep up holds the service back, as
 * it would without us, but not the supervisor); when FD fails (EPIPE: its
 * reader went away) copying stops and draining goes on. */
int mk_executor_set_output_fd(MkExecutor *e, MkStream streams, int fd);
/* mk_executor_set_output_fd() for the next run only: that run takes the
 * duplicate and the executor forgets it, so that when the service's
 * stream ends (every process of it closed it) and all is copied, FD's
 * last writer of ours is closed and its reader sees EOF, as with a child's
 * own pipe (the Python package's output() streams). Later starts copy
 * nowhere unless set again. -EBADF for a negative FD. */
int mk_executor_hand_output_fd(MkExecutor *e, MkStream streams, int fd);
/* Give the service FD itself (duplicated) as its STREAM(s), instead of a
 * pipe of ours: what it prints there is neither captured, copied, passed
 * to the line handler nor seen by output probes (a test command that
 * writes to our terminal). -1 goes back to the pipe. */
int mk_executor_set_direct_output_fd(MkExecutor *e, MkStream streams, int fd);
/* Also copy STREAM(s) to a file, created 0600 if needed, appended to.
 * Opened without blocking; it must be a regular file, a terminal or
 * /dev/null: a FIFO, socket, directory or other device is refused with
 * -EINVAL and a message in mk_executor_get_error() (a FIFO would hold the
 * caller in open(), or the loop in write()). */
int mk_executor_set_output_file(MkExecutor *e, MkStream streams, const char *path);
/* Callbacks during a stop: with ENABLED, the line and exit handlers go on
 * being called while a stop or kill runs (not in the last unref), for a
 * caller whose userdata outlives the executor and who wants the lines a
 * service prints as it shuts down (a log forwarder). Default false: no
 * callback once a stop begins, which is what test fixtures need (see the
 * top). */
int mk_executor_set_callbacks_during_stop(MkExecutor *e, bool enabled);
/* Calls HANDLER for every line the service prints, from the loop. While no
 * loop runs, lines wait (at least 256 KiB of them, or the capture size if
 * larger); when more arrives before the loop comes back, the oldest lines
 * waiting are never delivered (their bytes may still be in the capture). */
int mk_executor_set_line_handler(MkExecutor *e, MkLineHandler handler, void *userdata);
/* A copy of what was captured of STREAM (one stream, not both), NUL
 * terminated; free() it. The oldest bytes are gone once more than the
 * capture size was printed. Every byte the service wrote before the event
 * that made it ready is in it when mk_executor_start() returns. */
int mk_executor_get_output(MkExecutor *e, MkStream stream, char **ret, size_t *ret_size);
/* STREAM as a stream (mirakuru's output()): what the service printed on it
 * since the last call (since the start, at first), NUL terminated; free()
 * it. Returns 0, or 1 when more than the capture size arrived since the
 * last call, so that the beginning is gone (*RET has the newest capture
 * size). An empty string when nothing new arrived. -EINVAL, -ENOMEM. */
int mk_executor_read_output(MkExecutor *e, MkStream stream, char **ret, size_t *ret_size);
/* The last lines printed on either stream, oldest first, '\n' separated;
 * free() it. At most MAX lines (0: all that are kept, up to 20). */
int mk_executor_get_last_lines(MkExecutor *e, unsigned max, char **ret);

/* ------------------------------------------------------------------------ */
/* Readiness probes                                                         */
/* ------------------------------------------------------------------------ */

/* A service is ready when every probe added has passed; with none, once the
 * command has been executed. Probes react to events (inotify, non-blocking
 * connects, the notify socket, libcurl's multi-socket interface) rather
 * than polling where the kernel can tell; each stops once it has passed.
 * Add probes while the executor is idle (-EBUSY otherwise); they stay for
 * later starts. Bad arguments give -EINVAL with mk_executor_get_error()
 * saying what is wrong. */

/* A line printed on STREAMS (default both) matches REGEX: POSIX extended
 * regular expressions (regcomp(3), REG_EXTENDED), searched anywhere in the
 * line as grep does ('^' anchors). This and MkHttpProbe.status are bounded
 * (limits in docs/probes.md): back-references (\1), patterns over 4096
 * bytes and ones glibc would make costly (stacked or nested repeats, past
 * ~2000 states) give -EINVAL, and mk_executor_get_error() says where. */
int mk_executor_add_output_probe(MkExecutor *e, const char *regex, MkStream streams);

/* A TCP connection to HOST (NULL: "localhost") port PORT (1-65535) succeeds.
 * Every address HOST resolves to is tried (localhost: ::1 and 127.0.0.1).
 * When HOST is on this machine (loopback, the wildcard, an address of a
 * local interface), the kernel also tells when something listens there
 * (a tracepoint event where allowed, else an inet sock_diag query every
 * millisecond, as `ss -ltn` makes: no connection, nothing in the service's
 * log), and the probe connects the moment it does; see
 * mk_executor_set_listen_poll() and mk_executor_set_listen_event(). */
int mk_executor_add_tcp_probe(MkExecutor *e, const char *host, uint16_t port);

/* A stream connection to the Unix socket at PATH succeeds; the directory is
 * watched with inotify so the attempt happens when the path appears. */
int mk_executor_add_unix_probe(MkExecutor *e, const char *path);

/* How tcp and unix probes retry a refused connection: first after FIRST,
 * doubling up to MAX (defaults 1 ms and 100 ms). */
int mk_executor_set_probe_retry(MkExecutor *e, uint64_t first_usec, uint64_t max_usec);

/* How often tcp and http probes of a local address ask the kernel whether
 * the service listens yet (default 1000 us, MK_LISTEN_POLL_DEFAULT_USEC):
 * readiness is then noticed within about that long, for a few percent of a
 * core while waiting (docs/performance.md). 0 turns the watch off: only the
 * backing-off connects of mk_executor_set_probe_retry() remain, as for
 * remote hosts (and no event path either). -EINVAL for a nonzero interval
 * under 100 us. */
#define MK_LISTEN_POLL_DEFAULT_USEC ((uint64_t) 1000)
int mk_executor_set_listen_poll(MkExecutor *e, uint64_t interval_usec);

/* Where the kernel allows it, the watch does not poll at all: it learns
 * that a socket began to listen on the port from the sock:inet_sock_set_state
 * tracepoint (perf_event_open(), one event per CPU, filtered in the kernel
 * to that port), then confirms with the sock_diag query, so nothing wakes
 * the supervisor while the service starts. That needs CAP_PERFMON or
 * CAP_SYS_ADMIN (root outside a container, typically) and the tracepoint's
 * id from tracefs (mounted privately in a short-lived child when it is not
 * mounted). Anything refused falls back to polling every
 * mk_executor_set_listen_poll() interval, silently; the getters below say
 * which path a start took and why. The first 50 ms of a watch are polled
 * all the same: a service that listens within them never costs the
 * tracepoint's set-up, nor the 30-70 ms its last close waits for at the
 * process's exit. ENABLED false keeps to polling. Default
 * true, or false when $MIRAKURU_LISTEN_EVENT is "0" (for tests and
 * benchmarks). */
int mk_executor_set_listen_event(MkExecutor *e, bool enabled);

typedef enum MkListenWatch {
        MK_LISTEN_WATCH_NONE,  /* no tcp or http probe of a local address watched */
        MK_LISTEN_WATCH_POLL,  /* the sock_diag query every listen-poll interval */
        MK_LISTEN_WATCH_EVENT, /* the tracepoint, with a sock_diag query per event */
} MkListenWatch;
/* How the last start's tcp and http probes watched for a listener (with
 * several, the last one set up), and in words why not through events
 * (NULL with MK_LISTEN_WATCH_EVENT or _NONE). */
MkListenWatch mk_executor_get_listen_watch(MkExecutor *e);
const char *mk_executor_get_listen_watch_reason(MkExecutor *e);
/* How many tracepoint wake-ups the last start's watches had (each a socket
 * that began to listen on a watched port, in any network namespace). */
uint64_t mk_executor_get_listen_events(MkExecutor *e);

typedef struct MkHttpProbe {
        const char *url;            /* http:// or https:// URL; http+unix://%2Fpath%2Fsock/path too */
        const char *method;         /* NULL: "HEAD" */
        const char *status;         /* POSIX extended regex for the status code; NULL: "^2[0-9][0-9]$" */
        const char *const *headers; /* "Name: value" strings, NULL-terminated; may be NULL */
        const char *body;           /* request body, or NULL */
        const char *unix_socket;    /* talk HTTP over this Unix socket, or NULL */
        uint64_t request_timeout_usec; /* per request; 0: 5 s */
} MkHttpProbe;

/* An HTTP request answers with a status matching PROBE->status (libcurl).
 * The strings are copied. -EOPNOTSUPP when built without libcurl. */
int mk_executor_add_http_probe(MkExecutor *e, const MkHttpProbe *probe);

/* The file PATH exists; with CHECK_PID it must also hold the pid of a live
 * process of the service. */
int mk_executor_add_pid_file_probe(MkExecutor *e, const char *path, bool check_pid);

/* The service sends READY=1 over sd_notify to the NOTIFY_SOCKET we give it
 * (a private socket per service). STATUS=, ERRNO=, EXIT_STATUS=, MAINPID=
 * and EXTEND_TIMEOUT_USEC= are understood; only datagrams from processes of
 * the service are accepted. As with systemd, the socket stays open until
 * every process of the service is gone: STATUS=, STOPPING=1, RELOADING=1,
 * WATCHDOG=1 and MAINPID= after READY=1 are read (a service never sees
 * ECONNREFUSED), and passed to the notify handler. */
int mk_executor_add_notify_probe(MkExecutor *e);

/* What a datagram on the notify socket said, besides STATUS=; a bit mask. */
typedef enum MkNotifyFlags {
        MK_NOTIFY_READY = 1 << 0,     /* READY=1 */
        MK_NOTIFY_STOPPING = 1 << 1,  /* STOPPING=1: the service is shutting down */
        MK_NOTIFY_RELOADING = 1 << 2, /* RELOADING=1 */
        MK_NOTIFY_WATCHDOG = 1 << 3,  /* WATCHDOG=1 */
        MK_NOTIFY_MAINPID = 1 << 4,   /* MAINPID= */
} MkNotifyFlags;
/* Called for every datagram accepted from the service on the notify
 * socket, during the start and after: STATUS is its STATUS= value (NUL
 * terminated, as the service sent it: not escaped) or NULL, FLAGS what
 * else it said. */
typedef void (*MkNotifyHandler)(MkExecutor *e, const char *status, unsigned flags, void *userdata);
int mk_executor_set_notify_handler(MkExecutor *e, MkNotifyHandler handler, void *userdata);
/* True once the service sent STOPPING=1 in this run. */
bool mk_executor_get_notify_stopping(MkExecutor *e);
/* The s6 convention: the service writes a newline to fd FD_NUMBER (>= 3),
 * which we give it as the write end of a pipe. */
int mk_executor_add_notify_fd_probe(MkExecutor *e, int fd_number);
/* The last STATUS= the service sent, or NULL. */
const char *mk_executor_get_notify_status(MkExecutor *e);
/* The MAINPID= the service sent, or 0. */
pid_t mk_executor_get_notify_main_pid(MkExecutor *e);

/* Socket activation: we bind and listen on HOST (NULL: "localhost" →
 * 127.0.0.1) port PORT (0: a free port the kernel picks) before spawning and
 * pass the socket as LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES (NAME may be NULL).
 * Ready at once: the kernel queues connections until the service accepts. */
int mk_executor_add_listen_tcp(MkExecutor *e, const char *host, uint16_t port, const char *name);
int mk_executor_add_listen_unix(MkExecutor *e, const char *path, const char *name);
/* The port the INDEX-th (from 0) listening TCP socket is bound to, after start. */
int mk_executor_get_listen_port(MkExecutor *e, unsigned index, uint16_t *ret);

/* The shell command COMMAND (/bin/sh -c) is run repeatedly until it exits
 * 0; each attempt is killed after ATTEMPT_TIMEOUT (0: 5 s). */
int mk_executor_add_exec_probe(MkExecutor *e, const char *command, uint64_t attempt_timeout_usec);

/* A caller's check (mirakuru's after_start_check): > 0 ready, 0 not yet,
 * negative errno fails the start. Called every INTERVAL (0: only on output)
 * and, with ON_OUTPUT, whenever the service prints a line. */
int mk_executor_add_custom_probe(MkExecutor *e, MkCheckHandler check, void *userdata,
                                 uint64_t interval_usec, bool on_output);

/* Removes every probe, so that an executor reused for another command does
 * not wait for the old one's. -EBUSY unless idle. */
int mk_executor_clear_probes(MkExecutor *e);

/* ------------------------------------------------------------------------ */
/* Event loop                                                               */
/* ------------------------------------------------------------------------ */

/* Runs the executor on EVENT (NULL: the thread's default loop) at PRIORITY,
 * like sd_bus_attach_event(). Without a call, the first start attaches to
 * the thread's default loop. -EBUSY while the service runs. */
int mk_executor_attach_event(MkExecutor *e, sd_event *event, int64_t priority);
int mk_executor_detach_event(MkExecutor *e);
sd_event *mk_executor_get_event(MkExecutor *e);

/* ------------------------------------------------------------------------ */
/* Lifecycle                                                                */
/* ------------------------------------------------------------------------ */

/* Starts the service and returns once it is ready, it failed, or the start
 * deadline passed; runs the loop until then (must not be called from a
 * callback of that loop). On failure the whole service is torn down before
 * this returns, and mk_executor_get_error() says why, with the exit status
 * and last lines of output where the service exited.
 *   0           ready (or the main process exited 0 without probes: a
 *               daemonizing service, mirakuru's semantics)
 *   -ENOENT, -EACCES, -ENOEXEC, ...  the command could not be executed
 *   -ECHILD     the service exited (non-zero or by a signal) before ready
 *   -ETIMEDOUT  the start deadline passed; the error names the unmet probe
 *   -EADDRINUSE something already answers where a probe looks (pre-check)
 *   -EOPNOTSUPP no containment backend can hold the service here (the one
 *               asked for, or every one under MK_CONTAINMENT_AUTO; the
 *               error says why each refused)
 *   -ECANCELED  mk_executor_stop() or kill was called during the start
 *   -EBUSY      already started, or called from a callback of the loop
 *   -EINVAL     no command */
int mk_executor_start(MkExecutor *e);
/* The same, without blocking: returns 0 once the start is under way and
 * calls DONE (may be NULL) with the result from the loop. */
int mk_executor_start_async(MkExecutor *e, MkDoneHandler done, void *userdata);

/* Stops the service: the stop signal to every process of the service (with
 * MK_KILL_MIXED: to the main process), up to
 * the stop timeout for all of them to exit, then the kill signal to all;
 * returns only when every process is gone and the main process is reaped.
 *   0         gone; the main process's exit was clean (see MkExit)
 *   1         gone, but it had to be killed after the stop timeout
 *   -ECHILD   gone; the main process exited uncleanly (mk_executor_get_exit());
 *             mk_executor_get_error() says how, and what would have been clean
 *   -ESRCH    was never started
 *   -EBUSY    called from a callback of the loop (use mk_executor_stop_async())
 * Stopping a service that already exited just collects it (0 or -ECHILD).
 * From the call on, no callback of the caller's runs (see the top). */
int mk_executor_stop(MkExecutor *e);
int mk_executor_stop_async(MkExecutor *e, MkDoneHandler done, void *userdata);
/* For mk_executor_stop_with(): the expected exit code set on the executor. */
#define MK_EXPECTED_EXIT_CONFIGURED (-2)
/* mk_executor_stop() with, for this stop only, STOP_SIGNAL (0: the one set)
 * and EXPECTED_EXIT as the exit code that counts as clean besides 0 (-1:
 * none; MK_EXPECTED_EXIT_CONFIGURED: the one set) (mirakuru's
 * stop(stop_signal=, expected_returncode=)). Same returns; -EINVAL for a
 * bad signal or code, -EALREADY while a stop is under way. */
int mk_executor_stop_with(MkExecutor *e, int stop_signal, int expected_exit);

/* Sends SIGNO (0: the kill signal) to every process of the service now.
 * With WAIT, or during a start, it ends the run: from the call on, no
 * callback of the caller's runs (see the top); without WAIT on a ready
 * service it only signals (SIGHUP to reload, say), and callbacks go on.
 * With WAIT, returns once every process is gone (-EBUSY from a callback of
 * the loop). During a start, the start is cancelled. With WAIT or during a
 * start, the kill signal follows after the stop timeout if SIGNO does not
 * end the service. -ESRCH if not running. */
int mk_executor_kill(MkExecutor *e, int signo, bool wait);

/* Runs the loop until the main process exits or USEC pass.
 * 0 exited; -ETIMEDOUT; -ESRCH never started; -EBUSY from a callback of
 * the loop while it still runs. */
int mk_executor_wait(MkExecutor *e, uint64_t usec);

/* mirakuru's wait_for(): after the start, runs the loop until CHECK says
 * > 0, at most the executor's timeout (mk_executor_set_timeout()) from
 * now. CHECK is called at once, every INTERVAL (0: 10 ms) and whenever the
 * service prints a line.
 *   0           CHECK said > 0
 *   CHECK's negative errno
 *   -ETIMEDOUT  the timeout passed first
 *   -ECHILD     the main process exited uncleanly meanwhile (a clean exit,
 *               a daemonizing launcher's, does not end the wait)
 *   -ESRCH      not started (idle);  -EBUSY from a callback of the loop;
 *   -EALREADY   a wait_for is under way;  -EINVAL no CHECK
 * mk_executor_get_error() explains a failure. */
int mk_executor_wait_for(MkExecutor *e, MkCheckHandler check, void *userdata, uint64_t interval_usec);

/* Stops (as mk_executor_stop()) if running, and starts again. Returns
 * start's result (also on an idle executor: it just starts). */
int mk_executor_restart(MkExecutor *e);
/* mirakuru's "stopped" context: stops the service, calls FN (may be NULL),
 * and starts it again. Returns FN's negative result without restarting,
 * else the result of the start. -ESRCH, without calling FN or starting
 * anything, when the executor is idle (never started, stopped, or after a
 * failed start), as Python's stopped() refuses. */
int mk_executor_stopped(MkExecutor *e, int (*fn)(MkExecutor *e, void *userdata), void *userdata);

/* Calls HANDLER (NULL: none) when the main process exits on its own or
 * during a start, from the loop (not during a stop or kill: see the top). */
int mk_executor_set_exit_handler(MkExecutor *e, MkExitHandler handler, void *userdata);

/* A service is its cgroup, not its first process (systemd's Type=forking
 * with PIDFile=). When the command (the launcher) exits 0 and processes
 * of the service remain, before or after ready, the service goes on: that
 * exit is not reported (no exit handler, no MK_STATE_EXITED), and the main
 * process becomes, in this order of preference, the pid the service sent
 * as MAINPID=, the pid in the file of the first pid file probe (alive and
 * of the service), or the single process left. It is looked for when the
 * launcher exits, when the service becomes ready and when MAINPID= comes.
 * A single process left that was taken for the main process without
 * MAINPID= or the pid file naming it, and that exits 0 while others
 * remain, was a launcher too (the middle of a double fork): the service
 * is handed over again, as above.
 * The service then ends when that process exits or, while none is known,
 * when its last process is gone; that end is what the exit handler,
 * mk_executor_wait() and MK_STATE_EXITED report. The exit status of a
 * main process that is not our child cannot be known: it is reported as
 * a clean exit 0 (CLD_EXITED), or death by the stop signal during a stop.
 * On the process-group backend a daemon that calls setsid() leaves the
 * process group: it is followed and stopped with the service only when a
 * pid file probe names it (taken in when it came from the service's tree);
 * otherwise use cgroup or systemd containment for daemonizing services. */

/* True while the main process is alive (after a launcher handed over:
 * until the service ended), checked when called: right within
 * microseconds of the exit, with or without a loop running. */
bool mk_executor_is_running(MkExecutor *e);
/* Also current when called: a ready service whose main process exited is
 * MK_STATE_EXITED at once. */
MkState mk_executor_get_state(MkExecutor *e);
/* The main process; 0 / -EBADF when there is none, or when a launcher
 * handed over and no main process is known (see above). The pidfd stays
 * owned by the executor. */
pid_t mk_executor_get_pid(MkExecutor *e);
int mk_executor_get_pidfd(MkExecutor *e);
/* Whether a command that exits 0 leaving processes behind hands the
 * service over to them (default true, see above). false: the command is
 * the service; its exit is the service's end, and stop collects what it
 * left (a test command whose background jobs must not outlive it). */
int mk_executor_set_follow_daemon(MkExecutor *e, bool follow);
/* True once the command exited 0 leaving processes of the service behind,
 * which then went on (see above). */
bool mk_executor_get_launcher_exited(MkExecutor *e);
/* How the main process ended; -ENODATA while it has not. */
int mk_executor_get_exit(MkExecutor *e, MkExit *ret);
/* The shell's view of an exit: the code, or 128+N for death by signal N. */
int mk_exit_to_status(const MkExit *exit);
/* Why the last start or stop failed, for people; NULL if it did not. */
const char *mk_executor_get_error(MkExecutor *e);

/* ------------------------------------------------------------------------ */
/* Containment                                                              */
/* ------------------------------------------------------------------------ */

/* Which backend holds the service's processes. Default MK_CONTAINMENT_AUTO,
 * or the value of $MIRAKURU_CONTAINMENT (auto, systemd, cgroup,
 * process-group) when set. -EBUSY while running. */
int mk_executor_set_containment(MkExecutor *e, MkContainment containment);
/* A cgroup namespace for the service (default false). A process that runs
 * as root (or owns the cgroup above its own) can write its pid into any
 * cgroup's cgroup.procs and leave its cgroup, and with it our teardown.
 * With this set, the service is started in a new cgroup namespace rooted
 * at its own cgroup (it enters it once it is in that cgroup) and a new
 * mount namespace in which a cgroup2 mount of that root covers the
 * cgroup2 mount point (host mounts still propagate in, its own do not
 * propagate out): /proc/self/cgroup says "0::/", and the only cgroups it
 * can name are its own and those below. Needs a cgroup of its own (the
 * cgroup or systemd backend: the start fails with -EOPNOTSUPP on the
 * process-group backend) and CAP_SYS_ADMIN (root: else the start fails
 * with the child's EPERM). What a root service can still do (unmount the
 * cover, setns() into the host's namespaces, reach the host's mount
 * through /proc/1/root) is in docs/containment.md. -EBUSY while running. */
int mk_executor_set_cgroup_namespace(MkExecutor *e, bool enabled);
bool mk_executor_get_cgroup_namespace(MkExecutor *e);
/* The backend in use (after start), and in words why it was chosen. */
MkContainment mk_executor_get_containment(MkExecutor *e);
const char *mk_executor_get_containment_reason(MkExecutor *e);
const char *mk_containment_to_string(MkContainment c);
/* The service's cgroup, an absolute path in our mount namespace, while it
 * runs; NULL on the process-group backend. */
const char *mk_executor_get_cgroup(MkExecutor *e);
/* The systemd backend talks to this bus address (for example
 * "unix:path=/run/user/1000/systemd/private") instead of looking for one. */
int mk_executor_set_bus_address(MkExecutor *e, const char *address);
/* Also honoured: $MIRAKURU_BUS_ADDRESS, when no address was set. An
 * explicit address is the only one tried; without one the systemd backend
 * tries the system manager's private socket (as root), the user manager's
 * private socket ($XDG_RUNTIME_DIR/systemd/private), then the user bus. */

/* Leak forensics: the processes the last stop or kill found still running
 * when it had to use the kill signal (after the stop timeout, or a kill),
 * as "PID CMDLINE\n" lines, recorded at kill time; "" when the stop signal
 * was enough. Processes found outside the service's cgroup (a root service
 * can move itself out; docs/containment.md) are listed too, with
 * " (had left the service's cgroup)" or, for the main process, which is
 * still stopped through its pidfd, " (the main process, which had left the
 * service's cgroup)" after the command line. *RET is malloc'd (free() it). Returns how many processes
 * are listed (>= 0), -EINVAL, -ENOMEM. Cleared by the next start. */
int mk_executor_get_leftovers(MkExecutor *e, char **ret);

/* Parses "auto", "systemd", "cgroup", "process-group"; -EINVAL otherwise. */
int mk_containment_from_string(const char *s, MkContainment *ret);

/* ------------------------------------------------------------------------ */
/* Many services in one process                                             */
/* ------------------------------------------------------------------------ */

/* Each running service holds a handful of the supervisor's fds (its pipes,
 * its pidfd, its cgroup): about 7 with output captured. A soft RLIMIT_NOFILE of
 * 1024, the usual default, runs out near 140 services. This raises the
 * calling process's soft RLIMIT_NOFILE to its hard limit, and makes every
 * process the library starts from then on (services, exec probes' commands)
 * start with the soft limit the process had before the first call: many
 * programs still use select(), which breaks above fd 1023 (systemd does the
 * same for its services). Process-wide, meant for a program's start (
 * mirakuru-run calls it); calling it again raises to the current hard
 * limit, children keep the first soft limit. 0 or a negative errno (the
 * limit is then unchanged). */
int mk_raise_fd_limit(void);

/* A keeper for the process-group backend. Without a cgroup, a service's
 * processes are found by process group, session and parentage; a process
 * that calls setsid() after its parent exited (a double-forked daemon, a
 * fork bomb's orphans) reparents to the supervisor (a subreaper) and
 * cannot be attributed to a service. If the supervisor is SIGKILLed, such
 * orphans reparent on to init and survive. A keeper closes that: the
 * calling process forks; the ORIGINAL process becomes the keeper, a child
 * subreaper ("mirakuru-keeper") above the new one, and the call returns 1
 * in the new process, which goes on as the program. The keeper:
 *  - waits for the program; when it is gone (any exit, SIGKILL included)
 *    SIGKILLs every descendant left (they are all its descendants: orphans
 *    reparent up to it, never past it), pass after pass until none is
 *    left (bounded at 10 s), and then exits as the program did (the same
 *    exit status; the same signal, re-raised);
 *  - passes on to the program the signals other processes send it
 *    (TERM, INT, HUP, QUIT, USR1, USR2, ALRM, WINCH, PIPE, and job
 *    control), not those of the terminal (they reach the whole foreground
 *    process group, the program included).
 * The program gets SIGTERM if the keeper is killed (PR_SET_PDEATHSIG), and
 * at its exit() (atexit()) kills what is left below it the same way: so
 * SIGKILL of either leaves nothing.
 * Only where services will land on the process-group backend: CONTAINMENT
 * (or, for MK_CONTAINMENT_AUTO, $MIRAKURU_CONTAINMENT) is
 * MK_CONTAINMENT_PROCESS_GROUP, or AUTO finds neither a systemd manager nor
 * a writable cgroup v2 directory of ours; and not under a service manager
 * that expects notifications from its main process ($NOTIFY_SOCKET): then
 * it returns 0 and forks nothing (the cgroup holds the tree). Negative
 * errno on failure (no keeper; the caller goes on). Call it first in
 * main(), before any thread or service exists: the program's pid changes
 * (the parent waits on the keeper's), and it kills every descendant of the
 * program at its end. mirakuru-run calls it. */
int mk_fork_keeper(MkContainment containment);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

/* Groups of services with dependencies (MkGroup): their own header, part
 * of this one. */
#include "mirakuru-group.h"
