/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The http probe: a request answers with a status matching a POSIX extended
 * regular expression (default ^2[0-9][0-9]$), through libcurl's multi-socket
 * interface driven by the executor's sd-event loop: curl tells us which
 * sockets to watch (CURLMOPT_SOCKETFUNCTION -> one sd-event io source each)
 * and when to call it back (CURLMOPT_TIMERFUNCTION -> one sd-event timer),
 * and we hand it readiness with curl_api.multi_socket_action().
 *
 * TCP reachability comes first as in mirakuru, through curl's own
 * non-blocking connect: a refused connect fails at once (status "connection
 * refused") and the request is retried after the executor's short,
 * doubling retry delay (mk_executor_set_probe_retry()); a separate connect
 * before each request would only add a round trip. A wrong status ("HTTP
 * 503") or a request timeout is retried the same way. For a URL whose host
 * is an address of this machine (or localhost), a listen watch
 * (listen-watch.h) asks the kernel every millisecond whether something
 * listens on the port, without connecting, and sends the request the moment
 * it does; the back-off starts over from there.
 *
 * libcurl is loaded with dlopen() when the first HTTP probe is added
 * (curl-api.c), and curl_global_init() runs then, once per process
 * (pthread_once); libcurl >= 7.84 makes that call thread safe itself, older
 * ones need the caller not to race it with other libcurl users.
 * curl_global_cleanup() is never called: a library cannot know the process
 * is done with curl.
 *
 * Proxies from the environment (http_proxy, ...) are not used: the probe
 * talks to the service directly, as mirakuru does. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "curl-api.h"
#include "executor-private.h"
#include "listen-watch.h"
#include "probe.h"
#include "util/regex-util.h"
#include "util/socket-owner.h"
#include "util/strv.h"

#define HTTP_DEFAULT_STATUS "^2[0-9][0-9]$"
#define HTTP_DEFAULT_TIMEOUT_USEC (5 * MK_USEC_PER_SEC)
#define HTTP_PRE_CHECK_TIMEOUT_MS 1000L

typedef struct HttpSocket {
        curl_socket_t fd;
        sd_event_source *source;
} HttpSocket;

typedef struct HttpProbe {
        Probe probe;
        /* Configuration. */
        char *url_given;   /* as the caller wrote it, less any password, for messages */
        char *url;         /* what curl gets (http+unix:// rewritten) */
        char *unix_socket;
        char *method;
        char *body;
        char **headers;
        char *status_pattern;
        regex_t status_re;
        bool have_re;
        uint64_t timeout_usec;

        /* One run. */
        CURLM *multi;
        CURL *easy;
        struct curl_slist *header_list;
        bool in_multi;
        HttpSocket *sockets;
        size_t n_sockets;
        sd_event_source *curl_timer;
        sd_event_source *retry_timer;
        unsigned failures;
        ListenWatch *watch;   /* NULL for Unix sockets, remote hosts, no sock_diag */
        bool watch_tried;     /* this start: only after the first answer was not the one wanted */
        bool retry_now;       /* a listener appeared while a request was under way */
        char errbuf[CURL_ERROR_SIZE];
        char status_line[64]; /* the last response's first line, cut */
        bool at_status_line;
} HttpProbe;

static int http_global_init(void) {
        return curl_api_load(NULL);
}

static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *userdata) {
        return size * nmemb;
}

/* Keeps each response's first line (after a 1xx, the next one's): libcurl
 * reports 200 for any first line that merely starts with "HTTP/" ("http/1.1
 * 503", "HTTP/garbage": an old fallback), so http_check() compares the code
 * with this line. Trailers never start with "HTTP/" in earnest. */
static size_t http_on_header(char *ptr, size_t size, size_t nmemb, void *userdata) {
        HttpProbe *h = userdata;
        size_t n = size * nmemb;

        if (h->at_status_line && n >= 5 && strncasecmp(ptr, "HTTP/", 5) == 0) {
                size_t k = MIN(n, sizeof h->status_line - 1);
                memcpy(h->status_line, ptr, k);
                h->status_line[k] = '\0';
        }
        /* A blank line ends a response's header (or trailer) block. */
        h->at_status_line = (n == 1 && ptr[0] == '\n') || (n == 2 && ptr[0] == '\r' && ptr[1] == '\n');
        return n;
}

/* The code of a status line "HTTP/1.1 200 OK" (or HTTP/2, HTTP/3, as libcurl
 * writes those), or -1 if it is malformed. */
static long http_status_line_code(const char *s) {
        if (strncmp(s, "HTTP/", 5) != 0 || !isdigit((unsigned char) s[5]))
                return -1;
        s += 6;
        if (*s == '.') {
                if (!isdigit((unsigned char) s[1]))
                        return -1;
                s += 2;
        }
        if (*s != ' ')
                return -1;
        while (*s == ' ')
                s++;
        if (!isdigit((unsigned char) s[0]) || !isdigit((unsigned char) s[1]) || !isdigit((unsigned char) s[2]) ||
            isdigit((unsigned char) s[3]))
                return -1;
        return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
}

/* The request as configured, on easy handle C. */
static int http_setup(HttpProbe *h, CURL *c, uint64_t timeout_usec) {
        long timeout_ms = (long) MAX(timeout_usec / 1000, (uint64_t) 1);
        bool ok = true;

#define SET(opt, val) ok = ok && curl_api.easy_setopt(c, opt, val) == CURLE_OK
        SET(CURLOPT_URL, h->url);
        SET(CURLOPT_NOSIGNAL, 1L);
        SET(CURLOPT_PROXY, "");
        SET(CURLOPT_PROTOCOLS_STR, "http,https");
        SET(CURLOPT_TIMEOUT_MS, timeout_ms);
        SET(CURLOPT_WRITEFUNCTION, discard_body);
        SET(CURLOPT_HEADERFUNCTION, http_on_header);
        SET(CURLOPT_HEADERDATA, h);
        SET(CURLOPT_ERRORBUFFER, h->errbuf);
        SET(CURLOPT_PRIVATE, h);
        if (h->unix_socket)
                SET(CURLOPT_UNIX_SOCKET_PATH, h->unix_socket);
        if (h->header_list)
                SET(CURLOPT_HTTPHEADER, h->header_list);
        if (h->body) {
                SET(CURLOPT_POSTFIELDSIZE, (long) strlen(h->body));
                SET(CURLOPT_POSTFIELDS, h->body);
                if (strcasecmp(h->method, "POST") != 0)
                        SET(CURLOPT_CUSTOMREQUEST, h->method);
        } else if (strcasecmp(h->method, "HEAD") == 0)
                SET(CURLOPT_NOBODY, 1L);
        else if (strcasecmp(h->method, "GET") == 0)
                SET(CURLOPT_HTTPGET, 1L);
        else
                SET(CURLOPT_CUSTOMREQUEST, h->method);
#undef SET
        return ok ? 0 : -EINVAL;
}

static int http_build_headers(HttpProbe *h) {
        if (h->header_list)
                return 0;
        for (char **i = h->headers; i && *i; i++) {
                struct curl_slist *l = curl_api.slist_append(h->header_list, *i);
                if (!l)
                        return -ENOMEM;
                h->header_list = l;
        }
        return 0;
}

/* ---- pre-check: does something accept connections there already? ---- */

static char *http_describe_owner(HttpProbe *h, CURL *c) {
        pid_t pid;
        int r = -ENOENT;

        if (h->unix_socket)
                r = socket_owner_unix(h->unix_socket, &pid);
        else {
                char *ip = NULL;
                long port = 0;
                struct sockaddr_in in = { .sin_family = AF_INET };
                struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
                if (curl_api.easy_getinfo(c, CURLINFO_PRIMARY_IP, &ip) != CURLE_OK || !ip ||
                    curl_api.easy_getinfo(c, CURLINFO_PRIMARY_PORT, &port) != CURLE_OK)
                        return NULL;
                if (inet_pton(AF_INET, ip, &in.sin_addr) == 1) {
                        in.sin_port = htons((uint16_t) port);
                        r = socket_owner_tcp((struct sockaddr *) &in, sizeof in, &pid);
                } else if (inet_pton(AF_INET6, ip, &in6.sin6_addr) == 1) {
                        in6.sin6_port = htons((uint16_t) port);
                        r = socket_owner_tcp((struct sockaddr *) &in6, sizeof in6, &pid);
                }
        }
        return r < 0 ? NULL : socket_owner_describe(pid);
}

static int http_pre_check(Probe *p) {
        HttpProbe *h = (HttpProbe *) p;
        _cleanup_free_ char *owner = NULL;
        CURLcode res;
        CURL *c;
        int r;

        r = http_global_init();
        if (r < 0)
                return r;
        r = http_build_headers(h);
        if (r < 0)
                return r;
        c = curl_api.easy_init();
        if (!c)
                return -ENOMEM;
        r = http_setup(h, c, HTTP_PRE_CHECK_TIMEOUT_MS * 1000);
        if (r >= 0 && curl_api.easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L) != CURLE_OK)
                r = -EINVAL;
        if (r < 0) {
                curl_api.easy_cleanup(c);
                return r;
        }
        h->errbuf[0] = '\0';
        res = curl_api.easy_perform(c);
        switch (res) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_OPERATION_TIMEDOUT:
                curl_api.easy_cleanup(c);
                return 0;
        default:
                /* Connected (maybe TLS then failed): something is there. */
                owner = http_describe_owner(h, c);
                probe_set_status(p, "%s accepts connections%s%s", h->url_given,
                                 owner ? ", held by " : "", owner ?: "");
                curl_api.easy_cleanup(c);
                return 1;
        }
}

