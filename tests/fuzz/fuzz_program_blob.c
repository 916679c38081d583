/* libFuzzer harness for the compiled-program blob loader
 * (core/jit/jit_blob.c's jit_blob_to_image): the bytes a program store row
 * holds, which the loader must check before anything is mapped.
 *
 * Input: byte 0 picks the mode and the fork; bytes 1..2 the length of the
 * EVM code that follows (at most 512 bytes); the rest is either
 *   mode 0: a whole blob, as stored, or
 *   mode 1: edits (offset, xor byte pairs) applied to the blob this build
 *           compiles for the code, so that mutations reach past the header.
 * Checked: no crash or sanitizer report; a blob that loads names exactly
 * the code's JUMPDESTs with offsets inside its native code, and stores back
 * to the very same bytes (the loader accepts no blob it could not have
 * written); an unedited blob of this build always loads. Nothing is mapped
 * executable here: the harness checks what the loader lets through.
 * Build and run: make fuzz. */
#include <stdlib.h>
#include <string.h>

#include "base/keccak.h"
#include "jit/jit_internal.h"
#include "state/state.h"

static const enum fork forks[] = {FORK_LONDON, FORK_SHANGHAI, FORK_CANCUN, FORK_PRAGUE};

static void check_loaded(const uint8_t *blob, size_t len, const code_info *ci, enum fork f, const jit_image *img)
{
    if (img->code_len != ci->code_len || img->native_len == 0) abort();
    for (size_t pc = 0; pc < img->code_len; pc++) {
        int32_t at = img->jump_table[pc];
        if (at < 0 || (size_t)at >= img->native_len || (at != 0) != code_is_jumpdest(ci, pc)) abort();
    }
    size_t back_len;
    uint8_t *back = jit_blob_from_image(img, f, &back_len);
    if (back_len != len || memcmp(back, blob, len) != 0) abort();
    free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    bool edit = data[0] & 1;
    enum fork f = forks[(data[0] >> 1) % (sizeof forks / sizeof forks[0])];
    size_t code_len = ((size_t)data[1] | (size_t)data[2] << 8) % 513;
    data += 3, size -= 3;
    if (code_len > size) code_len = size;
    hash32 h;
    keccak256(data, code_len, h.b);
    code_info *ci = code_info_new(data, code_len, &h);
    const uint8_t *rest = data + code_len;
    size_t rest_len = size - code_len;

    uint8_t *blob = NULL;
    size_t len = 0;
    if (!edit) {
        blob = malloc(rest_len ? rest_len : 1);
        memcpy(blob, rest, rest_len);
        len = rest_len;
    } else {
        jit_image compiled;
        if (!jit_compile(ci, f, &compiled)) goto done; /* too large, or left to the interpreter */
        blob = jit_blob_from_image(&compiled, f, &len);
        jit_image_free(&compiled);
        jit_image img;
        if (!jit_blob_to_image(blob, len, ci, f, &img)) abort(); /* this build's own blob */
        check_loaded(blob, len, ci, f, &img);
        jit_image_free(&img);
        for (size_t i = 0; i + 2 < rest_len; i += 3) {
            size_t at = ((size_t)rest[i] | (size_t)rest[i + 1] << 8) % len;
            blob[at] ^= rest[i + 2];
        }
    }
    jit_image img;
    if (jit_blob_to_image(blob, len, ci, f, &img)) {
        check_loaded(blob, len, ci, f, &img);
        jit_image_free(&img);
    }
done:
    free(blob);
    code_info_free(ci);
    return 0;
}
