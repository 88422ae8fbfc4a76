/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The address field of /proc/net/tcp{,6} lines ("0100007F:1F90"), parsed
 * by util/socket-owner.c: the kernel's text, but read from a file that
 * could be anything in a strange mount namespace. The parser is static;
 * the harness takes the file in. */
#include "../../src/libmirakuru/util/socket-owner.c"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        unsigned char addr[16];
        uint16_t port;
        char *s;

        if (size < 1)
                return 0;
        s = fuzz_string(data + 1, size - 1);
        if (!s)
                return 0;
        (void) parse_proc_addr(s, data[0] & 1 ? AF_INET6 : AF_INET, addr, &port);
        free(s);
        return 0;
}