/* ---- curl on sd-event ---- */

static void http_check(HttpProbe *h);
static void http_watch(HttpProbe *h);
static int http_issue(HttpProbe *h);

static HttpSocket *http_find_socket(HttpProbe *h, curl_socket_t fd) {
        for (size_t i = 0; i < h->n_sockets; i++)
                if (h->sockets[i].fd == fd)
                        return &h->sockets[i];
        return NULL;
}

static int http_on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        HttpProbe *h = userdata;
        int flags = 0, running;

        if (revents & EPOLLIN)
                flags |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                flags |= CURL_CSELECT_OUT;
        if (revents & (EPOLLERR | EPOLLHUP))
                flags |= CURL_CSELECT_ERR;
        (void) curl_api.multi_socket_action(h->multi, fd, flags, &running);
        http_check(h);
        return 0;
}

static int http_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
        HttpProbe *h = userp;
        HttpSocket *s = http_find_socket(h, fd);
        uint32_t events = 0;
        int r;

        if (what == CURL_POLL_REMOVE) {
                if (s) {
                        sd_event_source_disable_unref(s->source);
                        *s = h->sockets[--h->n_sockets];
                }
                return 0;
        }
        if (what & CURL_POLL_IN)
                events |= EPOLLIN;
        if (what & CURL_POLL_OUT)
                events |= EPOLLOUT;
        if (s)
                return sd_event_source_set_io_events(s->source, events) < 0 ? -1 : 0;

        HttpSocket *l = realloc(h->sockets, (h->n_sockets + 1) * sizeof(HttpSocket));
        if (!l)
                return -1;
        h->sockets = l;
        s = &h->sockets[h->n_sockets];
        *s = (HttpSocket) { .fd = fd };
        r = probe_add_io(&h->probe, &s->source, fd, events, http_on_io);
        if (r < 0)
                return -1;
        h->n_sockets++;
        return 0;
}

