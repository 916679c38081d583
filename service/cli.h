/* What every jitevm subcommand says when its command line or its work
 * fails: one line on stderr, and the exit status the README documents. */
#ifndef JITEVM_CLI_H
#define JITEVM_CLI_H

#define EXIT_ERROR 1 /* the command could not do its work */
#define EXIT_USAGE 2 /* the command line is wrong */

/* "jitevm CMD: message" plus a pointer to 'jitevm help CMD'; EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "jitevm CMD: message"; EXIT_ERROR. */
int cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* getopt's report of a bad option (':' missing value, else unknown), in
 * our words; EXIT_USAGE. */
int cli_option_error(const char *cmd, int opt, char **argv);

#endif
