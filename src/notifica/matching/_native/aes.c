/* AES-128 encryption (FIPS 197) of the 144 PaddedData blocks of one key (protocol.md §5):
 *   PaddedData_j = "EN-RPI" || 00*6 || uint32_le(j),   RPI_j = AES-128(RPIK, PaddedData_j)
 * Only bytes 12–15 change between blocks, so the blocks are built in registers.
 *
 * The AES-NI path expands the key with AESKEYGENASSIST and runs eight independent blocks
 * through the rounds together, so the AESENC latency is hidden (144 = 18 × 8). The portable
 * path is a byte-oriented reference used where AES-NI is missing; it uses table look-ups and
 * is therefore not constant-time, which is acceptable for diagnosis keys that are public.
 */
#include "nk.h"

#include <string.h>

#if NK_X86
#include <immintrin.h>
#endif

static const uint8_t SBOX[256] = {
    0x63, 0x7c, 0x77, 0x7b, 0xf2, 0x6b, 0x6f, 0xc5, 0x30, 0x01, 0x67, 0x2b, 0xfe, 0xd7, 0xab,
    0x76, 0xca, 0x82, 0xc9, 0x7d, 0xfa, 0x59, 0x47, 0xf0, 0xad, 0xd4, 0xa2, 0xaf, 0x9c, 0xa4,
    0x72, 0xc0, 0xb7, 0xfd, 0x93, 0x26, 0x36, 0x3f, 0xf7, 0xcc, 0x34, 0xa5, 0xe5, 0xf1, 0x71,
    0xd8, 0x31, 0x15, 0x04, 0xc7, 0x23, 0xc3, 0x18, 0x96, 0x05, 0x9a, 0x07, 0x12, 0x80, 0xe2,
    0xeb, 0x27, 0xb2, 0x75, 0x09, 0x83, 0x2c, 0x1a, 0x1b, 0x6e, 0x5a, 0xa0, 0x52, 0x3b, 0xd6,
    0xb3, 0x29, 0xe3, 0x2f, 0x84, 0x53, 0xd1, 0x00, 0xed, 0x20, 0xfc, 0xb1, 0x5b, 0x6a, 0xcb,
    0xbe, 0x39, 0x4a, 0x4c, 0x58, 0xcf, 0xd0, 0xef, 0xaa, 0xfb, 0x43, 0x4d, 0x33, 0x85, 0x45,
    0xf9, 0x02, 0x7f, 0x50, 0x3c, 0x9f, 0xa8, 0x51, 0xa3, 0x40, 0x8f, 0x92, 0x9d, 0x38, 0xf5,
    0xbc, 0xb6, 0xda, 0x21, 0x10, 0xff, 0xf3, 0xd2, 0xcd, 0x0c, 0x13, 0xec, 0x5f, 0x97, 0x44,
    0x17, 0xc4, 0xa7, 0x7e, 0x3d, 0x64, 0x5d, 0x19, 0x73, 0x60, 0x81, 0x4f, 0xdc, 0x22, 0x2a,
    0x90, 0x88, 0x46, 0xee, 0xb8, 0x14, 0xde, 0x5e, 0x0b, 0xdb, 0xe0, 0x32, 0x3a, 0x0a, 0x49,
    0x06, 0x24, 0x5c, 0xc2, 0xd3, 0xac, 0x62, 0x91, 0x95, 0xe4, 0x79, 0xe7, 0xc8, 0x37, 0x6d,
    0x8d, 0xd5, 0x4e, 0xa9, 0x6c, 0x56, 0xf4, 0xea, 0x65, 0x7a, 0xae, 0x08, 0xba, 0x78, 0x25,
    0x2e, 0x1c, 0xa6, 0xb4, 0xc6, 0xe8, 0xdd, 0x74, 0x1f, 0x4b, 0xbd, 0x8b, 0x8a, 0x70, 0x3e,
    0xb5, 0x66, 0x48, 0x03, 0xf6, 0x0e, 0x61, 0x35, 0x57, 0xb9, 0x86, 0xc1, 0x1d, 0x9e, 0xe1,
    0xf8, 0x98, 0x11, 0x69, 0xd9, 0x8e, 0x94, 0x9b, 0x1e, 0x87, 0xe9, 0xce, 0x55, 0x28, 0xdf,
    0x8c, 0xa1, 0x89, 0x0d, 0xbf, 0xe6, 0x42, 0x68, 0x41, 0x99, 0x2d, 0x0f, 0xb0, 0x54, 0xbb,
    0x16};

static const uint8_t RCON[10] = {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1b, 0x36};

/* "EN-RPI" || 00*6: PaddedData bytes 0–11 (protocol.md §5). */
static const uint8_t RPI_PREFIX[12] = {0x45, 0x4e, 0x2d, 0x52, 0x50, 0x49, 0, 0, 0, 0, 0, 0};

