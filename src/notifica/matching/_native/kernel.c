/* notifica.matching._native_kernel: the Python face of the native matching kernel.
 *
 * Every function takes its inputs through the buffer protocol (C-contiguous, checked), checks
 * every length and value while holding the GIL, then releases the GIL for the heavy loop, so
 * threads can derive on several cores. Bad input raises TypeError or ValueError naming the
 * argument; nothing here may crash the interpreter.
 *
 *   cpu_features() -> dict
 *   derive_rpiks(key_data, *, accelerated=True) -> bytes                    N × 16
 *   derive_rpis(key_data, rsins, out, *, accelerated=True) -> None          fills N × 2,304
 *   build_index(records) -> index (an opaque capsule; index_nbytes(index) -> int)
 *   match_indexed(records, index, rsins, periods, obs_rpis, obs_intervals) -> bytes
 *   match_scan(records, rsins, periods, obs_rpis, obs_intervals) -> bytes
 *   match_keys(key_data, rsins, periods, obs_rpis, obs_intervals, *, accelerated=True) -> bytes
 *
 * Match results are native-endian uint32 triples (key index, interval, observation index),
 * sorted. key_data and records are bytes-like (item size 1); rsins and periods are int32
 * ('i'); obs_intervals are uint32 ('I').
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdlib.h>
#include <string.h>

#include "nk.h"

static nk_cpu cpu;

/* Keys per GIL-free stretch of match_keys: between stretches Ctrl-C is honoured. */
#define KEYS_PER_CHUNK 65536

static const uint8_t RPIK_INFO[7] = {'E', 'N', '-', 'R', 'P', 'I', 'K'};

static nk_compress_fn pick_compress(int accelerated) {
#if NK_X86
    if (accelerated && cpu.sha && cpu.sse41 && cpu.ssse3) return nk_sha256_compress_shani;
#endif
    (void)accelerated;
    return nk_sha256_compress_portable;
}

static nk_rpis_fn pick_rpis(int accelerated) {
#if NK_X86
    if (accelerated && cpu.aes) return nk_aes_rpis_aesni;
#endif
    (void)accelerated;
    return nk_aes_rpis_portable;
}

/* ---- buffers ---- */

typedef enum { KIND_BYTES, KIND_INT32, KIND_UINT32 } buf_kind;

