/*
 * Optional accelerator for the loops that pure Python cannot make fast enough: the export
 * section of emscripten C++ builds (duckdb-wasm exports 75,000 names, 7 MB of them), the data
 * segments of Go builds (esbuild has 98,000) and the local declarations of every function body
 * (whether a module uses SIMD; python.wasm has 30 MB of bodies).
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

static PyMethodDef speedups_methods[] = {
    {"read_exports", read_exports, METH_VARARGS, read_exports_doc},
    {"skip_data_segments", skip_data_segments, METH_VARARGS, skip_data_segments_doc},
    {"scan_body_locals", scan_body_locals, METH_VARARGS, scan_body_locals_doc},
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