static void expand_key_portable(const uint8_t key[16], uint8_t rk[176]) {
    memcpy(rk, key, 16);
    for (int i = 4; i < 44; i++) {
        uint8_t t[4];
        memcpy(t, rk + 4 * (i - 1), 4);
        if (i % 4 == 0) {
            uint8_t first = t[0];
            t[0] = (uint8_t)(SBOX[t[1]] ^ RCON[i / 4 - 1]);
            t[1] = SBOX[t[2]];
            t[2] = SBOX[t[3]];
            t[3] = SBOX[first];
        }
        for (int j = 0; j < 4; j++) rk[4 * i + j] = rk[4 * (i - 4) + j] ^ t[j];
    }
}

static inline uint8_t xtime(uint8_t x) { return (uint8_t)((x << 1) ^ ((x >> 7) * 0x1b)); }

static void encrypt_portable(const uint8_t rk[176], const uint8_t in[16], uint8_t out[16]) {
    uint8_t s[16], t[16];
    for (int i = 0; i < 16; i++) s[i] = in[i] ^ rk[i];
    for (int round = 1; round <= 10; round++) {
        /* SubBytes and ShiftRows: state byte (row r, column c) is s[4c + r]. */
        for (int c = 0; c < 4; c++)
            for (int r = 0; r < 4; r++) t[4 * c + r] = SBOX[s[4 * ((c + r) % 4) + r]];
        if (round < 10) {
            for (int c = 0; c < 4; c++) {
                uint8_t *col = t + 4 * c;
                uint8_t a0 = col[0], a1 = col[1], a2 = col[2], a3 = col[3];
                uint8_t all = a0 ^ a1 ^ a2 ^ a3;
                col[0] = a0 ^ all ^ xtime(a0 ^ a1);
                col[1] = a1 ^ all ^ xtime(a1 ^ a2);
                col[2] = a2 ^ all ^ xtime(a2 ^ a3);
                col[3] = a3 ^ all ^ xtime(a3 ^ a0);
            }
        }
        for (int i = 0; i < 16; i++) s[i] = t[i] ^ rk[16 * round + i];
    }
    memcpy(out, s, 16);
}

void nk_aes_encrypt_block_portable(const uint8_t key[16], const uint8_t in[16], uint8_t out[16]) {
    uint8_t rk[176];
    expand_key_portable(key, rk);
    encrypt_portable(rk, in, out);
}

void nk_aes_rpis_portable(const uint8_t key[16], uint32_t rsin, uint8_t out[NK_KEY_RPIS_BYTES]) {
    uint8_t rk[176], block[16];
    expand_key_portable(key, rk);
    memcpy(block, RPI_PREFIX, 12);
    for (uint32_t j = 0; j < NK_RPIS_PER_KEY; j++) {
        uint32_t interval = rsin + j;
        block[12] = (uint8_t)interval;
        block[13] = (uint8_t)(interval >> 8);
        block[14] = (uint8_t)(interval >> 16);
        block[15] = (uint8_t)(interval >> 24);
        encrypt_portable(rk, block, out + NK_RPI_LEN * j);
    }
}

#if NK_X86
#define NK_AESNI __attribute__((target("aes,sse2")))

NK_AESNI static inline __m128i expand_step(__m128i key, __m128i assist) {
    assist = _mm_shuffle_epi32(assist, 0xFF);
    key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
    key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
    key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
    return _mm_xor_si128(key, assist);
}

#define EXPAND(i, rcon) rk[i] = expand_step(rk[i - 1], _mm_aeskeygenassist_si128(rk[i - 1], rcon))

NK_AESNI void nk_aes_rpis_aesni(const uint8_t key[16], uint32_t rsin,
                                uint8_t out[NK_KEY_RPIS_BYTES]) {
    __m128i rk[11];
    rk[0] = _mm_loadu_si128((const __m128i *)key);
    EXPAND(1, 0x01);
    EXPAND(2, 0x02);
    EXPAND(3, 0x04);
    EXPAND(4, 0x08);
    EXPAND(5, 0x10);
    EXPAND(6, 0x20);
    EXPAND(7, 0x40);
    EXPAND(8, 0x80);
    EXPAND(9, 0x1b);
    EXPAND(10, 0x36);

    /* Lanes, low to high: "EN-R", "PI\0\0", 0, interval (little-endian as x86 stores it). */
    const __m128i base = _mm_set_epi32((int)rsin, 0, 0x00004950, 0x522d4e45);
    __m128i *dst = (__m128i *)out;
    for (int j = 0; j < NK_RPIS_PER_KEY; j += 8) {
        __m128i x[8];
#pragma GCC unroll 8
        for (int b = 0; b < 8; b++)
            x[b] = _mm_xor_si128(_mm_add_epi32(base, _mm_set_epi32(j + b, 0, 0, 0)), rk[0]);
#pragma GCC unroll 9
        for (int r = 1; r < 10; r++) {
#pragma GCC unroll 8
            for (int b = 0; b < 8; b++) x[b] = _mm_aesenc_si128(x[b], rk[r]);
        }
#pragma GCC unroll 8
        for (int b = 0; b < 8; b++) _mm_storeu_si128(dst + j + b, _mm_aesenclast_si128(x[b], rk[10]));
    }
}
#endif
