/*
 * Optional accelerator for the loops that pure Python cannot make fast enough: the export
 * section of emscripten C++ builds (duckdb-wasm exports 75,000 names, 7 MB of them), the data
 * segments of Go builds (esbuild has 98,000), the local declarations of every function body
 * (whether a module uses SIMD; python.wasm has 30 MB of bodies) and the instructions of the bodies of
 * modules with exception tags or atomics (which exception-handling proposal; atomics on unshared memory).
 *
 * Contract (the Python side, macwasm/wasm/core.py, relies on every point):
 *  - read only: the buffer is borrowed read-only for the duration of the call and never written;
 *  - every byte read is checked against `end` first; `end` is checked against the buffer's length;
 *  - it decodes only usual entries; on anything else it says so (read_exports returns None,
 *    skip_data_segments returns how far it got) and the exact Python reader takes over, applying
 *    every rule and reporting the offset of the fault;
 *  - it never raises for bad input (only for wrong argument types, a programming error).
 * The pure-Python path stays the reference: tests compare both on the spec suites, the samples,
 * the fuzz corpus and random sections, and MACWASM_NO_SPEEDUPS=1 turns this module off.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* Unsigned LEB128 u32 by the spec's rules: at most 5 bytes, the unused bits of the 5th byte zero.
 * Returns 0 and advances *p on success, -1 if the bytes end or break a rule. */
static int
read_u32(const unsigned char **p, const unsigned char *end, unsigned long *out)
{
    const unsigned char *q = *p;
    unsigned long value = 0;
    int shift = 0;
    for (int i = 0; i < 5; i++) {
        if (q >= end) {
            return -1;
        }
        unsigned char b = *q++;
        if (i == 4 && (b & 0xF0) != 0) {
            return -1; /* more than 32 bits, or a 6th byte announced */
        }
        value |= (unsigned long)(b & 0x7F) << shift;
        if (b < 0x80) {
            *p = q;
            *out = value;
            return 0;
        }
        shift += 7;
    }
    return -1;
}

PyDoc_STRVAR(read_exports_doc,
"read_exports(data, pos, end, count, max_name, export_type, kind_names) -> (list, pos, kinds) or None\n\n"
"Decode `count` export entries from data[pos:end]. None means: not the usual entries (a name longer\n"
"than max_name bytes included), or malformed; let the exact reader decide. `export_type` is a tuple\n"
"subclass built from (name, kind name); kind_names[k] names kind byte k. `kinds` has bit k set when\n"
"some export has kind byte k.");

static PyObject *
read_exports(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *data;
    Py_ssize_t pos, end, count, max_name;
    PyTypeObject *export_type;
    PyObject *kind_names;
    if (!PyArg_ParseTuple(args, "OnnnnO!O!", &data, &pos, &end, &count, &max_name, &PyType_Type, &export_type,
                          &PyTuple_Type, &kind_names)) {
        return NULL;
    }
    /* a tuple subclass with no instance dict or other slots: untracking its instances below is safe */
    if (!PyType_IsSubtype(export_type, &PyTuple_Type) || export_type->tp_dictoffset != 0
        || export_type->tp_basicsize != PyTuple_Type.tp_basicsize) {
        PyErr_SetString(PyExc_TypeError, "export_type must be a tuple subclass without __dict__ or slots");
        return NULL;
    }
    Py_ssize_t n_kinds = PyTuple_GET_SIZE(kind_names);
    if (n_kinds > 32) { /* `kinds` is a bit set in an unsigned long, at least 32 bits everywhere */
        PyErr_SetString(PyExc_ValueError, "at most 32 kind names");
        return NULL;
    }
    for (Py_ssize_t k = 0; k < n_kinds; k++) {
        if (!PyUnicode_Check(PyTuple_GET_ITEM(kind_names, k))) {
            PyErr_SetString(PyExc_TypeError, "kind_names must hold str");
            return NULL;
        }
    }
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) != 0) {
        return NULL;
    }
    PyObject *result = NULL;
    PyObject *list = NULL;
    /* each entry takes at least 3 bytes (length, kind, index): a larger count cannot fit */
    if (pos < 0 || end < pos || end > view.len || count < 0 || count > (end - pos) / 3 || max_name < 0) {
        result = Py_None; /* cannot hold `count` entries: the exact reader reports where it ends */
        Py_INCREF(result);
        goto done;
    }
    list = PyList_New(count);
    if (list == NULL) {
        goto done;
    }
    const unsigned char *base = (const unsigned char *)view.buf;
    const unsigned char *p = base + pos;
    const unsigned char *stop = base + end;
    unsigned long kinds_seen = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        unsigned long length, index;
        if (read_u32(&p, stop, &length) != 0 || length > (unsigned long)max_name
            || length > (unsigned long)(stop - p)) {
            goto fallback;
        }
        const unsigned char *name_at = p;
        p += length;
        if (p >= stop || *p >= n_kinds) {
            goto fallback;
        }
        unsigned char kind = *p++;
        kinds_seen |= 1UL << kind;
        if (read_u32(&p, stop, &index) != 0) {
            goto fallback;
        }
        PyObject *name = PyUnicode_DecodeUTF8((const char *)name_at, (Py_ssize_t)length, "strict");
        if (name == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
                goto done; /* out of memory: a real error */
            }
            PyErr_Clear();
            goto fallback;
        }
        /* what tuple.__new__(export_type, (name, kind)) does, without the temporary tuple */
        PyObject *entry = export_type->tp_alloc(export_type, 2);
        if (entry == NULL) {
            Py_DECREF(name);
            goto done;
        }
        PyObject *kind_name = PyTuple_GET_ITEM(kind_names, kind);
        Py_INCREF(kind_name);
        PyTuple_SET_ITEM(entry, 0, name);
        PyTuple_SET_ITEM(entry, 1, kind_name);
        /* Two str and nothing else: it can be part of no reference cycle, so the garbage collector
         * has nothing to find in it. CPython untracks such plain tuples itself during a collection,
         * but not instances of tuple subclasses; left tracked, 75,000 of them made full collections
         * run during this loop and tripled its time. Untracking can only keep garbage alive, never
         * free something in use, and there is no cycle here to keep. */
        PyObject_GC_UnTrack(entry);
        PyList_SET_ITEM(list, i, entry);
    }
    result = Py_BuildValue("(Onk)", list, (Py_ssize_t)(p - base), kinds_seen);
    goto done;

