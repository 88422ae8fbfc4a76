/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Creating, configuring and freeing executors; reading what they captured. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "executor-private.h"
#include "containment/cgroup-util.h"
#include "util/event-wait.h"
#include "util/pidfd-util.h"
#include "util/shell-split.h"
#include "util/strv.h"

static bool is_configurable(MkExecutor *e) {
        return e->state == MK_STATE_IDLE;
}

#define ASSERT_CONFIGURABLE(e)                  \
        do {                                    \
                if (!(e))                       \
                        return -EINVAL;         \
                if (!is_configurable(e))        \
                        return -EBUSY;          \
        } while (0)

/* $MIRAKURU_LISTEN_EVENT=0: the listen watch polls (mk_executor_set_listen_event()). */
static bool listen_event_from_env(void) {
        const char *v = getenv("MIRAKURU_LISTEN_EVENT");
        return !v || strcmp(v, "0") != 0;
}

static int containment_from_env(MkContainment *ret) {
        const char *v = getenv("MIRAKURU_CONTAINMENT");
        if (!v || !*v)
                return 0;
        return mk_containment_from_string(v, ret);
}

int mk_executor_new(MkExecutor **ret) {
        MkExecutor *e;

        if (!ret)
                return -EINVAL;
        e = calloc(1, sizeof *e);
        if (!e)
                return -ENOMEM;
        *e = (MkExecutor) {
                .n_ref = 1,
                .stdin_fd = -EBADF,
                .timeout_usec = MK_DEFAULT_START_TIMEOUT_USEC,
                .stop_timeout_usec = MK_DEFAULT_STOP_TIMEOUT_USEC,
                .stop_signal = SIGTERM,
                .kill_signal = SIGKILL,
                .expected_exit = -1,
                .capture_size = MK_DEFAULT_CAPTURE_BYTES,
                .tee_fd = { -EBADF, -EBADF },
                .direct_fd = { -EBADF, -EBADF },
                .main = { .pidfd = -EBADF },
                .containment_wanted = MK_CONTAINMENT_AUTO,
                .pre_check = true,
                .listen_poll_usec = MK_LISTEN_POLL_DEFAULT_USEC,
                .listen_event = listen_event_from_env(),
                .state = MK_STATE_IDLE,
                .child = { .pidfd = -EBADF, .gate_fd = -EBADF, .exec_fd = -EBADF },
        };
        /* An unknown value is reported by the first start, not ignored. */
        if (containment_from_env(&e->containment_wanted) < 0)
                e->containment_wanted = (MkContainment) -1;
        *ret = e;
        return 0;
}

MkExecutor *mk_executor_ref(MkExecutor *e) {
        if (e)
                e->n_ref++;
        return e;
}

static void executor_free(MkExecutor *e) {
        executor_free_run(e);
        for (size_t i = 0; i < e->n_probes; i++)
                probe_free(e->probes[i]);
        free(e->probes);
        for (int i = 0; i < 2; i++) {
                capture_free(e->capture[i]);
                safe_close(e->tee_fd[i]);
                safe_close(e->direct_fd[i]);
        }
        for (unsigned i = 0; i < RECENT_LINES; i++)
                free(e->recent[i]);
        strv_free(e->argv);
        strv_free(e->env_overrides);
        strv_free(e->env_removals);
        free(e->name);
        free(e->cwd);
        free(e->bus_address);
        free(e->containment_reason);
        free(e->listen_watch_reason);
        free(e->leftovers);
        free(e->error);
        safe_close(e->stdin_fd);
        sd_event_unref(e->event);
        free(e);
}

