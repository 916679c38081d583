/* The schema migrations compiled into the binary: schema/migrations/NNN_*.sql,
 * embedded at build time by schema/embed-migrations.sh. Migration i (from 1)
 * takes a database from PRAGMA user_version i-1 to i. */
#ifndef JITEVM_MIGRATIONS_H
#define JITEVM_MIGRATIONS_H

typedef struct {
    int version;      /* the user_version after it is applied */
    const char *name; /* file name, for messages */
    const char *sql;
} store_migration;

extern const store_migration store_migrations[];
extern const int store_migration_count;

#endif
