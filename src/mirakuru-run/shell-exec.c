/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell-exec.h"
#include "util/macro.h"

/* Words that are not a program when they come first: reserved words and
 * built-ins with no program of the same name ("exec exit 0" would fail). */
static const char *const not_programs[] = {
        "!", ".", ":", "[[", "{", "}", "alias", "bg", "break", "case", "cd", "command", "continue", "do", "done",
        "elif", "else", "esac", "eval", "exec", "exit", "export", "fc", "fg", "fi", "for", "function",
        "getopts", "hash", "if", "in", "jobs", "local", "read", "readonly", "return", "select", "set",
        "shift", "source", "then", "time", "times", "trap", "type", "ulimit", "umask", "unalias",
        "unset", "until", "wait", "while",
};

char *shell_exec_simple(const char *script) {
        const char *p = script, *first;
        size_t n;
        char *s;

        /* An operator, a subshell, a command substitution or a second
         * line (even quoted: this does not parse quotes): leave it to the shell. */
        if (strpbrk(script, ";&|()<>`\n\r"))
                return NULL;
        p += strspn(p, " \t");
        first = p;
        n = strcspn(first, " \t");
        /* The first word plain: not empty, quoted, expanded or an assignment (FOO=bar cmd). */
        if (n == 0 || strcspn(first, "=$'\"\\") < n)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(not_programs); i++)
                if (strlen(not_programs[i]) == n && memcmp(first, not_programs[i], n) == 0)
                        return NULL;
        if (asprintf(&s, "exec %s", first) < 0)
                return NULL;
        return s;
}
