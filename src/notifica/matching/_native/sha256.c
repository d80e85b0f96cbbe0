/* SHA-256 compression (FIPS 180-4) and the 16-byte HKDF of GAEN (protocol.md §4).
 *
 * HKDF with L = 16 is two HMAC-SHA256 calls:
 *   PRK = HMAC(key = 00*32, msg = tek);  OKM = HMAC(key = PRK, msg = info || 0x01)[0:16]
 * Each HMAC here is written out as SHA-256 compressions on prebuilt, already padded blocks.
 * The salt's inner and outer states never change, so they are computed once
 * (nk_sha256_init_tables): PRK then costs 2 compressions and OKM 4, six per key in all.
 */
#include "nk.h"

#include <string.h>

#if NK_X86
#include <immintrin.h>
#endif

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

static const uint32_t IV256[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                  0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static inline uint32_t load_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void store_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void nk_sha256_compress_portable(uint32_t state[8], const uint8_t block[64]) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++) w[i] = load_be32(block + 4 * i);
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROTR(w[i - 15], 7) ^ ROTR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROTR(w[i - 2], 17) ^ ROTR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25)) + ((e & f) ^ (~e & g)) +
                      K256[i] + w[i];
        uint32_t t2 = (ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
    state[5] += f;
    state[6] += g;
    state[7] += h;
}

#if NK_X86
/* The SHA extensions keep the state as two registers, (A, B, E, F) and (C, D, G, H); each
 * SHA256RNDS2 does two rounds, SHA256MSG1/MSG2 compute the message schedule four words at a
 * time (Intel SHA Extensions reference, 2013). */
__attribute__((target("sha,sse4.1,ssse3"))) void
nk_sha256_compress_shani(uint32_t state[8], const uint8_t block[64]) {
    const __m128i byteswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i dcba = _mm_loadu_si128((const __m128i *)&state[0]);
    __m128i hgfe = _mm_loadu_si128((const __m128i *)&state[4]);
    __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
    __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
    __m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
    __m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);
    const __m128i abef_in = abef, cdgh_in = cdgh;

    __m128i msg[4];
    for (int i = 0; i < 16; i++) {
        __m128i w;
        if (i < 4) {
            w = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block + 16 * i)), byteswap);
        } else {
            /* W[4i..4i+3] from the four previous groups (FIPS 180-4 §6.2.2 step 1). */
            __m128i m = _mm_sha256msg1_epu32(msg[i & 3], msg[(i + 1) & 3]);
            m = _mm_add_epi32(m, _mm_alignr_epi8(msg[(i + 3) & 3], msg[(i + 2) & 3], 4));
            w = _mm_sha256msg2_epu32(m, msg[(i + 3) & 3]);
        }
        msg[i & 3] = w;
        __m128i wk = _mm_add_epi32(w, _mm_loadu_si128((const __m128i *)&K256[4 * i]));
        cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
        abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0E));
    }
    abef = _mm_add_epi32(abef, abef_in);
    cdgh = _mm_add_epi32(cdgh, cdgh_in);

    __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
    __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128((__m128i *)&state[0], _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128((__m128i *)&state[4], _mm_alignr_epi8(dchg, feba, 8));
}
#endif

/* States after compressing (00*32 padded to 64) XOR ipad / opad: the HMAC key of the NULL
 * salt is fixed, so its two key blocks are hashed once for all keys. */
static uint32_t salt_inner[8], salt_outer[8];

void nk_sha256_init_tables(void) {
    uint8_t pad[64];
    memcpy(salt_inner, IV256, sizeof IV256);
    memset(pad, 0x36, sizeof pad);
    nk_sha256_compress_portable(salt_inner, pad);
    memcpy(salt_outer, IV256, sizeof IV256);
    memset(pad, 0x5c, sizeof pad);
    nk_sha256_compress_portable(salt_outer, pad);
}

/* A final block: `len` message bytes, 0x80, zeros, then the 64-bit big-endian bit count of
 * the whole HMAC input (64 key-block bytes + len). */
static inline void pad_block(uint8_t block[64], size_t len) {
    block[len] = 0x80;
    memset(block + len + 1, 0, 64 - len - 1 - 8);
    uint64_t bits = (uint64_t)(64 + len) * 8;
    for (int i = 0; i < 8; i++) block[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
}

static inline void state_to_bytes(const uint32_t state[8], uint8_t out[32]) {
    for (int i = 0; i < 8; i++) store_be32(out + 4 * i, state[i]);
}

void nk_hkdf16(nk_compress_fn compress, const uint8_t tek[16], const uint8_t info7[7],
               uint8_t out[16]) {
    uint8_t block[64], prk[32];
    uint32_t inner[8], outer[8];

    /* Extract: PRK = HMAC(00*32, tek). */
    memcpy(inner, salt_inner, sizeof inner);
    memcpy(block, tek, 16);
    pad_block(block, 16);
    compress(inner, block);
    memcpy(outer, salt_outer, sizeof outer);
    state_to_bytes(inner, block);
    pad_block(block, 32);
    compress(outer, block);
    state_to_bytes(outer, prk);

    /* Expand, one block: OKM = HMAC(PRK, info || 0x01)[0:16]. */
    memcpy(inner, IV256, sizeof inner);
    for (int i = 0; i < 32; i++) block[i] = prk[i] ^ 0x36;
    memset(block + 32, 0x36, 32);
    compress(inner, block);
    memcpy(outer, IV256, sizeof outer);
    for (int i = 0; i < 32; i++) block[i] = prk[i] ^ 0x5c;
    memset(block + 32, 0x5c, 32);
    compress(outer, block);
    memcpy(block, info7, 7);
    block[7] = 0x01;
    pad_block(block, 8);
    compress(inner, block);
    state_to_bytes(inner, block);
    pad_block(block, 32);
    compress(outer, block);
    for (int i = 0; i < 4; i++) store_be32(out + 4 * i, outer[i]);
}
