// A JSON value as {path: leaf}, for comparing two answers field by field
// (compare.mjs, live.mjs, tests/trace/compare.mjs): "a.b.0.c" paths; an
// empty object or array is a leaf of its own ("{}", "[]").
export function flatten(v, prefix = '', out = {}) {
    if (v && typeof v === 'object') {
        const keys = Object.keys(v);
        if (keys.length === 0) out[prefix] = Array.isArray(v) ? '[]' : '{}';
        for (const k of keys) flatten(v[k], prefix ? `${prefix}.${k}` : k, out);
    } else out[prefix] = v;
    return out;
}