static int host_is_little_endian(void) {
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

static int format_is(const char *format, char code) {
    if (!format) return code == 'B';
    if (*format == '@' || *format == '=' || (*format == '<' && host_is_little_endian())) format++;
    if (format[0] == code && format[1] == '\0') return 1;
    /* 'l' / 'L' are 4 bytes on some platforms; the item size is checked separately. */
    return format[1] == '\0' && ((code == 'i' && format[0] == 'l') ||
                                 (code == 'I' && format[0] == 'L'));
}

static int get_buffer(PyObject *obj, Py_buffer *view, const char *name, buf_kind kind,
                      int writable) {
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (!PyObject_CheckBuffer(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be a bytes-like object or array, not %.100s",
                     name, Py_TYPE(obj)->tp_name);
        return -1;
    }
    if (PyObject_GetBuffer(obj, view, flags) < 0) {
        if (PyErr_ExceptionMatches(PyExc_BufferError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_ValueError, "%s must be a C-contiguous%s buffer", name,
                         writable ? ", writable" : "");
        }
        return -1;
    }
    const char *why = NULL;
    if (kind == KIND_BYTES && view->itemsize != 1)
        why = "bytes (item size 1)";
    else if (kind == KIND_INT32 && (view->itemsize != 4 || !format_is(view->format, 'i')))
        why = "signed 32-bit integers (array('i'))";
    else if (kind == KIND_UINT32 && (view->itemsize != 4 || !format_is(view->format, 'I')))
        why = "unsigned 32-bit integers (array('I'))";
    if (why) {
        PyErr_Format(PyExc_TypeError, "%s must hold %s, got format '%s' with item size %zd",
                     name, why, view->format ? view->format : "B", view->itemsize);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

#define MAX_BUFFERS 8

typedef struct {
    Py_buffer views[MAX_BUFFERS];
    int count;
} buffers;

static Py_buffer *take(buffers *held, PyObject *obj, const char *name, buf_kind kind,
                       int writable) {
    Py_buffer *view = &held->views[held->count];
    if (get_buffer(obj, view, name, kind, writable) < 0) return NULL;
    held->count++;
    return view;
}

static void release_all(buffers *held) {
    while (held->count > 0) PyBuffer_Release(&held->views[--held->count]);
}

static Py_ssize_t count_of(Py_buffer *view, Py_ssize_t record, const char *name) {
    if (view->len == 0) {
        PyErr_Format(PyExc_ValueError, "%s is empty", name);
        return -1;
    }
    if (view->len % record != 0) {
        PyErr_Format(PyExc_ValueError, "%s must be a multiple of %zd bytes, got %zd", name,
                     record, view->len);
        return -1;
    }
    Py_ssize_t n = view->len / record;
    if ((uint64_t)n > UINT32_MAX) {
        PyErr_Format(PyExc_ValueError, "%s holds %zd records; at most 2^32 - 1 fit one call",
                     name, n);
        return -1;
    }
    return n;
}

static int check_items(Py_buffer *view, Py_ssize_t expected, const char *name) {
    if (view->len / view->itemsize != expected) {
        PyErr_Format(PyExc_ValueError, "%s has %zd entries for %zd keys or observations", name,
                     view->len / view->itemsize, expected);
        return -1;
    }
    return 0;
}

/* Rolling starts must be int32 >= 0 and periods 1..144 (protocol.md §2, §12.5). */
static int check_keys(Py_buffer *rsins, Py_buffer *periods, Py_ssize_t n) {
    if (check_items(rsins, n, "rsins") < 0) return -1;
    const int32_t *r = rsins->buf;
    for (Py_ssize_t i = 0; i < n; i++)
        if (r[i] < 0) {
            PyErr_Format(PyExc_ValueError, "rsins[%zd] = %d is negative", i, (int)r[i]);
            return -1;
        }
    if (!periods) return 0;
    if (check_items(periods, n, "periods") < 0) return -1;
    const int32_t *p = periods->buf;
    for (Py_ssize_t i = 0; i < n; i++)
        if (p[i] < 1 || p[i] > NK_RPIS_PER_KEY) {
            PyErr_Format(PyExc_ValueError, "periods[%zd] = %d is outside 1..144", i, (int)p[i]);
            return -1;
        }
    return 0;
}

static PyObject *matches_to_bytes(nk_matches *m, int failed) {
    PyObject *result = NULL;
    if (failed)
        PyErr_NoMemory();
    else
        result = PyBytes_FromStringAndSize((const char *)m->data,
                                           (Py_ssize_t)(m->count * 3 * sizeof(uint32_t)));
    free(m->data);
    return result;
}

/* An index over the observations, in memory this call owns. */
typedef struct {
    nk_index index;
    uint32_t *offsets;
    nk_entry *entries;
    uint64_t *bitmap;
} owned_index;

static int build_owned(owned_index *oi, const uint8_t *records, uint32_t count) {
    unsigned bits = nk_index_bits_for(count, 1);
    size_t buckets = (size_t)1 << bits;
    oi->offsets = malloc((buckets + 1) * sizeof(uint32_t));
    oi->entries = malloc((size_t)count * sizeof(nk_entry));
    oi->bitmap = malloc(((buckets + 63) / 64) * sizeof(uint64_t));
    if (!oi->offsets || !oi->entries || !oi->bitmap ||
        nk_index_build(records, count, bits, oi->offsets, oi->entries, oi->bitmap) < 0)
        return -1;
    nk_index built = {records, oi->offsets, oi->entries, oi->bitmap, bits};
    oi->index = built;
    return 0;
}

static void free_owned(owned_index *oi) {
    free(oi->offsets);
    free(oi->entries);
    free(oi->bitmap);
}

/* ---- functions ---- */

static PyObject *cpu_features(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    return Py_BuildValue("{s:O,s:O,s:O,s:O,s:O,s:O}", "aes", cpu.aes ? Py_True : Py_False,
                         "sha", cpu.sha ? Py_True : Py_False, "sse41",
                         cpu.sse41 ? Py_True : Py_False, "ssse3", cpu.ssse3 ? Py_True : Py_False,
                         "x86_kernels", NK_X86 ? Py_True : Py_False, "aes_kernel",
                         pick_rpis(1) == nk_aes_rpis_portable ? Py_False : Py_True);
}

static PyObject *derive_rpiks(PyObject *self, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"key_data", "accelerated", NULL};
    PyObject *key_obj;
    int accelerated = 1;
    (void)self;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|$p:derive_rpiks", names, &key_obj,
                                     &accelerated))
        return NULL;
    buffers held = {.count = 0};
    PyObject *out = NULL;
    Py_buffer *keys = take(&held, key_obj, "key_data", KIND_BYTES, 0);
    Py_ssize_t n = keys ? count_of(keys, NK_KEY_LEN, "key_data") : -1;
    if (n >= 0) out = PyBytes_FromStringAndSize(NULL, n * NK_KEY_LEN);
    if (out) {
        nk_compress_fn compress = pick_compress(accelerated);
        const uint8_t *src = keys->buf;
        uint8_t *dst = (uint8_t *)PyBytes_AS_STRING(out);
        Py_BEGIN_ALLOW_THREADS;
        for (Py_ssize_t i = 0; i < n; i++)
            nk_hkdf16(compress, src + i * NK_KEY_LEN, RPIK_INFO, dst + i * NK_KEY_LEN);
        Py_END_ALLOW_THREADS;
    }
    release_all(&held);
    return out;
}

