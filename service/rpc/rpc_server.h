/* `jitevm serve`: the JSON-RPC service over HTTP. */
#ifndef JITEVM_RPC_SERVER_H
#define JITEVM_RPC_SERVER_H

/* The command: argv[0] is "serve". Exit status 0 after a clean shutdown
 * (SIGTERM/SIGINT), 1 on a startup failure, 2 on a usage error. */
int cmd_serve(int argc, char **argv);

#define CMD_SERVE_USAGE                                                                                    \
    "--db FILE [--listen HOST:PORT] [--engine E] [--threads N] [--workers N] [--admin] [...]\n"           \
    "  Answers Ethereum JSON-RPC over HTTP (POST /), with GET /health and GET /metrics.\n"                \
    "  Every option can also be set by its environment variable. 'jitevm serve --help' lists them."

#endif