static int http_on_curl_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        HttpProbe *h = userdata;
        int running;

        (void) curl_api.multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        http_check(h);
        return 0;
}

static int http_timer_cb(CURLM *multi, long timeout_ms, void *userp) {
        HttpProbe *h = userp;

        if (timeout_ms < 0) {
                if (h->curl_timer)
                        (void) sd_event_source_set_enabled(h->curl_timer, SD_EVENT_OFF);
                return 0;
        }
        /* Calling back from here is not allowed: even 0 goes through the loop. */
        return probe_arm_timer(&h->probe, &h->curl_timer, (uint64_t) timeout_ms * 1000,
                               http_on_curl_timer) < 0 ? -1 : 0;
}

static int http_on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        HttpProbe *h = userdata;
        int r = http_issue(h);

        if (r < 0)
                probe_failed(&h->probe, r, "cannot issue a request to %s", h->url_given);
        return 0;
}

/* What went wrong, in the words people expect: "connection refused". */
static void http_set_error_status(HttpProbe *h, CURLcode res) {
        long os_errno = 0;

        if ((res == CURLE_COULDNT_CONNECT || res == CURLE_RECV_ERROR || res == CURLE_SEND_ERROR) &&
            curl_api.easy_getinfo(h->easy, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK && os_errno > 0) {
                char s[128];
                (void) snprintf(s, sizeof s, "%s", strerror((int) os_errno));
                s[0] = (char) tolower((unsigned char) s[0]);
                probe_set_status(&h->probe, "%s: %s", h->url_given, s);
        } else if (res == CURLE_OPERATION_TIMEDOUT)
                probe_set_status(&h->probe, "no answer from %s within %" PRIu64 " ms", h->url_given,
                                 h->timeout_usec / 1000);
        else
                probe_set_status(&h->probe, "%s: %s", h->url_given,
                                 h->errbuf[0] ? h->errbuf : curl_api.easy_strerror(res));
}

/* A request finished? Pass, or schedule the next one. */
static void http_check(HttpProbe *h) {
        CURLMsg *msg;
        int left, r;

        while ((msg = curl_api.multi_info_read(h->multi, &left))) {
                CURLcode res = msg->data.result;
                long code = 0;

                if (msg->msg != CURLMSG_DONE)
                        continue;
                if (res == CURLE_OK)
                        (void) curl_api.easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &code);
                (void) curl_api.multi_remove_handle(h->multi, h->easy);
                h->in_multi = false;

                if (res == CURLE_OK && http_status_line_code(h->status_line) != code)
                        probe_set_status(&h->probe, "%s: malformed HTTP status line", h->url_given);
                else if (res == CURLE_OK) {
                        char s[32];
                        (void) snprintf(s, sizeof s, "%03ld", code);
                        probe_set_status(&h->probe, "%s answered HTTP %ld", h->url_given, code);
                        if (regexec(&h->status_re, s, 0, NULL, 0) == 0) {
                                probe_passed(&h->probe); /* cancels: h's run is over */
                                return;
                        }
                } else
                        http_set_error_status(h, res);

                /* Not ready at once: from now on, watch for the listen too
                 * (its first look, after its events are armed, catches one
                 * that came in between). */
                if (!h->watch_tried) {
                        h->watch_tried = true;
                        http_watch(h);
                }
                r = probe_arm_timer(&h->probe, &h->retry_timer,
                                    h->retry_now ? 1 : probe_retry_delay(&h->probe, h->failures++),
                                    http_on_retry);
                h->retry_now = false;
                if (r < 0)
                        probe_failed(&h->probe, r, "cannot schedule a retry");
                return;
        }
}