fallback:
    result = Py_None;
    Py_INCREF(result);
done:
    Py_XDECREF(list); /* a partly filled list is fine to free: unset items are NULL */
    PyBuffer_Release(&view);
    return result;
}

PyDoc_STRVAR(skip_data_segments_doc,
"skip_data_segments(data, pos, end, count) -> (pos, done)\n\n"
"Skip usual data segments from data[pos:end], at most `count`: active ones for memory 0 (flags 0,\n"
"i32.const with a LEB128 of at most 4 bytes, end) and passive ones (flags 1), each with its bytes\n"
"inside `end`. Stops at the first other segment, or at anything malformed, and returns where it\n"
"stopped and how many it skipped; the exact reader takes it from there.");

static PyObject *
skip_data_segments(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *data;
    Py_ssize_t pos, end, count;
    if (!PyArg_ParseTuple(args, "Onnn", &data, &pos, &end, &count)) {
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) != 0) {
        return NULL;
    }
    Py_ssize_t done = 0;
    if (pos < 0 || end < pos || end > view.len || count < 0) {
        goto out; /* nothing skipped: the exact reader reports */
    }
    const unsigned char *base = (const unsigned char *)view.buf;
    const unsigned char *p = base + pos;
    const unsigned char *stop = base + end;
    while (done < count) {
        const unsigned char *q = p;
        if (q >= stop || *q > 0x01) {
            break; /* flags 2 (explicit memory), a longer LEB128 or the end: not usual */
        }
        if (*q++ == 0x00) { /* active: i32.const <offset> end */
            if (q >= stop || *q++ != 0x41) {
                break;
            }
            int i = 0;
            while (i < 3 && q < stop && *q >= 0x80) { /* at most 3 continuation bytes */
                q++;
                i++;
            }
            if (q >= stop || *q >= 0x80) {
                break;
            }
            q++;
            if (q >= stop || *q++ != 0x0B) {
                break;
            }
        }
        unsigned long length;
        if (read_u32(&q, stop, &length) != 0 || length > (unsigned long)(stop - q)) {
            break;
        }
        p = q + length;
        done++;
    }
    pos = p - base;
out:
    PyBuffer_Release(&view);
    return Py_BuildValue("(nn)", pos, done);
}

PyDoc_STRVAR(scan_body_locals_doc,
"scan_body_locals(data, pos, end, count) -> (pos, done, v128)\n\n"
"Walk at most `count` function bodies from data[pos:end], reading only their local declarations\n"
"(numeric types, funcref, externref) and skipping the code by size; stop after the first body that\n"
"declares a v128 local (v128 true). Stops at the first other body, or at anything malformed, and\n"
"returns where it stopped and how many bodies it walked; the exact reader takes it from there.");

