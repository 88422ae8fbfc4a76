/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* HTTP responses are outside input: a service may answer anything (garbage,
 * truncated status lines, endless headers, odd codes, broken chunks). This
 * drives the real probe/http.c and probe/curl-api.c (libcurl's multi-socket
 * interface on an sd-event loop) against a loopback server that answers
 * every request with the fuzz input. The executor side of probe/probe.h is
 * replaced by the small fakes below.
 *
 * Input: the first byte picks the mode (bit 0: keep the connection open
 * after the answer instead of closing it; bit 1: GET instead of HEAD; bit 2:
 * write the answer a few bytes per loop iteration), the rest is written as
 * the response.
 *
 * Checked beyond "no crash": the probe passes only if the response has a
 * status line "HTTP/<version> <code>" with the 2xx code it reports; every
 * status and error message is NUL-terminated, bounded and never shows the
 * URL's password; each input ends (pass, fatal failure, or the first
 * request's result) within a hard bound of time and loop iterations; no fd
 * leaks across inputs. */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "executor-private.h"
#include "fuzz.h"
#include "probe/probe.h"

#define PASSWORD "s3cretpw"
#define REQUEST_TIMEOUT_USEC ((uint64_t) 20 * 1000) /* a stuck answer ends here */
#define HARD_BOUND_USEC ((uint64_t) 5 * 1000 * 1000)  /* an input taking longer hangs */
#define MAX_LOOP_ITERATIONS 20000                     /* more spins */
#define MESSAGE_MAX 4096                              /* longest sane status/error */
#define REQUEST_MAX 8192                              /* what the server reads at most */
#define MAX_CONNS 4
#define DRIBBLE 7 /* bytes per write in the dribbling mode */
#define FD_CHECK_EVERY 64 /* and after each of the first 64 inputs */

/* ---- fakes for the executor side of probe.h ---- */

static sd_event *event;
static Probe *probe;           /* the one under test */
static unsigned n_status;      /* probe_set_status() calls since the start */
static bool outcome_passed, outcome_failed;

static void check_message(const char *s, const uint8_t *input, size_t size) {
        /* vasprintf() terminates; a runaway or a password in a message is a bug. */
        if (!s)
                return;
        if (strnlen(s, MESSAGE_MAX) >= MESSAGE_MAX) {
                fprintf(stderr, "fuzz-http-response: message too long\n");
                abort();
        }
        if (strstr(s, PASSWORD) && !memmem(input, size, PASSWORD, strlen(PASSWORD))) {
                fprintf(stderr, "fuzz-http-response: password in message \"%s\"\n", s);
                abort();
        }
}

static const uint8_t *cur_input;
static size_t cur_size;

Probe *probe_alloc(const ProbeOps *ops) {
        Probe *p = calloc(1, ops->size);
        if (p)
                p->ops = ops;
        return p;
}

Probe *probe_free(Probe *p) {
        if (!p)
                return NULL;
        if (p->started && p->ops->cancel)
                p->ops->cancel(p);
        if (p->ops->done)
                p->ops->done(p);
        free(p->status);
        free(p);
        return NULL;
}

int executor_add_probe(MkExecutor *e, Probe *p) {
        if (e->state != MK_STATE_IDLE)
                return -EBUSY;
        p->executor = e;
        probe = p;
        return 0;
}

void executor_set_error(MkExecutor *e, const char *fmt, ...) {
        char *s = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        free(e->error);
        e->error = s;
}

void probe_set_status(Probe *p, const char *fmt, ...) {
        char *s = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        check_message(s, cur_input, cur_size);
        free(p->status);
        p->status = s;
        n_status++;
}

void probe_passed(Probe *p) {
        if (p->passed)
                return;
        p->passed = true;
        if (p->started && p->ops->cancel)
                p->ops->cancel(p);
        p->started = false;
        outcome_passed = true;
}

void probe_failed(Probe *p, int error, const char *fmt, ...) {
        char *s = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        check_message(s, cur_input, cur_size);
        free(s);
        if (error >= 0)
                abort(); /* a failure needs a negative errno */
        outcome_failed = true;
}

uint64_t probe_retry_delay(Probe *p, unsigned attempt) {
        return 1000; /* never reached: an input ends with the first result */
}

uint64_t probe_listen_poll(Probe *p) {
        return 0; /* the server listens before the first request: no listen watch */
}

/* Never reached, with no listen watch: */
bool probe_listen_event(Probe *p) {
        return false;
}

void probe_set_listen_watch(Probe *p, MkListenWatch how, const char *reason) {
}

void probe_count_listen_event(Probe *p) {
}

sd_event *probe_event(Probe *p) {
        return event;
}

int64_t probe_priority(Probe *p) {
        return 0;
}

