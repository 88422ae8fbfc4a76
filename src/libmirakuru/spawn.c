/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"
#include "spawn-slots.h"
#include "util/io-util.h"
#include "util/macro.h"
#include "util/pidfd-util.h"
#include "util/strv.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

int spawn_resolve(const char *argv0, const char *path, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        if (!argv0 || !*argv0)
                return -EINVAL;

        if (strchr(argv0, '/')) {
                r = strv_push_dup(&l, argv0);
                if (r < 0)
                        return r;
        } else {
                const char *p = path ?: DEFAULT_PATH;
                for (;;) {
                        size_t n = strcspn(p, ":");
                        char *candidate;
                        /* An empty PATH entry means the current directory, as in execvp(). */
                        if (asprintf_safe(&candidate, "%.*s/%s", n > 0 ? (int) n : 1,
                                     n > 0 ? p : ".", argv0) < 0)
                                return -ENOMEM;
                        r = strv_push(&l, candidate);
                        if (r < 0) {
                                free(candidate);
                                return r;
                        }
                        if (!p[n])
                                break;
                        p += n + 1;
                }
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* ---- the child: async-signal-safe calls only from here to exec ---- */

static _Noreturn void child_fail(int exec_fd, int error) {
        ssize_t n _unused_ = write(exec_fd, &error, sizeof error);
        _exit(127);
}

static int move_above(int fd, int floor) {
        return fcntl(fd, F_DUPFD_CLOEXEC, floor);
}

/* Closes every fd from FROM up, except A and B (each may be < FROM: none). */
static void close_all_from(int from, int a, int b) {
        int keep[2], n = 0, next = from;

        if (a >= from)
                keep[n++] = a;
        if (b >= from && b != a)
                keep[n++] = b;
        if (n == 2 && keep[0] > keep[1]) {
                int t = keep[0];
                keep[0] = keep[1];
                keep[1] = t;
        }
        for (int i = 0; i < n; i++) {
                if (keep[i] > next && close_range(next, keep[i] - 1, 0) < 0)
                        goto fallback;
                next = keep[i] + 1;
        }
        if (close_range(next, ~0U, 0) < 0)
                goto fallback;
        return;

fallback:;
        struct rlimit rl;
        int max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (int) rl.rlim_cur : 65536;
        for (int fd = from; fd < max; fd++)
                if (fd != a && fd != b)
                        close(fd);
}

static void format_pid(char *buf, const char *prefix, pid_t pid) {
        char digits[16];
        int n = 0;
        size_t l = strlen(prefix);

        memcpy(buf, prefix, l);
        do {
                digits[n++] = (char) ('0' + pid % 10);
                pid /= 10;
        } while (pid > 0);
        while (n > 0)
                buf[l++] = digits[--n];
        buf[l] = '\0';
}

typedef struct ChildArgs {
        const SpawnParams *params;
        char **envp;
        size_t listen_pid_slot;
        char *listen_pid_buf; /* NULL: no LISTEN_PID */
        int gate_fd;          /* read end of the gate, or -1: no gate */
        int exec_fd;          /* write end of the exec pipe */
        int procs_fd;         /* cgroup.procs to join by writing "0", or -1 */
        int files_bound;      /* > 0: created with CLONE_FILES, every fd the child needs is
                               * below this (spawn-slots.h); 0: the table is the child's own */
} ChildArgs;

static _Noreturn void child_main(const ChildArgs *a) {
        const SpawnParams *p = a->params;
        char **envp = a->envp;
        int gate_fd = a->gate_fd, exec_fd = a->exec_fd;
        struct sigaction sa = { .sa_handler = SIG_DFL };
        sigset_t none;
        char byte;
        ssize_t n;
        int base = 3 + (int) p->n_pass_fds;
        int moved[3 + p->n_pass_fds];
        int sources[3] = { p->stdin_fd, p->stdout_fd, p->stderr_fd };

        /* Sharing our fd table: take a copy of the fds below the bound and
         * nothing else (no close of the thousands above, which would cost
         * a filp_flush() each), before anything touches an fd. A kernel
         * without CLOSE_RANGE_UNSHARE (5.9): a whole copy, closed below. */
        if (a->files_bound > 0 && close_range((unsigned) a->files_bound, ~0U, CLOSE_RANGE_UNSHARE) < 0 &&
            unshare(CLONE_FILES) < 0)
                child_fail(exec_fd, errno); /* the shared table's exec fd: it is a slot of ours */

        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) sigaction(sig, &sa, NULL);
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);

        /* Join the service's cgroup first: everything from here on happens there. */
        if (a->procs_fd >= 0) {
                if (write(a->procs_fd, "0", 1) != 1)
                        child_fail(exec_fd, errno);
                close(a->procs_fd);
        }

        if (setsid() < 0)
                child_fail(exec_fd, errno);

        /* Set up the fds before waiting at the gate, so that a child held there
         * does not keep copies of other services' pipes open. Move everything
         * above the target range first, so no dup2() overwrites a source still
         * needed. */
        if (exec_fd < base && (exec_fd = move_above(exec_fd, base)) < 0)
                _exit(127);
        if (gate_fd >= 0 && gate_fd < base && (gate_fd = move_above(gate_fd, base)) < 0)
                child_fail(exec_fd, errno);
        for (int i = 0; i < base; i++) {
                int src = i < 3 ? sources[i] : p->pass_fds[i - 3];
                if (src < 0) {
                        src = open("/dev/null", O_RDWR | O_CLOEXEC);
                        if (src < 0)
                                child_fail(exec_fd, errno);
                }
                moved[i] = move_above(src, base);
                if (moved[i] < 0)
                        child_fail(exec_fd, errno);
        }
        for (int i = 0; i < base; i++)
                if (dup2(moved[i], i) < 0) /* dup2() leaves the new fd inheritable */
                        child_fail(exec_fd, errno);
        close_all_from(base, exec_fd, gate_fd);
        /* Only now: a soft limit below the fds still open above would
         * fail the moves above with EMFILE. */
        if (p->nofile && setrlimit(RLIMIT_NOFILE, p->nofile) < 0)
                child_fail(exec_fd, errno);

        /* The gate: one byte means "go"; EOF means the parent gave up or died,
         * so never exec. */
        if (gate_fd >= 0) {
                do
                        n = read(gate_fd, &byte, 1);
                while (n < 0 && errno == EINTR);
                if (n != 1)
                        _exit(127);
                close(gate_fd);
        }

        /* In its cgroup by now (joined above, created there, or placed by
         * a scope while at the gate): make that the root of all it sees. */
        if (p->cgroup_mount) {
                if (unshare(CLONE_NEWCGROUP | CLONE_NEWNS) < 0)
                        child_fail(exec_fd, errno);
                /* Our mounts stay ours; the host's still reach us. The host's
                 * cgroup2 mount goes (detached, in our namespace only: the
                 * kernel refuses the same filesystem stacked on one mount
                 * point), and one rooted at our namespace takes its place:
                 * unmounting that one later reveals nothing of the host's. */
                if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                        child_fail(exec_fd, errno);
                while (umount2(p->cgroup_mount, MNT_DETACH) == 0)
                        ;
                if (mount("cgroup2", p->cgroup_mount, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME, NULL) < 0)
                        child_fail(exec_fd, errno);
        }

        if (a->listen_pid_buf) {
                format_pid(a->listen_pid_buf, "LISTEN_PID=", getpid());
                envp[a->listen_pid_slot] = a->listen_pid_buf;
        }

        if (p->cwd && chdir(p->cwd) < 0)
                child_fail(exec_fd, errno);

        /* execvp()'s search rules: go on after ENOENT, ENOTDIR and EACCES;
         * report EACCES if any candidate had it, else the last error. */
        int error = ENOENT;
        bool saw_eacces = false;
        for (char *const *path = p->exec_paths; *path; path++) {
                execve(*path, p->argv, envp);
                if (errno == EACCES)
                        saw_eacces = true;
                else if (errno != ENOENT && errno != ENOTDIR) {
                        error = errno;
                        break;
                }
        }
        child_fail(exec_fd, saw_eacces && error == ENOENT ? EACCES : error);
}

