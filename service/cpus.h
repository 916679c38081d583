/* How many CPUs this process may use: what thread pools are sized by. */
#ifndef JITEVM_CPUS_H
#define JITEVM_CPUS_H

#include <stdbool.h>

/* The CPUs the process may run on (its affinity mask: taskset, a
 * container's cpuset), at most the whole-CPU ceiling of its cgroup's CPU
 * quota (a container's --cpus, a Kubernetes CPU limit, a systemd slice's
 * CPUQuota: cgroup v2 cpu.max, its own group's and every ancestor's, or v1
 * cpu.cfs_quota_us), at least 1. The online CPU count, which a
 * process confined to 2 of a 32-CPU node also sees, is only the fallback. */
int cpus_usable(void);

/* A quota of `quota_us` per `period_us` on `cpus` CPUs: the whole CPUs it
 * amounts to, rounded up (1.5 CPUs of time keeps 2 threads busy), within
 * 1..cpus. No quota (quota_us <= 0, period_us <= 0): cpus. */
int cpus_within_quota(long long quota_us, long long period_us, int cpus);

/* `cpus` within the cpu.max quotas of cgroup v2 group `rel` ("/a/b"; "" the
 * root) and each of its ancestors, under the hierarchy mounted at `root`:
 * the tightest whole-CPU ceiling. *found: some level had a cpu.max. */
int cpus_within_cgroup_v2(const char *root, const char *rel, int cpus, bool *found);

/* cgroup v2's cpu.max ("max 100000", "150000 100000"): true with the quota
 * (-1 for "max") and period; false when the text is neither. */
bool cpus_parse_cpu_max(const char *text, long long *quota_us, long long *period_us);

#endif
