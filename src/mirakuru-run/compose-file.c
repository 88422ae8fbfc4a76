/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "compose-file.h"
#include "log.h"

/* FILE, opened without blocking (a FIFO would hold us in open() with our
 * signals blocked) and only if it is a regular file. Says why not. */
FILE *compose_file_open(const char *file) {
        struct stat st;
        FILE *f;
        int fd;

        fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                log_error("cannot read %s: %s", file, strerror(errno));
                return NULL;
        }
        if (fstat(fd, &st) < 0) {
                log_error("cannot read %s: %s", file, strerror(errno));
                close(fd);
                return NULL;
        }
        if (!S_ISREG(st.st_mode)) {
                log_error("cannot read %s: %s", file, S_ISDIR(st.st_mode) ? "a directory, want a regular file"
                                                                           : "not a regular file (a FIFO, device or socket)");
                close(fd);
                return NULL;
        }
        if (fcntl(fd, F_SETFL, 0) < 0 || !(f = fdopen(fd, "re"))) {
                log_error("cannot read %s: %s", file, strerror(errno));
                close(fd);
                return NULL;
        }
        return f;
}

/* Before loading the document: one pass over libyaml's events that stops
 * at the first of a second document (silently ignored by the loader),
 * nesting deeper than COMPOSE_NESTING_MAX (libyaml's loader takes time
 * quadratic in the depth: 100,000 '[' cost 25 s) and a syntax error. Each
 * with FILE:LINE. Rewinds F. */
int compose_file_precheck(const char *file, FILE *f) {
        yaml_parser_t parser;
        unsigned depth = 0, documents = 0;
        int r = 0;

        if (!yaml_parser_initialize(&parser)) {
                log_error("out of memory");
                return -ENOMEM;
        }
        yaml_parser_set_input_file(&parser, f);
        while (r == 0) {
                yaml_event_t ev;
                if (!yaml_parser_parse(&parser, &ev)) {
                        log_error("%s:%zu: %s%s%s", file, parser.problem_mark.line + 1,
                                  parser.problem ?: "syntax error", parser.context ? " " : "", parser.context ?: "");
                        r = -EINVAL;
                        break;
                }
                size_t line = ev.start_mark.line + 1;
                switch (ev.type) {
                case YAML_DOCUMENT_START_EVENT:
                        if (++documents > 1) {
                                log_error("%s:%zu: a second YAML document: a file holds one (remove the '---' or split the file)",
                                          file, line);
                                r = -EINVAL;
                        }
                        break;
                case YAML_SEQUENCE_START_EVENT:
                case YAML_MAPPING_START_EVENT:
                        if (++depth > COMPOSE_NESTING_MAX) {
                                log_error("%s:%zu: nested more than %d deep", file, line, COMPOSE_NESTING_MAX);
                                r = -EINVAL;
                        }
                        break;
                case YAML_SEQUENCE_END_EVENT:
                case YAML_MAPPING_END_EVENT:
                        depth--;
                        break;
                case YAML_STREAM_END_EVENT:
                        r = 1;
                        break;
                default:
                        break;
                }
                yaml_event_delete(&ev);
        }
        yaml_parser_delete(&parser);
        if (r < 0)
                return r;
        rewind(f);
        return 0;
}

