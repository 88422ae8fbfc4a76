/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "options.h"

enum {
        OPT_TIMEOUT = 0x100,
        OPT_VERBOSE,
        OPT_QUIET,
        OPT_HELP,
        OPT_VERSION,
};

typedef struct OptionInfo {
        struct option opt;
        const char *arg;  /* name of the argument in --help */
        const char *help;
} OptionInfo;

static const OptionInfo option_table[] = {
        { { "timeout", required_argument, NULL, OPT_TIMEOUT }, "SECONDS",
          "readiness deadline, fractions allowed (default 60)" },
        { { "verbose", no_argument, NULL, OPT_VERBOSE }, NULL, "say what happens, on stderr" },
        { { "quiet", no_argument, NULL, OPT_QUIET }, NULL, "print no messages of our own" },
        { { "help", no_argument, NULL, OPT_HELP }, NULL, "show this help" },
        { { "version", no_argument, NULL, OPT_VERSION }, NULL, "show the version" },
};

#define N_OPTIONS (sizeof option_table / sizeof option_table[0])

static void help(void) {
        printf("Usage: mirakuru-run [OPTIONS] [--] COMMAND [ARG...]\n\n"
               "Start COMMAND, wait until it is ready, supervise it in the foreground\n"
               "and leave nothing behind when it ends or we are told to stop.\n\n"
               "Options:\n");
        for (size_t i = 0; i < N_OPTIONS; i++) {
                char left[64];
                snprintf(left, sizeof left, "--%s%s%s", option_table[i].opt.name,
                         option_table[i].arg ? " " : "", option_table[i].arg ?: "");
                printf("  %-24s %s\n", left, option_table[i].help);
        }
        printf("\nExit status:\n"
               "  0    success\n"
               "  2    usage or bad input\n"
               "  3    the service exited before it was ready\n"
               "  4    something already answers on the probe's address\n"
               "  124  readiness deadline passed\n"
               "  125  mirakuru-run itself failed\n"
               "  126  COMMAND not executable\n"
               "  127  COMMAND not found\n"
               "  otherwise the service's exit status, 128+N if signal N killed it\n");
}

int parse_seconds(const char *s, uint64_t *ret) {
        char *end;
        double d;

        if (!s || !*s || strchr(s, '-'))
                return -EINVAL;
        errno = 0;
        d = strtod(s, &end);
        if (errno != 0 || *end || !isfinite(d) || d < 0 || d > 1e9)
                return -EINVAL;
        *ret = (uint64_t) llround(d * 1e6);
        return 0;
}

__attribute__((format(printf, 1, 2))) static void usage_error(const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "mirakuru-run: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, " (see --help)\n");
}

int options_parse(int argc, char **argv, Options *ret) {
        struct option longopts[N_OPTIONS + 1];
        Options o = { .timeout_usec = MK_DEFAULT_START_TIMEOUT_USEC };
        int c;

        for (size_t i = 0; i < N_OPTIONS; i++)
                longopts[i] = option_table[i].opt;
        longopts[N_OPTIONS] = (struct option) {};

        opterr = 0;
        optind = 1;
        /* '+': stop at the first non-option, which starts COMMAND. */
        while ((c = getopt_long(argc, argv, "+:", longopts, NULL)) != -1) {
                switch (c) {
                case OPT_TIMEOUT:
                        if (parse_seconds(optarg, &o.timeout_usec) < 0) {
                                usage_error("invalid --timeout '%s': want a non-negative number of seconds", optarg);
                                return -EINVAL;
                        }
                        break;
                case OPT_VERBOSE:
                        o.verbose = true;
                        break;
                case OPT_QUIET:
                        o.quiet = true;
                        break;
                case OPT_HELP:
                        help();
                        return 1;
                case OPT_VERSION:
                        printf("mirakuru-run %s\n", PACKAGE_VERSION);
                        return 1;
                case ':':
                        usage_error("option %s needs an argument", argv[optind - 1]);
                        return -EINVAL;
                default:
                        usage_error("unknown option %s", argv[optind - 1]);
                        return -EINVAL;
                }
        }
        if (optind >= argc) {
                usage_error("no COMMAND given");
                return -EINVAL;
        }
        o.command = argv + optind;
        *ret = o;
        return 0;
}