/* ---- the parent ---- */

/* Older kernels (ENOSYS, E2BIG for the cgroup field), container seccomp
 * profiles (EPERM) and valgrind (ENOSYS) refuse clone3; a fork-like
 * clone(CLONE_PIDFD) does the same job, only without CLONE_INTO_CGROUP. */
static bool clone3_refused(int error) {
        return error == ENOSYS || error == EPERM || error == E2BIG;
}

/* $MIRAKURU_SPAWN=fork forces the fork-like clone(CLONE_PIDFD) fallback,
 * =clone3 the gated clone3 path even where vfork-style spawning would do
 * (for tests and the benchmark). */
static bool clone3_disabled(void) {
        const char *e = getenv("MIRAKURU_SPAWN");
        return e && strcmp(e, "fork") == 0;
}

static bool vfork_disabled(void) {
        const char *e = getenv("MIRAKURU_SPAWN");
        return e && strcmp(e, "clone3") == 0;
}

/* AddressSanitizer cannot follow a CLONE_VM child onto a stack of its own:
 * its interceptors (sigaction, ...) see a foreign stack, report an overflow
 * and corrupt the memory the child shares with us. Sanitized builds take
 * the gated clone3 path instead. */
#if defined(__SANITIZE_ADDRESS__)
#define VFORK_SUPPORTED false
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VFORK_SUPPORTED false
#endif
#endif
#ifndef VFORK_SUPPORTED
#define VFORK_SUPPORTED true
#endif