static int http_issue(HttpProbe *h) {
        h->errbuf[0] = '\0';
        h->status_line[0] = '\0';
        h->at_status_line = true;
        if (curl_api.multi_add_handle(h->multi, h->easy) != CURLM_OK)
                return -ENOMEM;
        h->in_multi = true;
        return 0;
}

static void http_cancel(Probe *p) {
        HttpProbe *h = (HttpProbe *) p;

        h->watch = listen_watch_free(h->watch);
        h->retry_timer = sd_event_source_disable_unref(h->retry_timer);
        if (h->multi && h->easy && h->in_multi)
                (void) curl_api.multi_remove_handle(h->multi, h->easy);
        h->in_multi = false;
        if (h->easy)
                curl_api.easy_cleanup(h->easy);
        h->easy = NULL;
        if (h->multi)
                curl_api.multi_cleanup(h->multi); /* may still call back with REMOVE */
        h->multi = NULL;
        for (size_t i = 0; i < h->n_sockets; i++)
                sd_event_source_disable_unref(h->sockets[i].source);
        free(h->sockets);
        h->sockets = NULL;
        h->n_sockets = 0;
        h->curl_timer = sd_event_source_disable_unref(h->curl_timer);
}

/* Something listens on the URL's port: ask now, backing off from the start
 * again if the answer is not yet the one wanted. */
