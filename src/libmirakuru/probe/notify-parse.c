/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "notify-parse.h"

/* A decimal number in [MIN, MAX], the whole of S (L bytes), else -1. */
static long long parse_number(const char *s, size_t l, long long min, long long max) {
        long long v = 0;

        if (l == 0 || l > 18)
                return -1;
        for (size_t i = 0; i < l; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                v = v * 10 + (s[i] - '0');
        }
        return v < min || v > max ? -1 : v;
}

static bool key_is(const char *line, size_t key_len, const char *key) {
        return strlen(key) == key_len && memcmp(line, key, key_len) == 0;
}

int notify_parse(const char *buf, size_t len, NotifyMessage *ret) {
        NotifyMessage m = { .exit_status = -1 };
        const char *p = buf, *end = buf + len;

        if (memchr(buf, '\0', len))
                return -EBADMSG;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                const char *line_end = nl ?: end;
                const char *eq = memchr(p, '=', (size_t) (line_end - p));
                long long v;

                if (eq) {
                        size_t key_len = (size_t) (eq - p);
                        const char *value = eq + 1;
                        size_t value_len = (size_t) (line_end - value);

                        if (key_is(p, key_len, "READY")) {
                                if (value_len == 1 && value[0] == '1')
                                        m.ready = true;
                        } else if (key_is(p, key_len, "STOPPING")) {
                                if (value_len == 1 && value[0] == '1')
                                        m.stopping = true;
                        } else if (key_is(p, key_len, "RELOADING")) {
                                if (value_len == 1 && value[0] == '1')
                                        m.reloading = true;
                        } else if (key_is(p, key_len, "WATCHDOG")) {
                                if (value_len == 1 && value[0] == '1')
                                        m.watchdog = true;
                        } else if (key_is(p, key_len, "STATUS")) {
                                m.status = value;
                                m.status_len = value_len;
                        } else if (key_is(p, key_len, "MAINPID")) {
                                v = parse_number(value, value_len, 1, INT32_MAX);
                                m.main_pid = v > 0 ? (pid_t) v : 0;
                        } else if (key_is(p, key_len, "ERRNO")) {
                                v = parse_number(value, value_len, 1, 4095);
                                m.errno_value = v > 0 ? (int) v : 0;
                        } else if (key_is(p, key_len, "EXIT_STATUS")) {
                                v = parse_number(value, value_len, 0, 255);
                                m.exit_status = (int) v;
                        } else if (key_is(p, key_len, "EXTEND_TIMEOUT_USEC")) {
                                v = parse_number(value, value_len, 1, INT64_MAX);
                                m.extend_timeout_usec = v > 0 ? (uint64_t) v : 0;
                        }
                }
                p = nl ? nl + 1 : end;
        }
        *ret = m;
        return 0;
}
