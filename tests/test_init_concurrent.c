/* `jitevm init` run by several processes on one path at once (replicas
 * started together on a shared volume): exactly one creates the database,
 * the others say it exists, and a process opening the path meanwhile finds
 * either nothing or the whole database, never a half-made file. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd_store.h"
#include "store.h"
#include "testlib.h"

#define INITS 8
#define ROUNDS 4

static char dir[512];

/* A child running `jitevm init --db path`, its output in out_path. */
static pid_t spawn_init(const char *path, const char *out_path, int start_fd)
{
    pid_t pid = fork();
    if (pid != 0) return pid;
    int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    char go;
    if (read(start_fd, &go, 1) != 1) _exit(90); /* all start together */
    char *argv[] = {"init", "--db", (char *)path, "--chain", "dev", NULL};
    int rc = cmd_init(5, argv);
    fflush(NULL);
    _exit(rc);
}

/* A child opening `path` in a loop while the inits run: exit 0 when every
 * open either found no file or a complete database (its chain readable). */
static pid_t spawn_reader(const char *path, int start_fd)
{
    pid_t pid = fork();
    if (pid != 0) return pid;
    char go;
    if (read(start_fd, &go, 1) != 1) _exit(90);
    for (int i = 0; i < 4000; i++) {
        struct stat sb;
        if (stat(path, &sb) != 0) continue;
        store_error err;
        store *s = store_open(path, STORE_OPEN_READONLY, &err);
        if (!s) {
            fprintf(stderr, "reader: %s\n", err.msg);
            _exit(1);
        }
        store_conn *c = store_connect(s, &err);
        chain_config cfg;
        bool ok = c && store_get_chain_config(c, &cfg, &err) && cfg.chain_id == 1337;
        if (c) store_disconnect(c);
        store_close(s);
        if (!ok) {
            fprintf(stderr, "reader: %s\n", err.msg);
            _exit(2);
        }
        _exit(0);
    }
    _exit(0);
}

static bool file_has(const char *path, const char *text)
{
    char buf[4096] = {0};
    FILE *f = fopen(path, "r");
    if (!f) return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return strstr(buf, text) != NULL;
}

START_TEST(test_concurrent_inits)
{
    test_temp_dir(dir, sizeof dir, "jitevm-init");
    for (int round = 0; round < ROUNDS; round++) {
        char path[600], out[INITS][640];
        snprintf(path, sizeof path, "%s/state-%d.db", dir, round);
        int start[2];
        ck_assert_int_eq(pipe(start), 0);
        pid_t pids[INITS + 1];
        for (int i = 0; i < INITS; i++) {
            snprintf(out[i], sizeof out[i], "%s/init-%d-%d.out", dir, round, i);
            pids[i] = spawn_init(path, out[i], start[0]);
            ck_assert_int_ge(pids[i], 0);
        }
        pids[INITS] = spawn_reader(path, start[0]);
        close(start[0]);
        char go[INITS + 1];
        memset(go, 'g', sizeof go);
        ck_assert_int_eq(write(start[1], go, sizeof go), (ssize_t)sizeof go);
        close(start[1]);
        int created = 0, exists = 0;
        for (int i = 0; i <= INITS; i++) {
            int status;
            ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
            ck_assert_msg(WIFEXITED(status), "child %d died (status %d)", i, status);
            int rc = WEXITSTATUS(status);
            if (i == INITS) {
                ck_assert_msg(rc == 0, "a reader saw a half-made database (exit %d)", rc);
            } else if (rc == 0) {
                ck_assert(file_has(out[i], "created "));
                created++;
            } else {
                ck_assert_msg(rc == 1 && file_has(out[i], "already exists"), "init %d: exit %d", i, rc);
                exists++;
            }
        }
        ck_assert_int_eq(created, 1);
        ck_assert_int_eq(exists, INITS - 1);
        /* The database is whole, and no temporary file is left beside it. */
        store_error err;
        store *s = store_open(path, STORE_OPEN_EXISTING, &err);
        ck_assert_msg(s != NULL, "%s", err.msg);
        store_conn *c = store_connect(s, &err);
        ck_assert_ptr_nonnull(c);
        block_env head;
        ck_assert_msg(store_get_head(c, &head, &err), "%s", err.msg);
        ck_assert_uint_eq(head.number, 0);
        store_disconnect(c);
        store_close(s);
        char cmd[800];
        snprintf(cmd, sizeof cmd, "ls '%s' | grep -c 'state-%d.db.init-'", dir, round);
        FILE *p = popen(cmd, "r");
        int leftovers = -1;
        ck_assert_int_eq(fscanf(p, "%d", &leftovers), 1);
        pclose(p);
        ck_assert_int_eq(leftovers, 0);
    }
    test_remove_dir(dir);
}
END_TEST

/* A lock file that cannot be created (a read-only directory) is a clear
 * error, not a database made without the lock. */
START_TEST(test_init_lock_refused)
{
    test_temp_dir(dir, sizeof dir, "jitevm-init-ro");
    ck_assert_int_eq(chmod(dir, 0555), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(3);
        char path[600], out[640];
        snprintf(path, sizeof path, "%s/state.db", dir);
        snprintf(out, sizeof out, "/tmp/jitevm-init-ro-%ld.out", (long)getpid());
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        char *argv[] = {"init", "--db", path, NULL};
        int rc = cmd_init(3, argv);
        fflush(NULL);
        bool said = file_has(out, "cannot create the lock file");
        unlink(out);
        struct stat sb;
        _exit(rc == 1 && said && stat(path, &sb) != 0 ? 0 : 4);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    test_remove_dir(dir);
}
END_TEST

int main(void)
{
    return TEST_RUN("init_concurrent", TEST_GROUP("init", 120, test_concurrent_inits, test_init_lock_refused));
}
