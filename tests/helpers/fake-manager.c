/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A stand-in for a systemd manager's private socket that will not make our
 * scope: for the containment suite's fallback at place() time and the fault
 * suite's bus errors around StartTransientUnit().
 *   fake-manager SOCKET refuse      StartTransientUnit() returns an error
 *   fake-manager SOCKET fail-job    it returns a job, whose JobRemoved then
 *                                   reports "failed"
 *   fake-manager SOCKET hang        it accepts the call and never answers it
 *   fake-manager SOCKET disconnect  it drops the connection on the call
 *   fake-manager SOCKET bad-reply   it answers with a reply of the wrong type
 *   fake-manager SOCKET no-method   the method does not exist (UnknownMethod)
 * Subscribe() and ListUnitsByPatterns() answer as a manager would. Each
 * StartTransientUnit() appends the pids it was asked to move to SOCKET.pids.
 * Prints "ready" once listening; serves any number of connections until
 * killed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <systemd/sd-id128.h>

typedef enum Mode {
        MODE_REFUSE,
        MODE_FAIL_JOB,
        MODE_HANG,
        MODE_DISCONNECT,
        MODE_BAD_REPLY,
        MODE_NO_METHOD,
        _MODE_MAX,
} Mode;

static const char *const mode_name[_MODE_MAX] = {
        [MODE_REFUSE] = "refuse",
        [MODE_FAIL_JOB] = "fail-job",
        [MODE_HANG] = "hang",
        [MODE_DISCONNECT] = "disconnect",
        [MODE_BAD_REPLY] = "bad-reply",
        [MODE_NO_METHOD] = "no-method",
};

static Mode mode;
static const char *socket_path;
static sd_event *event;
static unsigned job_id;
static sd_bus_message *held[64]; /* hang: calls never answered, kept referenced */
static unsigned n_held;

static int method_subscribe(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        (void) userdata;
        (void) error;
        return sd_bus_reply_method_return(m, "");
}

static int method_list(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        (void) userdata;
        (void) error;
        return sd_bus_reply_method_return(m, "a(ssssssouso)", 0);
}

/* Appends the values of the "PIDs" property to SOCKET.pids. */
static void record_pids(sd_bus_message *m) {
        char path[4200];
        FILE *f;
        int r;

        snprintf(path, sizeof path, "%s.pids", socket_path);
        f = fopen(path, "ae");
        if (!f)
                return;
        if (sd_bus_message_enter_container(m, 'a', "(sv)") > 0) {
                while ((r = sd_bus_message_enter_container(m, 'r', "sv")) > 0) {
                        const char *name;
                        if (sd_bus_message_read(m, "s", &name) < 0)
                                break;
                        if (strcmp(name, "PIDs") == 0 && sd_bus_message_enter_container(m, 'v', "au") > 0) {
                                uint32_t *pids;
                                size_t size;
                                if (sd_bus_message_read_array(m, 'u', (const void **) &pids, &size) >= 0)
                                        for (size_t i = 0; i < size / sizeof(uint32_t); i++)
                                                fprintf(f, "%u\n", pids[i]);
                                (void) sd_bus_message_exit_container(m);
                        } else if (sd_bus_message_skip(m, "v") < 0)
                                break;
                        if (sd_bus_message_exit_container(m) < 0)
                                break;
                }
        }
        fclose(f);
}

static int reply_failed_job(sd_bus_message *m, const char *unit) {
        char job[64];
        int r;

        snprintf(job, sizeof job, "/org/freedesktop/systemd1/job/%u", ++job_id);
        r = sd_bus_reply_method_return(m, "o", job);
        if (r < 0)
                return r;
        return sd_bus_emit_signal(sd_bus_message_get_bus(m), "/org/freedesktop/systemd1",
                                  "org.freedesktop.systemd1.Manager", "JobRemoved", "uoss", job_id, job, unit,
                                  "failed");
}

static int method_start(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *unit, *job_mode;
        int r;
        (void) userdata;

        r = sd_bus_message_read(m, "ss", &unit, &job_mode);
        if (r < 0)
                return r;
        record_pids(m);
        switch (mode) {
        case MODE_REFUSE:
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, "fake manager: no scopes here");
        case MODE_FAIL_JOB:
                return reply_failed_job(m, unit);
        case MODE_HANG:
                if (n_held < sizeof held / sizeof held[0])
                        held[n_held++] = sd_bus_message_ref(m);
                return 1; /* handled; no reply, ever */
        case MODE_DISCONNECT:
                sd_bus_close(sd_bus_message_get_bus(m));
                return 1;
        case MODE_BAD_REPLY:
                return sd_bus_reply_method_return(m, "su", "not a job path", 42);
        case MODE_NO_METHOD:
        default:
                return sd_bus_error_set(error, SD_BUS_ERROR_UNKNOWN_METHOD, "fake manager: no such method");
        }
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Subscribe", "", "", method_subscribe, 0),
        SD_BUS_METHOD("ListUnitsByPatterns", "asas", "a(ssssssouso)", method_list, 0),
        SD_BUS_METHOD("StartTransientUnit", "ssa(sv)a(sa(sv))", "o", method_start, 0),
        SD_BUS_VTABLE_END,
};

static int on_connection(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        sd_bus *bus = NULL;
        sd_id128_t id;
        int c, r;
        (void) s;
        (void) revents;
        (void) userdata;

        c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (c < 0)
                return 0;
        r = sd_id128_randomize(&id);
        if (r >= 0)
                r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_fd(bus, c, c);
        if (r >= 0)
                r = sd_bus_set_server(bus, 1, id);
        if (r >= 0)
                r = sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/systemd1",
                                             "org.freedesktop.systemd1.Manager", manager_vtable, NULL);
        if (r >= 0)
                r = sd_bus_attach_event(bus, event, 0);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0) {
                fprintf(stderr, "fake manager: %s\n", strerror(-r));
                sd_bus_unref(bus);
                return 0;
        }
        /* Kept (and leaked) until exit: a test helper serves a handful. */
        return 0;
}

static int parse_mode(const char *s) {
        for (Mode m = 0; m < _MODE_MAX; m++)
                if (strcmp(s, mode_name[m]) == 0)
                        return m;
        return -EINVAL;
}

int main(int argc, char **argv) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd, m;

        m = argc == 3 ? parse_mode(argv[2]) : -EINVAL;
        if (m < 0) {
                fprintf(stderr, "usage: fake-manager SOCKET "
                                "refuse|fail-job|hang|disconnect|bad-reply|no-method\n");
                return 2;
        }
        mode = m;
        socket_path = argv[1];
        if (strlen(socket_path) >= sizeof sa.sun_path)
                return 2;
        strcpy(sa.sun_path, socket_path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen(fd, 16) < 0) {
                perror("fake manager: socket");
                return 1;
        }
        if (sd_event_default(&event) < 0 || sd_event_add_io(event, NULL, fd, EPOLLIN, on_connection, NULL) < 0)
                return 1;
        printf("ready\n");
        fflush(stdout);
        return sd_event_loop(event) < 0;
}
