/* The hard forks, in activation order. Comparisons like `fork >= FORK_BERLIN`
 * express "rule X applies from fork Y on". */
#ifndef JITEVM_FORK_H
#define JITEVM_FORK_H

enum fork {
    FORK_FRONTIER,
    FORK_HOMESTEAD,
    FORK_TANGERINE_WHISTLE, /* EIP-150 */
    FORK_SPURIOUS_DRAGON,   /* EIP-155, 160, 161, 170 */
    FORK_BYZANTIUM,
    FORK_CONSTANTINOPLE,
    FORK_PETERSBURG, /* "ConstantinopleFix" in the test fixtures */
    FORK_ISTANBUL,
    FORK_BERLIN,
    FORK_LONDON,
    FORK_PARIS, /* "Merge" */
    FORK_SHANGHAI,
    FORK_CANCUN,
    FORK_PRAGUE,
    FORK_OSAKA,
    FORK_COUNT
};

/* Returns the fork for a name as used by the fixtures and geth
 * ("Frontier", "ConstantinopleFix", "Petersburg", "Merge", "Paris", ...),
 * case-insensitively, or -1 when unknown. */
int fork_from_name(const char *name);
/* The canonical fixture name of a fork ("ConstantinopleFix" for Petersburg). */
const char *fork_name(enum fork f);

#endif
