/* `jitevm compile`: programs for every code of a database, ahead of time. */
#ifndef JITEVM_CMD_COMPILE_H
#define JITEVM_CMD_COMPILE_H

int cmd_compile(int argc, char **argv);

#define CMD_COMPILE_USAGE                                                                                  \
    "--db FILE --all [--fork F] [--program-key HEX]\n"                                                     \
    "  Compiles every code in the database (each code hash once) for the fork active at its head (or\n"   \
    "  F) and stores the programs in it, tagged with the program key: HEX (64 digits), else\n"            \
    "  $JITEVM_PROGRAM_KEY, else the key file FILE.program-key (made when absent). Serve the database\n"  \
    "  with the same key. Programs already stored are kept; code the compiler declines runs interpreted."

#endif