static int child_entry(void *userdata) {
        child_main(userdata);
}

/* CLONE_VM|CLONE_VFORK on a stack of its own, as posix_spawn() does: no page
 * tables are copied, so the cost does not grow with the parent's size. The
 * parent is suspended until the child execs or exits; all signals are
 * blocked meanwhile so no handler of ours runs in the child. */
static pid_t clone_vfork(ChildArgs *a, int *ret_pidfd) {
        const size_t stack_size = 256 * 1024UL;
        sigset_t all, saved_mask;
        void *stack;
        pid_t pid;
        int error;

        stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (stack == MAP_FAILED)
                return -1;
        sigfillset(&all);
        (void) pthread_sigmask(SIG_SETMASK, &all, &saved_mask);
        /* No CLONE_FILES here (spawn-slots.h): valgrind, which refuses clone3
         * and brings us here, turns this vfork into a fork and refuses any
         * other flag. The child unshares what it has instead. */
        pid = clone(child_entry, (char *) stack + stack_size, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD,
                    a, ret_pidfd);
        error = errno;
        (void) pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
        (void) munmap(stack, stack_size);
        errno = error;
        return pid;
}

#if defined(__x86_64__)
#define CLONE3_VM_SUPPORTED VFORK_SUPPORTED
/* clone3() with CLONE_VM: the child returns from the system call on a
 * stack of its own, where no C frame of ours exists, so the call and the
 * jump into FN have to be one piece of assembly (glibc's clone3.S does the
 * same). The kernel keeps r12 and r13 across the call: FN and ARG ride in
 * them. Returns the pid, or -errno. */
static long clone3_vm_call(struct clone_args *cl, int (*fn)(void *), void *arg) {
        register long rax __asm__("rax") = SYS_clone3;
        register void *r12 __asm__("r12") = (void *) fn;
        register void *r13 __asm__("r13") = arg;

        __asm__ volatile("syscall\n\t"
                         "testq %%rax, %%rax\n\t"
                         "jnz 1f\n\t"
                         /* the child, on the new stack: FN(ARG), then exit */
                         "xorl %%ebp, %%ebp\n\t"
                         "andq $-16, %%rsp\n\t"
                         "movq %%r13, %%rdi\n\t"
                         "callq *%%r12\n\t"
                         "movl %%eax, %%edi\n\t"
                         "movl $60, %%eax\n\t" /* SYS_exit */
                         "syscall\n\t"
                         "hlt\n\t"
                         "1:\n\t"
                         : "+r"(rax)
                         : "D"(cl), "S"(sizeof *cl), "r"(r12), "r"(r13)
                         : "rcx", "r11", "memory", "cc");
        return rax;
}
#else
#define CLONE3_VM_SUPPORTED false
#endif

/* vfork-style, straight into the cgroup (CLONE_INTO_CGROUP, Linux 5.7): the
 * child does not migrate itself, which costs the kernel an RCU grace period
 * (10-20 ms in a fresh process: cgroup_threadgroup_rwsem). With CLONE_VM
 * where this architecture has the trampoline above (glibc 2.39's
 * pidfd_spawn() with posix_spawnattr_setcgroup_np() does the same), else a
 * fork-like clone3 (page tables copied: ~0.1-0.5 ms). -1 with errno set
 * when refused. */
