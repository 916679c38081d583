/* Running a compiled program, and the names the tier answers to (engines,
 * targets). jit_run sets up the jit_ctx compiled code works from: the stack
 * (the frame's buffer, the same one the interpreter uses, so a hand-over
 * moves nothing), the gas, the program's jump table and code, the abort
 * flag; when the code hands the frame over (JIT_DEOPT) the interpreter
 * continues at ctx.deopt_pc with the stack up to ctx.sp. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "jit/jit_internal.h"

static const char *const engine_names[] = {[ENGINE_INTERP] = "interp", [ENGINE_JIT] = "jit", [ENGINE_TIERED] = "tiered"};

bool engine_parse(const char *name, enum engine *out)
{
    for (int i = 0; i < 3; i++) {
        if (strcmp(name, engine_names[i]) == 0) {
            *out = (enum engine)i;
            return true;
        }
    }
    return false;
}

const char *engine_name(enum engine e) { return e >= ENGINE_INTERP && e <= ENGINE_TIERED ? engine_names[e] : "interp"; }

bool jit_supported(void)
{
#if defined(__x86_64__) && defined(__linux__)
    return true;
#else
    return false;
#endif
}

static char targets[FORK_COUNT][48];
static pthread_once_t targets_once = PTHREAD_ONCE_INIT;

static void make_targets(void)
{
    for (int f = 0; f < FORK_COUNT; f++) snprintf(targets[f], sizeof targets[f], "x86_64-sysv/%s", fork_name(f));
}

const char *jit_target(enum fork f)
{
    pthread_once(&targets_once, make_targets);
    return targets[f];
}

enum exec_status jit_run(frame *f, const jit_program *p, bool *deopted)
{
    static const atomic_int no_abort = 0;
    u256 *bottom = frame_stack(f->buffers) - 1;
    jit_ctx ctx = {
        .sp = bottom,
        .gas = f->gas,
        .stack_bottom = bottom,
        .jump_table = p->image.jump_table,
        .native = p->image.native,
        .abort_flag = f->e->abort_flag ? f->e->abort_flag : &no_abort,
    };
    enum exec_status status = p->entry(&ctx, f, jit_helper_table);
    if ((int)status != JIT_DEOPT) return status;
    *deopted = true;
    return interp_run_from(f, ctx.deopt_pc, (size_t)(ctx.sp - bottom));
}
