/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A stand-in for a systemd manager's private socket that answers like a
 * manager that will not make our scope, to test the systemd backend's
 * fallback at place() time.
 *   cont-fake-manager SOCKET refuse     StartTransientUnit() returns an error
 *   cont-fake-manager SOCKET fail-job   it returns a job, whose JobRemoved
 *                                       then reports "failed"
 * Subscribe() and ListUnitsByPatterns() answer as a manager would. Prints
 * "ready" once listening; serves any number of connections until killed. */
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

static const char *mode;
static sd_event *event;
static unsigned job_id;

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

static int method_start(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *unit, *job_mode;
        char job[64];
        int r;
        (void) userdata;

        r = sd_bus_message_read(m, "ss", &unit, &job_mode);
        if (r < 0)
                return r;
        if (strcmp(mode, "refuse") == 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, "fake manager: no scopes here");
        snprintf(job, sizeof job, "/org/freedesktop/systemd1/job/%u", ++job_id);
        r = sd_bus_reply_method_return(m, "o", job);
        if (r < 0)
                return r;
        return sd_bus_emit_signal(sd_bus_message_get_bus(m), "/org/freedesktop/systemd1",
                                  "org.freedesktop.systemd1.Manager", "JobRemoved", "uoss", job_id, job, unit,
                                  "failed");
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

int main(int argc, char **argv) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        if (argc != 3) {
                fprintf(stderr, "usage: cont-fake-manager SOCKET refuse|fail-job\n");
                return 2;
        }
        mode = argv[2];
        if (strlen(argv[1]) >= sizeof sa.sun_path)
                return 2;
        strcpy(sa.sun_path, argv[1]);
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