static pid_t clone3_into_cgroup(ChildArgs *a, int cgroup_fd, int *ret_pidfd) {
        struct clone_args args = {
                .flags = CLONE_PIDFD | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0),
                .pidfd = (uint64_t) (uintptr_t) ret_pidfd,
                .exit_signal = SIGCHLD,
                .cgroup = cgroup_fd >= 0 ? (uint64_t) cgroup_fd : 0,
        };
        pid_t pid;

        if (cgroup_fd < 0 && !CLONE3_VM_SUPPORTED) {
                /* Without a cgroup only the CLONE_VM variant is worth it. */
                errno = ENOSYS;
                return -1;
        }

        if (CLONE3_VM_SUPPORTED) {
#if defined(__x86_64__)
                const size_t stack_size = 256 * 1024UL;
                sigset_t all, saved_mask;
                long r;
                void *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE,
                                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
                if (stack == MAP_FAILED)
                        return -1;
                args.flags |= CLONE_VM | CLONE_VFORK | (a->files_bound > 0 ? CLONE_FILES : 0);
                args.stack = (uint64_t) (uintptr_t) stack;
                args.stack_size = stack_size;
                sigfillset(&all);
                (void) pthread_sigmask(SIG_SETMASK, &all, &saved_mask);
                r = clone3_vm_call(&args, child_entry, a);
                (void) pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
                (void) munmap(stack, stack_size);
                if (r < 0) {
                        errno = (int) -r;
                        return -1;
                }
                return (pid_t) r;
#endif
        }
        pid = (pid_t) syscall(SYS_clone3, &args, sizeof args);
        if (pid == 0)
                child_main(a);
        return pid;
}

static pid_t clone3_gated(ChildArgs *a, int cgroup_fd, int *ret_pidfd) {
        struct clone_args args = {
                .flags = CLONE_PIDFD | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0),
                .pidfd = (uint64_t) (uintptr_t) ret_pidfd,
                .exit_signal = SIGCHLD,
                .cgroup = cgroup_fd >= 0 ? (uint64_t) cgroup_fd : 0,
        };
        pid_t pid = (pid_t) syscall(SYS_clone3, &args, sizeof args);
        if (pid == 0)
                child_main(a);
        return pid;
}

static void slots_releasep(bool *held) {
        if (*held)
                spawn_slots_release();
        *held = false;
}

/* A vfork-style child of a process with a large fd table: put the fds the
 * child needs into low slots and let it share our table (spawn-slots.h).
 * LOCAL (and PASS, N_PASS_FDS long) become the child's parameters. */
static int use_slots(const SpawnParams *p, ChildArgs *a, SpawnParams *local, int *pass, bool *held) {
        int top = MAX(MAX(p->stdin_fd, p->stdout_fd), MAX(p->stderr_fd, a->exec_fd));
        size_t n = 3 + p->n_pass_fds + 2;
        int bound, r;

        for (size_t i = 0; i < p->n_pass_fds; i++)
                top = MAX(top, p->pass_fds[i]);
        if (top < SPAWN_SLOTS_THRESHOLD)
                return 0;
        r = spawn_slots_acquire(n, &bound);
        if (r < 0)
                return r;
        *held = true;
        *local = *p;
        if ((r = spawn_slots_put(0, p->stdin_fd, &local->stdin_fd)) < 0 ||
            (r = spawn_slots_put(1, p->stdout_fd, &local->stdout_fd)) < 0 ||
            (r = spawn_slots_put(2, p->stderr_fd, &local->stderr_fd)) < 0)
                return r;
        for (size_t i = 0; i < p->n_pass_fds; i++)
                if ((r = spawn_slots_put(3 + i, p->pass_fds[i], &pass[i])) < 0)
                        return r;
        local->pass_fds = pass;
        if ((r = spawn_slots_put(n - 2, a->exec_fd, &a->exec_fd)) < 0)
                return r;
        a->params = local;
        a->files_bound = bound;
        return 0;
}

