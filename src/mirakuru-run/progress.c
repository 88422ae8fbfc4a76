/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "escape.h"
#include "log.h"
#include "progress.h"
#include "util/macro.h"

#define LIVE_REFRESH_USEC (200 * MK_USEC_PER_MSEC)

typedef struct Entry {
        char *name;
        MkServiceStatus status;
        uint64_t since;
        char *notify_status; /* the last STATUS= it sent, escaped */
} Entry;

struct Progress {
        Entry *entries;
        size_t n_entries;
        int width;
        bool quiet;
        bool color[3];  /* by fd: [1] stdout, [2] stderr is a terminal */
        bool live;      /* the live line is wanted (stderr is a terminal) */
        bool live_shown;
        sd_event_source *timer;
};

/* Bright colors for the prefixes, like docker compose. */
static const char *const colors[] = { "\033[36m", "\033[33m", "\033[32m", "\033[35m", "\033[34m", "\033[96m",
                                      "\033[93m", "\033[92m", "\033[95m", "\033[94m" };
#define COLOR_OFF "\033[0m"

static uint64_t now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * MK_USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

static Entry *find(Progress *p, const char *name, size_t *ret_index) {
        for (size_t i = 0; p && i < p->n_entries; i++)
                if (strcmp(p->entries[i].name, name) == 0) {
                        if (ret_index)
                                *ret_index = i;
                        return p->entries + i;
                }
        return NULL;
}

/* Never blocks the supervisor on a reader that stopped reading. */
static void write_all(int fd, const char *s, size_t n) {
        write_nonblocking(fd, s, n);
}

static void live_clear(Progress *p) {
        if (!p->live_shown)
                return;
        write_all(STDERR_FILENO, "\r\033[K", 4);
        p->live_shown = false;
}

static void live_draw(Progress *p) {
        char buf[1024];
        size_t n = 0;
        uint64_t t = now();
        unsigned ready = 0;

        if (!p->live)
                return;
        for (size_t i = 0; i < p->n_entries; i++)
                ready += p->entries[i].status == MK_SERVICE_READY || p->entries[i].status == MK_SERVICE_COMPLETED;
        n += (size_t) snprintf(buf + n, sizeof buf - n, "\r\033[K[%u/%zu ready]", ready, p->n_entries);
        for (size_t i = 0; i < p->n_entries && n < sizeof buf - 64; i++) {
                Entry *e = p->entries + i;
                if (e->status == MK_SERVICE_STARTING)
                        n += (size_t) snprintf(buf + n, sizeof buf - n, " %s%s%s %.1fs%s%.40s%s",
                                               colors[i % ELEMENTSOF(colors)], e->name, COLOR_OFF,
                                               (double) (t - e->since) / 1e6, e->notify_status ? " (" : "",
                                               e->notify_status ?: "", e->notify_status ? ")" : "");
                else if (e->status == MK_SERVICE_WAITING)
                        n += (size_t) snprintf(buf + n, sizeof buf - n, " (%s)", e->name);
        }
        n = MIN(n, sizeof buf - 1);
        write_all(STDERR_FILENO, buf, n);
        p->live_shown = true;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Progress *p = userdata;

        live_draw(p);
        (void) sd_event_source_set_time(s, usec + LIVE_REFRESH_USEC);
        (void) sd_event_source_set_enabled(s, SD_EVENT_ON);
        return 0;
}

/* gcc 12's -fanalyzer reports the names leaked: its writes to a symbolic
 * index (entries[i] in the next round) drop what it knew of entries[i]
 * before. progress_free() frees the n_entries names. */
