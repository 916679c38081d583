/* The compiler tier's side of the program store (jit_store in jit.h): the
 * hooks the service sets, and saving and loading programs by (code hash,
 * JIT_VERSION, target). The hooks run under the read side of a lock that
 * jit_set_store takes for writing, so once jit_set_store returns no
 * callback of the previous store is running or will run. */
#include <pthread.h>
#include <stdlib.h>

#include "jit/jit_internal.h"

static jit_store store;
static bool have_store;
static pthread_rwlock_t store_lock = PTHREAD_RWLOCK_INITIALIZER;

void jit_set_store(const jit_store *s)
{
    pthread_rwlock_wrlock(&store_lock);
    have_store = s != NULL;
    if (s) store = *s;
    pthread_rwlock_unlock(&store_lock);
}

void jit_store_save(const code_info *ci, enum fork f, const jit_image *img)
{
    pthread_rwlock_rdlock(&store_lock);
    if (have_store) {
        size_t len, cap;
        uint8_t *blob = jit_blob_scratch(img, f, &len, &cap);
        store.save(store.ctx, &ci->code_hash, JIT_VERSION, jit_target(f), blob, len);
        atomic_fetch_add(&jit_count.store_saves, 1);
        jit_scratch_give(JS_BLOB, blob, cap, 1);
    }
    pthread_rwlock_unlock(&store_lock);
}

bool jit_store_load(const code_info *ci, enum fork f, uint8_t **blob, size_t *len)
{
    pthread_rwlock_rdlock(&store_lock);
    bool found = have_store && store.load(store.ctx, &ci->code_hash, JIT_VERSION, jit_target(f), blob, len);
    bool asked = have_store;
    pthread_rwlock_unlock(&store_lock);
    if (!found && asked) atomic_fetch_add(&jit_count.store_misses, 1);
    return found;
}

jit_program *jit_store_load_program(const code_info *ci, enum fork f)
{
    pthread_rwlock_rdlock(&store_lock);
    bool found = false;
    jit_program *p = have_store ? jit_program_load(&store, ci, f, &found) : NULL;
    bool asked = have_store;
    pthread_rwlock_unlock(&store_lock);
    if (asked) atomic_fetch_add(p ? &jit_count.store_hits : &jit_count.store_misses, 1);
    (void)found;
    return p;
}

enum jit_aot_result jit_compile_to_store(const code_info *ci, enum fork f)
{
    uint8_t *blob;
    size_t len;
    if (jit_store_load(ci, f, &blob, &len)) {
        free(blob);
        return JIT_AOT_ALREADY_STORED;
    }
    jit_image img;
    if (!jit_compile(ci, f, &img)) return JIT_AOT_DECLINED;
    jit_store_save(ci, f, &img);
    jit_image_free(&img);
    return JIT_AOT_COMPILED;
}