static void derive_range(const uint8_t *keys, const int32_t *rsins, uint8_t *out, size_t n,
                         nk_compress_fn compress, nk_rpis_fn rpis) {
    uint8_t rpik[16];
    for (size_t i = 0; i < n; i++) {
        nk_hkdf16(compress, keys + i * NK_KEY_LEN, RPIK_INFO, rpik);
        rpis(rpik, (uint32_t)rsins[i], out + i * NK_KEY_RPIS_BYTES);
    }
}

static PyObject *derive_rpis(PyObject *self, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"key_data", "rsins", "out", "accelerated", NULL};
    PyObject *key_obj, *rsin_obj, *out_obj;
    int accelerated = 1;
    (void)self;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOO|$p:derive_rpis", names, &key_obj,
                                     &rsin_obj, &out_obj, &accelerated))
        return NULL;
    buffers held = {.count = 0};
    PyObject *result = NULL;
    Py_buffer *keys, *rsins, *out;
    Py_ssize_t n;
    if (!(keys = take(&held, key_obj, "key_data", KIND_BYTES, 0)) ||
        !(rsins = take(&held, rsin_obj, "rsins", KIND_INT32, 0)) ||
        !(out = take(&held, out_obj, "out", KIND_BYTES, 1)) ||
        (n = count_of(keys, NK_KEY_LEN, "key_data")) < 0 || check_keys(rsins, NULL, n) < 0)
        goto done;
    if (out->len != n * NK_KEY_RPIS_BYTES) {
        PyErr_Format(PyExc_ValueError, "out must be %zd bytes (2,304 per key), got %zd",
                     n * NK_KEY_RPIS_BYTES, out->len);
        goto done;
    }
    nk_compress_fn compress = pick_compress(accelerated);
    nk_rpis_fn rpis = pick_rpis(accelerated);
    Py_BEGIN_ALLOW_THREADS;
    derive_range(keys->buf, rsins->buf, out->buf, (size_t)n, compress, rpis);
    Py_END_ALLOW_THREADS;
    result = Py_NewRef(Py_None);
done:
    release_all(&held);
    return result;
}

/* An index lives in a capsule: Python cannot forge or alter it, so a match through it needs
 * no re-validation, and its cost stays proportional to the observations. */