int probe_arm_timer(Probe *p, sd_event_source **s, uint64_t usec, sd_event_time_handler_t cb) {
        int r;

        if (*s) {
                r = sd_event_source_set_time_relative(*s, usec);
                if (r < 0)
                        return r;
                return sd_event_source_set_enabled(*s, SD_EVENT_ONESHOT);
        }
        return sd_event_add_time_relative(event, s, CLOCK_MONOTONIC, usec, 1, cb, p);
}

int probe_add_io(Probe *p, sd_event_source **s, int fd, uint32_t events, sd_event_io_handler_t cb) {
        return sd_event_add_io(event, s, fd, events, cb, p);
}

/* Only the pre-check (not run here) asks who holds a socket. */
int socket_owner_tcp(const struct sockaddr *addr, socklen_t len, pid_t *ret_pid) {
        return -ENOENT;
}

int socket_owner_unix(const char *path, pid_t *ret_pid) {
        return -ENOENT;
}

char *socket_owner_describe(pid_t pid) {
        return NULL;
}

/* ---- the loopback server ---- */

typedef struct Conn {
        int fd;
        sd_event_source *source;
        char request[REQUEST_MAX];
        size_t n_request;
        size_t n_written;
        bool writing;
        bool done; /* answered; kept open or closed */
} Conn;

static int listen_fd = -EBADF;
static sd_event_source *listen_source;
static uint16_t port;
static Conn conns[MAX_CONNS];
static const uint8_t *response;
static size_t response_size;
static bool keep_open, dribble;

static void conn_close(Conn *c) {
        c->source = sd_event_source_disable_unref(c->source);
        if (c->fd >= 0)
                close(c->fd);
        c->fd = -EBADF;
}

static int on_conn(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Conn *c = userdata;
        ssize_t n;

        if (!c->writing) {
                n = read(fd, c->request + c->n_request, sizeof c->request - 1 - c->n_request);
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return 0;
                if (n > 0) {
                        c->n_request += (size_t) n;
                        c->request[c->n_request] = '\0';
                        /* Answer once the request's head is in (no body: HEAD or GET). */
                        if (!strstr(c->request, "\r\n\r\n") && c->n_request < sizeof c->request - 1)
                                return 0;
                }
                /* Complete, too long, closed or failed: answer now. */
                c->writing = true;
                if (sd_event_source_set_io_events(s, EPOLLOUT) < 0)
                        abort();
                return 0;
        }
        if (c->n_written < response_size) {
                size_t want = response_size - c->n_written;
                n = send(fd, response + c->n_written, dribble ? MIN(want, (size_t) DRIBBLE) : want, MSG_NOSIGNAL);
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return 0;
                if (n < 0) {
                        conn_close(c); /* the client went away */
                        return 0;
                }
                c->n_written += (size_t) n;
                if (c->n_written < response_size)
                        return 0;
        }
        c->done = true;
        if (keep_open)
                /* Stay silent until the probe gives up; watch nothing. */
                (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
        else
                conn_close(c);
        return 0;
}

static int on_listen(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        for (;;) {
                int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                Conn *c = NULL;

                if (cfd < 0) {
                        if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
                                return 0;
                        abort();
                }
                for (size_t i = 0; i < MAX_CONNS; i++)
                        if (conns[i].fd < 0 && !conns[i].source) {
                                c = &conns[i];
                                break;
                        }
                if (!c) {
                        close(cfd); /* more connections than one request needs */
                        continue;
                }
                *c = (Conn) { .fd = cfd };
                if (sd_event_add_io(event, &c->source, cfd, EPOLLIN, on_conn, c) < 0)
                        abort();
        }
}

/* ---- per process ---- */

static MkExecutor *executor;
static char url[64];
static unsigned n_inputs;
static int fd_baseline = -1;
static unsigned max_iterations_seen;

static int count_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        int n = 0;

        if (!d)
                abort();
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n - 1; /* less the directory's own fd */
}

static void report_max(void) {
        fprintf(stderr, "fuzz-http-response: %u inputs, at most %u loop iterations for one\n",
                n_inputs, max_iterations_seen);
}

static void setup_once(void) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof a;

        if (event)
                return;
        if (sd_event_new(&event) < 0)
                abort();
        listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *) &a, sizeof a) < 0 ||
            listen(listen_fd, 16) < 0 || getsockname(listen_fd, (struct sockaddr *) &a, &len) < 0) {
                perror("fuzz-http-response: loopback socket");
                abort();
        }
        port = ntohs(a.sin_port);
        (void) atexit(report_max);
        if (sd_event_add_io(event, &listen_source, listen_fd, EPOLLIN, on_listen, NULL) < 0)
                abort();
        for (size_t i = 0; i < MAX_CONNS; i++)
                conns[i].fd = -EBADF;
        executor = calloc(1, sizeof *executor);
        if (!executor)
                abort();
        executor->state = MK_STATE_IDLE;
        executor->name = (char *) "fuzz";
        (void) snprintf(url, sizeof url, "http://fuzz:" PASSWORD "@127.0.0.1:%u/ready", port);
}

