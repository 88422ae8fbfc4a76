/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A service is its cgroup, not its first process. When the command (the
 * launcher) exits 0 and processes of the service remain, the service goes
 * on and its main process becomes MAINPID=, the pid file's pid, or the
 * single process left; the service ends when that exits or, none known,
 * when the cgroup empties (systemd's Type=forking with PIDFile=). Also the
 * kill mode: with MK_KILL_MIXED the stop signal goes to the main process
 * only (and to a launcher still running beside it). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "executor-private.h"
#include "util/pidfd-util.h"
#include "util/proc-stat.h"

/* Without pidfd_open(2) (valgrind 3.19, old kernels): look this often. */
#define MAIN_PID_POLL_USEC (50 * MK_USEC_PER_MSEC)
#define MAX_SCAN 4096

/* The pids of the service's processes, up to MAX; how many there are
 * (may exceed MAX), or negative errno. A cgroup: its cgroup.procs. The
 * process-group backend: the processes of the launcher's session. */
static int service_pids(MkExecutor *e, pid_t *pids, int max) {
        const char *cgroup = e->containment ? e->containment->cgroup_path : NULL;
        int n = 0;

        if (cgroup) {
                _cleanup_free_ char *path = NULL;
                if (asprintf_safe(&path, "%s/cgroup.procs", cgroup) < 0)
                        return -ENOMEM;
                FILE *f = fopen(path, "re");
                if (!f)
                        return -errno;
                long v;
                while (fscanf(f, "%ld", &v) == 1) {
                        if (n < max)
                                pids[n] = (pid_t) v;
                        n++;
                }
                fclose(f);
                return n;
        }

        DIR *d = opendir("/proc");
        if (!d)
                return -errno;
        for (struct dirent *de; (de = readdir(d));) {
                char *end;
                long v = strtol(de->d_name, &end, 10);
                if (*end || v <= 0 || (pid_t) v == getpid())
                        continue;
                if (getsid((pid_t) v) != e->child.pid)
                        continue;
                if (n < max)
                        pids[n] = (pid_t) v;
                n++;
        }
        closedir(d);
        return n;
}

/* The process-group backend (no cgroup): a process named as the main one
 * that left the service's session, a daemon's setsid(), is the service's
 * when the backend can take it in (pgroup.c's adoption). */
static bool no_cgroup(MkExecutor *e) {
        return e->containment && !e->containment->cgroup_path;
}

static bool pid_of_service(MkExecutor *e, pid_t pid) {
        pid_t pids[MAX_SCAN] = {};
        int n = service_pids(e, pids, MAX_SCAN);

        for (int i = 0; i < n && i < MAX_SCAN; i++)
                if (pids[i] == pid)
                        return true;
        return no_cgroup(e) && containment_adopt(e->containment, pid) > 0;
}

static void main_pid_unwatch(MkExecutor *e) {
        e->main.source = sd_event_source_disable_unref(e->main.source);
        e->main.pidfd = safe_close(e->main.pidfd);
}

void main_pid_reset(MkExecutor *e) {
        main_pid_unwatch(e);
        e->main = (MainPid) { .pidfd = -EBADF };
}

/* The followed service ended: report it like the exit of a main process. */
static void service_ended(MkExecutor *e, const MkExit *x) {
        if (e->main.ended)
                return;
        e->main.ended = true;
        main_pid_unwatch(e);
        e->have_exit = true;
        e->exit = *x;
        executor_service_exited(e);
}

/* How the followed process ended, where we can tell (it is our child
 * only when we are its subreaper); else a clean exit, or death by the
 * stop signal while we stop it. */
static MkExit followed_exit(MkExecutor *e) {
        siginfo_t si = {};

        if (e->main.pidfd >= 0 && waitid(P_PIDFD, (id_t) e->main.pidfd, &si, WEXITED | WNOHANG) == 0 &&
            si.si_pid != 0) {
                MkExit x = { .code = si.si_code, .status = si.si_status };
                x.clean = (x.code == CLD_EXITED && (x.status == 0 || x.status == executor_expected_exit(e))) ||
                          (x.code == CLD_KILLED && x.status == executor_stop_signal(e));
                return x;
        }
        if (e->tearing_down)
                return (MkExit) { .code = CLD_KILLED, .status = executor_stop_signal(e), .clean = true };
        return (MkExit) { .code = CLD_EXITED, .status = 0, .clean = true };
}

static void followed_ended(MkExecutor *e) {
        MkExit x = followed_exit(e);

        /* A guessed main process that exits cleanly while processes of the
         * service remain was a launcher too (the middle process of a double
         * fork, exiting after its child's setsid()): hand over again, as
         * when the command exited; also when that exit is noticed only
         * after ready (without pidfds it is polled). Only for a guess that
         * neither MAINPID= nor the pid file confirmed: a named main
         * process's exit ends the service. The cgroup's emptiness still
         * ends the service while no main process is known. */
        if (e->main.guessed && x.code == CLD_EXITED && x.status == 0 && !e->tearing_down && e->containment &&
            containment_is_empty(e->containment) == 0) {
                main_pid_unwatch(e);
                e->main.pid = 0;
                e->main.guessed = false;
                main_pid_update(e);
                return;
        }
        service_ended(e, &x);
}

static int on_followed_exit(sd_event_source *s _unused_, int fd _unused_, uint32_t revents _unused_,
                            void *userdata) {
        followed_ended(userdata);
        return 0;
}

static int on_followed_poll(sd_event_source *s, uint64_t usec, void *userdata) {
        MkExecutor *e = userdata;
        ProcStat st;

        /* Gone, or a zombie its parent has not reaped yet. */
        if (proc_stat_read(e->main.pid, &st) < 0 || proc_state_exited(st.state)) {
                followed_ended(e);
                return 0;
        }
        (void) sd_event_source_set_time(s, usec + MAIN_PID_POLL_USEC);
        (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        return 0;
}

/* Makes PID the main process, if it is a live process of the service. */
static int follow(MkExecutor *e, pid_t pid) {
        _cleanup_close_ int pidfd = -EBADF;
        int r;

        if (pid <= 0 || pid == e->main.pid)
                return pid > 0 ? 0 : -ESRCH;
        pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0 && errno != ENOSYS)
                return -errno;
        /* After the pidfd is open, the pid cannot be reused under us. */
        if (!pid_of_service(e, pid))
                return -ESRCH;

        main_pid_unwatch(e);
        e->main.pid = pid;
        e->main.guessed = false;
        /* Kept in the service should it leave the session later (a guessed
         * main process that daemonizes on). */
        if (no_cgroup(e))
                (void) containment_adopt(e->containment, pid);
        if (e->main.watch_empty_pending) {
                e->main.watch_empty_pending = false;
                (void) containment_watch_empty(e->containment);
        }
        if (pidfd >= 0) {
                r = sd_event_add_io(e->event, &e->main.source, pidfd, EPOLLIN, on_followed_exit, e);
                if (r >= 0)
                        e->main.pidfd = TAKE_FD(pidfd);
        } else
                /* accuracy 1 us, as every timer of the library: sd-event's default
                 * would let it slip by 250 ms */
                r = sd_event_add_time_relative(e->event, &e->main.source, CLOCK_MONOTONIC, MAIN_PID_POLL_USEC,
                                               1, on_followed_poll, e);
        if (r >= 0)
                r = sd_event_source_set_priority(e->main.source, e->priority);
        if (r < 0) {
                /* Cannot watch it: the cgroup's emptiness still ends the service. */
                main_pid_unwatch(e);
                e->main.pid = 0;
        }
        return r;
}

void main_pid_update(MkExecutor *e) {
        pid_t pids[2] = {};

        if (!e->main.following || e->main.ended || e->tearing_down)
                return;
        /* MAINPID= or the pid file names the main process: no guess (also
         * when it names the process guessed before). */
        if ((e->main.hint > 0 && follow(e, e->main.hint) >= 0) || follow(e, executor_pid_file_pid(e)) >= 0) {
                e->main.guessed = false;
                return;
        }
        if (e->main.pid > 0)
                return;
        if (service_pids(e, pids, 2) == 1 && follow(e, pids[0]) >= 0)
                e->main.guessed = true;
}

void executor_main_pid_hint(MkExecutor *e, pid_t pid) {
        e->main.hint = pid;
        main_pid_update(e);
}

bool main_pid_launcher_exited(MkExecutor *e) {
        if (e->no_follow_daemon || e->exit.code != CLD_EXITED || e->exit.status != 0 || !e->exec_confirmed ||
            e->tearing_down ||
            (e->state != MK_STATE_STARTING && e->state != MK_STATE_READY) || !e->containment)
                return false;
        if (containment_is_empty(e->containment) != 0) {
                /* Without a cgroup a daemon that left the session at once
                 * (fork, setsid(), the launcher exits) shows nothing left:
                 * its pid file will name it. Follow it then; until then the
                 * probes wait (the pid file probe takes it in). */
                if (!no_cgroup(e) || !executor_has_pid_file(e))
                        return false;
                e->main.watch_empty_pending = true;
        } else if (containment_watch_empty(e->containment) < 0)
                /* The cgroup's emptiness ends the service while no main process is known. */
                return false;

        e->main.following = true;
        e->main.launcher_exit = e->exit;
        e->have_exit = false;
        e->exit = (MkExit) {};
        main_pid_update(e);
        return true;
}

bool main_pid_service_empty(MkExecutor *e) {
        if (!e->main.following || e->main.ended || e->tearing_down)
                return false;
        /* The main process, if known, may have gone unnoticed yet: take its status. */
        MkExit x = followed_exit(e);
        service_ended(e, &x);
        return true;
}

pid_t main_pid_current(MkExecutor *e) {
        pid_t pid;

        if (e->main.following)
                return e->main.ended ? 0 : e->main.pid;
        if (!e->main_reaped && (pid = executor_pid_file_pid(e)) > 0)
                return pid;
        return e->child.pid;
}

int main_pid_stop_signal(MkExecutor *e, int signo, bool graceful) {
        int r;

        if (graceful && e->kill_mode == MK_KILL_MIXED) {
                pid_t pid = main_pid_current(e);
                if (e->main.following && pid > 0)
                        r = pidfd_signal_child(e->main.pidfd, pid, signo);
                else if (!e->main.following && pid == e->child.pid && !e->main_reaped)
                        r = pidfd_signal_child(e->child.pidfd, e->child.pid, signo);
                else if (pid > 0 && pid != e->child.pid) {
                        /* The pid file's process, checked just now to be the service's. */
                        r = kill(pid, signo) < 0 ? -errno : 0;
                        /* And the launcher, still waiting for it (pg_ctl start: it
                         * would exit 1 once its server is gone, an unclean stop
                         * that was ours), as systemd signals the control process
                         * with the main one. */
                        if (r >= 0 && !e->main_reaped)
                                (void) pidfd_signal_child(e->child.pidfd, e->child.pid, signo);
                }
                else
                        r = -ESRCH;
                if (r >= 0)
                        return r;
                /* No main process known: as control-group. */
        }
        return containment_signal(e->containment, signo);
}

bool mk_executor_get_launcher_exited(MkExecutor *e) {
        return e && e->main.following;
}
