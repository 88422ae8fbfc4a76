/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Each scope used to open its own connection to the manager: with the
 * authentication, Subscribe() and ListUnitsByPatterns() each time, the
 * manager spent ~3 ms of CPU per scope, and a run (the service's scope and
 * the --then command's) paid that twice (bench/oneshot beside the
 * sandboxed manager). */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "systemd-bus.h"
#include "util/macro.h"

#define SHARED_MAX 8
#define SUBSCRIBE_TIMEOUT_USEC (5 * 1000 * 1000ULL)

typedef struct SharedBus {
        sd_bus *bus;
        sd_event *event;
        char *address; /* NULL: the user bus */
        pid_t owner;   /* a forked child may not use its parent's connection */
        unsigned users;
} SharedBus;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static SharedBus shared[SHARED_MAX];

void systemd_append_refusal(char **list, const char *fmt, ...) {
        _cleanup_free_ char *s = NULL;
        char *n;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        if (!s || asprintf_safe(&n, "%s%s%s", *list ?: "", *list ? "; " : "", s) < 0)
                return;
        free(*list);
        *list = n;
}

static bool same_address(const char *a, const char *b) {
        return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void forget(SharedBus *e) {
        if (e->bus && e->owner == getpid()) {
                (void) sd_bus_detach_event(e->bus);
                e->bus = sd_bus_flush_close_unref(e->bus);
        } else if (e->bus)
                e->bus = sd_bus_unref(e->bus); /* a fork's copy: do not talk on it */
        free(e->address);
        *e = (SharedBus) {};
}

static int connect_and_subscribe(const char *address, sd_bus **ret, char **refusals) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        if (address) {
                r = sd_bus_new(&bus);
                if (r >= 0)
                        r = sd_bus_set_address(bus, address);
                if (r >= 0)
                        r = sd_bus_start(bus);
        } else
                r = sd_bus_open_user(&bus);
        if (r < 0) {
                systemd_append_refusal(refusals, "%s: %s", address ?: "user bus", strerror(-r));
                return r;
        }
        r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "Subscribe", &error, NULL, "");
        if (r < 0) {
                systemd_append_refusal(refusals, "%s: %s", address ?: "user bus", error.message ?: strerror(-r));
                return r;
        }
        *ret = TAKE_PTR(bus);
        return 0;
}

int systemd_bus_get(const char *address, sd_event *event, int64_t priority, sd_bus **ret, bool *ret_fresh,
                    char **refusals) {
        SharedBus *free_slot = NULL;
        sd_bus *bus = NULL;
        int r;

        pthread_mutex_lock(&lock);
        for (size_t i = 0; i < SHARED_MAX; i++) {
                SharedBus *e = &shared[i];
                if (e->bus && (e->owner != getpid() || sd_bus_is_open(e->bus) <= 0) && e->users == 0)
                        forget(e); /* closed by the manager, or a fork's copy */
                if (e->bus && e->owner == getpid() && e->event == event && same_address(e->address, address) &&
                    sd_bus_is_open(e->bus) > 0) {
                        e->users++;
                        *ret = e->bus;
                        *ret_fresh = false;
                        pthread_mutex_unlock(&lock);
                        return 0;
                }
                if (!e->bus && !free_slot)
                        free_slot = e;
        }
        pthread_mutex_unlock(&lock);

        /* Outside the lock: connecting may take a while. */
        r = connect_and_subscribe(address, &bus, refusals);
        if (r < 0)
                return r;
        /* sd-bus takes an int: clamp, so an extreme priority keeps its side. */
        r = sd_bus_attach_event(bus, event, (int) MAX(MIN(priority, (int64_t) INT_MAX), (int64_t) INT_MIN));
        if (r < 0) {
                sd_bus_flush_close_unref(bus);
                return r;
        }
        pthread_mutex_lock(&lock);
        if (free_slot && !free_slot->bus) {
                char *a = address ? strdup(address) : NULL;
                if (!address || a) {
                        *free_slot = (SharedBus) { .bus = bus, .event = event, .address = a, .owner = getpid(),
                                                   .users = 1 };
                        pthread_mutex_unlock(&lock);
                        *ret = bus;
                        *ret_fresh = true;
                        return 0;
                }
        }
        pthread_mutex_unlock(&lock);
        /* No room to share it: this scope's own (closed by systemd_bus_put()). */
        *ret = bus;
        *ret_fresh = true;
        return 0;
}

void systemd_bus_put(sd_bus *bus) {
        if (!bus)
                return;
        pthread_mutex_lock(&lock);
        for (size_t i = 0; i < SHARED_MAX; i++) {
                SharedBus *e = &shared[i];
                if (e->bus != bus)
                        continue;
                if (e->users > 0 && --e->users == 0)
                        forget(e);
                pthread_mutex_unlock(&lock);
                return;
        }
        pthread_mutex_unlock(&lock);
        if (bus) {
                (void) sd_bus_detach_event(bus);
                sd_bus_flush_close_unref(bus);
        }
}