static uint64_t now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

/* Does RESPONSE have a line "HTTP/<version> CODE" (a version of digits and
 * dots, spaces, three digits)? Looser than http.c's own check, on purpose. */
static bool has_status_line(const uint8_t *r, size_t n, long code) {
        char want[4];

        (void) snprintf(want, sizeof want, "%03ld", code);
        for (size_t i = 0; i + 5 <= n; i++) {
                size_t j;
                if ((i > 0 && r[i - 1] != '\n') || memcmp(r + i, "HTTP/", 5) != 0)
                        continue;
                j = i + 5;
                while (j < n && ((r[j] >= '0' && r[j] <= '9') || r[j] == '.'))
                        j++;
                if (j == i + 5 || j >= n || r[j] != ' ')
                        continue;
                while (j < n && r[j] == ' ')
                        j++;
                if (j + 3 <= n && memcmp(r + j, want, 3) == 0)
                        return true;
        }
        return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        MkHttpProbe config = {
                .url = url,
                .request_timeout_usec = REQUEST_TIMEOUT_USEC,
        };
        uint64_t deadline;
        unsigned iterations = 0;
        int r;

        setup_once();
        if (size < 1)
                return 0;
        keep_open = data[0] & 1;
        config.method = data[0] & 2 ? "GET" : "HEAD";
        dribble = data[0] & 4;
        response = data + 1;
        response_size = size - 1;
        cur_input = response;
        cur_size = response_size;
        n_status = 0;
        outcome_passed = outcome_failed = false;
        probe = NULL;

        r = mk_executor_add_http_probe(executor, &config);
        if (r == -EOPNOTSUPP) {
                /* No libcurl on this machine: nothing to drive. */
                static bool said;
                if (!said)
                        fprintf(stderr, "fuzz-http-response: libcurl cannot be loaded; inputs not run\n");
                said = true;
                return 0;
        }
        if (r < 0 || !probe) {
                fprintf(stderr, "fuzz-http-response: cannot add the probe: %s\n", strerror(-r));
                abort();
        }
        check_message(executor->error, response, response_size);

        probe->started = true;
        n_status = 0;
        r = probe->ops->start(probe);
        if (r < 0)
                abort(); /* the loopback answers; starting cannot fail */
        if (n_status != 1)
                abort(); /* start says "no answer ... yet" */

        deadline = now() + HARD_BOUND_USEC;
        while (!outcome_passed && !outcome_failed && n_status < 2) {
                if (++iterations > MAX_LOOP_ITERATIONS) {
                        fprintf(stderr, "fuzz-http-response: the loop spins (%u iterations)\n", iterations);
                        abort();
                }
                if (now() > deadline) {
                        fprintf(stderr, "fuzz-http-response: no result within %llu ms\n",
                                (unsigned long long) HARD_BOUND_USEC / 1000);
                        abort();
                }
                r = sd_event_run(event, HARD_BOUND_USEC);
                if (r < 0)
                        abort();
        }
        if (iterations > max_iterations_seen)
                max_iterations_seen = iterations;

        if (outcome_passed) {
                long code = -1;
                /* "URL answered HTTP 200" */
                const char *at = probe->status ? strstr(probe->status, " answered HTTP ") : NULL;
                if (!at || sscanf(at, " answered HTTP %ld", &code) != 1 ||
                    code < 200 || code > 299 || !has_status_line(response, response_size, code)) {
                        fprintf(stderr, "fuzz-http-response: passed on status \"%s\" without a 2xx status line\n",
                                probe->status ?: "(null)");
                        abort();
                }
        }

        if (getenv("FUZZ_HTTP_VERBOSE"))
                fprintf(stderr, "fuzz-http-response: %s (%s), %u loop iterations (max %u)\n",
                        outcome_passed ? "passed" : outcome_failed ? "failed" : "first result",
                        probe->status ?: "", iterations, max_iterations_seen);
        probe = probe_free(probe);
        for (size_t i = 0; i < MAX_CONNS; i++)
                conn_close(&conns[i]);
        /* Whatever connected late. */
        for (;;) {
                int cfd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0)
                        break;
                close(cfd);
        }
        free(executor->error);
        executor->error = NULL;

        n_inputs++;
        if (fd_baseline < 0)
                fd_baseline = count_fds();
        else if (n_inputs <= FD_CHECK_EVERY || n_inputs % FD_CHECK_EVERY == 0) {
                int n = count_fds();
                if (n != fd_baseline) {
                        fprintf(stderr, "fuzz-http-response: %d fds open, %d after the first input\n",
                                n, fd_baseline);
                        abort();
                }
        }
        return 0;
}
