/* The everyday loop of rocketpy/store/reader.py's read_queue in C, for the pull fast path (issue 12).
 *
 * collect() walks a consume queue's entries from a pull's offset as read_queue does (Java's
 * DefaultMessageStore.getMessage: isTheBatchFull's limits, the tags-code filter of a TAG subscription) and copies
 * the records it takes, which all lie in one commit-log file, into one bytes object: the body of the pull's reply.
 * At the first entry it is not sure about (a filler, a record outside the given file or not yet written, a size
 * that is not positive, a tags code set it cannot hold) it returns None and the caller reads the queue with the
 * Python loop, which judges every case as it always did: nothing is changed by a call, so starting over is free.
 * tests/unit/store/test_read_native.py compares the two on random queues.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define UNIT_SIZE 20
#define INT_MAX32 2147483647
#define MAX_CODES 64

static int64_t be64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
    return (int64_t)v;
}

static int32_t be32(const unsigned char *p) {
    return (int32_t)(((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3]);
}

/* tags_matcher's `matches`: the code itself, or (outside int32) its intValue, is one of the subscription's. */
static int code_wanted(int64_t code, const int64_t *codes, Py_ssize_t ncodes) {
    for (Py_ssize_t i = 0; i < ncodes; i++)
        if (codes[i] == code) return 1;
    if (code >= -2147483648LL && code <= 2147483647LL) return 0;
    int64_t low = (int64_t)(int32_t)(uint32_t)(uint64_t)code;
    for (Py_ssize_t i = 0; i < ncodes; i++)
        if (codes[i] == low) return 1;
    return 0;
}

PyDoc_STRVAR(collect_doc,
             "collect(entries, limit, codes, log_view, log_from, log_end, log_wrote, max_py, memory, max_nums,\n"
             "        mem_bytes, mem_count, disk_bytes, disk_count)\n"
             "-> (entries consumed, records taken, their total size, the last scanned record's commit-log offset,\n"
             "    the records joined) or None where reader.read_queue must decide.");

static PyObject *collect(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 14) {
        PyErr_SetString(PyExc_TypeError, "collect() takes 14 arguments");
        return NULL;
    }
    long long v[11];
    for (int i = 0; i < 11; i++) /* limit, then log_from .. disk_count (args 4..13); no call with an error set */
        if ((v[i] = PyLong_AsLongLong(args[i == 0 ? 1 : i + 3])) == -1 && PyErr_Occurred()) return NULL;
    long long limit = v[0], log_from = v[1], log_end = v[2], log_wrote = v[3], max_py = v[4], memory = v[5];
    long long max_nums = v[6], mem_bytes = v[7], mem_count = v[8], disk_bytes = v[9], disk_count = v[10];

    int64_t codes[MAX_CODES];
    Py_ssize_t ncodes = -1; /* -1: every code matches */
    PyObject *code_set = args[2];
    if (code_set != Py_None) { /* exactly a set (a subclass could iterate more codes than its size says) */
        if (!(PyFrozenSet_CheckExact(code_set) || PySet_CheckExact(code_set)) || PySet_GET_SIZE(code_set) > MAX_CODES)
            Py_RETURN_NONE;
        ncodes = 0;
        PyObject *it = PyObject_GetIter(code_set);
        if (it == NULL) return NULL;
        PyObject *key;
        int usable = 1;
        while (usable && ncodes < MAX_CODES && (key = PyIter_Next(it)) != NULL) {
            int overflow = 0;
            long long c = PyLong_Check(key) ? PyLong_AsLongLongAndOverflow(key, &overflow) : 0;
            if (!PyLong_Check(key) || overflow || (c == -1 && PyErr_Occurred())) usable = 0;
            else codes[ncodes++] = c;
            Py_DECREF(key);
        }
        Py_DECREF(it);
        if (PyErr_Occurred()) {
            if (!usable) PyErr_Clear();
            else return NULL;
        }
        if (!usable) Py_RETURN_NONE;
    }

    /* Offsets are never negative (what read_queue would make of them is left to it): every difference below then
     * stays within int64, as Python's integers compute it. */
    if (log_from < 0 || log_end < log_from || max_py < 0) Py_RETURN_NONE;

    Py_buffer eb, lb;
    if (PyObject_GetBuffer(args[0], &eb, PyBUF_SIMPLE) < 0) return NULL;
    if (PyObject_GetBuffer(args[3], &lb, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&eb);
        return NULL;
    }
    PyObject *result = NULL;
    const unsigned char *e = eb.buf;
    const unsigned char *log = lb.buf;
    if (limit > eb.len) limit = eb.len;
    if (limit < 0) limit = 0;
    if (log_wrote > lb.len) log_wrote = lb.len;
    if (log_wrote < 0) log_wrote = 0; /* no record is written in either case (its size is positive) */
    Py_ssize_t units = (Py_ssize_t)(limit / UNIT_SIZE);
    long long total = 0, count = 0, max_pulling = 0;
    Py_ssize_t n = 0;
    int unsure = 0;
    for (Py_ssize_t i = 0; i < units; i++) {
        const unsigned char *u = e + i * UNIT_SIZE;
        int64_t phys = be64(u);
        int32_t size = be32(u + 8);
        int64_t code = be64(u + 12);
        n++;
        if ((phys == 0 && size == INT_MAX32) || phys < 0) { /* a filler: read_queue skips it, and decides */
            unsure = 1;
            break;
        }
        max_pulling = phys;
        if (total && count) { /* isTheBatchFull */
            if (max_nums <= count) {
                n--;
                break;
            }
            if (max_py - phys > memory) {
                if (total + size > disk_bytes || count >= disk_count) { /* count > disk_count - 1 */
                    n--;
                    break;
                }
            } else if (total + size > mem_bytes || count >= mem_count) {
                n--;
                break;
            }
        }
        if (ncodes >= 0 && !code_wanted(code, codes, ncodes)) continue;
        if (phys < log_from || phys >= log_end || size <= 0 || size > log_wrote - (phys - log_from)) {
            unsure = 1; /* another file, a record gone or not written: read_queue's file lookups decide */
            break;
        }
        total += size;
        count++;
    }
    if (unsure) {
        result = Py_None;
        Py_INCREF(result);
        goto done;
    }
    PyObject *body = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)total);
    if (body == NULL) goto done;
    char *out = PyBytes_AS_STRING(body);
    long long taken = 0;
    for (Py_ssize_t i = 0; i < n && taken < count; i++) { /* the same entries again, copying what was taken */
        const unsigned char *u = e + i * UNIT_SIZE;
        int64_t phys = be64(u);
        int32_t size = be32(u + 8);
        if (ncodes >= 0 && !code_wanted(be64(u + 12), codes, ncodes)) continue;
        memcpy(out, log + (phys - log_from), (size_t)size);
        out += size;
        taken++;
    }
    result = Py_BuildValue("(nLLLN)", n, count, total, max_pulling, body);
done:
    PyBuffer_Release(&lb);
    PyBuffer_Release(&eb);
    return result;
}

static PyMethodDef methods[] = {
    {"collect", (PyCFunction)(void (*)(void))collect, METH_FASTCALL, collect_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_readpath", "A pull's consume-queue walk, in C.", -1,
                                    methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__readpath(void) { return PyModule_Create(&module); }
