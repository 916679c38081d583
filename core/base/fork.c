#include "base/fork.h"

#include <stddef.h>
#include <strings.h>

static const char *const fork_names[FORK_COUNT] = {
    [FORK_FRONTIER] = "Frontier",
    [FORK_HOMESTEAD] = "Homestead",
    [FORK_TANGERINE_WHISTLE] = "EIP150",
    [FORK_SPURIOUS_DRAGON] = "EIP158",
    [FORK_BYZANTIUM] = "Byzantium",
    [FORK_CONSTANTINOPLE] = "Constantinople",
    [FORK_PETERSBURG] = "ConstantinopleFix",
    [FORK_ISTANBUL] = "Istanbul",
    [FORK_BERLIN] = "Berlin",
    [FORK_LONDON] = "London",
    [FORK_PARIS] = "Paris",
    [FORK_SHANGHAI] = "Shanghai",
    [FORK_CANCUN] = "Cancun",
    [FORK_PRAGUE] = "Prague",
    [FORK_OSAKA] = "Osaka",
};

/* Other names the same forks go by in geth, ethereum/tests and EEST. */
static const struct { const char *name; enum fork fork; } fork_aliases[] = {
    {"TangerineWhistle", FORK_TANGERINE_WHISTLE},
    {"SpuriousDragon", FORK_SPURIOUS_DRAGON},
    {"Petersburg", FORK_PETERSBURG},
    {"Merge", FORK_PARIS},
};

int fork_from_name(const char *name)
{
    for (int i = 0; i < FORK_COUNT; i++)
        if (strcasecmp(name, fork_names[i]) == 0) return i;
    for (size_t i = 0; i < sizeof fork_aliases / sizeof fork_aliases[0]; i++)
        if (strcasecmp(name, fork_aliases[i].name) == 0) return (int)fork_aliases[i].fork;
    return -1;
}

const char *fork_name(enum fork f)
{
    return (f >= 0 && f < FORK_COUNT) ? fork_names[f] : "unknown";
}
