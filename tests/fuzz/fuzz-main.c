/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Replays inputs through a harness without libFuzzer: each argument is a
 * file or a directory of files (the seed corpus and the inputs that once
 * crashed). Built always, run by the normal test suite. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

typedef struct Input {
        uint8_t *data;
        size_t size;
} Input;

static Input *inputs;
static size_t n_inputs;

/* Reads PATH into INPUTS (all are read before any runs: a harness may
 * chroot() at its first input). */
static int read_input(const char *path) {
        FILE *f = fopen(path, "re");
        uint8_t *buf = NULL;
        size_t n = 0, alloc = 0, k;

        if (!f) {
                perror(path);
                return -1;
        }
        do {
                if (n == alloc) {
                        alloc = alloc ? alloc * 2 : 4096;
                        uint8_t *b = realloc(buf, alloc);
                        if (!b)
                                abort();
                        buf = b;
                }
                k = fread(buf + n, 1, alloc - n, f);
                n += k;
        } while (k > 0);
        fclose(f);
        /* An exact-size copy, so an overread is caught under ASan. */
        uint8_t *exact = malloc(n ?: 1);
        Input *a = realloc(inputs, (n_inputs + 1) * sizeof *a);
        if (!exact || !a)
                abort();
        memcpy(exact, buf, n);
        free(buf);
        inputs = a;
        inputs[n_inputs++] = (Input) { .data = exact, .size = n };
        return 0;
}

int main(int argc, char **argv) {
        unsigned count = 0;

        for (int i = 1; i < argc; i++) {
                struct stat st;
                if (stat(argv[i], &st) < 0) {
                        perror(argv[i]);
                        return 1;
                }
                if (!S_ISDIR(st.st_mode)) {
                        if (read_input(argv[i]) < 0)
                                return 1;
                        count++;
                        continue;
                }
                struct dirent **names;
                int n = scandir(argv[i], &names, NULL, alphasort);
                if (n < 0) {
                        perror(argv[i]);
                        return 1;
                }
                for (int j = 0; j < n; j++) {
                        char path[4096];
                        if (names[j]->d_name[0] != '.') {
                                snprintf(path, sizeof path, "%s/%s", argv[i], names[j]->d_name);
                                if (read_input(path) < 0)
                                        return 1;
                                count++;
                        }
                        free(names[j]);
                }
                free(names);
        }
        for (size_t i = 0; i < n_inputs; i++) {
                (void) LLVMFuzzerTestOneInput(inputs[i].data, inputs[i].size);
                free(inputs[i].data);
        }
        free(inputs);
        printf("%u inputs replayed without a crash\n", count);
        return 0;
}