static void http_on_listening(Probe *p) {
        HttpProbe *h = (HttpProbe *) p;
        int r, running;

        h->failures = 0;
        if (h->in_multi) {
                h->retry_now = true; /* its failure retries at once */
                return;
        }
        h->retry_timer = sd_event_source_disable_unref(h->retry_timer);
        r = http_issue(h);
        if (r < 0) {
                probe_failed(&h->probe, r, "cannot issue a request to %s", h->url_given);
                return;
        }
        /* Connect and send now, not one loop iteration later through curl's
         * 0 ms timer (which then finds nothing to do). */
        (void) curl_api.multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        http_check(h);
}

/* A listen watch for the URL's host and port, if they are on this machine. */
static void http_watch(HttpProbe *h) {
        CURLU *u;
        char *host = NULL, *port = NULL;

        if (h->unix_socket || !(u = curl_api.url()))
                return;
        if (curl_api.url_set(u, CURLUPART_URL, h->url, 0) == CURLUE_OK &&
            curl_api.url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
            curl_api.url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
                long n = strtol(port, NULL, 10);
                if (n > 0 && n <= 65535)
                        (void) listen_watch_new_for_host(&h->probe, host, (uint16_t) n, http_on_listening,
                                                         &h->watch);
        }
        curl_api.free(host);
        curl_api.free(port);
        curl_api.url_cleanup(u);
}

static int http_start(Probe *p) {
        HttpProbe *h = (HttpProbe *) p;
        int r;

        r = http_global_init();
        if (r < 0)
                return r;
        r = http_build_headers(h);
        if (r < 0)
                return r;
        h->failures = 0;
        h->multi = curl_api.multi_init();
        h->easy = curl_api.easy_init();
        if (!h->multi || !h->easy)
                return -ENOMEM;
        if (curl_api.multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, http_socket_cb) != CURLM_OK ||
            curl_api.multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h) != CURLM_OK ||
            curl_api.multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, http_timer_cb) != CURLM_OK ||
            curl_api.multi_setopt(h->multi, CURLMOPT_TIMERDATA, h) != CURLM_OK)
                return -EINVAL;
        r = http_setup(h, h->easy, h->timeout_usec);
        if (r < 0)
                return r;
        probe_set_status(p, "no answer from %s yet", h->url_given);
        h->retry_now = false;
        h->watch_tried = false;
        return http_issue(h);
}

static void http_done(Probe *p) {
        HttpProbe *h = (HttpProbe *) p;

        http_cancel(p);
        curl_api.slist_free_all(h->header_list);
        free(h->url_given);
        free(h->url);
        free(h->unix_socket);
        free(h->method);
        free(h->body);
        strv_free(h->headers);
        free(h->status_pattern);
        if (h->have_re)
                regfree(&h->status_re);
}

