/* notifica native matching kernel: shared declarations.
 *
 * The kernel derives GAEN Rolling Proximity Identifiers (protocol.md §4–§5) for many keys and
 * matches them against a phone's observed identifiers (protocol.md §11). Everything here is
 * plain C99 plus, on x86-64 with GCC or Clang, AES-NI and SHA-NI code paths compiled with
 * per-function target attributes and chosen at run time from CPUID, so the module loads on any
 * CPU. No OpenSSL: the primitives are implemented in aes.c and sha256.c.
 */
#ifndef NOTIFICA_NK_H
#define NOTIFICA_NK_H

#include <stddef.h>
#include <stdint.h>

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#define NK_X86 1
#else
#define NK_X86 0
#endif

#define NK_KEY_LEN 16
#define NK_RPI_LEN 16
#define NK_RPIS_PER_KEY 144                       /* protocol.md §11: GMS derives all 144 */
#define NK_KEY_RPIS_BYTES (NK_RPIS_PER_KEY * NK_RPI_LEN) /* 2,304 */
#define NK_DRIFT 12                               /* ±2 h: [j − 12, j + 13), protocol.md §11 */

/* ---- CPU features (cpu.c) ---- */
typedef struct {
    int aes;   /* AES-NI (CPUID.1:ECX.25) */
    int sha;   /* SHA extensions (CPUID.7.0:EBX.29) */
    int sse41; /* SSE4.1 (CPUID.1:ECX.19), needed by the SHA-NI path */
    int ssse3; /* SSSE3 (CPUID.1:ECX.9), needed by the SHA-NI path */
} nk_cpu;

void nk_cpu_detect(nk_cpu *out);

/* ---- SHA-256 (sha256.c) ---- */
typedef void (*nk_compress_fn)(uint32_t state[8], const uint8_t block[64]);

void nk_sha256_compress_portable(uint32_t state[8], const uint8_t block[64]);
#if NK_X86
void nk_sha256_compress_shani(uint32_t state[8], const uint8_t block[64]);
#endif
void nk_sha256_init_tables(void);
/* HKDF-SHA256(ikm = tek, salt = NULL, info = 7 bytes, L = 16): two HMACs (protocol.md §4). */
void nk_hkdf16(nk_compress_fn compress, const uint8_t tek[16], const uint8_t info7[7],
               uint8_t out[16]);

/* ---- AES-128 (aes.c) ---- */
/* Encrypts PaddedData_j for j = rsin .. rsin + 143 under `key` into out[2304]. */
typedef void (*nk_rpis_fn)(const uint8_t key[16], uint32_t rsin, uint8_t out[NK_KEY_RPIS_BYTES]);

void nk_aes_rpis_portable(const uint8_t key[16], uint32_t rsin, uint8_t out[NK_KEY_RPIS_BYTES]);
#if NK_X86
void nk_aes_rpis_aesni(const uint8_t key[16], uint32_t rsin, uint8_t out[NK_KEY_RPIS_BYTES]);
#endif
void nk_aes_encrypt_block_portable(const uint8_t key[16], const uint8_t in[16], uint8_t out[16]);

/* ---- Sorted prefix index over 16-byte records (index.c) ---- */
typedef struct {
    uint32_t prefix; /* the record's first 4 bytes, big-endian */
    uint32_t id;     /* record number */
} nk_entry;

typedef struct {
    const uint8_t *records;  /* count × 16 bytes */
    const uint32_t *offsets; /* (1 << bits) + 1 bucket starts into entries */
    const nk_entry *entries; /* sorted by record value, then record number */
    const uint64_t *bitmap;  /* optional: bit b set iff bucket b is not empty */
    unsigned bits;           /* bucket = the top `bits` bits of the prefix */
} nk_index;

unsigned nk_index_bits_for(uint64_t count, int sparse);
/* Fills offsets[(1 << bits) + 1], entries[count] and, if not NULL, bitmap[2^bits / 64].
 * Returns 0, or -1 if out of memory. */
int nk_index_build(const uint8_t *records, uint32_t count, unsigned bits, uint32_t *offsets,
                   nk_entry *entries, uint64_t *bitmap);
/* The run [*lo, *hi) of entries whose record equals `value` (empty if none). */
void nk_index_find(const nk_index *index, const uint8_t value[16], uint32_t *lo, uint32_t *hi);

static inline int nk_index_may_hold(const nk_index *index, const uint8_t *value) {
    uint32_t top = ((uint32_t)value[0] << 24) | ((uint32_t)value[1] << 16) |
                   ((uint32_t)value[2] << 8) | (uint32_t)value[3];
    uint32_t b = top >> (32 - index->bits);
    if (index->bitmap) return (int)((index->bitmap[b / 64] >> (b % 64)) & 1);
    return index->offsets[b] != index->offsets[b + 1];
}

/* ---- Matches: (key index, interval, observation index) triples (match.c) ---- */
typedef struct {
    uint32_t *data; /* 3 × count */
    size_t count;
    size_t capacity;
} nk_matches;

int nk_matches_push(nk_matches *m, uint32_t key, uint32_t interval, uint32_t obs);
void nk_matches_sort(nk_matches *m);

typedef struct {
    const int32_t *rsins;     /* rolling start interval number per key */
    const int32_t *periods;   /* rolling period per key, 1..144 */
    const uint32_t *obs_intervals; /* ENIN of each observation */
} nk_rules;

/* Checks the 144 RPIs of key `k` (rpis = 2,304 bytes) against the observation index; pushes
 * each valid match. Returns 0, or -1 if out of memory. */
int nk_match_key(const nk_index *obs, const nk_rules *rules, uint32_t k, const uint8_t *rpis,
                 nk_matches *out);
/* For each observation, finds equal derived RPIs through the index over derived records. */
int nk_match_indexed(const nk_index *derived, const nk_rules *rules, const uint8_t *obs_rpis,
                     uint32_t obs_count, nk_matches *out);

#endif
