#include "cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>

static void report(const char *cmd, const char *fmt, va_list ap)
{
    fprintf(stderr, "jitevm %s: ", cmd);
    vfprintf(stderr, fmt, ap);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(cmd, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'jitevm help %s'.\n", cmd);
    return EXIT_USAGE;
}

int cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(cmd, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_ERROR;
}

int cli_option_error(const char *cmd, int opt, char **argv)
{
    const char *arg = argv[optind - 1];
    if (opt == ':') return cli_usage_error(cmd, "option '%s' needs a value", arg);
    return cli_usage_error(cmd, "unknown option '%s'", arg);
}
