"""What tests/soak.py and tests/soak_live.py share: the server's RSS and
the rule for its growth."""


def rss_mb(pid):
    """The resident size of process `pid`, in MB (0 when it is gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def rss_after_warmup(samples, seconds):
    """(first, last, grew) of the RSS samples [(t, MB)] taken after the
    warm-up (the first quarter of `seconds`): grew when the last is more
    than 25% and 32 MB over the first."""
    warm = [m for t, m in samples if t >= seconds / 4] or [m for _, m in samples]
    if not warm:
        return 0.0, 0.0, False
    growth = warm[-1] - warm[0]
    return warm[0], warm[-1], growth > 32 and growth > 0.25 * warm[0]
