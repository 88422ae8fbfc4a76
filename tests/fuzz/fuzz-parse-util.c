/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mirakuru-run's option values: the first byte picks the parser, the rest
 * is the value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "parse-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *s, *host = NULL, why[256];
        const char *reason = NULL;
        uint64_t usec;
        uint16_t port;
        long v;
        int signo;

        if (size < 1)
                return 0;
        s = fuzz_string(data + 1, size - 1);
        if (!s)
                return 0;
        switch (data[0] % 8) {
        case 0:
                (void) parse_seconds(s, &usec);
                break;
        case 1:
                if (parse_int_range(s, -5, 65535, &v) >= 0 && (v < -5 || v > 65535))
                        abort();
                break;
        case 2:
                if (parse_signal(s, &signo) >= 0 && (signo <= 0 || signo >= 65))
                        abort();
                break;
        case 3:
                if (parse_host_port(s, 1, &host, &port, &reason) >= 0 && port == 0)
                        abort();
                free(host);
                break;
        case 4:
                /* Bounded (util/regex-util.h): explosive patterns are refused fast. */
                if (check_regex(s, why, sizeof why) < 0 && !why[0])
                        abort();
                break;
        case 5:
                (void) check_url(s, &reason);
                break;
        case 6:
                (void) env_assignment_is_valid(s);
                break;
        default:
                (void) env_name_is_valid(s);
                break;
        }
        free(s);
        return 0;
}
