/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mirakuru-run -f FILE: the YAML file is input we did not write. The
 * harness hands each input to compose_load() and frees what it built;
 * nothing is started. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compose.h"
#include "fuzz.h"
#include "log.h"
#include "options.h"

/* A compose file may name log files anywhere (log_location:), which
 * compose_load() opens (O_CREAT): a mutated path would create files all
 * over the machine. So inputs that could spell that key (the bytes
 * "log_location", any backslash escape, any NUL byte: UTF-16 input) are
 * left out. The input goes to a file in a directory of our own under
 * $TMPDIR, removed at exit (without changing directory: libFuzzer uses its
 * corpus by relative path). */
static char dir[4096], input[4200];

static void remove_dir(void) {
        (void) unlink(input);
        (void) rmdir(dir);
}

static void make_private_dir(void) {
        snprintf(dir, sizeof dir, "%s/mirakuru-fuzz-compose.XXXXXX", getenv("TMPDIR") ?: "/tmp");
        if (!mkdtemp(dir))
                abort();
        snprintf(input, sizeof input, "%s/input.yaml", dir);
        atexit(remove_dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static Options o;
        static bool init;
        sd_event *event = NULL;
        Compose *c = NULL;
        char *text;
        int fd;

        if (!init) {
                char *argv[] = { (char *) "mirakuru-run", (char *) "--quiet", (char *) "-f",
                                 (char *) "/dev/null", NULL };
                if (options_parse(4, argv, &o) != 0)
                        abort();
                log_setup(false, true);
                make_private_dir();
                init = true;
        }
        text = fuzz_string(data, size);
        if (!text)
                return 0;
        bool skip = strstr(text, "log_location") || strchr(text, '\\') || size != strlen(text);
        free(text);
        if (skip)
                return 0;
        fd = open(input, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return 0;
        if (write(fd, data, size) != (ssize_t) size) {
                close(fd);
                return 0;
        }
        close(fd);
        if (sd_event_new(&event) >= 0 && compose_load(input, &o, event, &c) == 0)
                compose_free(c);
        sd_event_unref(event);
        return 0;
}
