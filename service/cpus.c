#include "cpus.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cpus_within_quota(long long quota_us, long long period_us, int cpus)
{
    if (cpus < 1) cpus = 1;
    if (quota_us <= 0 || period_us <= 0) return cpus;
    long long whole = quota_us / period_us + (quota_us % period_us != 0);
    return whole < cpus ? (int)whole : cpus;
}

bool cpus_parse_cpu_max(const char *text, long long *quota_us, long long *period_us)
{
    char *end;
    if (strncmp(text, "max", 3) == 0 && (text[3] == ' ' || text[3] == '\n' || text[3] == '\0')) {
        *quota_us = -1;
        end = (char *)text + 3;
    } else {
        *quota_us = strtoll(text, &end, 10);
        if (end == text || *quota_us <= 0) return false;
    }
    *period_us = 100000; /* the kernel's default when only the quota is written */
    if (*end == ' ') {
        const char *p = end + 1;
        *period_us = strtoll(p, &end, 10);
        if (end == p || *period_us <= 0) return false;
    }
    return *end == '\0' || *end == '\n';
}

/* The first line of a small file, or false. */
static bool read_line(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f) return false;
    bool ok = fgets(buf, (int)size, f) != NULL;
    fclose(f);
    return ok;
}

/* This process's cgroup path in the hierarchy whose controller list
 * (/proc/self/cgroup's second field) contains `controller` ("" : the
 * unified v2 hierarchy, "0::PATH"). */
static bool cgroup_path(const char *controller, char *path, size_t size)
{
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (!f) return false;
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        char *list = strchr(line, ':'), *rel = list ? strchr(list + 1, ':') : NULL;
        if (!rel) continue;
        *rel++ = '\0';
        list++;
        bool match = !*controller ? !*list : false;
        for (char *save, *c = strtok_r(list, ",", &save); *controller && c && !match; c = strtok_r(NULL, ",", &save))
            match = strcmp(c, controller) == 0;
        if (!match) continue;
        rel[strcspn(rel, "\n")] = '\0';
        found = snprintf(path, size, "%s", strcmp(rel, "/") == 0 ? "" : rel) < (int)size;
    }
    fclose(f);
    return found;
}

int cpus_within_cgroup_v2(const char *root, const char *rel, int cpus, bool *found)
{
    *found = false;
    char at[1024], file[1200], text[128];
    if (snprintf(at, sizeof at, "%s", rel) >= (int)sizeof at) return cpus;
    for (;;) {
        long long quota, period;
        snprintf(file, sizeof file, "%s%s/cpu.max", root, at);
        if (read_line(file, text, sizeof text) && cpus_parse_cpu_max(text, &quota, &period)) {
            *found = true;
            cpus = cpus_within_quota(quota, period, cpus);
        }
        if (!at[0]) return cpus;
        char *slash = strrchr(at, '/');
        if (!slash) return cpus;
        *slash = '\0'; /* the parent ("" : the root) */
    }
}

/* The whole CPUs this process's cgroup quotas leave of `cpus`: v2's
 * cpu.max up the hierarchy, else v1's cfs files (under the process's own
 * cgroup path, then at the mount's root: inside a container the root is
 * the container's group). */
static int cgroup_limit(int cpus)
{
    char rel[900], file[1024], text[128];
    bool found;
    if (cgroup_path("", rel, sizeof rel)) {
        int limited = cpus_within_cgroup_v2("/sys/fs/cgroup", rel, cpus, &found);
        if (found) return limited;
    }
    if (cgroup_path("cpu", rel, sizeof rel)) {
        const char *at[] = {rel, ""};
        for (int i = 0; i < 2; i++) {
            char period[128];
            snprintf(file, sizeof file, "/sys/fs/cgroup/cpu%s/cpu.cfs_quota_us", at[i]);
            if (!read_line(file, text, sizeof text)) continue;
            snprintf(file, sizeof file, "/sys/fs/cgroup/cpu%s/cpu.cfs_period_us", at[i]);
            if (!read_line(file, period, sizeof period)) continue;
            return cpus_within_quota(strtoll(text, NULL, 10), strtoll(period, NULL, 10), cpus);
        }
    }
    return cpus;
}

int cpus_usable(void)
{
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int cpus = online > 0 ? (int)online : 1;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) cpus = CPU_COUNT(&set);
    return cgroup_limit(cpus);
}
