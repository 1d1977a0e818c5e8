/* The SEND_MESSAGE_V2 fast path of rocketpy/broker/processors/send_fast.py in C, over a whole read (issue 12).
 *
 * send_batch() walks the complete frames of a read buffer from `pos`.  Each frame that is the everyday producer
 * send FastSend accepts is stored as FastSend + MessageStore.put_parts store it (the same record bytes in the
 * commit-log file, the same index entries; consume-queue units collected per queue for ConsumeQueue.put_run) and
 * answered from FastSend's reply template.  At the first frame it is not sure about (another request, anything
 * unusual in the header or the properties, a commit-log or index file that needs work, an incomplete frame) it
 * stops, writing nothing for that frame, and returns where it stopped: the caller hands that frame to the Python
 * paths, which judge it as they always did.  So this file may refuse anything; what it accepts must give exactly
 * the Python path's bytes (tests/unit/broker/data/test_send_golden.py and test_send_native.py hold it to that).
 *
 * No Python code runs while a batch is processed (the GIL is held, only dicts and plain attributes are read), so
 * per-topic facts looked up once stay true for the whole call.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define CODE_SEND_MESSAGE_V2 310
#define TRANSACTION_MASK 0xC
#define MULTI_TAGS_FLAG 0x2
#define BORNHOST_V6_FLAG 0x10
#define STOREHOST_V6_FLAG 0x20
#define MESSAGE_MAGIC 0xDAA320A7u
#define BLANK_RESERVE 8
#define MAX_PROPS 64
#define MAX_KEYS 32      /* distinct (topic, queue) pairs per call */
#define MAX_TOPICS 16    /* distinct topics per call */
#define MAX_INDEX_KEYS 16
#define MAX_BATCHES 64 /* SEND_BATCH_MESSAGE frames per call */
#define CODE_SEND_BATCH_MESSAGE 320
#define INDEX_HEADER 40
#define INDEX_ENTRY 20

typedef struct {
    const unsigned char *p;
    Py_ssize_t n;
    int escaped;
    int present;
} Str;

/* ---------------------------------------------------------------- CRC-32 (java.util.zip.CRC32, zlib's)
 * Slicing-by-8 over tables built at import, so that the extension needs no zlib headers to build. */

static uint32_t crc_table[8][256];

static void crc_init(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++)
        for (int t = 1; t < 8; t++) crc_table[t][n] = (crc_table[t - 1][n] >> 8) ^ crc_table[0][crc_table[t - 1][n] & 0xFF];
}

