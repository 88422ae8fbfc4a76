/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "proc-stat.h"

static bool parse_number(const char **p, bool is_signed, uint64_t *ret) {
        const char *q = *p;
        bool negative = false;
        uint64_t v = 0;

        if (*q != ' ')
                return false;
        q++;
        if (is_signed && *q == '-') {
                negative = true;
                q++;
        }
        if (*q < '0' || *q > '9')
                return false;
        while (*q >= '0' && *q <= '9') {
                if (v > (UINT64_MAX - 9) / 10)
                        return false;
                v = v * 10 + (uint64_t) (*q++ - '0');
        }
        *p = q;
        *ret = negative ? (uint64_t) -(int64_t) v : v;
        return true;
}

static bool parse_pid(const char **p, pid_t *ret) {
        uint64_t v;
        if (!parse_number(p, true, &v))
                return false;
        int64_t s = (int64_t) v;
        if (s < -1 || s > INT32_MAX)
                return false;
        *ret = (pid_t) s;
        return true;
}

int proc_stat_parse(const char *text, ProcStat *ret) {
        const char *p = strrchr(text, ')');
        ProcStat st = {};
        uint64_t skip;

        /* ") S ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
         *  cmajflt utime stime cutime cstime priority nice num_threads
         *  itrealvalue starttime" */
        if (!p || p[1] != ' ' || !p[2] || p[2] == ' ')
                return -EBADMSG;
        st.state = p[2];
        p += 3;
        if (!parse_pid(&p, &st.ppid) || !parse_pid(&p, &st.pgrp) || !parse_pid(&p, &st.session))
                return -EBADMSG;
        /* Fields 7-21: numbers, some signed. */
        for (int field = 7; field <= 21; field++)
                if (!parse_number(&p, true, &skip))
                        return -EBADMSG;
        if (!parse_number(&p, false, &st.start_time))
                return -EBADMSG;
        *ret = st;
        return 0;
}

int proc_stat_read_at(int dir_fd, const char *path, ProcStat *ret) {
        char buf[1024];
        ssize_t n;
        int fd, r;

        fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof buf - 1);
        r = n < 0 ? -errno : 0;
        close(fd);
        if (r < 0)
                return r;
        if (n == 0)
                return -ESRCH;
        buf[n] = '\0';
        return proc_stat_parse(buf, ret);
}

int proc_stat_read(pid_t pid, ProcStat *ret) {
        char path[32], digits[16], *q = path;
        int i = 0;
        unsigned v = (unsigned) pid;

        if (pid <= 0)
                return -EINVAL;
        /* "/proc/" PID "/stat", without snprintf (async-signal-safe). */
        do
                digits[i++] = (char) ('0' + v % 10);
        while ((v /= 10) > 0);
        memcpy(q, "/proc/", 6);
        q += 6;
        while (i > 0)
                *q++ = digits[--i];
        memcpy(q, "/stat", sizeof "/stat");
        return proc_stat_read_at(AT_FDCWD, path, ret);
}

bool proc_state_exited(char state) {
        return state == 'Z' || state == 'X' || state == 'x';
}
