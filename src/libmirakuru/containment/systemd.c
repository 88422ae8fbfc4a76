/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The systemd backend: a transient scope per service, made over sd-bus.
 *
 * The manager is found in this order: an explicit address (the API, or
 * $MIRAKURU_BUS_ADDRESS; when given, only that one), the system manager's
 * private socket when root, the user manager's private socket, the user
 * bus. Private sockets are direct peer-to-peer connections (no Hello).
 * The child waits at the start gate while StartTransientUnit() moves it
 * (PIDs=) into the scope; the job's JobRemoved signal completes placement.
 * The scope is Delegate=yes, so from then on we signal, kill and watch its
 * cgroup directly, as the cgroup backend does, and systemd collects the
 * empty scope (CollectMode=inactive-or-failed).
 *
 * A manager that answers at setup may still refuse the scope at place()
 * time (typically: we are outside its cgroup subtree, so it cannot move
 * our child). Then we fall back to the cgroup backend's way, a cgroup of
 * our own, and c->kind says MK_CONTAINMENT_CGROUP. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <systemd/sd-bus.h>

#include "cgroup-backend.h"
#include "cgroup-util.h"
#include "systemd-bus.h"

#define SCOPE_PREFIX "mirakuru"
#define SLICE "mirakuru.slice"
#define SETUP_CALL_TIMEOUT_USEC (5 * MK_USEC_PER_SEC)

typedef struct SystemdScope {
        CgroupContainment cg; /* first: the cgroup backend's operations work on it */
        sd_bus *bus;
        char *where;          /* the manager, for messages */
        char *unit;
        sd_bus_slot *job_removed;
        sd_bus_slot *start_call;
        sd_bus_slot *unit_changed; /* PropertiesChanged of our scope */
        sd_bus_slot *unit_removed; /* UnitRemoved */
        bool use_slice;
        bool pending;
} SystemdScope;

static int call_manager(sd_bus *bus, const char *method, sd_bus_error *error, sd_bus_message **reply,
                        const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager", method);
        if (r < 0)
                return r;
        va_start(ap, types);
        r = sd_bus_message_appendv(m, types, ap);
        va_end(ap);
        if (r < 0)
                return r;
        return sd_bus_call(bus, m, SETUP_CALL_TIMEOUT_USEC, error, reply);
}

/* Connects to ADDRESS (NULL: the user bus), or shares this process's
 * connection to it on the same loop (systemd-bus.h). */
static int try_connect(Containment *c, const char *address, sd_bus **ret, bool *ret_fresh, char **refusals) {
        return systemd_bus_get(address, c->event, c->priority, ret, ret_fresh, refusals);
}

/* Stops scopes left by supervisors that died before their guard could act. */
static int clean_stale_scopes(SystemdScope *s) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *name;
        int r, n = 0;

        r = call_manager(s->bus, "ListUnitsByPatterns", &error, &reply, "asas", 0, 1,
                         SCOPE_PREFIX "-*.scope");
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(ssssssouso)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(reply, "(ssssssouso)", &name, NULL, NULL, NULL, NULL, NULL, NULL,
                                        NULL, NULL, NULL)) > 0) {
                _cleanup_(sd_bus_error_free) sd_bus_error e2 = SD_BUS_ERROR_NULL;
                if (!cg_name_is_stale(SCOPE_PREFIX, name))
                        continue;
                (void) call_manager(s->bus, "KillUnit", &e2, NULL, "ssi", name, "all", SIGKILL);
                n++;
        }
        return r < 0 ? r : n;
}

/* The user manager's private socket in XDG_RUNTIME_DIR. */
static int try_user_manager(Containment *c, const char *xdg, sd_bus **ret, bool *ret_fresh, char **refusals) {
        _cleanup_free_ char *address = NULL;

        if (asprintf_safe(&address, "unix:path=%s/systemd/private", xdg) < 0)
                return -ENOMEM;
        return try_connect(c, address, ret, ret_fresh, refusals);
}