MkExecutor *mk_executor_unref(MkExecutor *e) {
        if (!e)
                return NULL;
        if (--e->n_ref > 0)
                return NULL;

        /* The last reference: nothing may outlive us. Hold one reference while
         * stopping so callbacks cannot free the executor under our feet; and
         * call none of the caller's: their userdata may be gone already (a
         * test that failed and unwound its stack). */
        e->n_ref = 1;
        e->quiet = true;
        if (e->state != MK_STATE_IDLE) {
                if (e->event && sd_event_get_state(e->event) == SD_EVENT_INITIAL)
                        (void) mk_executor_stop(e);
                else if (e->containment) {
                        /* Inside a callback of the loop we cannot run it: kill at
                         * once, and reap the main process so that no zombie is
                         * left (SIGKILL cannot be caught: the wait is short). */
                        (void) containment_kill_all(e->containment);
                        if (e->child.pidfd >= 0 && !e->main_reaped) {
                                siginfo_t si;
                                (void) pidfd_signal_child(e->child.pidfd, e->child.pid, SIGKILL);
                                (void) waitid(P_PIDFD, (id_t) e->child.pidfd, &si, WEXITED);
                                e->main_reaped = true;
                        }
                }
        }
        executor_free(e);
        return NULL;
}

void mk_executor_unrefp(MkExecutor **e) {
        if (e && *e)
                *e = mk_executor_unref(*e);
}

static int default_name(MkExecutor *e) {
        _cleanup_free_ char *copy = strdup(e->argv[0]);
        if (!copy)
                return -ENOMEM;
        char *n = strdup(basename(copy));
        if (!n)
                return -ENOMEM;
        free(e->name);
        e->name = n;
        return 0;
}

static int take_argv(MkExecutor *e, char **argv, bool name_from_argv) {
        if (!argv || !argv[0] || !*argv[0]) {
                strv_free(argv);
                return -EINVAL;
        }
        strv_free(e->argv);
        e->argv = argv;
        return name_from_argv ? default_name(e) : 0;
}

int mk_executor_set_argv(MkExecutor *e, const char *const *argv) {
        char **copy;
        int r;

        ASSERT_CONFIGURABLE(e);
        if (!argv || !argv[0])
                return -EINVAL;
        r = strv_copy(argv, &copy);
        if (r < 0)
                return r;
        return take_argv(e, copy, true);
}

int mk_executor_set_command_line(MkExecutor *e, const char *command_line) {
        char **words;
        int r;

        ASSERT_CONFIGURABLE(e);
        if (!command_line)
                return -EINVAL;
        r = shell_split(command_line, &words);
        if (r < 0)
                return r;
        return take_argv(e, words, true);
}

int mk_executor_set_shell_command(MkExecutor *e, const char *script) {
        const char *argv[] = { "/bin/sh", "-c", script, NULL };
        char **copy;
        int r;

        ASSERT_CONFIGURABLE(e);
        if (!script || !*script)
                return -EINVAL;
        r = strv_copy(argv, &copy);
        if (r < 0)
                return r;
        r = take_argv(e, copy, false);
        if (r < 0)
                return r;
        if (!e->name) {
                e->name = strdup("sh");
                if (!e->name)
                        return -ENOMEM;
        }
        return 0;
}

int mk_executor_set_name(MkExecutor *e, const char *name) {
        char *n;

        ASSERT_CONFIGURABLE(e);
        if (!name || !*name)
                return -EINVAL;
        n = strdup(name);
        if (!n)
                return -ENOMEM;
        free(e->name);
        e->name = n;
        return 0;
}

const char *mk_executor_get_name(MkExecutor *e) {
        return e ? e->name : NULL;
}

int mk_executor_set_env(MkExecutor *e, const char *name, const char *value) {
        int r;

        ASSERT_CONFIGURABLE(e);
        if (!env_name_is_valid(name))
                return -EINVAL;
        if (!value)
                return mk_executor_unset_env(e, name);
        r = env_set(&e->env_overrides, name, value);
        if (r < 0)
                return r;
        /* A later set wins over an earlier unset. */
        for (char **i = e->env_removals; i && *i; i++)
                if (strcmp(*i, name) == 0) {
                        free(*i);
                        for (; *i; i++)
                                i[0] = i[1];
                        break;
                }
        return 0;
}