static uint32_t crc32_of(const unsigned char *p, Py_ssize_t n) {
    uint32_t c = 0xFFFFFFFFu;
    while (n && ((uintptr_t)p & 7)) {
        c = crc_table[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
        n--;
    }
    while (n >= 8) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + 4, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        lo = __builtin_bswap32(lo);
        hi = __builtin_bswap32(hi);
#endif
        lo ^= c;
        c = crc_table[7][lo & 0xFF] ^ crc_table[6][(lo >> 8) & 0xFF] ^ crc_table[5][(lo >> 16) & 0xFF] ^
            crc_table[4][lo >> 24] ^ crc_table[3][hi & 0xFF] ^ crc_table[2][(hi >> 8) & 0xFF] ^
            crc_table[1][(hi >> 16) & 0xFF] ^ crc_table[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--) c = crc_table[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

/* ---------------------------------------------------------------- big-endian writes */

static inline void put32(unsigned char *b, uint32_t v) {
    b[0] = (unsigned char)(v >> 24); b[1] = (unsigned char)(v >> 16); b[2] = (unsigned char)(v >> 8); b[3] = (unsigned char)v;
}
static inline void put64(unsigned char *b, uint64_t v) { put32(b, (uint32_t)(v >> 32)); put32(b + 4, (uint32_t)v); }
static inline uint32_t get32(const unsigned char *b) {
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

/* ---------------------------------------------------------------- JSON header */

static inline const unsigned char *skip_ws(const unsigned char *p, const unsigned char *e) {
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

static inline int hexval(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int hex4(const unsigned char *p, const unsigned char *e, unsigned *out) {
    if (e - p < 4) return 0;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0) return 0;
        v = (v << 4) | (unsigned)h;
    }
    *out = v;
    return 1;
}

/* Length of a valid UTF-8 sequence starting at p (no overlongs, no surrogates, at most U+10FFFF), 0 if invalid. */
static int utf8_len(const unsigned char *p, const unsigned char *e) {
    unsigned c = p[0];
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        if (e - p < 2 || (p[1] & 0xC0) != 0x80) return 0;
        return 2;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (e - p < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && p[1] < 0xA0) return 0;
        if (c == 0xED && p[1] >= 0xA0) return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (e - p < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
        if (c == 0xF0 && p[1] < 0x90) return 0;
        if (c == 0xF4 && p[1] >= 0x90) return 0;
        return 4;
    }
    return 0;
}

/* A JSON string at p (on its opening quote), validated as strictly as any JSON parser would take it. */
static const unsigned char *scan_string(const unsigned char *p, const unsigned char *e, Str *s) {
    if (p >= e || *p != '"') return NULL;
    p++;
    s->p = p;
    s->escaped = 0;
    while (p < e) {
        unsigned c = *p;
        if (c == '"') {
            s->n = p - s->p;
            s->present = 1;
            return p + 1;
        }
        if (c == '\\') {
            s->escaped = 1;
            if (e - p < 2) return NULL;
            unsigned char x = p[1];
            if (x == 'u') {
                unsigned v;
                if (!hex4(p + 2, e, &v)) return NULL;
                p += 6;
                if (v >= 0xD800 && v <= 0xDBFF) {
                    unsigned w;
                    if (e - p < 6 || p[0] != '\\' || p[1] != 'u' || !hex4(p + 2, e, &w) || w < 0xDC00 || w > 0xDFFF)
                        return NULL;
                    p += 6;
                } else if (v >= 0xDC00 && v <= 0xDFFF) {
                    return NULL;
                }
                continue;
            }
            if (x != '"' && x != '\\' && x != '/' && x != 'b' && x != 'f' && x != 'n' && x != 'r' && x != 't')
                return NULL;
            p += 2;
            continue;
        }
        if (c < 0x20) return NULL;
        if (c < 0x80) {
            p++;
            continue;
        }
        int k = utf8_len(p, e);
        if (!k) return NULL;
        p += k;
    }
    return NULL;
}

static unsigned char *put_utf8(unsigned char *o, unsigned cp) {
    if (cp < 0x80) {
        *o++ = (unsigned char)cp;
    } else if (cp < 0x800) {
        *o++ = (unsigned char)(0xC0 | (cp >> 6));
        *o++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (unsigned char)(0xE0 | (cp >> 12));
        *o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (unsigned char)(0xF0 | (cp >> 18));
        *o++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (unsigned char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/* The UTF-8 of a string scan_string validated; `out` has room for s->n bytes (an escape never grows). */
static Py_ssize_t unescape(const Str *s, unsigned char *out) {
    const unsigned char *p = s->p, *e = s->p + s->n;
    unsigned char *o = out;
    while (p < e) {
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        unsigned char x = p[1];
        if (x == 'u') {
            unsigned v;
            hex4(p + 2, e, &v);
            p += 6;
            if (v >= 0xD800 && v <= 0xDBFF) {
                unsigned w;
                hex4(p + 2, e, &w);
                p += 6;
                v = 0x10000 + ((v - 0xD800) << 10) + (w - 0xDC00);
            }
            o = put_utf8(o, v);
            continue;
        }
        switch (x) {
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        default: *o++ = x; break;
        }
        p += 2;
    }
    return o - out;
}

/* A JSON integer within int32 (no fraction, exponent or leading zero); NULL otherwise. */
static const unsigned char *scan_int(const unsigned char *p, const unsigned char *e, int32_t *out) {
    int neg = 0;
    if (p < e && *p == '-') {
        neg = 1;
        p++;
    }
    const unsigned char *d = p;
    int64_t v = 0;
    while (p < e && *p >= '0' && *p <= '9') {
        v = v * 10 + (*p - '0');
        if (v > 2147483648LL) return NULL;
        p++;
    }
    if (p == d || (p - d > 1 && *d == '0')) return NULL;
    if (p < e && (*p == '.' || *p == 'e' || *p == 'E')) return NULL;
    if (neg) v = -v;
    if (v > 2147483647LL || v < -2147483648LL) return NULL;
    *out = (int32_t)v;
    return p;
}

typedef struct {
    int32_t code, flag, opaque;
    Str language;
    Str ext[14];  /* a .. n: SEND_MESSAGE_V2's names */
    Str lext[14]; /* the same fields by SEND_MESSAGE's long names (SendMessageRequestHeader) */
} Header;

#define CODE_SEND_MESSAGE 10
static const char *LONG_NAMES[13] = {"producerGroup", "topic", "defaultTopic", "defaultTopicQueueNums", "queueId",
                                     "sysFlag", "bornTimestamp", "flag", "properties", "reconsumeTimes", "unitMode",
                                     "maxReconsumeTimes", "batch"};

static int long_index(const Str *k) {
    for (int i = 0; i < 13; i++)
        if ((size_t)k->n == strlen(LONG_NAMES[i]) && memcmp(k->p, LONG_NAMES[i], k->n) == 0) return i;
    return -1;
}

static inline int str_is(const Str *s, const char *lit) {
    size_t n = strlen(lit);
    return !s->escaped && (size_t)s->n == n && memcmp(s->p, lit, n) == 0;
}

/* A request's JSON header as decode_json_header reads it, restricted to what a Java client writes: the top-level
 * code/flag/opaque/version (int32), language/serializeTypeCurrentRPC (strings) and extFields, an object of string
 * values each handed to `field` (which returns 0 to refuse the header), each key once; 0 when anything is unusual
 * (the Python decoder then judges it). */
typedef int (*ExtField)(void *state, const Str *key, const Str *value);

static int parse_json_header(const unsigned char *p, const unsigned char *e, int32_t *code, int32_t *flag,
                             int32_t *opaque, Str *language, ExtField field, void *state) {
    unsigned seen = 0;
    p = skip_ws(p, e);
    if (p >= e || *p != '{') return 0;
    p = skip_ws(p + 1, e);
    if (p < e && *p == '}') return 0;
    for (;;) {
        Str key;
        p = scan_string(p, e, &key);
        if (!p || key.escaped) return 0;
        p = skip_ws(p, e);
        if (p >= e || *p != ':') return 0;
        p = skip_ws(p + 1, e);
        unsigned bit;
        int32_t iv;
        if (str_is(&key, "code") || str_is(&key, "flag") || str_is(&key, "opaque") || str_is(&key, "version")) {
            bit = key.p[0] == 'c' ? 1 : key.p[0] == 'f' ? 2 : key.p[0] == 'o' ? 4 : 8;
            p = scan_int(p, e, &iv);
            if (!p) return 0;
            if (bit == 1) *code = iv;
            else if (bit == 2) *flag = iv;
            else if (bit == 4) *opaque = iv;
        } else if (str_is(&key, "language") || str_is(&key, "serializeTypeCurrentRPC")) {
            Str v;
            bit = key.p[0] == 'l' ? 16 : 32;
            p = scan_string(p, e, &v);
            if (!p) return 0;
            if (bit == 16) *language = v;
        } else if (str_is(&key, "extFields")) {
            bit = 64;
            if (p >= e || *p != '{') return 0;
            p = skip_ws(p + 1, e);
            if (p < e && *p == '}') {
                p++;
            } else {
                for (;;) {
                    Str k, v;
                    p = scan_string(p, e, &k);
                    if (!p || k.escaped) return 0;
                    p = skip_ws(p, e);
                    if (p >= e || *p != ':') return 0;
                    p = skip_ws(p + 1, e);
                    p = scan_string(p, e, &v);
                    if (!p || !field(state, &k, &v)) return 0;
                    p = skip_ws(p, e);
                    if (p < e && *p == ',') {
                        p = skip_ws(p + 1, e);
                        continue;
                    }
                    if (p < e && *p == '}') {
                        p++;
                        break;
                    }
                    return 0;
                }
            }
        } else {
            return 0; /* remark, or a key the client does not write */
        }
        if (seen & bit) return 0;
        seen |= bit;
        p = skip_ws(p, e);
        if (p < e && *p == ',') {
            p = skip_ws(p + 1, e);
            continue;
        }
        if (p < e && *p == '}') {
            p = skip_ws(p + 1, e);
            return p == e && (seen & 64);
        }
        return 0;
    }
}

typedef struct {
    Header *h;
    unsigned ext_seen, long_seen;
} SendFields;

/* SEND_MESSAGE_V2's one-letter names (a .. n) and SEND_MESSAGE's long ones; other keys are ignored. */
static int send_field(void *state, const Str *k, const Str *v) {
    SendFields *s = state;
    if (k->n == 1 && k->p[0] >= 'a' && k->p[0] <= 'n') {
        unsigned i = k->p[0] - 'a';
        if (s->ext_seen & (1u << i)) return 0;
        s->ext_seen |= 1u << i;
        s->h->ext[i] = *v;
    } else if (k->n > 1) {
        int i = long_index(k);
        if (i >= 0) {
            if (s->long_seen & (1u << i)) return 0;
            s->long_seen |= 1u << i;
            s->h->lext[i] = *v;
        }
    }
    return 1;
}

/* The header of a send request (parse_json_header; 0 when anything is unusual). */
static int parse_header(const unsigned char *p, const unsigned char *e, Header *h) {
    memset(h, 0, sizeof(*h));
    SendFields s = {h, 0, 0};
    return parse_json_header(p, e, &h->code, &h->flag, &h->opaque, &h->language, send_field, &s);
}

/* ---------------------------------------------------------------- Java hashes */

/* String.hashCode over the UTF-16 code units of valid UTF-8, continuing from h. */
static uint32_t java_hash(uint32_t h, const unsigned char *p, Py_ssize_t n) {
    const unsigned char *e = p + n;
    while (p < e) {
        unsigned c = *p;
        if (c < 0x80) {
            h = 31 * h + c;
            p++;
            continue;
        }
        unsigned cp;
        if (c < 0xE0) {
            cp = ((c & 0x1F) << 6) | (p[1] & 0x3F);
            p += 2;
        } else if (c < 0xF0) {
            cp = ((c & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
            p += 3;
        } else {
            cp = ((c & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F);
            p += 4;
        }
        if (cp >= 0x10000) {
            cp -= 0x10000;
            h = 31 * h + (0xD800 + (cp >> 10));
            h = 31 * h + (0xDC00 + (cp & 0x3FF));
        } else {
            h = 31 * h + cp;
        }
    }
    return h;
}

/* ---------------------------------------------------------------- digits */

/* A non-negative decimal of 1..maxlen ASCII digits (FastSend's checks); -1 otherwise. */
static int64_t digits(const Str *s, int maxlen) {
    if (!s->present || s->escaped || s->n < 1 || s->n > maxlen) return -1;
    int64_t v = 0;
    for (Py_ssize_t i = 0; i < s->n; i++) {
        unsigned c = s->p[i];
        if (c < '0' || c > '9') return -1;
        v = v * 10 + (c - '0');
    }
    return v;
}

/* ---------------------------------------------------------------- growable output */

typedef struct {
    unsigned char *b;
    Py_ssize_t n, cap;
} Buf;

static int buf_room(Buf *b, Py_ssize_t more) {
    if (b->n + more <= b->cap) return 1;
    Py_ssize_t cap = b->cap ? b->cap : 1024;
    while (cap < b->n + more) cap *= 2;
    unsigned char *nb = PyMem_Realloc(b->b, cap);
    if (!nb) return 0;
    b->b = nb;
    b->cap = cap;
    return 1;
}

/* ---------------------------------------------------------------- per-call tables */

typedef struct {
    const unsigned char *name;
    Py_ssize_t n;
    PyObject *topic;   /* str, owned */
    PyObject *topic_b; /* its UTF-8 from `learned`, owned */
    long wq, rq;
    int multi;
    Py_ssize_t count, bytes;
} Topic;

typedef struct {
    int topic;
    long qid;
    int64_t first, next;
    int64_t max_end; /* the largest phys + size of its units (ConsumeQueue.max_physic_offset's candidate) */
    Buf units;
} Queue;

typedef struct {
    PyObject *learned, *table, *multi_tag, *languages;
    const unsigned char *cluster;
    Py_ssize_t cluster_n;
    int64_t max_body, props_max, max_total, file_size;
    const unsigned char *born_ip, *store_ip;
    Py_ssize_t born_ip_n, store_ip_n;
    int32_t born_port, store_port;
    const unsigned char *tpl[5];
    Py_ssize_t tpl_n[5];
    const unsigned char *prefix;
    Py_ssize_t prefix_n;
    unsigned char *log;
    int64_t log_from, wrote, limit;
    PyObject *queue_offsets;
    /* index: present when index_view is set */
    int index_on;
    unsigned char *iview;
    int64_t islots, ientries, ibegin_ts, iend_ts, ibegin_phy, iend_phy, islot_count, icount, iservice_end;
    Topic topics[MAX_TOPICS];
    int ntopics;
    Queue queues[MAX_KEYS];
    int nqueues;
    Buf replies;
    struct {
        int topic;
        Py_ssize_t count, bytes;
    } batches[MAX_BATCHES]; /* one note_put per SEND_BATCH_MESSAGE, as the general path counts it */
    int nbatches;
    unsigned char *scratch; /* unescaped properties, then the stored properties */
    Py_ssize_t scratch_cap;
    int64_t last_ts, now_ms;
    Py_ssize_t done;
} Ctx;

static int find_topic(Ctx *c, const Str *b) {
    for (int i = 0; i < c->ntopics; i++)
        if (c->topics[i].n == b->n && memcmp(c->topics[i].name, b->p, b->n) == 0) return i;
    if (c->ntopics >= MAX_TOPICS) return -1;
    PyObject *name = PyUnicode_DecodeUTF8((const char *)b->p, b->n, NULL);
    if (!name) {
        PyErr_Clear();
        return -1;
    }
    PyObject *key = NULL;
    /* FastSend._topics: topic -> its UTF-8, for topics the general path let through */
    PyObject *topic_b = PyDict_GetItemWithError(c->learned, name);
    if (!topic_b || !PyBytes_CheckExact(topic_b) || PyBytes_GET_SIZE(topic_b) > 127 || PyBytes_GET_SIZE(topic_b) < 1) {
        PyErr_Clear();
        Py_DECREF(name);
        return -1;
    }
    PyObject *config = PyDict_GetItemWithError(c->table, name);
    if (!config) {
        PyErr_Clear();
        Py_DECREF(name);
        return -1;
    }
    long wq = -1, rq = -1;
    int multi = 0;
    PyObject *v = PyObject_GetAttrString(config, "write_queue_nums");
    if (v && PyLong_CheckExact(v)) wq = PyLong_AsLong(v);
    Py_XDECREF(v);
    v = PyObject_GetAttrString(config, "read_queue_nums");
    if (v && PyLong_CheckExact(v)) rq = PyLong_AsLong(v);
    Py_XDECREF(v);
    v = PyObject_GetAttrString(config, "topic_filter_type");
    if (v) multi = v == c->multi_tag;
    Py_XDECREF(v);
    if (PyErr_Occurred() || wq < 0 || rq < 0) {
        PyErr_Clear();
        Py_DECREF(name);
        return -1;
    }
    key = name; /* owned by the table entry until the end of the call, as is topic_b */
    Py_INCREF(topic_b);
    Topic *t = &c->topics[c->ntopics];
    t->name = b->p;
    t->n = b->n;
    t->topic = key;
    t->topic_b = topic_b;
    t->wq = wq;
    t->rq = rq;
    t->multi = multi;
    t->count = t->bytes = 0;
    return c->ntopics++;
}

/* The queue's next offset (CommitLog.queue_offsets, read once per call, written back at its end). */
static int find_queue(Ctx *c, int topic, long qid) {
    for (int i = 0; i < c->nqueues; i++)
        if (c->queues[i].topic == topic && c->queues[i].qid == qid) return i;
    if (c->nqueues >= MAX_KEYS) return -1;
    PyObject *key = Py_BuildValue("(Ol)", c->topics[topic].topic, qid);
    if (!key) {
        PyErr_Clear();
        return -1;
    }
    PyObject *v = PyDict_GetItemWithError(c->queue_offsets, key);
    Py_DECREF(key);
    int64_t next = 0;
    if (v) {
        next = PyLong_AsLongLong(v);
        if (next == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            return -1;
        }
    } else if (PyErr_Occurred()) {
        PyErr_Clear();
        return -1;
    }
    Queue *q = &c->queues[c->nqueues];
    q->topic = topic;
    q->qid = qid;
    q->first = q->next = next;
    q->max_end = -1;
    q->units.b = NULL;
    q->units.n = q->units.cap = 0;
    return c->nqueues++;
}

/* ---------------------------------------------------------------- properties */

typedef struct {
    const unsigned char *p; /* segment */
    Py_ssize_t n, name_n;
    uint32_t bucket;
} Prop;

static inline int name_is(const Prop *s, const char *lit, Py_ssize_t n) {
    return s->name_n == n && memcmp(s->p, lit, n) == 0;
}

/* ---------------------------------------------------------------- one frame */

enum { STOP = 0, DONE = 1, FAIL = -1 };
static int stop_line; /* the source line of the last stop: why a frame was left to Python (tests, debugging) */
#define STOP_HERE return (stop_line = __LINE__, STOP)

/* IndexFile.put_keys of one record's keys (entries, header, then slots); room and the end check are the caller's */
static void write_index(Ctx *c, Topic *t, int64_t phys, int64_t store_ts, const unsigned char **ik,
                        const Py_ssize_t *ikn, int nik) {
    unsigned char *iv = c->iview;
    int64_t count = c->icount, begin = c->ibegin_ts;
    int64_t pend_pos[MAX_INDEX_KEYS], pend_val[MAX_INDEX_KEYS];
    int npend = 0, new_slots = 0;
    int64_t entry_pos = INDEX_HEADER + c->islots * 4 + count * INDEX_ENTRY;
    Py_ssize_t nt = PyBytes_GET_SIZE(t->topic_b);
    uint32_t th = java_hash(0, (const unsigned char *)PyBytes_AS_STRING(t->topic_b), nt);
    th = 31 * th + '#';
    for (int k = 0; k < nik; k++) {
        uint32_t hh = java_hash(th, ik[k], ikn[k]);
        int64_t key_hash;
        if (hh < 0x80000000u) key_hash = hh;
        else if (hh == 0x80000000u) key_hash = 0;
        else key_hash = 0x100000000LL - hh;
        int64_t slot_pos = INDEX_HEADER + key_hash % c->islots * 4;
        int64_t slot_value = -1;
        for (int j = 0; j < npend; j++)
            if (pend_pos[j] == slot_pos) slot_value = pend_val[j];
        if (slot_value < 0) {
            slot_value = (int32_t)get32(iv + slot_pos);
            if (slot_value <= 0 || slot_value > count) slot_value = 0;
        }
        int64_t delta = store_ts - begin, diff;
        if (begin <= 0 || delta < 0) diff = 0;
        else diff = delta / 1000 > 2147483647LL ? 2147483647LL : delta / 1000;
        if (count <= 1) {
            c->ibegin_phy = phys;
            c->ibegin_ts = begin = store_ts;
        }
        put32(iv + entry_pos, (uint32_t)key_hash);
        put64(iv + entry_pos + 4, (uint64_t)phys);
        put32(iv + entry_pos + 12, (uint32_t)diff);
        put32(iv + entry_pos + 16, (uint32_t)slot_value);
        entry_pos += INDEX_ENTRY;
        if (slot_value == 0) new_slots++;
        int j;
        for (j = 0; j < npend; j++)
            if (pend_pos[j] == slot_pos) break;
        if (j == npend) {
            pend_pos[npend] = slot_pos;
            npend++;
        }
        pend_val[j] = count;
        count++;
    }
    c->islot_count += new_slots;
    c->icount = count;
    c->iend_phy = phys;
    c->iend_ts = store_ts;
    put64(iv, (uint64_t)begin);
    put64(iv + 8, (uint64_t)store_ts);
    put64(iv + 16, (uint64_t)c->ibegin_phy);
    put64(iv + 24, (uint64_t)phys);
    put32(iv + 32, (uint32_t)c->islot_count);
    put32(iv + 36, (uint32_t)count);
    for (int j = 0; j < npend; j++) put32(iv + pend_pos[j], (uint32_t)pend_val[j]);
}

/* The index keys of a record: UNIQ_KEY, then each space-separated KEYS value; -1 when there are too many. */
static int collect_keys(const unsigned char *uniq, Py_ssize_t uniq_n, const unsigned char *keys, Py_ssize_t keys_n,
                        const unsigned char **ik, Py_ssize_t *ikn) {
    int nik = 0;
    if (uniq_n > 0) {
        ik[nik] = uniq;
        ikn[nik++] = uniq_n;
    }
    const unsigned char *p = keys, *e = keys + keys_n;
    while (p < e) {
        const unsigned char *q = memchr(p, ' ', e - p);
        if (!q) q = e;
        if (q > p) {
            if (nik >= MAX_INDEX_KEYS) return -1;
            ik[nik] = p;
            ikn[nik++] = q - p;
        }
        p = q + 1;
    }
    return nik;
}

static int64_t now_ms(Ctx *c) {
    if (c->now_ms >= 0) return c->now_ms;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* CommitLog.append_parts' record at c->wrote, its consume-queue unit; returns the queue offset */
static int64_t write_record(Ctx *c, Topic *t, Queue *qu, int64_t queue_id, int64_t flag, int64_t sys_flag,
                            int64_t born_ts, int64_t reconsume, const unsigned char *body, Py_ssize_t nb,
                            const unsigned char *props, Py_ssize_t np, int64_t rec, int64_t store_ts,
                            const unsigned char *tags, Py_ssize_t tags_n) {
    Py_ssize_t nt = PyBytes_GET_SIZE(t->topic_b);
    int64_t phys = c->log_from + c->wrote;
    uint32_t crc = crc32_of(body, nb) & 0x7FFFFFFF;
    int64_t queue_offset = qu->next;
    unsigned char *r = c->log + c->wrote;
    put32(r + 8, crc);
    put32(r + 12, (uint32_t)queue_id);
    put32(r + 16, (uint32_t)flag);
    put64(r + 20, (uint64_t)queue_offset);
    put64(r + 28, (uint64_t)phys);
    put32(r + 36, (uint32_t)sys_flag);
    put64(r + 40, (uint64_t)born_ts);
    unsigned char *w = r + 48;
    memcpy(w, c->born_ip, c->born_ip_n);
    w += c->born_ip_n;
    put32(w, (uint32_t)c->born_port);
    put64(w + 4, (uint64_t)store_ts);
    w += 12;
    memcpy(w, c->store_ip, c->store_ip_n);
    w += c->store_ip_n;
    put32(w, (uint32_t)c->store_port);
    put32(w + 4, (uint32_t)reconsume);
    put64(w + 8, 0); /* prepared transaction offset */
    put32(w + 16, (uint32_t)nb);
    w += 20;
    memcpy(w, body, nb);
    w += nb;
    *w++ = (unsigned char)nt;
    memcpy(w, PyBytes_AS_STRING(t->topic_b), nt);
    w += nt;
    *w++ = (unsigned char)(np >> 8);
    *w++ = (unsigned char)(np & 0xFF);
    memcpy(w, props, np);
#if defined(__GNUC__)
    __asm__ __volatile__("" ::: "memory");
#endif
    /* TOTALSIZE and MAGICCODE last, as the Python append writes them */
    put32(r, (uint32_t)rec);
    put32(r + 4, MESSAGE_MAGIC);
    c->wrote += rec;
    qu->next = queue_offset + 1;
    c->last_ts = store_ts;
    /* consume-queue unit: phys, size, tags code (sign-extended); the caller made room */
    int64_t tags_code = 0;
    if (tags_n > 0) tags_code = (int32_t)java_hash(0, tags, tags_n);
    unsigned char *u = qu->units.b + qu->units.n;
    put64(u, (uint64_t)phys);
    put32(u + 8, (uint32_t)rec);
    put64(u + 12, (uint64_t)tags_code);
    qu->units.n += 20;
    if (phys + rec > qu->max_end) qu->max_end = phys + rec;
    return queue_offset;
}

/* get_property (store/format.py): the first NAME\x01 at the start or after a \x02, to the next \x02 */
static int get_prop(const unsigned char *text, Py_ssize_t n, const char *name, Py_ssize_t name_n,
                    const unsigned char **v, Py_ssize_t *vn) {
    Py_ssize_t i = 0;
    while (i + name_n + 1 <= n) {
        const unsigned char *hit = memmem(text + i, n - i, name, name_n);
        if (!hit) return 0;
        Py_ssize_t at = hit - text;
        if (at + name_n < n && text[at + name_n] == 1 && (at == 0 || text[at - 1] == 2)) {
            const unsigned char *b = text + at + name_n + 1, *e = memchr(b, 2, text + n - b);
            *v = b;
            *vn = (e ? e : text + n) - b;
            return 1;
        }
        i = at + 1;
    }
    return 0;
}

static void reply_frame(Ctx *c, const unsigned char *ids, Py_ssize_t ids_n, int64_t queue_id, int64_t queue_offset,
                        int32_t opaque) {
    unsigned char *rp = c->replies.b + c->replies.n;
    unsigned char *hs = rp + 8, *o = hs;
    memcpy(o, c->tpl[0], c->tpl_n[0]);
    o += c->tpl_n[0];
    memcpy(o, ids, ids_n);
    o += ids_n;
    memcpy(o, c->tpl[1], c->tpl_n[1]);
    o += c->tpl_n[1];
    o += sprintf((char *)o, "%lld", (long long)queue_id);
    memcpy(o, c->tpl[2], c->tpl_n[2]);
    o += c->tpl_n[2];
    o += sprintf((char *)o, "%lld", (long long)queue_offset);
    memcpy(o, c->tpl[3], c->tpl_n[3]);
    o += c->tpl_n[3];
    o += sprintf((char *)o, "%d", (int)opaque);
    memcpy(o, c->tpl[4], c->tpl_n[4]);
    o += c->tpl_n[4];
    Py_ssize_t hn = o - hs;
    put32(rp, (uint32_t)(4 + hn));
    put32(rp + 4, (uint32_t)hn);
    c->replies.n += 8 + hn;
}

static int send_batch_frame(Ctx *c, Header *h, Topic *t, int64_t queue_id, int64_t sys_flag, int64_t born_ts,
                            int64_t reconsume, const unsigned char *body, Py_ssize_t nb, const unsigned char *bprops,
                            Py_ssize_t bprops_n);

static int send_one(Ctx *c, const unsigned char *frame, Py_ssize_t total) {
    /* frame: after the 4-byte length; total bytes */
    uint32_t ori = get32(frame);
    if (ori >> 24) STOP_HERE; /* ROCKETMQ serialisation */
    Py_ssize_t hlen = ori & 0xFFFFFF;
    if (hlen > total - 4) STOP_HERE;
    const unsigned char *hp = frame + 4, *body = frame + 4 + hlen;
    Py_ssize_t nb = total - 4 - hlen;
    Header h;
    if (!parse_header(hp, hp + hlen, &h)) STOP_HERE;
    if ((h.code != CODE_SEND_MESSAGE_V2 && h.code != CODE_SEND_MESSAGE && h.code != CODE_SEND_BATCH_MESSAGE) ||
        h.flag != 0 || !h.language.present || h.language.escaped)
        STOP_HERE;
    /* language: a LanguageCode name (else the general decoder refuses the frame) */
    {
        PyObject *lang = PyBytes_FromStringAndSize((const char *)h.language.p, h.language.n);
        if (!lang) return FAIL;
        int ok = PySet_Contains(c->languages, lang);
        Py_DECREF(lang);
        if (ok != 1) {
            PyErr_Clear();
            STOP_HERE;
        }
    }
    Str *x = h.code == CODE_SEND_MESSAGE ? h.lext : h.ext;
    const Str *sa = &x[0], *sb = &x[1], *sc = &x[2], *sd = &x[3], *se = &x[4], *sf = &x[5], *sg = &x[6];
    const Str *sh = &x[7], *si = &x[8], *sj = &x[9], *sl = &x[11], *sm = &x[12];
    if (!sb->present || !sa->present || !sc->present) STOP_HERE;
    int64_t queue_id = digits(se, 9), sys_flag = digits(sf, 9), born_ts = digits(sg, 18), flag = digits(sh, 9);
    if (queue_id < 0 || sys_flag < 0 || born_ts < 0 || flag < 0 || digits(sd, 9) < 0) STOP_HERE;
    int64_t reconsume = 0;
    if (sj->present) {
        reconsume = digits(sj, 9);
        if (reconsume < 0) STOP_HERE;
    }
    if (sl->present && digits(sl, 9) < 0) STOP_HERE;
    int is_batch = 0; /* the header's batch flag (Boolean.parseBoolean) decides, as in the general path */
    if (sm->present) {
        if (sm->escaped) STOP_HERE;
        is_batch = sm->n == 4 && (sm->p[0] | 0x20) == 't' && (sm->p[1] | 0x20) == 'r' && (sm->p[2] | 0x20) == 'u' &&
                   (sm->p[3] | 0x20) == 'e';
    }
    if (is_batch != (h.code == CODE_SEND_BATCH_MESSAGE)) STOP_HERE; /* only SEND_BATCH_MESSAGE's own batches */
    if (sb->escaped || sb->n == 0) STOP_HERE;
    if (sb->n == 19 && memcmp(sb->p, "SCHEDULE_TOPIC_XXXX", 19) == 0) STOP_HERE; /* put_parts refuses it */
    int ti = find_topic(c, sb);
    if (ti < 0) STOP_HERE;
    Topic *t = &c->topics[ti];
    if (queue_id >= t->wq && queue_id >= t->rq) STOP_HERE;
    if (sys_flag & TRANSACTION_MASK) STOP_HERE;
    if (t->multi) sys_flag |= MULTI_TAGS_FLAG;

    /* properties: FastSend's parse, CLUSTER added, HashMap order, WAIT left out */
    Py_ssize_t need = (si->present ? si->n : 0) * 2 + c->cluster_n + 16;
    if (need > c->scratch_cap) {
        unsigned char *nb2 = PyMem_Realloc(c->scratch, need);
        if (!nb2) {
            PyErr_NoMemory();
            return FAIL;
        }
        c->scratch = nb2;
        c->scratch_cap = need;
    }
    unsigned char *text = c->scratch;
    Py_ssize_t text_n = si->present ? unescape(si, text) : 0;
    unsigned char *stored = c->scratch + (si->present ? si->n : 0);
    Py_ssize_t stored_n;
    const unsigned char *tags = NULL, *keys = NULL, *uniq = NULL;
    Py_ssize_t tags_n = 0, keys_n = 0, uniq_n = 0;
    if (text_n > 0) {
        Prop props[MAX_PROPS + 1];
        int np = 0, cluster_at = -1;
        const unsigned char *p = text, *e = text + text_n;
        while (1) {
            const unsigned char *q = p;
            while (q < e && *q != 2) q++;
            /* segment [p, q): exactly one \x01, a non-empty name and value */
            const unsigned char *sep = memchr(p, 1, q - p);
            if (!sep || sep == p || sep + 1 == q || memchr(sep + 1, 1, q - sep - 1)) STOP_HERE;
            if (np >= MAX_PROPS) STOP_HERE;
            props[np].p = p;
            props[np].n = q - p;
            props[np].name_n = sep - p;
            np++;
            if (q == e) break;
            p = q + 1;
            if (p == e) STOP_HERE; /* a trailing \x02 */
        }
        for (int i = 0; i < np; i++) {
            Prop *s = &props[i];
            for (int j = 0; j < i; j++)
                if (props[j].name_n == s->name_n && memcmp(props[j].p, s->p, s->name_n) == 0) STOP_HERE;
            if (name_is(s, "TRAN_MSG", 8) || name_is(s, "DELAY", 5)) STOP_HERE;
            if (name_is(s, "CLUSTER", 7)) cluster_at = i;
            else if (name_is(s, "TAGS", 4)) { tags = s->p + 5; tags_n = s->n - 5; }
            else if (name_is(s, "KEYS", 4)) { keys = s->p + 5; keys_n = s->n - 5; }
            else if (name_is(s, "UNIQ_KEY", 8)) { uniq = s->p + 9; uniq_n = s->n - 9; }
        }
        int nins = cluster_at >= 0 ? np : np + 1;
        uint32_t cap = 16;
        while ((uint32_t)nins > cap * 3 / 4) cap <<= 1;
        for (int i = 0; i < np; i++) {
            uint32_t hh = java_hash(0, props[i].p, props[i].name_n);
            props[i].bucket = (hh ^ (hh >> 16)) & (cap - 1);
        }
        /* the broker's own CLUSTER segment; it takes the producer's place in the order if there was one */
        Prop cl = {c->cluster, c->cluster_n, 7, 0};
        {
            uint32_t hh = java_hash(0, (const unsigned char *)"CLUSTER", 7);
            cl.bucket = (hh ^ (hh >> 16)) & (cap - 1);
        }
        int order[MAX_PROPS + 1], no = 0;
        for (int i = 0; i < np; i++) order[no++] = i;
        if (cluster_at < 0) order[no++] = np;
        props[np] = cl;
        if (cluster_at >= 0) props[cluster_at] = cl; /* same name, same bucket, the broker's value */
        for (int i = 1; i < no; i++) { /* stable insertion sort by bucket */
            int v = order[i], j = i - 1;
            while (j >= 0 && props[order[j]].bucket > props[v].bucket) {
                order[j + 1] = order[j];
                j--;
            }
            order[j + 1] = v;
        }
        unsigned char *o = stored;
        int first = 1;
        for (int k = 0; k < no; k++) {
            Prop *s = &props[order[k]];
            if (!is_batch && name_is(s, "WAIT", 4)) continue; /* a batch's properties keep it */
            if (!first) *o++ = 2;
            first = 0;
            memcpy(o, s->p, s->n);
            o += s->n;
        }
        stored_n = o - stored;
    } else {
        memcpy(stored, c->cluster, c->cluster_n);
        stored_n = c->cluster_n;
    }
    if (nb > c->max_body || stored_n > c->props_max) STOP_HERE;
    /* hosts */
    sys_flag &= ~(BORNHOST_V6_FLAG | STOREHOST_V6_FLAG);
    if (c->born_ip_n == 16) sys_flag |= BORNHOST_V6_FLAG;
    if (c->store_ip_n == 16) sys_flag |= STOREHOST_V6_FLAG;
    if (is_batch) return send_batch_frame(c, &h, t, queue_id, sys_flag, born_ts, reconsume, body, nb, stored, stored_n);
    Py_ssize_t nt = PyBytes_GET_SIZE(t->topic_b);
    Py_ssize_t hdr_size = 88 + (c->born_ip_n == 16 ? 12 : 0) + (c->store_ip_n == 16 ? 12 : 0);
    int64_t rec = hdr_size + nb + 3 + nt + stored_n;
    if (rec > c->max_total || rec + BLANK_RESERVE > c->file_size) STOP_HERE;
    if (c->wrote + rec + BLANK_RESERVE > c->limit) STOP_HERE; /* the commit log has work due: Python's */
    int qi = find_queue(c, ti, (long)queue_id);
    if (qi < 0) STOP_HERE;
    Queue *qu = &c->queues[qi];
    int64_t phys = c->log_from + c->wrote;
    const unsigned char *ik[MAX_INDEX_KEYS];
    Py_ssize_t ikn[MAX_INDEX_KEYS];
    int nik = 0;
    int64_t end_check = c->icount > 1 ? c->iend_phy : c->iservice_end;
    if (c->index_on && (keys_n > 0 || uniq_n > 0) && phys > end_check) {
        if (!c->iview) STOP_HERE; /* no index file yet */
        nik = collect_keys(uniq, uniq_n, keys, keys_n, ik, ikn);
        if (nik < 0) STOP_HERE;
        if (c->ientries - c->icount < nik) STOP_HERE; /* the index file rolls: Python's */
    }
    Py_ssize_t reply_max = c->tpl_n[0] + c->tpl_n[1] + c->tpl_n[2] + c->tpl_n[3] + c->tpl_n[4] + c->prefix_n + 80;
    if (!buf_room(&c->replies, reply_max) || !buf_room(&qu->units, 20)) {
        PyErr_NoMemory();
        return FAIL;
    }

    /* ---- from here on nothing refuses: write */
    int64_t store_ts = now_ms(c);
    int64_t queue_offset = write_record(c, t, qu, queue_id, flag, sys_flag, born_ts, reconsume, body, nb, stored,
                                        stored_n, rec, store_ts, tags, tags_n);
    if (nik) write_index(c, t, phys, store_ts, ik, ikn, nik);
    t->count++;
    t->bytes += rec;
    /* the reply: FastSend's template around msgId, queueId, queueOffset and opaque */
    unsigned char id[64];
    memcpy(id, c->prefix, c->prefix_n < 40 ? c->prefix_n : 40);
    Py_ssize_t id_n = (c->prefix_n < 40 ? c->prefix_n : 40);
    id_n += sprintf((char *)id + id_n, "%016llX", (unsigned long long)phys);
    reply_frame(c, id, id_n, queue_id, queue_offset, h.opaque);
    c->done++;
    return DONE;
}

typedef struct {
    const unsigned char *body;
    Py_ssize_t nb, text_at, text_n;
    int32_t flag;
    int64_t rec;
} Entry;

/* SEND_BATCH_MESSAGE as SendMessageProcessor._send_batch and MessageStore.put_message store it: the body's entries
 * (MessageDecoder.decodeMessages), each with its own properties, a \x02 and the batch's (WAIT kept, CLUSTER set,
 * HashMap order), consecutive queue offsets, TAGS/KEYS/UNIQ_KEY found as get_property finds them, one reply with the
 * comma-joined message ids and the first offset. Everything checked before the first record is written. */
static int send_batch_frame(Ctx *c, Header *h, Topic *t, int64_t queue_id, int64_t sys_flag, int64_t born_ts,
                            int64_t reconsume, const unsigned char *body, Py_ssize_t nb, const unsigned char *bprops,
                            Py_ssize_t bprops_n) {
    Py_ssize_t nt = PyBytes_GET_SIZE(t->topic_b);
    Py_ssize_t hdr_size = 88 + (c->born_ip_n == 16 ? 12 : 0) + (c->store_ip_n == 16 ? 12 : 0);
    Buf texts = {0}, ids = {0};
    Entry *es = NULL;
    int n = 0, cap = 0, ret = STOP, total_keys = 0;
    int64_t need = 0;
    if (nb > c->max_body || c->nbatches >= MAX_BATCHES) {
        stop_line = __LINE__;
        return STOP;
    }
    const unsigned char *p = body, *e = body + nb;
    while (p < e) {
        if (e - p < 20) { stop_line = __LINE__; goto done; }
        int32_t eflag = (int32_t)get32(p + 12), blen = (int32_t)get32(p + 16);
        p += 20;
        if (blen < 0 || e - p < (Py_ssize_t)blen + 2) { stop_line = __LINE__; goto done; }
        const unsigned char *eb = p;
        p += blen;
        int plen = (int16_t)((p[0] << 8) | p[1]);
        p += 2;
        if (plen < 0 || e - p < plen) { stop_line = __LINE__; goto done; }
        const unsigned char *ep = p;
        p += plen;
        for (int i = 0; i < plen;) {
            int k = utf8_len(ep + i, ep + plen);
            if (!k) { stop_line = __LINE__; goto done; }
            i += k;
        }
        int sep = plen > 0 && bprops_n > 0 && ep[plen - 1] != 2;
        Py_ssize_t tn = plen + sep + bprops_n;
        if (blen > c->max_body || tn > c->props_max) { stop_line = __LINE__; goto done; }
        int64_t rec = hdr_size + blen + 3 + nt + tn;
        if (rec > c->max_total || rec + BLANK_RESERVE > c->file_size) { stop_line = __LINE__; goto done; }
        need += rec;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            Entry *ne = PyMem_Realloc(es, cap * sizeof(Entry));
            if (!ne) { PyErr_NoMemory(); ret = FAIL; goto done; }
            es = ne;
        }
        if (!buf_room(&texts, tn)) { PyErr_NoMemory(); ret = FAIL; goto done; }
        Entry *en = &es[n++];
        en->body = eb;
        en->nb = blen;
        en->flag = eflag;
        en->rec = rec;
        en->text_at = texts.n;
        en->text_n = tn;
        memcpy(texts.b + texts.n, ep, plen);
        if (sep) texts.b[texts.n + plen] = 2;
        memcpy(texts.b + texts.n + plen + sep, bprops, bprops_n);
        texts.n += tn;
    }
    if (n == 0) { stop_line = __LINE__; goto done; } /* an empty batch: the general path's own answer */
    if (c->wrote + need + BLANK_RESERVE > c->limit) { stop_line = __LINE__; goto done; }
    int qi = find_queue(c, (int)(t - c->topics), (long)queue_id);
    if (qi < 0) { stop_line = __LINE__; goto done; }
    Queue *qu = &c->queues[qi];
    int64_t phys = c->log_from + c->wrote;
    int64_t end_check = c->icount > 1 ? c->iend_phy : c->iservice_end;
    const unsigned char *ik[MAX_INDEX_KEYS];
    Py_ssize_t ikn[MAX_INDEX_KEYS];
    if (c->index_on) {
        for (int i = 0; i < n; i++) {
            const unsigned char *tx = texts.b + es[i].text_at, *keys = NULL, *uniq = NULL;
            Py_ssize_t keys_n = 0, uniq_n = 0;
            get_prop(tx, es[i].text_n, "KEYS", 4, &keys, &keys_n);
            get_prop(tx, es[i].text_n, "UNIQ_KEY", 8, &uniq, &uniq_n);
            int nik = collect_keys(uniq, uniq_n, keys, keys_n, ik, ikn);
            if (nik < 0) { stop_line = __LINE__; goto done; }
            total_keys += nik;
        }
        if (total_keys && (!c->iview || phys <= end_check || c->ientries - c->icount < total_keys)) {
            stop_line = __LINE__;
            goto done;
        }
    }
    Py_ssize_t reply_max = c->tpl_n[0] + c->tpl_n[1] + c->tpl_n[2] + c->tpl_n[3] + c->tpl_n[4] + 80;
    if (!buf_room(&c->replies, reply_max + n * (c->prefix_n + 17)) || !buf_room(&qu->units, 20 * (Py_ssize_t)n) ||
        !buf_room(&ids, n * (c->prefix_n + 17) + 1)) {
        PyErr_NoMemory();
        ret = FAIL;
        goto done;
    }

    /* ---- from here on nothing refuses: write */
    int64_t first_offset = qu->next, bytes = 0;
    for (int i = 0; i < n; i++) {
        const unsigned char *tx = texts.b + es[i].text_at, *tags = NULL, *keys = NULL, *uniq = NULL;
        Py_ssize_t tags_n = 0, keys_n = 0, uniq_n = 0;
        get_prop(tx, es[i].text_n, "TAGS", 4, &tags, &tags_n);
        int64_t store_ts = now_ms(c);
        phys = c->log_from + c->wrote;
        write_record(c, t, qu, queue_id, es[i].flag, sys_flag, born_ts, reconsume, es[i].body, es[i].nb, tx,
                     es[i].text_n, es[i].rec, store_ts, tags, tags_n);
        if (total_keys) {
            get_prop(tx, es[i].text_n, "KEYS", 4, &keys, &keys_n);
            get_prop(tx, es[i].text_n, "UNIQ_KEY", 8, &uniq, &uniq_n);
            int nik = collect_keys(uniq, uniq_n, keys, keys_n, ik, ikn);
            if (nik > 0) write_index(c, t, phys, store_ts, ik, ikn, nik);
        }
        if (i) ids.b[ids.n++] = ',';
        memcpy(ids.b + ids.n, c->prefix, c->prefix_n);
        ids.n += c->prefix_n;
        ids.n += sprintf((char *)ids.b + ids.n, "%016llX", (unsigned long long)phys);
        bytes += es[i].rec;
    }
    c->batches[c->nbatches].topic = (int)(t - c->topics);
    c->batches[c->nbatches].count = n;
    c->batches[c->nbatches].bytes = bytes;
    c->nbatches++;
    reply_frame(c, ids.b, ids.n, queue_id, first_offset, h->opaque);
    c->done++;
    ret = DONE;
done:
    PyMem_Free(texts.b);
    PyMem_Free(ids.b);
    PyMem_Free(es);
    return ret;
}

/* ---------------------------------------------------------------- the module function */

static int get_bytes(PyObject *o, const unsigned char **p, Py_ssize_t *n) {
    if (!PyBytes_Check(o)) {
        PyErr_SetString(PyExc_TypeError, "bytes expected");
        return 0;
    }
    *p = (const unsigned char *)PyBytes_AS_STRING(o);
    *n = PyBytes_GET_SIZE(o);
    return 1;
}

static int get_i64(PyObject *o, int64_t *v) {
    *v = PyLong_AsLongLong(o);
    return !(*v == -1 && PyErr_Occurred());
}

/* ---------------------------------------------------------------- PULL_MESSAGE frames (pull_fast.FastPull.batch) */

#define CODE_PULL_MESSAGE 11
#define PULL_KEYS 12
static const char *PULL_NAMES[PULL_KEYS] = {"consumerGroup", "topic", "queueId", "queueOffset", "maxMsgNums", "sysFlag",
                                            "commitOffset", "suspendTimeoutMillis", "subVersion", "subscription",
                                            "expressionType", "bname"}; /* PullMessageRequestHeader's, 4.9.8 */

typedef struct {
    Str *ext;
    unsigned seen;
} PullFields;

/* PullMessageRequestHeader's names, each once; any other key refuses the header (the general path answers). */
static int pull_field(void *state, const Str *k, const Str *v) {
    PullFields *s = state;
    int i = 0;
    while (i < PULL_KEYS && !((size_t)k->n == strlen(PULL_NAMES[i]) && memcmp(k->p, PULL_NAMES[i], k->n) == 0)) i++;
    if (i == PULL_KEYS || s->seen & (1u << i)) return 0;
    s->seen |= 1u << i;
    s->ext[i] = *v;
    return 1;
}

/* The header of a PULL_MESSAGE request (parse_json_header; 0 when anything is unusual). */
static int parse_pull_header(const unsigned char *p, const unsigned char *e, int32_t *code, int32_t *flag,
                             int32_t *opaque, Str *language, Str *ext) {
    memset(ext, 0, sizeof(Str) * PULL_KEYS);
    memset(language, 0, sizeof(Str));
    PullFields s = {ext, 0};
    return parse_json_header(p, e, code, flag, opaque, language, pull_field, &s);
}

PyDoc_STRVAR(pull_frame_doc,
"pull_frame(data, pos, max_frame, languages)\n"
"-> (end, opaque, consumerGroup, topic, queueId, queueOffset, maxMsgNums, sysFlag, commitOffset,\n"
"    suspendTimeoutMillis, subVersion) or None\n\n"
"The frame at data[pos:] if it is a whole PULL_MESSAGE request (JSON header, no body, flag 0) whose fields are\n"
"what FastPull._serve takes (non-negative decimals of its lengths, unescaped names); None for anything else,\n"
"which the frame decoder then judges.");

static PyObject *pull_frame(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "pull_frame takes 4 arguments");
        return NULL;
    }
    const unsigned char *data;
    Py_ssize_t n;
    int64_t pos, max_frame;
    if (!get_bytes(args[0], &data, &n) || !get_i64(args[1], &pos) || !get_i64(args[2], &max_frame)) return NULL;
    if (!PyAnySet_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError, "languages: a set expected");
        return NULL;
    }
    if (pos < 0 || n - pos < 8) Py_RETURN_NONE;
    const unsigned char *frame = data + pos;
    int64_t total = (int32_t)get32(frame);
    if (total < 4 || total + 4 > max_frame || total > n - pos - 4) Py_RETURN_NONE;
    uint32_t ori = get32(frame + 4);
    if ((ori >> 24) != 0 || (int64_t)(ori & 0xFFFFFF) != total - 4) Py_RETURN_NONE; /* JSON, and no body */
    int32_t code = 0, flag = 0, opaque = 0;
    Str language, ext[PULL_KEYS];
    if (!parse_pull_header(frame + 8, frame + 4 + total, &code, &flag, &opaque, &language, ext)) Py_RETURN_NONE;
    if (code != CODE_PULL_MESSAGE || flag != 0 || !language.present || language.escaped) Py_RETURN_NONE;
    PyObject *lang = PyBytes_FromStringAndSize((const char *)language.p, language.n);
    if (!lang) return NULL;
    int ok = PySet_Contains(args[3], lang);
    Py_DECREF(lang);
    if (ok < 0) return NULL;
    if (ok == 0) Py_RETURN_NONE;
    static const int maxlen[9] = {0, 0, 9, 18, 9, 9, 18, 18, 18};
    int64_t num[9];
    for (int i = 2; i < 9; i++)
        if ((num[i] = digits(&ext[i], maxlen[i])) < 0) Py_RETURN_NONE;
    if (!ext[0].present || ext[0].escaped || !ext[1].present || ext[1].escaped) Py_RETURN_NONE;
    PyObject *group = PyUnicode_DecodeUTF8((const char *)ext[0].p, ext[0].n, NULL);
    PyObject *topic = group ? PyUnicode_DecodeUTF8((const char *)ext[1].p, ext[1].n, NULL) : NULL;
    if (!topic) { /* not UTF-8 that Python takes (a lone surrogate): the decoder judges it */
        Py_XDECREF(group);
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    return Py_BuildValue("(LiNNLLLLLLL)", (long long)(pos + 4 + total), opaque, group, topic, (long long)num[2],
                         (long long)num[3], (long long)num[4], (long long)num[5], (long long)num[6], (long long)num[7],
                         (long long)num[8]);
}

#define NARGS 25

PyDoc_STRVAR(send_batch_doc,
"send_batch(data, pos, max_frame, learned, table, multi_tag, languages, cluster_segment, max_body, props_max,\n"
"           max_total, file_size, born_ip, born_port, store_ip, store_port, template, msg_id_prefix,\n"
"           log_view, log_from, log_wrote, log_limit, queue_offsets, index, now_ms)\n"
"-> (pos, done, replies, wrote, last_store_ts, queues, topics, batches)\n\n"
"Store and answer the SEND_MESSAGE_V2 frames of data[pos:] FastSend would (see the module comment); stop at the\n"
"first other one. `index` is None (indexing off) or a list [view|None, slots, entries, begin_ts, end_ts,\n"
"begin_phy, end_phy, slot_count, index_count, service_end_phy] whose header values are updated in place.\n"
"queues: [(topic, queue_id, first_offset, next_offset, units, max_end)], topics: [(topic, count, bytes)] of\n"
"single sends,\n"
"batches: [(topic, count, bytes)] per SEND_BATCH_MESSAGE. now_ms: the\n"
"store timestamp of every record, or -1 for the clock (tests pin it).");

static PyObject *send_batch(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != NARGS) {
        PyErr_Format(PyExc_TypeError, "send_batch takes %d arguments", NARGS);
        return NULL;
    }
    Ctx c;
    memset(&c, 0, sizeof(c));
    Py_buffer data = {0}, log = {0}, iview = {0};
    PyObject *result = NULL;
    int64_t pos, max_frame, v;
    if (PyObject_GetBuffer(args[0], &data, PyBUF_SIMPLE) < 0) return NULL;
    if (!get_i64(args[1], &pos) || !get_i64(args[2], &max_frame)) goto out;
    c.learned = args[3];
    c.table = args[4];
    c.multi_tag = args[5];
    c.languages = args[6];
    if (!PyDict_Check(c.learned) || !PyDict_Check(c.table) || !PyAnySet_Check(c.languages)) {
        PyErr_SetString(PyExc_TypeError, "learned and table must be dicts, languages a set");
        goto out;
    }
    if (!get_bytes(args[7], &c.cluster, &c.cluster_n)) goto out;
    if (!get_i64(args[8], &c.max_body) || !get_i64(args[9], &c.props_max) || !get_i64(args[10], &c.max_total) ||
        !get_i64(args[11], &c.file_size))
        goto out;
    if (!get_bytes(args[12], &c.born_ip, &c.born_ip_n) || !get_i64(args[13], &v)) goto out;
    c.born_port = (int32_t)v;
    if (!get_bytes(args[14], &c.store_ip, &c.store_ip_n) || !get_i64(args[15], &v)) goto out;
    c.store_port = (int32_t)v;
    if ((c.born_ip_n != 4 && c.born_ip_n != 16) || (c.store_ip_n != 4 && c.store_ip_n != 16)) {
        PyErr_SetString(PyExc_ValueError, "host addresses are 4 or 16 bytes");
        goto out;
    }
    if (!PyTuple_Check(args[16]) || PyTuple_GET_SIZE(args[16]) != 5) {
        PyErr_SetString(PyExc_TypeError, "template: a tuple of 5 bytes");
        goto out;
    }
    for (int i = 0; i < 5; i++)
        if (!get_bytes(PyTuple_GET_ITEM(args[16], i), &c.tpl[i], &c.tpl_n[i])) goto out;
    if (!get_bytes(args[17], &c.prefix, &c.prefix_n)) goto out;
    if (c.prefix_n > 40) {
        PyErr_SetString(PyExc_ValueError, "a message id prefix has at most 40 characters");
        goto out;
    }
    if (PyObject_GetBuffer(args[18], &log, PyBUF_WRITABLE) < 0) goto out;
    c.log = log.buf;
    if (!get_i64(args[19], &c.log_from) || !get_i64(args[20], &c.wrote) || !get_i64(args[21], &c.limit)) goto out;
    if (c.limit > log.len) c.limit = log.len;
    c.queue_offsets = args[22];
    if (!PyDict_Check(c.queue_offsets)) {
        PyErr_SetString(PyExc_TypeError, "queue_offsets must be a dict");
        goto out;
    }
    PyObject *index = args[23];
    if (index != Py_None) {
        if (!PyList_Check(index) || PyList_GET_SIZE(index) != 10) {
            PyErr_SetString(PyExc_TypeError, "index: None or a list of 10");
            goto out;
        }
        c.index_on = 1;
        PyObject *view = PyList_GET_ITEM(index, 0);
        int64_t *dst[9] = {&c.islots, &c.ientries, &c.ibegin_ts, &c.iend_ts, &c.ibegin_phy, &c.iend_phy,
                           &c.islot_count, &c.icount, &c.iservice_end};
        for (int i = 0; i < 9; i++)
            if (!get_i64(PyList_GET_ITEM(index, i + 1), dst[i])) goto out;
        if (view != Py_None) {
            if (PyObject_GetBuffer(view, &iview, PyBUF_WRITABLE) < 0) goto out;
            if (c.islots <= 0 || INDEX_HEADER + c.islots * 4 + c.ientries * INDEX_ENTRY > iview.len) {
                PyErr_SetString(PyExc_ValueError, "index geometry larger than its view");
                goto out;
            }
            if (c.icount >= 0 && c.icount <= c.ientries && c.islot_count >= 0)
                c.iview = iview.buf; /* else a damaged header: sends with keys are left to Python */
        }
    }
    if (!get_i64(args[24], &c.now_ms)) goto out;
    if (c.wrote < 0 || pos < 0 || pos > data.len) {
        PyErr_SetString(PyExc_ValueError, "bad position");
        goto out;
    }

    const unsigned char *d = data.buf;
    Py_ssize_t end = data.len;
    while (end - pos >= 8) {
        int32_t total = (int32_t)get32(d + pos);
        if (total < 4 || (int64_t)total + 4 > max_frame || end - pos - 4 < total) break;
        int r = send_one(&c, d + pos + 4, total);
        if (r == FAIL) { /* no memory, before anything of this frame was written */
            if (!c.done) goto out;
            PyErr_Clear(); /* what is done stays done: return it, the caller goes on with this frame */
            break;
        }
        if (r == STOP) break;
        pos += 4 + total;
    }

    /* the results first (they only allocate), then the caller's state: queue offsets and index header values */
    PyObject *queues = PyList_New(0), *topics = PyList_New(0), *offsets = PyList_New(0), *ivals = NULL;
    PyObject *batches = PyList_New(0);
    if (!queues || !topics || !offsets || !batches) goto fail;
    for (int i = 0; i < c.nbatches; i++) {
        PyObject *item = Py_BuildValue("(Onn)", c.topics[c.batches[i].topic].topic, c.batches[i].count,
                                       c.batches[i].bytes);
        int bad = !item || PyList_Append(batches, item) < 0;
        Py_XDECREF(item);
        if (bad) goto fail;
    }
    for (int i = 0; i < c.nqueues; i++) {
        Queue *q = &c.queues[i];
        if (q->next == q->first) continue;
        PyObject *item = Py_BuildValue("(OlLLy#L)", c.topics[q->topic].topic, q->qid, (long long)q->first,
                                       (long long)q->next, (const char *)q->units.b, q->units.n,
                                       (long long)q->max_end);
        PyObject *kv = Py_BuildValue("((Ol)L)", c.topics[q->topic].topic, q->qid, (long long)q->next);
        int bad = !item || !kv || PyList_Append(queues, item) < 0 || PyList_Append(offsets, kv) < 0;
        Py_XDECREF(item);
        Py_XDECREF(kv);
        if (bad) goto fail;
    }
    for (int i = 0; i < c.ntopics; i++) {
        Topic *t = &c.topics[i];
        if (!t->count) continue;
        PyObject *item = Py_BuildValue("(Onn)", t->topic, t->count, t->bytes);
        int bad = !item || PyList_Append(topics, item) < 0;
        Py_XDECREF(item);
        if (bad) goto fail;
    }
    if (c.index_on && c.iview) {
        ivals = Py_BuildValue("(LLLLLL)", (long long)c.ibegin_ts, (long long)c.iend_ts, (long long)c.ibegin_phy,
                              (long long)c.iend_phy, (long long)c.islot_count, (long long)c.icount);
        if (!ivals) goto fail;
    }
    result = Py_BuildValue("(Lny#LLOOO)", (long long)pos, c.done, c.replies.b ? (const char *)c.replies.b : "",
                           c.replies.n, (long long)c.wrote, (long long)c.last_ts, queues, topics, batches);
    if (!result) goto fail;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(offsets); i++) {
        PyObject *kv = PyList_GET_ITEM(offsets, i);
        if (PyDict_SetItem(c.queue_offsets, PyTuple_GET_ITEM(kv, 0), PyTuple_GET_ITEM(kv, 1)) < 0) goto fail;
    }
    if (ivals) {
        for (int i = 0; i < 6; i++) {
            PyObject *v = PyTuple_GET_ITEM(ivals, i);
            Py_INCREF(v);
            PyList_SetItem(index, i + 3, v); /* steals; cannot fail on a list of 10 */
        }
    }
    goto done;
fail:
    Py_CLEAR(result);
done:
    Py_XDECREF(queues);
    Py_XDECREF(topics);
    Py_XDECREF(batches);
    Py_XDECREF(offsets);
    Py_XDECREF(ivals);
out:
    for (int i = 0; i < c.ntopics; i++) {
        Py_XDECREF(c.topics[i].topic);
        Py_XDECREF(c.topics[i].topic_b);
    }
    for (int i = 0; i < c.nqueues; i++) PyMem_Free(c.queues[i].units.b);
    PyMem_Free(c.replies.b);
    PyMem_Free(c.scratch);
    if (iview.obj) PyBuffer_Release(&iview);
    if (log.obj) PyBuffer_Release(&log);
    PyBuffer_Release(&data);
    return result;
}

static PyObject *java_string_hash_utf8(PyObject *self, PyObject *arg) {
    (void)self;
    const unsigned char *p;
    Py_ssize_t n;
    if (!get_bytes(arg, &p, &n)) return NULL;
    for (Py_ssize_t i = 0; i < n;) {
        int k = utf8_len(p + i, p + n);
        if (!k) {
            PyErr_SetString(PyExc_ValueError, "not UTF-8");
            return NULL;
        }
        i += k;
    }
    return PyLong_FromLong((int32_t)java_hash(0, p, n));
}

static PyObject *crc32_py(PyObject *self, PyObject *arg) {
    (void)self;
    Py_buffer b;
    if (PyObject_GetBuffer(arg, &b, PyBUF_SIMPLE) < 0) return NULL;
    uint32_t c = crc32_of(b.buf, b.len);
    PyBuffer_Release(&b);
    return PyLong_FromUnsignedLong(c);
}

static PyObject *last_stop_line(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    return PyLong_FromLong(stop_line);
}

static PyMethodDef methods[] = {
    {"crc32", crc32_py, METH_O, "zlib.crc32 of a buffer (the BODYCRC before Java's 0x7FFFFFFF mask)."},
    {"last_stop_line", last_stop_line, METH_NOARGS, "The line of _sendpath.c where the last frame was left alone."},
    {"send_batch", (PyCFunction)(void (*)(void))send_batch, METH_FASTCALL, send_batch_doc},
    {"pull_frame", (PyCFunction)(void (*)(void))pull_frame, METH_FASTCALL, pull_frame_doc},
    {"java_string_hash_utf8", java_string_hash_utf8, METH_O, "String.hashCode of the str whose UTF-8 is given."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_sendpath", "SEND_MESSAGE_V2 over a whole read, in C.",
                                    -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__sendpath(void) {
    crc_init();
    return PyModule_Create(&module);
}