#define INDEX_CAPSULE "notifica.matching._native_kernel.index"

typedef struct {
    uint32_t *offsets;
    nk_entry *entries;
    uint32_t count; /* records indexed */
    unsigned bits;
} capsule_index;

static void free_index(capsule_index *ci) {
    if (ci) {
        free(ci->offsets);
        free(ci->entries);
        free(ci);
    }
}

static void free_capsule_index(PyObject *capsule) {
    free_index(PyCapsule_GetPointer(capsule, INDEX_CAPSULE));
}

static PyObject *build_index(PyObject *self, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"records", NULL};
    PyObject *records_obj;
    (void)self;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O:build_index", names, &records_obj))
        return NULL;
    buffers held = {.count = 0};
    PyObject *result = NULL;
    Py_buffer *records = take(&held, records_obj, "records", KIND_BYTES, 0);
    Py_ssize_t n = records ? count_of(records, NK_RPI_LEN, "records") : -1;
    if (n < 0) goto done;
    capsule_index *ci = calloc(1, sizeof *ci);
    if (ci) {
        ci->count = (uint32_t)n;
        ci->bits = nk_index_bits_for((uint64_t)n, 0);
        ci->offsets = malloc((((size_t)1 << ci->bits) + 1) * sizeof(uint32_t));
        ci->entries = malloc((size_t)n * sizeof(nk_entry));
    }
    if (!ci || !ci->offsets || !ci->entries) {
        free_index(ci);
        PyErr_NoMemory();
        goto done;
    }
    const uint8_t *rec = records->buf;
    int failed;
    Py_BEGIN_ALLOW_THREADS;
    failed = nk_index_build(rec, ci->count, ci->bits, ci->offsets, ci->entries, NULL) < 0;
    Py_END_ALLOW_THREADS;
    if (failed) {
        free_index(ci);
        PyErr_NoMemory();
        goto done;
    }
    result = PyCapsule_New(ci, INDEX_CAPSULE, free_capsule_index);
    if (!result) free_index(ci);
done:
    release_all(&held);
    return result;
}

static PyObject *index_nbytes(PyObject *self, PyObject *capsule) {
    (void)self;
    capsule_index *ci = PyCapsule_GetPointer(capsule, INDEX_CAPSULE);
    if (!ci) return NULL;
    return PyLong_FromSize_t((((size_t)1 << ci->bits) + 1) * sizeof(uint32_t) +
                             (size_t)ci->count * sizeof(nk_entry));
}

/* Observations: obs_rpis (M × 16) and obs_intervals (M uint32). */
static int take_observations(buffers *held, PyObject *rpi_obj, PyObject *interval_obj,
                             Py_buffer **rpis, Py_buffer **intervals, Py_ssize_t *m) {
    if (!(*rpis = take(held, rpi_obj, "obs_rpis", KIND_BYTES, 0)) ||
        !(*intervals = take(held, interval_obj, "obs_intervals", KIND_UINT32, 0)) ||
        (*m = count_of(*rpis, NK_RPI_LEN, "obs_rpis")) < 0 ||
        check_items(*intervals, *m, "obs_intervals") < 0)
        return -1;
    return 0;
}