static int systemd_setup(Containment *c) {
        SystemdScope *s = (SystemdScope *) c;
        _cleanup_free_ char *refusals = NULL;
        const char *explicit = c->params.bus_address ?: getenv("MIRAKURU_BUS_ADDRESS");
        const char *xdg = getenv("XDG_RUNTIME_DIR");
        int r = -EHOSTUNREACH, stale = 0;
        bool fresh = false;

        s->cg.dir_fd = -EBADF;
        s->cg.events_fd = -EBADF;
        s->use_slice = true;
        if (explicit && *explicit) {
                r = try_connect(c, explicit, &s->bus, &fresh, &refusals);
                if (r >= 0)
                        s->where = strdup(explicit);
        } else {
                if (geteuid() == 0) {
                        r = try_connect(c, "unix:path=/run/systemd/private", &s->bus, &fresh, &refusals);
                        if (r >= 0)
                                s->where = strdup("the system manager");
                }
                if (!s->bus && xdg) {
                        r = try_user_manager(c, xdg, &s->bus, &fresh, &refusals);
                        if (r >= 0)
                                s->where = strdup("the user manager");
                }
                if (!s->bus) {
                        r = try_connect(c, NULL, &s->bus, &fresh, &refusals);
                        if (r >= 0)
                                s->where = strdup("the user bus");
                }
        }
        if (!s->bus) {
                containment_set_reason(c, "no systemd manager reachable (%s)", refusals ?: "none tried");
                return r < 0 ? r : -EHOSTUNREACH;
        }
        if (!s->where)
                return -ENOMEM;
        /* Stale scopes are looked for once per connection (the first scope's). */
        if (fresh)
                stale = clean_stale_scopes(s);
        if (stale > 0)
                containment_set_reason(c, "systemd on %s (stopped %d stale scope%s of dead supervisors)",
                                       s->where, stale, stale == 1 ? "" : "s");
        else
                containment_set_reason(c, "systemd on %s", s->where);
        return 0;
}

static int systemd_cgroup_fd(Containment *c _unused_) {
        return -EBADF; /* the manager moves the child, not clone3 */
}

static int start_scope(SystemdScope *s);

/* The scope could not be made: hold the child in a cgroup of our own. */
static void fall_back(SystemdScope *s, const char *why) {
        Containment *c = &s->cg.c;
        _cleanup_free_ char *refusal = strdup(why ?: "refused");
        int r;

        s->cg.dir_fd = safe_close(s->cg.dir_fd);
        r = cgroup_backend_make(&s->cg);
        if (r >= 0)
                r = cgroup_backend_attach(&s->cg, c->pid);
        if (r < 0) {
                containment_set_reason(c, "systemd refused the scope (%s), and no cgroup of our own either: %s",
                                       refusal ?: "refused", c->reason ?: strerror(-r));
                containment_placed(c, r);
                return;
        }
        c->kind = MK_CONTAINMENT_CGROUP;
        containment_set_reason(c, "%s (systemd on %s refused the scope: %s)", c->reason ?: "cgroup",
                               s->where, refusal ?: "refused");
        containment_placed(c, 0);
}

static void scope_ready(SystemdScope *s) {
        Containment *c = &s->cg.c;
        _cleanup_free_ char *path = NULL, *own = NULL;
        int r;

        s->pending = false;
        r = cg_pid_path(c->pid, &path);
        if (r >= 0 && cg_pid_path(0, &own) >= 0 && strcmp(path, own) == 0)
                r = -EREMOTE; /* the job succeeded but the child did not move */
        if (r >= 0)
                r = cgroup_backend_adopt(&s->cg, path);
        if (r < 0) {
                _cleanup_free_ char *why = NULL;
                (void) asprintf_safe(&why, "cannot use the scope's cgroup: %s", strerror(-r));
                fall_back(s, why);
                return;
        }
        containment_set_reason(c, "scope %s, cgroup %s; %s", s->unit, c->cgroup_path, c->reason ?: "systemd");
        containment_placed(c, 0);
}

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *error _unused_) {
        SystemdScope *s = userdata;
        const char *job, *unit, *result;
        uint32_t id;

        if (sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) < 0)
                return 0;
        if (!s->pending || !s->unit || strcmp(unit, s->unit) != 0)
                return 0;
        if (strcmp(result, "done") == 0)
                scope_ready(s);
        else {
                _cleanup_free_ char *why = NULL;
                s->pending = false;
                (void) asprintf_safe(&why, "the start job of %s ended with \"%s\"", s->unit, result);
                fall_back(s, why);
        }
        return 0;
}

static int on_start_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error _unused_) {
        SystemdScope *s = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        s->start_call = sd_bus_slot_unref(s->start_call);
        if (!e)
                return 0; /* now JobRemoved tells */
        if (s->use_slice) {
                /* A manager that will not have our slice: try without it. */
                s->use_slice = false;
                if (start_scope(s) >= 0)
                        return 0;
        }
        s->pending = false;
        _cleanup_free_ char *why = NULL;
        (void) asprintf_safe(&why, "%s", e->message ?: e->name);
        fall_back(s, why);
        return 0;
}

static int start_scope(SystemdScope *s) {
        Containment *c = &s->cg.c;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(s->bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager", "StartTransientUnit");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "ss", s->unit, "fail");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)", "Description", "s",
                                          c->params.description ?: s->unit, "PIDs", "au", 1, (uint32_t) c->pid,
                                          "Delegate", "b", 1, "CollectMode", "s", "inactive-or-failed");
        if (r >= 0 && s->use_slice)
                r = sd_bus_message_append(m, "(sv)", "Slice", "s", SLICE);
        /* AddRef needs a sender name, which only a bus (not a private socket) gives. */
        if (r >= 0 && sd_bus_is_bus_client(s->bus) > 0)
                r = sd_bus_message_append(m, "(sv)", "AddRef", "b", 1);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r < 0)
                return r;
        s->pending = true;
        return sd_bus_call_async(s->bus, &s->start_call, m, on_start_reply, s, 0);
}