int spawn_start(const SpawnParams *p, SpawnedChild *ret) {
        _cleanup_close_pair_ int gate[2] = { -EBADF, -EBADF }, exec_pipe[2] = { -EBADF, -EBADF };
        _cleanup_close_ int procs_fd = -EBADF;
        _cleanup_free_ char **envp = NULL;
        char listen_pid_buf[32];
        size_t n_env = strv_length(p->envp);
        int pidfd = -EBADF;
        bool in_cgroup = false, used_clone3 = false, used_vfork = false;
        _cleanup_(slots_releasep) bool slots_held = false;
        SpawnParams local;
        int pass[p->n_pass_fds + 1];
        pid_t pid = -1;
        int r;

        if (!p->argv || !p->argv[0] || !p->exec_paths || !p->exec_paths[0])
                return -EINVAL;

        /* The child may add one entry; prepare the array (and its buffer) now. */
        envp = calloc(n_env + 2, sizeof(char *));
        if (!envp)
                return -ENOMEM;
        if (n_env > 0)
                memcpy(envp, p->envp, n_env * sizeof(char *));

        if (pipe2(exec_pipe, O_CLOEXEC) < 0)
                return -errno;
        bool vfork = VFORK_SUPPORTED && p->vfork && !vfork_disabled();
        if (!vfork && pipe2(gate, O_CLOEXEC) < 0)
                return -errno;

        ChildArgs a = {
                .params = p,
                .envp = envp,
                .listen_pid_slot = n_env,
                .listen_pid_buf = p->set_listen_pid ? listen_pid_buf : NULL,
                .gate_fd = gate[0],
                .exec_fd = exec_pipe[1],
                .procs_fd = -EBADF,
        };

        if (vfork && (r = use_slots(p, &a, &local, pass, &slots_held)) < 0)
                return r;

        if (vfork && p->cgroup_fd >= 0 && !clone3_disabled()) {
                /* No gate, and the kernel places the child: the fast path. */
                pid = clone3_into_cgroup(&a, p->cgroup_fd, &pidfd);
                if (pid > 0) {
                        in_cgroup = true;
                        used_vfork = used_clone3 = true;
                } else if (!clone3_refused(errno))
                        return -errno;
        }
        if (vfork && pid < 0) {
                /* No gate: placement happens in the child, before it execs. */
                if (p->cgroup_fd >= 0) {
                        procs_fd = openat(p->cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
                        if (procs_fd < 0)
                                return -errno;
                        a.procs_fd = procs_fd;
                        if (slots_held && (r = spawn_slots_put(3 + p->n_pass_fds + 1, procs_fd, &a.procs_fd)) < 0)
                                return r;
                        in_cgroup = true;
                }
                if (!clone3_disabled() && a.files_bound > 0) {
                        /* A large fd table: clone3 can share it (CLONE_FILES). */
                        pid = clone3_into_cgroup(&a, -1, &pidfd);
                        if (pid > 0)
                                used_vfork = used_clone3 = true;
                        else if (!clone3_refused(errno))
                                return -errno;
                }
                if (pid < 0 && !clone3_disabled()) {
                        pid = clone_vfork(&a, &pidfd);
                        if (pid > 0)
                                used_vfork = true;
                        else if (errno != EINVAL && errno != ENOSYS && errno != EPERM)
                                return -errno;
                }
        } else if (!vfork && !clone3_disabled()) {
                pid = clone3_gated(&a, p->cgroup_fd, &pidfd);
                if (pid > 0) {
                        used_clone3 = true;
                        in_cgroup = p->cgroup_fd >= 0;
                } else if (!clone3_refused(errno))
                        return -errno;
        }

        if (pid < 0) {
                pid = fork_with_pidfd(&pidfd);
                if (pid < 0)
                        return -errno;
                if (pid == 0)
                        child_main(&a);
        }
        /* The child has its own table by now (a real vfork: it exec'd or
         * died; a fork: a copy): our slots must not keep its pipes open. */
        slots_releasep(&slots_held);
        if (vfork) {
                /* No gate: keep vfork's promise and return only once the child
                 * has joined its cgroup and exec'd (or failed), so a signal sent
                 * right after this cannot miss it. A real CLONE_VFORK has done
                 * so already; the fork fallback, and emulators that turn vfork
                 * into fork (valgrind, qemu-user), have not. POLLIN means an
                 * error was written or EOF; nothing is read here. */
                struct pollfd pfd = { .fd = exec_pipe[0], .events = POLLIN };
                exec_pipe[1] = safe_close(exec_pipe[1]);
                while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
                        ;
        }

        *ret = (SpawnedChild) {
                .pid = pid,
                .pidfd = pidfd,
                .gate_fd = TAKE_FD(gate[1]),
                .exec_fd = TAKE_FD(exec_pipe[0]),
                .in_cgroup = in_cgroup,
                .used_clone3 = used_clone3,
                .used_vfork = used_vfork,
        };
        return 0;
}

void spawn_release(SpawnedChild *child) {
        static const char go = 'g';
        if (child->gate_fd < 0)
                return;
        /* A child that died at the gate closed its end: EPIPE, no SIGPIPE. */
        ssize_t n _unused_ = write_no_sigpipe(child->gate_fd, &go, 1);
        child->gate_fd = safe_close(child->gate_fd);
}

int spawn_read_exec_result(int exec_fd) {
        int error;
        ssize_t n;

        do
                n = read(exec_fd, &error, sizeof error);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return errno == EAGAIN ? 0 : -errno;
        if (n == 0)
                return 1;
        if (n != sizeof error || error <= 0)
                return -EIO;
        return -error;
}

void spawned_child_done(SpawnedChild *child) {
        child->gate_fd = safe_close(child->gate_fd);
        child->exec_fd = safe_close(child->exec_fd);
        child->pidfd = safe_close(child->pidfd);
}