int mk_executor_unset_env(MkExecutor *e, const char *name) {
        int r;

        ASSERT_CONFIGURABLE(e);
        if (!env_name_is_valid(name))
                return -EINVAL;
        r = env_set(&e->env_overrides, name, NULL);
        if (r < 0)
                return r;
        if (strv_contains(e->env_removals, name))
                return 0;
        return strv_push_dup(&e->env_removals, name);
}

int mk_executor_set_clean_env(MkExecutor *e, bool clean) {
        ASSERT_CONFIGURABLE(e);
        e->clean_env = clean;
        return 0;
}

int mk_executor_set_cwd(MkExecutor *e, const char *directory) {
        char *d = NULL;

        ASSERT_CONFIGURABLE(e);
        if (directory && !(d = strdup(directory)))
                return -ENOMEM;
        free(e->cwd);
        e->cwd = d;
        return 0;
}

int mk_executor_set_stdin_fd(MkExecutor *e, int fd) {
        int copy = -EBADF;

        ASSERT_CONFIGURABLE(e);
        if (fd >= 0 && (copy = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0)
                return -errno;
        safe_close(e->stdin_fd);
        e->stdin_fd = copy;
        return 0;
}

int mk_executor_set_timeout(MkExecutor *e, uint64_t usec) {
        ASSERT_CONFIGURABLE(e);
        e->timeout_usec = usec;
        return 0;
}

static bool signal_is_valid(int signo) {
        return signo > 0 && signo < _NSIG;
}

int mk_executor_set_stop_signal(MkExecutor *e, int signo) {
        ASSERT_CONFIGURABLE(e);
        if (!signal_is_valid(signo))
                return -EINVAL;
        e->stop_signal = signo;
        return 0;
}

int mk_executor_set_kill_signal(MkExecutor *e, int signo) {
        ASSERT_CONFIGURABLE(e);
        if (!signal_is_valid(signo))
                return -EINVAL;
        e->kill_signal = signo;
        return 0;
}

int mk_executor_set_stop_timeout(MkExecutor *e, uint64_t usec) {
        ASSERT_CONFIGURABLE(e);
        e->stop_timeout_usec = usec;
        return 0;
}

int mk_executor_set_expected_exit(MkExecutor *e, int code) {
        ASSERT_CONFIGURABLE(e);
        if (code < -1 || code > 255)
                return -EINVAL;
        e->expected_exit = code;
        return 0;
}

int mk_executor_set_capture_size(MkExecutor *e, size_t bytes) {
        ASSERT_CONFIGURABLE(e);
        e->capture_size = bytes;
        return 0;
}

/* Sets FDS[i] to a duplicate of FD (-1: none) for each stream i in STREAMS. */
static int set_stream_fds(int fds[2], MkStream streams, int fd) {
        if (streams == 0 || (streams & ~MK_STREAM_BOTH))
                return -EINVAL;
        for (int i = 0; i < 2; i++) {
                int copy = -EBADF;
                if (!(streams & (1 << i)))
                        continue;
                if (fd >= 0 && (copy = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0)
                        return -errno;
                safe_close(fds[i]);
                fds[i] = copy;
        }
        return 0;
}

int mk_executor_set_output_fd(MkExecutor *e, MkStream streams, int fd) {
        ASSERT_CONFIGURABLE(e);
        int r = set_stream_fds(e->tee_fd, streams, fd);

        for (int i = 0; r >= 0 && i < 2; i++)
                if (streams & (1 << i))
                        e->tee_handed[i] = false;
        return r;
}

int mk_executor_hand_output_fd(MkExecutor *e, MkStream streams, int fd) {
        int r;

        ASSERT_CONFIGURABLE(e);
        if (fd < 0)
                return -EBADF;
        r = set_stream_fds(e->tee_fd, streams, fd);
        if (r < 0)
                return r;
        for (int i = 0; i < 2; i++)
                if (streams & (1 << i))
                        e->tee_handed[i] = true;
        return 0;
}

int mk_executor_set_direct_output_fd(MkExecutor *e, MkStream streams, int fd) {
        ASSERT_CONFIGURABLE(e);
        return set_stream_fds(e->direct_fd, streams, fd);
}

int mk_executor_set_kill_mode(MkExecutor *e, MkKillMode mode) {
        ASSERT_CONFIGURABLE(e);
        if (mode != MK_KILL_CONTROL_GROUP && mode != MK_KILL_MIXED)
                return -EINVAL;
        e->kill_mode = mode;
        return 0;
}

int mk_executor_set_follow_daemon(MkExecutor *e, bool follow) {
        ASSERT_CONFIGURABLE(e);
        e->no_follow_daemon = !follow;
        return 0;
}

bool mk_executor_get_notify_stopping(MkExecutor *e) {
        return e && e->notify_stopping;
}

MkKillMode mk_executor_get_kill_mode(MkExecutor *e) {
        return e ? e->kill_mode : MK_KILL_CONTROL_GROUP;
}

int mk_kill_mode_from_string(const char *s, MkKillMode *ret) {
        if (!s || !ret)
                return -EINVAL;
        if (strcmp(s, "control-group") == 0)
                *ret = MK_KILL_CONTROL_GROUP;
        else if (strcmp(s, "mixed") == 0)
                *ret = MK_KILL_MIXED;
        else
                return -EINVAL;
        return 0;
}

const char *mk_kill_mode_to_string(MkKillMode mode) {
        return mode == MK_KILL_CONTROL_GROUP ? "control-group" : mode == MK_KILL_MIXED ? "mixed" : NULL;
}

int mk_executor_set_notify_handler(MkExecutor *e, MkNotifyHandler handler, void *userdata) {
        if (!e)
                return -EINVAL;
        e->notify_handler = handler;
        e->notify_userdata = userdata;
        return 0;
}

/* What an output file may be: a regular file, a terminal, or /dev/null
 * (nothing that can stop taking our writes, like a FIFO or a socket). */
static int output_file_check(int fd) {
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISREG(st.st_mode) || isatty(fd))
                return 0;
        if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3)
                return 0; /* /dev/null */
        return -EINVAL;
}