/* "mirakuru-<pid>-<start>-<n>-<name>.scope", the name reduced to unit-name characters. */
static int make_unit_name(SystemdScope *s) {
        _cleanup_free_ char *base = NULL;
        const char *name = s->cg.c.params.name ?: "service";
        char clean[64];
        size_t j = 0;
        int r;

        r = cg_make_name(SCOPE_PREFIX, &base);
        if (r < 0)
                return r;
        for (size_t i = 0; name[i] && j < sizeof clean - 1; i++)
                clean[j++] = isalnum((unsigned char) name[i]) || strchr("_.-", name[i]) ? name[i] : '_';
        clean[j] = '\0';
        free(s->unit);
        if (asprintf_safe(&s->unit, "%s-%s.scope", base, clean) < 0)
                return -ENOMEM;
        return 0;
}

/* The scope changed state or is gone. When a scope empties, systemd may
 * remove its cgroup before the kernel's (rate-limited, ~10 ms) inotify
 * notification of "populated 0" is delivered, and then that notification
 * is dropped with the cgroup: the manager's word makes us look again. */
static int on_unit_changed(sd_bus_message *m _unused_, void *userdata, sd_bus_error *error _unused_) {
        SystemdScope *s = userdata;

        cgroup_backend_main_exited(&s->cg.c);
        return 0;
}

static int on_unit_removed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        SystemdScope *s = userdata;
        const char *unit;

        if (sd_bus_message_read(m, "s", &unit) < 0 || !s->unit || strcmp(unit, s->unit) != 0)
                return 0;
        return on_unit_changed(m, userdata, error);
}

static int watch_unit(SystemdScope *s) {
        _cleanup_free_ char *path = NULL;
        int r;

        r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", s->unit, &path);
        if (r < 0)
                return r;
        s->unit_changed = sd_bus_slot_unref(s->unit_changed);
        r = sd_bus_match_signal(s->bus, &s->unit_changed, NULL, path, "org.freedesktop.DBus.Properties",
                                "PropertiesChanged", on_unit_changed, s);
        if (r < 0 || s->unit_removed)
                return r;
        return sd_bus_match_signal(s->bus, &s->unit_removed, NULL, "/org/freedesktop/systemd1",
                                   "org.freedesktop.systemd1.Manager", "UnitRemoved", on_unit_removed, s);
}

static int systemd_place(Containment *c, pid_t pid _unused_, int pidfd _unused_, bool in_cgroup _unused_) {
        SystemdScope *s = (SystemdScope *) c;
        int r;

        r = make_unit_name(s);
        if (r >= 0 && !s->job_removed)
                r = sd_bus_match_signal(s->bus, &s->job_removed, NULL, "/org/freedesktop/systemd1",
                                        "org.freedesktop.systemd1.Manager", "JobRemoved", on_job_removed, s);
        if (r >= 0)
                r = watch_unit(s);
        if (r >= 0)
                r = start_scope(s);
        if (r < 0) {
                containment_set_reason(c, "cannot ask systemd for a scope: %s", strerror(-r));
                return r;
        }
        return 0;
}

/* Before the scope exists (placement pending), the child waits at the gate
 * in our own cgroup: only it can be signalled. */
static int systemd_signal(Containment *c, int signo) {
        if (!c->cgroup_path)
                return c->pid > 0 && kill(c->pid, signo) < 0 && errno != ESRCH ? -errno : 0;
        return cgroup_backend_signal(c, signo);
}

static int systemd_kill_all(Containment *c) {
        if (!c->cgroup_path)
                return systemd_signal(c, c->params.kill_signal > 0 ? c->params.kill_signal : SIGKILL);
        return cgroup_backend_kill_all(c);
}

static void systemd_destroy(Containment *c) {
        SystemdScope *s = (SystemdScope *) c;

        s->start_call = sd_bus_slot_unref(s->start_call);
        s->job_removed = sd_bus_slot_unref(s->job_removed);
        s->unit_changed = sd_bus_slot_unref(s->unit_changed);
        s->unit_removed = sd_bus_slot_unref(s->unit_removed);
        cgroup_backend_release(&s->cg);
        systemd_bus_put(s->bus);
        s->bus = NULL;
        free(s->where);
        free(s->unit);
}

const ContainmentOps containment_systemd_ops = {
        .kind = MK_CONTAINMENT_SYSTEMD,
        .needs_gate = true,
        .size = sizeof(SystemdScope),
        .setup = systemd_setup,
        .cgroup_fd = systemd_cgroup_fd,
        .place = systemd_place,
        .signal = systemd_signal,
        .kill_all = systemd_kill_all,
        .is_empty = cgroup_backend_is_empty,
        .watch_empty = cgroup_backend_watch_empty,
        .main_exited = cgroup_backend_main_exited,
        .destroy = systemd_destroy,
};
