/* A strict, streaming (pull) JSON reader over a text in memory (typically a
 * mapped file). Nothing is built: the caller walks objects and arrays and
 * takes the values it wants, so an alloc of millions of slots is read in
 * constant memory. RFC 8259 strictly: UTF-8 only, no trailing commas, no
 * comments, no leading zeros in numbers, no control characters in strings.
 *
 * Every function returns false (or -1) on bad input and leaves a message with
 * the line and column in `err`; after an error the reader must not be used. */
#ifndef JITEVM_JSON_READER_H
#define JITEVM_JSON_READER_H

#include <stdbool.h>
#include <stddef.h>

#include "base/types.h"

#define JSON_MAX_DEPTH 256

typedef struct {
    const char *text; /* the whole text, for line/column in messages */
    const char *p;    /* the next unread character */
    const char *end;
    int depth;
    bytebuf key_buf;   /* decoded keys with escapes */
    bytebuf value_buf; /* decoded string values with escapes */
    char err[300];
} json_reader;

enum json_kind {
    JSON_KIND_END, /* no value: end of text, or an error */
    JSON_KIND_OBJECT,
    JSON_KIND_ARRAY,
    JSON_KIND_STRING,
    JSON_KIND_NUMBER,
    JSON_KIND_TRUE,
    JSON_KIND_FALSE,
    JSON_KIND_NULL,
};

void jr_reader_init(json_reader *r, const char *text, size_t len);
void jr_reader_free(json_reader *r);

/* The kind of the next value (after whitespace), without consuming it.
 * JSON_KIND_END with err set when the next character cannot start a value. */
enum json_kind jr_peek(json_reader *r);
/* Sets r->err from a printf format, prefixed with "line L, column C: " for
 * the current position; returns false. */
bool jr_fail(json_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Objects: jr_object_begin consumes '{'; then each jr_object_next
 * returns 1 with the next key (its ':' consumed; the value follows), or 0
 * once '}' is consumed, or -1 on an error. `*first` starts true. The key
 * stays valid until the next key is read. */
bool jr_object_begin(json_reader *r);
int jr_object_next(json_reader *r, bool *first, const char **key, size_t *key_len);

/* Arrays, the same way: 1 when an item follows, 0 after ']'. */
bool jr_array_begin(json_reader *r);
int jr_array_next(json_reader *r, bool *first);

/* A string value, unescaped (may contain NUL bytes when the text escapes
 * one: check the length). Valid until the next string value is read. */
bool jr_string(json_reader *r, const char **s, size_t *len);
/* A number: its text as written (validated against the JSON grammar). */
bool jr_number(json_reader *r, const char **s, size_t *len);
/* Skips one value of any kind, checking it. */
bool jr_skip(json_reader *r);
/* Only whitespace may follow. */
bool jr_end(json_reader *r);

/* Where the reader is: bytes consumed so far (for progress), and the text
 * span of the value at the current position (it is skipped; for re-reading
 * a part of the text later). */
size_t jr_offset(const json_reader *r);
bool jr_value_span(json_reader *r, const char **start, size_t *len);

#endif
