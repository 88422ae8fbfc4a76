/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Command strings come from users and YAML files. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "util/shell-split.h"
#include "util/strv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char **words = NULL;
        char *s = fuzz_string(data, size);
        int r;

        if (!s)
                return 0;
        r = shell_split(s, &words);
        if (r >= 0) {
                /* No word can be longer than the input. */
                size_t total = 0;
                for (char **w = words; *w; w++)
                        total += strlen(*w);
                if (total > strlen(s))
                        abort();
                strv_free(words);
        } else if (r != -EINVAL && r != -ENOMEM)
                abort();
        free(s);
        return 0;
}