static const ProbeOps http_ops = {
        .name = "http",
        .size = sizeof(HttpProbe),
        .pre_check = http_pre_check,
        .start = http_start,
        .cancel = http_cancel,
        .done = http_done,
};

/* ---- configuration ---- */

static int unhex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        c = (char) tolower((unsigned char) c);
        return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "http+unix://%2Frun%2Fx.sock/path?q" -> "/run/x.sock" and "http://localhost/path?q". */
static int http_unix_url(const char *url, char **ret_url, char **ret_socket) {
        const char *host = url + strlen("http+unix://");
        size_t n = strcspn(host, "/?#");
        _cleanup_free_ char *path = malloc(n + 1);
        char *rewritten;
        size_t k = 0;

        if (!path)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (host[i] == '%') {
                        int a = i + 2 < n ? unhex(host[i + 1]) : -1, b = a >= 0 ? unhex(host[i + 2]) : -1;
                        if (a < 0 || b < 0 || (a == 0 && b == 0))
                                return -EINVAL;
                        path[k++] = (char) (a * 16 + b);
                        i += 2;
                } else
                        path[k++] = host[i];
        }
        path[k] = '\0';
        if (k == 0 || k >= sizeof(((struct sockaddr_un *) NULL)->sun_path))
                return -EINVAL;
        if (asprintf_safe(&rewritten, "http://localhost%s%s", host[n] == '/' ? "" : "/", host + n) < 0)
                return -ENOMEM;
        *ret_url = rewritten;
        *ret_socket = TAKE_PTR(path);
        return 0;
}

/* URL with the user information's password replaced by "***": status and
 * error messages end up in CI logs. */
static char *url_without_password(const char *url) {
        const char *start = strstr(url, "://"), *at, *colon;
        char *s;

        if (!start)
                return strdup(url);
        start += 3;
        at = start + strcspn(start, "@/?#");
        if (*at != '@')
                return strdup(url);
        colon = memchr(start, ':', (size_t) (at - start));
        if (!colon)
                return strdup(url);
        if (asprintf_safe(&s, "%.*s:***%s", (int) (colon - url), url, at) < 0)
                return NULL;
        return s;
}

/* An http or https URL with a host, by libcurl's own parser. */
static int http_validate_url(MkExecutor *e, const char *url) {
        _cleanup_free_ char *shown = url_without_password(url); /* messages end up in CI logs */
        CURLU *u = curl_api.url();
        char *scheme = NULL, *host = NULL;
        CURLUcode rc;
        int r = 0;

        if (!u || !shown) {
                if (u)
                        curl_api.url_cleanup(u);
                return -ENOMEM;
        }
        rc = curl_api.url_set(u, CURLUPART_URL, url, 0);
        if (rc == CURLUE_OK)
                rc = curl_api.url_get(u, CURLUPART_SCHEME, &scheme, 0);
        if (rc == CURLUE_OK)
                rc = curl_api.url_get(u, CURLUPART_HOST, &host, 0);
        if (rc != CURLUE_OK) {
                executor_set_error(e, "http probe: invalid URL \"%s\": %s", shown, curl_api.url_strerror(rc));
                r = -EINVAL;
        } else if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
                executor_set_error(e, "http probe: URL \"%s\": scheme %s is not http, https or http+unix",
                                   shown, scheme);
                r = -EINVAL;
        } else if (!*host) {
                executor_set_error(e, "http probe: URL \"%s\" has no host", shown);
                r = -EINVAL;
        }
        curl_api.free(scheme);
        curl_api.free(host);
        curl_api.url_cleanup(u);
        return r;
}

static bool method_is_valid(const char *m) {
        if (!*m)
                return false;
        for (; *m; m++)
                if (!isalnum((unsigned char) *m) && !strchr("!#$%&'*+-.^_`|~", *m))
                        return false;
        return true;
}

static void http_freep(HttpProbe **h) {
        if (*h)
                probe_free(&(*h)->probe);
}