static PyObject *match_indexed(PyObject *self, PyObject *args) {
    PyObject *records_obj, *capsule, *rsin_obj, *period_obj, *obs_obj, *when_obj;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOOOO:match_indexed", &records_obj, &capsule, &rsin_obj,
                          &period_obj, &obs_obj, &when_obj))
        return NULL;
    capsule_index *ci = PyCapsule_IsValid(capsule, INDEX_CAPSULE)
                            ? PyCapsule_GetPointer(capsule, INDEX_CAPSULE)
                            : NULL;
    if (!ci) {
        PyErr_SetString(PyExc_TypeError, "index must be what build_index returned");
        return NULL;
    }
    buffers held = {.count = 0};
    PyObject *result = NULL;
    Py_buffer *records, *rsins, *periods, *obs, *when;
    Py_ssize_t n, m;
    if (!(records = take(&held, records_obj, "records", KIND_BYTES, 0)) ||
        !(rsins = take(&held, rsin_obj, "rsins", KIND_INT32, 0)) ||
        !(periods = take(&held, period_obj, "periods", KIND_INT32, 0)) ||
        take_observations(&held, obs_obj, when_obj, &obs, &when, &m) < 0 ||
        (n = count_of(records, NK_KEY_RPIS_BYTES, "records")) < 0 ||
        check_keys(rsins, periods, n) < 0)
        goto done;
    if ((uint64_t)n * NK_RPIS_PER_KEY != ci->count) {
        PyErr_Format(PyExc_ValueError, "the index covers %u identifiers, records hold %zd",
                     ci->count, n * NK_RPIS_PER_KEY);
        goto done;
    }
    nk_index index = {records->buf, ci->offsets, ci->entries, NULL, ci->bits};
    nk_rules rules = {rsins->buf, periods->buf, when->buf};
    nk_matches found = {NULL, 0, 0};
    int failed;
    const uint8_t *obs_rpis = obs->buf;
    Py_BEGIN_ALLOW_THREADS;
    failed = nk_match_indexed(&index, &rules, obs_rpis, (uint32_t)m, &found) < 0;
    if (!failed) nk_matches_sort(&found);
    Py_END_ALLOW_THREADS;
    result = matches_to_bytes(&found, failed);
done:
    release_all(&held);
    return result;
}

static PyObject *match_scan(PyObject *self, PyObject *args) {
    PyObject *records_obj, *rsin_obj, *period_obj, *obs_obj, *when_obj;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOOO:match_scan", &records_obj, &rsin_obj, &period_obj,
                          &obs_obj, &when_obj))
        return NULL;
    buffers held = {.count = 0};
    PyObject *result = NULL;
    Py_buffer *records, *rsins, *periods, *obs, *when;
    Py_ssize_t n, m;
    if (!(records = take(&held, records_obj, "records", KIND_BYTES, 0)) ||
        !(rsins = take(&held, rsin_obj, "rsins", KIND_INT32, 0)) ||
        !(periods = take(&held, period_obj, "periods", KIND_INT32, 0)) ||
        take_observations(&held, obs_obj, when_obj, &obs, &when, &m) < 0 ||
        (n = count_of(records, NK_KEY_RPIS_BYTES, "records")) < 0 ||
        check_keys(rsins, periods, n) < 0)
        goto done;
    nk_rules rules = {rsins->buf, periods->buf, when->buf};
    nk_matches found = {NULL, 0, 0};
    owned_index oi = {{0}, NULL, NULL, NULL};
    int failed;
    const uint8_t *rec = records->buf, *obs_rpis = obs->buf;
    Py_BEGIN_ALLOW_THREADS;
    failed = build_owned(&oi, obs_rpis, (uint32_t)m) < 0;
    for (Py_ssize_t k = 0; !failed && k < n; k++)
        failed = nk_match_key(&oi.index, &rules, (uint32_t)k, rec + k * NK_KEY_RPIS_BYTES,
                              &found) < 0;
    free_owned(&oi);
    if (!failed) nk_matches_sort(&found);
    Py_END_ALLOW_THREADS;
    result = matches_to_bytes(&found, failed);
done:
    release_all(&held);
    return result;
}