static PyObject *
scan_body_locals(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *data;
    Py_ssize_t pos, end, count;
    if (!PyArg_ParseTuple(args, "Onnn", &data, &pos, &end, &count)) {
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) != 0) {
        return NULL;
    }
    Py_ssize_t done = 0;
    int v128 = 0;
    if (pos < 0 || end < pos || end > view.len || count < 0) {
        goto out; /* nothing walked: the exact reader reports */
    }
    const unsigned char *base = (const unsigned char *)view.buf;
    const unsigned char *p = base + pos;
    const unsigned char *stop = base + end;
    while (done < count && !v128) {
        const unsigned char *q = p;
        unsigned long size, groups;
        if (read_u32(&q, stop, &size) != 0 || size > (unsigned long)(stop - q)) {
            break;
        }
        const unsigned char *body_end = q + size;
        if (read_u32(&q, body_end, &groups) != 0) {
            break;
        }
        unsigned long g = 0;
        for (; g < groups; g++) {
            unsigned long n;
            if (read_u32(&q, body_end, &n) != 0 || q >= body_end) {
                break;
            }
            unsigned char t = *q++;
            if (t == 0x7B) {
                v128 = 1;
            } else if (!(t >= 0x7C && t <= 0x7F) && t != 0x70 && t != 0x6F) {
                break; /* a reference type with a heap type, or malformed: not usual */
            }
        }
        if (g < groups) {
            v128 = 0; /* the body was not walked to its end: the exact reader decides */
            break;
        }
        p = body_end;
        done++;
    }
    pos = p - base;
out:
    PyBuffer_Release(&view);
    return Py_BuildValue("(nnO)", pos, done, v128 ? Py_True : Py_False);
}

/* ---- scan_instructions: the instruction families of function bodies (mirrors macwasm/wasm/opcodes.py) ---- */

#define F_LEGACY_EH 1
#define F_CURRENT_EH 2
#define F_ATOMICS 4
#define F_SIMD 8

/* Skip one LEB128 of at most 10 bytes (u32, s33, u64 or s64 alike); -1 past `end`. */
static int
skip_leb(const unsigned char **p, const unsigned char *end)
{
    const unsigned char *q = *p;
    for (int i = 0; i < 10; i++) {
        if (q >= end) {
            return -1;
        }
        if (*q++ < 0x80) {
            *p = q;
            return 0;
        }
    }
    return -1;
}

static int
read_leb_value(const unsigned char **p, const unsigned char *end, unsigned long long *out)
{
    const unsigned char *q = *p;
    unsigned long long value = 0;
    for (int i = 0; i < 10; i++) {
        if (q >= end) {
            return -1;
        }
        unsigned char b = *q++;
        if (i < 9) {
            value |= (unsigned long long)(b & 0x7F) << (7 * i);
        }
        if (b < 0x80) {
            *p = q;
            *out = value;
            return 0;
        }
    }
    return -1;
}

static int
is_short_type(unsigned char b)
{
    switch (b) {
    case 0x40: case 0x7F: case 0x7E: case 0x7D: case 0x7C: case 0x7B: case 0x70: case 0x6F: case 0x6E:
    case 0x6D: case 0x6C: case 0x6B: case 0x6A: case 0x71: case 0x72: case 0x73: case 0x69: case 0x74:
    case 0x68: case 0x75:
        return 1;
    default:
        return 0;
    }
}

static int
skip_heap_type(const unsigned char **p, const unsigned char *end)
{
    if (*p >= end) {
        return -1;
    }
    if (is_short_type(**p)) {
        (*p)++;
        return 0;
    }
    if (**p == 0x62) { /* exact */
        (*p)++;
    }
    return skip_leb(p, end);
}

static int
skip_value_type(const unsigned char **p, const unsigned char *end)
{
    if (*p >= end) {
        return -1;
    }
    unsigned char b = **p;
    if (is_short_type(b)) {
        (*p)++;
        return 0;
    }
    if (b == 0x63 || b == 0x64) {
        (*p)++;
        return skip_heap_type(p, end);
    }
    return -1;
}

static int
skip_block_type(const unsigned char **p, const unsigned char *end)
{
    if (*p >= end) {
        return -1;
    }
    unsigned char b = **p;
    if (is_short_type(b)) {
        (*p)++;
        return 0;
    }
    if (b == 0x63 || b == 0x64) {
        (*p)++;
        return skip_heap_type(p, end);
    }
    return skip_leb(p, end); /* a type index */
}