static const char *file_kind(int fd) {
        struct stat st;

        if (fstat(fd, &st) < 0)
                return "unreadable";
        return S_ISFIFO(st.st_mode)   ? "a FIFO"
               : S_ISSOCK(st.st_mode) ? "a socket"
               : S_ISDIR(st.st_mode)  ? "a directory"
               : S_ISCHR(st.st_mode)  ? "a character device that is not a terminal"
               : S_ISBLK(st.st_mode)  ? "a block device"
                                      : "not a regular file";
}

int mk_executor_set_output_file(MkExecutor *e, MkStream streams, const char *path) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        ASSERT_CONFIGURABLE(e);
        if (!path)
                return -EINVAL;
        /* O_NONBLOCK: a FIFO (or a device) must not hold us in open(). */
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
        if (fd < 0 && errno == ENXIO) {
                executor_set_error(e, "output file %s is a FIFO without a reader: want a regular file or a terminal",
                                   path);
                return -EINVAL;
        }
        if (fd < 0)
                return -errno;
        r = output_file_check(fd);
        if (r < 0) {
                executor_set_error(e, "output file %s is %s: want a regular file or a terminal", path,
                                   file_kind(fd));
                return r;
        }
        /* Writes block again (mk_executor_set_output_fd()). */
        if (fcntl(fd, F_SETFL, O_APPEND) < 0)
                return -errno;
        return mk_executor_set_output_fd(e, streams, fd);
}

int mk_executor_set_line_handler(MkExecutor *e, MkLineHandler handler, void *userdata) {
        if (!e)
                return -EINVAL;
        e->line_handler = handler;
        e->line_userdata = userdata;
        return 0;
}

int mk_executor_set_callbacks_during_stop(MkExecutor *e, bool enabled) {
        if (!e)
                return -EINVAL;
        e->callbacks_during_stop = enabled;
        return 0;
}

int mk_executor_set_exit_handler(MkExecutor *e, MkExitHandler handler, void *userdata) {
        if (!e)
                return -EINVAL;
        e->exit_handler = handler;
        e->exit_userdata = userdata;
        return 0;
}

