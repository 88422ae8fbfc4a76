/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Runs a real-server test script with bash. A program of its own so that
 * in the valgrind setup valgrind checks only this exec (and, through
 * $MIRAKURU_RUN_WRAPPED, every mirakuru-run the script starts), not bash. */
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
        if (argc != 2) {
                fprintf(stderr, "usage: real-exec SCRIPT\n");
                return 2;
        }
        execl("/bin/bash", "bash", argv[1], (char *) NULL);
        perror("bash");
        return 127;
}
