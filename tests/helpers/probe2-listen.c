/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A socket-activated service: checks LISTEN_PID, LISTEN_FDS and
 * LISTEN_FDNAMES, then answers every connection on fd 3, 4, ... with one line
 *   "fd=3 name=web pid=ok fds=2 names=web:api listening=yes"
 * and closes it. Exits on SIGTERM. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
        const char *pid_s = getenv("LISTEN_PID"), *fds_s = getenv("LISTEN_FDS");
        const char *names = getenv("LISTEN_FDNAMES") ?: "(none)";
        int n = fds_s ? atoi(fds_s) : 0;
        const char *pid_ok = pid_s && atol(pid_s) == (long) getpid() ? "ok" : "bad";
        struct pollfd pfd[16];

        if (n <= 0 || n > 16) {
                fprintf(stderr, "probe2-listen: LISTEN_FDS=%s\n", fds_s ?: "(unset)");
                return 2;
        }
        for (int i = 0; i < n; i++)
                pfd[i] = (struct pollfd) { .fd = 3 + i, .events = POLLIN };
        printf("pid=%s fds=%d names=%s\n", pid_ok, n, names);
        fflush(stdout);

        for (;;) {
                if (poll(pfd, (nfds_t) n, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return 1;
                }
                for (int i = 0; i < n; i++) {
                        int accepting = 0, c;
                        socklen_t len = sizeof accepting;
                        char name[256] = "?";
                        const char *s = names;

                        if (!(pfd[i].revents & POLLIN))
                                continue;
                        /* The i-th name of LISTEN_FDNAMES. */
                        for (int k = 0; k < i && s; k++)
                                s = (s = strchr(s, ':')) ? s + 1 : NULL;
                        if (s)
                                snprintf(name, sizeof name, "%.*s", (int) strcspn(s, ":"), s);
                        (void) getsockopt(pfd[i].fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len);
                        c = accept4(pfd[i].fd, NULL, NULL, SOCK_CLOEXEC);
                        if (c < 0)
                                continue;
                        dprintf(c, "fd=%d name=%s pid=%s fds=%d names=%s listening=%s\n", pfd[i].fd, name,
                                pid_ok, n, names, accepting ? "yes" : "no");
                        close(c);
                }
        }
}