static PyObject *match_keys(PyObject *self, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"key_data", "rsins",         "periods",     "obs_rpis",
                            "obs_intervals", "accelerated", NULL};
    PyObject *key_obj, *rsin_obj, *period_obj, *obs_obj, *when_obj;
    int accelerated = 1;
    (void)self;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOOO|$p:match_keys", names, &key_obj,
                                     &rsin_obj, &period_obj, &obs_obj, &when_obj, &accelerated))
        return NULL;
    buffers held = {.count = 0};
    PyObject *result = NULL;
    Py_buffer *keys, *rsins, *periods, *obs, *when;
    Py_ssize_t n, m;
    if (!(keys = take(&held, key_obj, "key_data", KIND_BYTES, 0)) ||
        !(rsins = take(&held, rsin_obj, "rsins", KIND_INT32, 0)) ||
        !(periods = take(&held, period_obj, "periods", KIND_INT32, 0)) ||
        take_observations(&held, obs_obj, when_obj, &obs, &when, &m) < 0 ||
        (n = count_of(keys, NK_KEY_LEN, "key_data")) < 0 || check_keys(rsins, periods, n) < 0)
        goto done;
    nk_compress_fn compress = pick_compress(accelerated);
    nk_rpis_fn rpis = pick_rpis(accelerated);
    nk_rules rules = {rsins->buf, periods->buf, when->buf};
    nk_matches found = {NULL, 0, 0};
    owned_index oi = {{0}, NULL, NULL, NULL};
    int failed;
    const uint8_t *key_data = keys->buf, *obs_rpis = obs->buf;
    const int32_t *starts = rsins->buf;
    Py_BEGIN_ALLOW_THREADS;
    failed = build_owned(&oi, obs_rpis, (uint32_t)m) < 0;
    Py_END_ALLOW_THREADS;
    /* Constant memory: one key's 2,304 bytes at a time, in GIL-free chunks of keys. */
    for (Py_ssize_t start = 0; !failed && start < n; start += KEYS_PER_CHUNK) {
        Py_ssize_t end = start + KEYS_PER_CHUNK < n ? start + KEYS_PER_CHUNK : n;
        Py_BEGIN_ALLOW_THREADS;
        uint8_t rpik[16], block[NK_KEY_RPIS_BYTES];
        for (Py_ssize_t k = start; !failed && k < end; k++) {
            nk_hkdf16(compress, key_data + k * NK_KEY_LEN, RPIK_INFO, rpik);
            rpis(rpik, (uint32_t)starts[k], block);
            failed = nk_match_key(&oi.index, &rules, (uint32_t)k, block, &found) < 0;
        }
        Py_END_ALLOW_THREADS;
        if (!failed && PyErr_CheckSignals() < 0) {
            free_owned(&oi);
            free(found.data);
            goto done;
        }
    }
    free_owned(&oi);
    if (!failed) {
        Py_BEGIN_ALLOW_THREADS;
        nk_matches_sort(&found);
        Py_END_ALLOW_THREADS;
    }
    result = matches_to_bytes(&found, failed);
done:
    release_all(&held);
    return result;
}

static PyMethodDef methods[] = {
    {"cpu_features", cpu_features, METH_NOARGS,
     "CPU features detected at load time and whether the accelerated kernels are in use."},
    {"derive_rpiks", (PyCFunction)(void (*)(void))derive_rpiks, METH_VARARGS | METH_KEYWORDS,
     "RPIK = HKDF-SHA256(tek, NULL, 'EN-RPIK', 16) of every 16-byte key."},
    {"derive_rpis", (PyCFunction)(void (*)(void))derive_rpis, METH_VARARGS | METH_KEYWORDS,
     "Writes the 144 RPIs of every key (from its rolling start) into out."},
    {"build_index", (PyCFunction)(void (*)(void))build_index, METH_VARARGS | METH_KEYWORDS,
     "A sorted prefix index over 16-byte records, as an opaque capsule."},
    {"index_nbytes", index_nbytes, METH_O, "Bytes of memory an index holds."},
    {"match_indexed", match_indexed, METH_VARARGS,
     "Matches observations against derived RPIs through their index."},
    {"match_scan", match_scan, METH_VARARGS,
     "Matches derived RPIs against an index of the observations."},
    {"match_keys", (PyCFunction)(void (*)(void))match_keys, METH_VARARGS | METH_KEYWORDS,
     "Derives and matches keys in one pass, in constant memory."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_native_kernel",
                                    "notifica's native GAEN matching kernel.", -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__native_kernel(void) {
    nk_cpu_detect(&cpu);
    nk_sha256_init_tables();
    return PyModule_Create(&module);
}
