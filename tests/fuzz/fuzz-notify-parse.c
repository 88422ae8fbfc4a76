/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sd_notify datagrams are outside input: any bytes, any length. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "probe/notify-parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        NotifyMessage m;
        /* An exact-size copy, so reading one byte too far is caught. */
        char *buf = malloc(size ?: 1);

        if (!buf)
                return 0;
        memcpy(buf, data, size);
        if (notify_parse(buf, size, &m) >= 0) {
                /* What the parser points at must lie within the datagram. */
                if (m.status && (m.status < buf || m.status + m.status_len > buf + size))
                        abort();
                if (m.main_pid < 0 || m.exit_status < -1 || m.exit_status > 255)
                        abort();
        }
        free(buf);
        return 0;
}