static int stream_index(MkStream stream) {
        return stream == MK_STREAM_STDOUT ? 0 : stream == MK_STREAM_STDERR ? 1 : -1;
}

static int empty_output(char **ret, size_t *ret_size) {
        char *empty = strdup("");
        if (!empty)
                return -ENOMEM;
        *ret = empty;
        if (ret_size)
                *ret_size = 0;
        return 0;
}

int mk_executor_read_output(MkExecutor *e, MkStream stream, char **ret, size_t *ret_size) {
        int i = stream_index(stream);

        if (!e || i < 0 || !ret)
                return -EINVAL;
        if (!e->capture[i])
                return empty_output(ret, ret_size);
        capture_sync(e->capture[i]);
        return capture_read_new(e->capture[i], &e->output_cursor[i], ret, ret_size);
}

int mk_executor_get_output(MkExecutor *e, MkStream stream, char **ret, size_t *ret_size) {
        int i = stream_index(stream);

        if (!e || i < 0 || !ret)
                return -EINVAL;
        if (e->capture[i])
                capture_sync(e->capture[i]);
        if (!e->capture[i]) {
                char *empty = strdup("");
                if (!empty)
                        return -ENOMEM;
                *ret = empty;
                if (ret_size)
                        *ret_size = 0;
                return 0;
        }
        return capture_get_output(e->capture[i], ret, ret_size);
}

int mk_executor_get_last_lines(MkExecutor *e, unsigned max, char **ret) {
        const char *lines[RECENT_LINES];
        unsigned n = 0;

        if (!e || !ret)
                return -EINVAL;
        for (unsigned k = 0; k < RECENT_LINES; k++) {
                const char *l = e->recent[(e->recent_next + k) % RECENT_LINES];
                if (l)
                        lines[n++] = l;
        }
        unsigned first = max > 0 && max < n ? n - max : 0;
        size_t size = 1;
        for (unsigned k = first; k < n; k++)
                size += strlen(lines[k]) + 1;
        char *s = malloc(size), *p = s;
        if (!s)
                return -ENOMEM;
        for (unsigned k = first; k < n; k++) {
                if (k > first)
                        *p++ = '\n';
                p = stpcpy(p, lines[k]);
        }
        *p = '\0';
        *ret = s;
        return 0;
}

int mk_executor_attach_event(MkExecutor *e, sd_event *event, int64_t priority) {
        int r;

        ASSERT_CONFIGURABLE(e);
        if (e->event)
                return -EBUSY;
        if (event)
                e->event = sd_event_ref(event);
        else {
                r = event_default(&e->event);
                if (r < 0)
                        return r;
        }
        e->priority = priority;
        return 0;
}

int mk_executor_detach_event(MkExecutor *e) {
        ASSERT_CONFIGURABLE(e);
        e->event = sd_event_unref(e->event);
        return 0;
}

sd_event *mk_executor_get_event(MkExecutor *e) {
        return e ? e->event : NULL;
}

int mk_executor_set_containment(MkExecutor *e, MkContainment containment) {
        ASSERT_CONFIGURABLE(e);
        if (!mk_containment_to_string(containment))
                return -EINVAL;
        e->containment_wanted = containment;
        return 0;
}

int mk_executor_set_cgroup_namespace(MkExecutor *e, bool enabled) {
        ASSERT_CONFIGURABLE(e);
        e->cgroup_namespace = enabled;
        return 0;
}

bool mk_executor_get_cgroup_namespace(MkExecutor *e) {
        return e && e->cgroup_namespace;
}

/* mk_executor_set_cgroup_namespace(): the service needs a cgroup of its
 * own (not the process-group backend) and the right to make namespaces
 * and mount (CAP_SYS_ADMIN); checked here so the error says so, rather
 * than an EPERM from the child. *RET: the cgroup2 mount to cover. */