static int
skip_memarg(const unsigned char **p, const unsigned char *end)
{
    unsigned long long align;
    if (read_leb_value(p, end, &align) != 0) {
        return -1;
    }
    if ((align & 0x40) && skip_leb(p, end) != 0) {
        return -1;
    }
    return skip_leb(p, end);
}

static int
skip_n(const unsigned char **p, const unsigned char *end, int n)
{
    for (int i = 0; i < n; i++) {
        if (skip_leb(p, end) != 0) {
            return -1;
        }
    }
    return 0;
}

static int
skip_bytes(const unsigned char **p, const unsigned char *end, Py_ssize_t n)
{
    if (end - *p < n) {
        return -1;
    }
    *p += n;
    return 0;
}

/* GC (0xFB) sub-opcodes: index immediates, -1 for the heap-type forms, -2 unknown */
static int
gc_indices(unsigned long long sub)
{
    static const signed char table[31] = {1, 1, 2, 2, 2, 2, 1, 1, 2, 2, 2, 1, 1, 1, 1, 0,
                                          1, 2, 2, 2, -1, -1, -1, -1, -3, -3, 0, 0, 0, 0, 0};
    return sub < 31 ? table[sub] : -2;
}

static int
misc_indices(unsigned long long sub)
{
    static const signed char table[23] = {0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 2, 1, 2, 1, 2, 1, 1, 1, -2, 0, 0, 0, 0};
    return sub < 23 ? table[sub] : -2;
}

/* One body from its local declarations to `end`; the flag bits, or -1 when not decodable. */
static int
scan_body(const unsigned char *p, const unsigned char *end)
{
    unsigned long long groups, n, sub;
    int bits = 0;
    if (read_leb_value(&p, end, &groups) != 0) {
        return -1;
    }
    for (unsigned long long g = 0; g < groups; g++) {
        if (skip_leb(&p, end) != 0 || skip_value_type(&p, end) != 0) {
            return -1;
        }
    }
    while (p < end) {
        unsigned char op = *p++;
        int r = 0;
        switch (op) {
        case 0x06: case 0x07: case 0x09: case 0x18: case 0x19:
            bits |= F_LEGACY_EH;
            break;
        default:
            break;
        }
        if ((op >= 0x45 && op <= 0xC4) || op == 0x00 || op == 0x01 || op == 0x05 || op == 0x0B || op == 0x0F ||
            op == 0x19 || op == 0x1A || op == 0x1B || op == 0xD1 || op == 0xD3 || op == 0xD4) {
            continue;
        }
        if (op >= 0x28 && op <= 0x3E) { /* loads and stores: a memarg */
            if (skip_memarg(&p, end) != 0) {
                return -1;
            }
            continue;
        }
        switch (op) {
        case 0x0A:
            bits |= F_CURRENT_EH;
            break;
        case 0x07: case 0x08: case 0x09: case 0x0C: case 0x0D: case 0x10: case 0x12: case 0x14: case 0x15:
        case 0x18: case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: case 0x25: case 0x26: case 0x3F:
        case 0x40: case 0x41: case 0x42: case 0xD2: case 0xD5: case 0xD6:
            r = skip_leb(&p, end);
            break;
        case 0x02: case 0x03: case 0x04: case 0x06:
            r = skip_block_type(&p, end);
            break;
        case 0x11: case 0x13:
            r = skip_n(&p, end, 2);
            break;
        case 0x0E:
            if (read_leb_value(&p, end, &n) != 0 || n > (unsigned long long)(end - p)) {
                return -1;
            }
            r = skip_n(&p, end, (int)n + 1);
            break;
        case 0x1C:
            if (read_leb_value(&p, end, &n) != 0 || n > (unsigned long long)(end - p)) {
                return -1;
            }
            for (unsigned long long i = 0; i < n && r == 0; i++) {
                r = skip_value_type(&p, end);
            }
            break;
        case 0x1F:
            bits |= F_CURRENT_EH;
            if (skip_block_type(&p, end) != 0 || read_leb_value(&p, end, &n) != 0 ||
                n > (unsigned long long)(end - p)) {
                return -1;
            }
            for (unsigned long long i = 0; i < n && r == 0; i++) {
                if (p >= end || *p > 3) {
                    return -1;
                }
                r = skip_n(&p, end, *p++ < 2 ? 2 : 1);
            }
            break;
        case 0x43:
            r = skip_bytes(&p, end, 4);
            break;
        case 0x44:
            r = skip_bytes(&p, end, 8);
            break;
        case 0xD0:
            r = skip_heap_type(&p, end);
            break;
        case 0xFB: {
            if (read_leb_value(&p, end, &sub) != 0) {
                return -1;
            }
            int k = gc_indices(sub);
            if (k >= 0) {
                r = skip_n(&p, end, k);
            } else if (k == -1) {
                r = skip_heap_type(&p, end);
            } else if (k == -3) { /* br_on_cast(_fail): flags byte, label, two heap types */
                r = skip_bytes(&p, end, 1);
                if (r == 0) r = skip_leb(&p, end);
                if (r == 0) r = skip_heap_type(&p, end);
                if (r == 0) r = skip_heap_type(&p, end);
            } else {
                return -1;
            }
            break;
        }
        case 0xFC: {
            if (read_leb_value(&p, end, &sub) != 0) {
                return -1;
            }
            int k = misc_indices(sub);
            if (k < 0) {
                return -1;
            }
            r = skip_n(&p, end, k);
            break;
        }
        case 0xFD:
            bits |= F_SIMD;
            if (read_leb_value(&p, end, &sub) != 0) {
                return -1;
            }
            if (sub <= 11 || sub == 92 || sub == 93) {
                r = skip_memarg(&p, end);
            } else if (sub == 12 || sub == 13) {
                r = skip_bytes(&p, end, 16);
            } else if (sub >= 21 && sub <= 34) {
                r = skip_bytes(&p, end, 1);
            } else if (sub >= 84 && sub <= 91) {
                r = skip_memarg(&p, end);
                if (r == 0) r = skip_bytes(&p, end, 1);
            } else if (sub > 0x113) {
                return -1;
            }
            break;
        case 0xFE:
            bits |= F_ATOMICS;
            if (read_leb_value(&p, end, &sub) != 0) {
                return -1;
            }
            if (sub == 0x03) {
                r = skip_bytes(&p, end, 1);
            } else if (sub <= 0x02 || (sub >= 0x10 && sub <= 0x4E)) {
                r = skip_memarg(&p, end);
            } else {
                return -1;
            }
            break;
        default:
            return -1;
        }
        if (r != 0) {
            return -1;
        }
    }
    return p == end ? bits : -1;
}