static int strdup_or_null(const char *s, char **ret) {
        *ret = NULL;
        if (!s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

int mk_executor_add_http_probe(MkExecutor *e, const MkHttpProbe *probe) {
        _cleanup_(http_freep) HttpProbe *h = NULL;
        const char *method, *status;
        int r;

        if (!e)
                return -EINVAL;
        if (e->state != MK_STATE_IDLE)
                return -EBUSY;
        if (!probe || !probe->url) {
                executor_set_error(e, "http probe: no URL");
                return -EINVAL;
        }
        method = probe->method ?: "HEAD";
        status = probe->status ?: HTTP_DEFAULT_STATUS;
        if (!method_is_valid(method)) {
                executor_set_error(e, "http probe: invalid method \"%s\"", method);
                return -EINVAL;
        }
        if (probe->body && strcasecmp(method, "HEAD") == 0) {
                executor_set_error(e, "http probe: a request body needs a method other than HEAD");
                return -EINVAL;
        }
        for (const char *const *i = probe->headers; i && *i; i++)
                if (!strchr(*i, ':') || **i == ':' || strpbrk(*i, "\r\n")) {
                        executor_set_error(e, "http probe: invalid header \"%s\" (want \"Name: value\")", *i);
                        return -EINVAL;
                }
        if (probe->unix_socket &&
            (!*probe->unix_socket || strlen(probe->unix_socket) >= sizeof(((struct sockaddr_un *) NULL)->sun_path))) {
                executor_set_error(e, "http probe: invalid unix_socket path");
                return -EINVAL;
        }

        const char *why = NULL;
        r = curl_api_load(&why);
        if (r < 0) {
                executor_set_error(e, "http probe: %s", why);
                return r;
        }
        h = (HttpProbe *) probe_alloc(&http_ops);
        if (!h)
                return -ENOMEM;
        h->timeout_usec = probe->request_timeout_usec ?: HTTP_DEFAULT_TIMEOUT_USEC;

        /* Bounded (util/regex-util.h): the pattern is the caller's input. */
        _cleanup_free_ char *msg = NULL;
        r = regex_compile(&h->status_re, status, REG_EXTENDED | REG_NOSUB, &msg);
        if (r < 0) {
                if (msg)
                        executor_set_error(e, "http probe: invalid status regular expression /" REGEX_SHOWN_FMT "/: %s",
                                           REGEX_SHOWN_ARGS(status), msg);
                return r;
        }
        h->have_re = true;

        if (strncasecmp(probe->url, "http+unix://", strlen("http+unix://")) == 0) {
                if (probe->unix_socket) {
                        executor_set_error(e, "http probe: both an http+unix URL and unix_socket given");
                        return -EINVAL;
                }
                r = http_unix_url(probe->url, &h->url, &h->unix_socket);
                if (r == -EINVAL) {
                        _cleanup_free_ char *shown = url_without_password(probe->url);
                        executor_set_error(e, "http probe: invalid URL \"%s\": the host part must be a percent-encoded socket path",
                                           shown ?: "(out of memory)");
                }
                if (r < 0)
                        return r;
        } else {
                r = strdup_or_null(probe->url, &h->url);
                if (r >= 0)
                        r = strdup_or_null(probe->unix_socket, &h->unix_socket);
                if (r < 0)
                        return r;
        }
        r = http_validate_url(e, h->url);
        if (r < 0)
                return r;

        h->url_given = url_without_password(probe->url);
        if (!h->url_given || strdup_or_null(method, &h->method) < 0 ||
            strdup_or_null(probe->body, &h->body) < 0 || strdup_or_null(status, &h->status_pattern) < 0)
                return -ENOMEM;
        if (probe->headers) {
                r = strv_copy(probe->headers, &h->headers);
                if (r < 0)
                        return r;
        }
        r = executor_add_probe(e, &h->probe);
        if (r < 0)
                return r;
        TAKE_PTR(h);
        return 0;
}