int executor_cgroup_namespace_mount(MkExecutor *e, char **ret) {
        int r;

        if (e->containment->kind == MK_CONTAINMENT_PROCESS_GROUP) {
                executor_set_error(e, "%s: a cgroup namespace needs the service in a cgroup of its own "
                                   "(the %s backend has none)", e->name,
                                   mk_containment_to_string(e->containment_used));
                return -EOPNOTSUPP;
        }
        r = cg_mount_path(ret);
        if (r < 0) {
                executor_set_error(e, "%s: a cgroup namespace needs the cgroup2 mount: %s", e->name, strerror(-r));
                return r;
        }
        return 0;
}

int mk_executor_set_bus_address(MkExecutor *e, const char *address) {
        char *a = NULL;

        ASSERT_CONFIGURABLE(e);
        if (address && !(a = strdup(address)))
                return -ENOMEM;
        free(e->bus_address);
        e->bus_address = a;
        return 0;
}

int mk_executor_set_pre_start_check(MkExecutor *e, MkCheckHandler check, void *userdata) {
        ASSERT_CONFIGURABLE(e);
        e->pre_start_check = check;
        e->pre_start_userdata = userdata;
        return 0;
}

int mk_executor_clear_probes(MkExecutor *e) {
        ASSERT_CONFIGURABLE(e);
        for (size_t i = 0; i < e->n_probes; i++)
                probe_free(e->probes[i]);
        free(e->probes);
        e->probes = NULL;
        e->n_probes = 0;
        return 0;
}

int mk_executor_set_pre_check(MkExecutor *e, bool enabled) {
        ASSERT_CONFIGURABLE(e);
        e->pre_check = enabled;
        return 0;
}

MkContainment mk_executor_get_containment(MkExecutor *e) {
        return e ? e->containment_used : MK_CONTAINMENT_AUTO;
}

const char *mk_executor_get_containment_reason(MkExecutor *e) {
        return e ? e->containment_reason : NULL;
}

const char *mk_executor_get_cgroup(MkExecutor *e) {
        return e && e->containment ? e->containment->cgroup_path : NULL;
}

int mk_executor_get_leftovers(MkExecutor *e, char **ret) {
        const char *l;
        char *copy;
        int n = 0;

        if (!e || !ret)
                return -EINVAL;
        l = e->leftovers ?: "";
        copy = strdup(l);
        if (!copy)
                return -ENOMEM;
        for (const char *p = l; *p; p++)
                n += *p == '\n';
        *ret = copy;
        return n;
}

bool mk_executor_is_running(MkExecutor *e) {
        if (!e || e->child.pid <= 0)
                return false;
        executor_refresh(e);
        /* A daemonizing service runs on after its launcher (main-pid.c). */
        return e->main.following ? !e->main.ended : !e->main_reaped;
}

MkState mk_executor_get_state(MkExecutor *e) {
        if (!e)
                return MK_STATE_IDLE;
        executor_refresh(e);
        return e->state;
}

pid_t mk_executor_get_pid(MkExecutor *e) {
        /* Once stopped (state idle) there is no main process any more. */
        if (!e || e->child.pid <= 0 || e->state == MK_STATE_IDLE)
                return 0;
        /* After a launcher handed over: the process it left, 0 while unknown;
         * before, the pid file's process if it names one (main-pid.c). */
        return main_pid_current(e);
}

int mk_executor_get_pidfd(MkExecutor *e) {
        if (e && e->main.following)
                return e->main.pidfd >= 0 ? e->main.pidfd : -EBADF;
        return e && e->child.pidfd >= 0 ? e->child.pidfd : -EBADF;
}

int mk_executor_get_exit(MkExecutor *e, MkExit *ret) {
        if (!e || !ret)
                return -EINVAL;
        executor_refresh(e);
        if (!e->have_exit)
                return -ENODATA;
        *ret = e->exit;
        return 0;
}

int mk_exit_to_status(const MkExit *exit) {
        if (!exit)
                return -EINVAL;
        return exit->code == CLD_EXITED ? exit->status : 128 + exit->status;
}

const char *mk_executor_get_error(MkExecutor *e) {
        return e ? e->error : NULL;
}
