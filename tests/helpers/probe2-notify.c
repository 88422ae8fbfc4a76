/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A service that speaks sd_notify (by hand, as a plain datagram) or the s6
 * notification-fd convention, for the notify probe tests. Modes:
 *   ready              STATUS=starting + MAINPID=, then READY=1 + STATUS=serving
 *   grandchild         a grandchild of the service sends READY=1
 *   status TEXT        sends STATUS=TEXT, prints NOTIFY_SOCKET=... , never ready
 *   extend USEC MS     sends EXTEND_TIMEOUT_USEC=USEC, sleeps MS, then READY=1
 *   junk               malformed datagrams first, then READY=1
 *   fd N               writes a newline to fd N
 *   fd-close N         closes fd N without writing
 * Then waits for a signal. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int notify_send(const char *msg, size_t len) {
        const char *e = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t n;
        int fd, r;

        if (!e || (n = strlen(e)) == 0 || n >= sizeof sa.sun_path) {
                fprintf(stderr, "probe2-notify: no usable NOTIFY_SOCKET\n");
                exit(3);
        }
        memcpy(sa.sun_path, e, n);
        if (sa.sun_path[0] == '@')
                sa.sun_path[0] = '\0';
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -1;
        r = (int) sendto(fd, msg, len, 0, (struct sockaddr *) &sa,
                         (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n));
        if (r < 0)
                fprintf(stderr, "probe2-notify: sendto: %m\n");
        close(fd);
        return r;
}

static int notify(const char *msg) {
        return notify_send(msg, strlen(msg));
}

static void sleep_ms(long ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static _Noreturn void wait_forever(void) {
        for (;;)
                pause();
}

int main(int argc, char **argv) {
        const char *mode = argc > 1 ? argv[1] : "ready";
        char msg[256];

        setvbuf(stdout, NULL, _IOLBF, 0);
        if (strcmp(mode, "ready") == 0) {
                snprintf(msg, sizeof msg, "STATUS=starting\nMAINPID=%d", (int) getpid());
                notify(msg);
                notify("READY=1\nSTATUS=serving");
        } else if (strcmp(mode, "grandchild") == 0) {
                pid_t child = fork();
                if (child == 0) {
                        pid_t grandchild = fork();
                        if (grandchild == 0) {
                                notify("STATUS=hello from a grandchild\nREADY=1");
                                wait_forever();
                        }
                        wait_forever();
                }
        } else if (strcmp(mode, "status") == 0 && argc > 2) {
                snprintf(msg, sizeof msg, "STATUS=%s", argv[2]);
                notify(msg);
                printf("NOTIFY_SOCKET=%s\n", getenv("NOTIFY_SOCKET"));
        } else if (strcmp(mode, "extend") == 0 && argc > 3) {
                snprintf(msg, sizeof msg, "EXTEND_TIMEOUT_USEC=%s\nSTATUS=extended", argv[2]);
                notify(msg);
                sleep_ms(atol(argv[3]));
                notify("READY=1");
        } else if (strcmp(mode, "junk") == 0) {
                static char big[10000];
                memset(big, 'x', sizeof big);
                memcpy(big, "READY=1\n", 8);
                notify_send(big, sizeof big);                  /* oversized: ignored */
                notify_send("READY=1\0garbage", 15);           /* holds a NUL: ignored */
                notify("no equals sign\n=\nUNKNOWN=1\nREADY=0\nMAINPID=-5\nERRNO=x");
                printf("junk sent\n");
                notify("STATUS=after junk\nREADY=1");
        } else if (strcmp(mode, "fd") == 0 && argc > 2) {
                int fd = atoi(argv[2]);
                if (write(fd, "\n", 1) != 1) {
                        fprintf(stderr, "probe2-notify: write to fd %d: %m\n", fd);
                        return 4;
                }
                close(fd);
        } else if (strcmp(mode, "fd-close") == 0 && argc > 2) {
                close(atoi(argv[2]));
        } else {
                fprintf(stderr, "probe2-notify: bad arguments\n");
                return 2;
        }
        wait_forever();
}