ANALYZER_IGNORE_LEAK_BEGIN
int progress_new(MkGroup *g, sd_event *event, bool quiet, Progress **ret) {
        Progress *p = calloc(1, sizeof *p);
        size_t n = mk_group_get_n_services(g);
        int r;

        if (!p)
                return -ENOMEM;
        p->quiet = quiet;
        p->color[1] = isatty(STDOUT_FILENO) > 0;
        p->color[2] = isatty(STDERR_FILENO) > 0;
        p->live = p->color[2] && !quiet;
        p->entries = calloc(n, sizeof *p->entries);
        if (!p->entries) {
                progress_free(p);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                const char *name = mk_group_get_service_name(g, i);
                p->entries[i].name = strdup(name);
                if (!p->entries[i].name) {
                        progress_free(p);
                        return -ENOMEM;
                }
                p->n_entries++;
                p->width = MAX(p->width, (int) strlen(name));
        }
        if (p->live) {
                r = sd_event_add_time_relative(event, &p->timer, CLOCK_MONOTONIC, LIVE_REFRESH_USEC, 0, on_timer, p);
                if (r < 0)
                        p->live = false;
                else
                        (void) sd_event_source_set_enabled(p->timer, SD_EVENT_ON);
        }
        *ret = p;
        return 0;
}
ANALYZER_IGNORE_END

void progress_status(Progress *p, const char *name, MkServiceStatus status) {
        size_t index = 0;
        Entry *e = find(p, name, &index);
        uint64_t t = now();
        char buf[512];
        int n;

        if (!e)
                return;
        if (status == MK_SERVICE_STARTING || status == MK_SERVICE_STOPPING)
                e->since = t;
        MkServiceStatus was = e->status;
        e->status = status;
        if (p->quiet && status != MK_SERVICE_FAILED)
                return;

        switch (status) {
        case MK_SERVICE_READY:
        case MK_SERVICE_COMPLETED:
        case MK_SERVICE_FAILED:
                n = snprintf(buf, sizeof buf, "mirakuru-run: %s: %s after %.2f s\n", name,
                             mk_service_status_to_string(status), (double) (t - e->since) / 1e6);
                break;
        case MK_SERVICE_STOPPED:
                /* Only what was running is worth a line. */
                n = was == MK_SERVICE_STOPPING ? snprintf(buf, sizeof buf, "mirakuru-run: %s: stopped\n", name) : 0;
                break;
        case MK_SERVICE_WAITING:
                n = 0;
                break;
        default:
                n = snprintf(buf, sizeof buf, "mirakuru-run: %s: %s\n", name, mk_service_status_to_string(status));
        }
        live_clear(p);
        if (n > 0)
                write_all(STDERR_FILENO, buf, MIN((size_t) n, sizeof buf - 1));
        live_draw(p);
}

void progress_output(Progress *p, const char *name, MkStream stream, const char *line, size_t length) {
        int fd = stream == MK_STREAM_STDERR ? STDERR_FILENO : STDOUT_FILENO;
        size_t index = 0;
        Entry *e = find(p, name, &index);
        int n;

        if (!e)
                return;
        _cleanup_free_ char *buf = NULL;
        /* The service's line after our prefix: its control characters
         * (ESC, a '\r' that would overwrite the prefix) escaped. */
        _cleanup_free_ char *shown = escape_string(line, length);
        if (!shown)
                return;
        if (p->color[fd])
                n = asprintf_safe(&buf, "%s%-*s |%s %s\n", colors[index % ELEMENTSOF(colors)], p->width, name,
                             COLOR_OFF, shown);
        else
                n = asprintf_safe(&buf, "%-*s | %s\n", p->width, name, shown);
        if (n < 0)
                return;
        live_clear(p);
        write_all(fd, buf, (size_t) n);
        live_draw(p);
}

void progress_notify_status(Progress *p, const char *name, const char *status) {
        Entry *e = find(p, name, NULL);
        char *shown;

        if (!e || !status)
                return;
        shown = escape_string(status, strlen(status));
        if (!shown)
                return;
        free(e->notify_status);
        e->notify_status = shown;
        live_clear(p);
        live_draw(p);
}

void progress_end_live(Progress *p) {
        if (!p)
                return;
        live_clear(p);
        p->live = false;
        p->timer = sd_event_source_disable_unref(p->timer);
}

Progress *progress_free(Progress *p) {
        if (!p)
                return NULL;
        progress_end_live(p);
        for (size_t i = 0; i < p->n_entries; i++) {
                free(p->entries[i].name);
                free(p->entries[i].notify_status);
        }
        free(p->entries);
        free(p);
        return NULL;
}