PyDoc_STRVAR(scan_instructions_doc,
"scan_instructions(data, pos, end, count, stop=0) -> int | None\n\n"
"The instruction-family flag bits (1 legacy EH, 2 current EH, 4 atomics, 8 SIMD) of `count` function\n"
"bodies from data[pos:end], or None when a body holds an opcode this decoder does not know or does not\n"
"decode to its end; it returns after the first body whose bits meet `stop` (0: never).\n"
"macwasm/wasm/opcodes.py is the reference.");

static PyObject *
scan_instructions(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *data;
    Py_ssize_t pos, end, count;
    int wanted = 0;
    if (!PyArg_ParseTuple(args, "Onnn|i", &data, &pos, &end, &count, &wanted)) {
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) != 0) {
        return NULL;
    }
    int bits = 0;
    int ok = pos >= 0 && end >= pos && end <= view.len && count >= 0;
    if (ok) {
        const unsigned char *base = (const unsigned char *)view.buf;
        const unsigned char *p = base + pos;
        const unsigned char *stop = base + end;
        for (Py_ssize_t i = 0; i < count && ok; i++) {
            unsigned long size;
            if (read_u32(&p, stop, &size) != 0 || size > (unsigned long)(stop - p)) {
                ok = 0;
                break;
            }
            int b = scan_body(p, p + size);
            if (b < 0) {
                ok = 0;
                break;
            }
            bits |= b;
            p += size;
            if (bits & wanted) {
                break;
            }
        }
    }
    PyBuffer_Release(&view);
    if (!ok) {
        Py_RETURN_NONE;
    }
    return PyLong_FromLong(bits);
}

static PyMethodDef speedups_methods[] = {
    {"read_exports", read_exports, METH_VARARGS, read_exports_doc},
    {"skip_data_segments", skip_data_segments, METH_VARARGS, skip_data_segments_doc},
    {"scan_body_locals", scan_body_locals, METH_VARARGS, scan_body_locals_doc},
    {"scan_instructions", scan_instructions, METH_VARARGS, scan_instructions_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef speedups_module = {
    .m_base = PyModuleDef_HEAD_INIT,
    .m_name = "macwasm.wasm._speedups",
    .m_doc = "Optional C accelerator for the wasm export, data-segment and body-locals walks; see macwasm/wasm/core.py.",
    .m_size = -1,
    .m_methods = speedups_methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModule_Create(&speedups_module);
}
