/* A sorted prefix index over 16-byte records, after the PrefixIdMap of Google's matcher
 * (protocol.md §15.1).
 *
 * Entries are (first 4 bytes as a big-endian integer, record number) pairs sorted by the
 * record's value. Sorting reads the records once, sequentially, and then moves only the
 * 8-byte entries with an LSD radix sort (three passes of 11 bits, stable, so equal prefixes
 * keep record order); only entries whose 4-byte prefixes tie compare whole records, which is
 * rare for AES outputs. A bucket table on the top `bits` bits of the prefix, and optionally
 * a bitmap of non-empty buckets, make a miss one or two memory reads; a hit binary-searches
 * its bucket, so even a bucket crowded by crafted identifiers costs O(log n). */
#include "nk.h"

#include <stdlib.h>
#include <string.h>

#define NK_MAX_BITS 26

unsigned nk_index_bits_for(uint64_t count, int sparse) {
    /* Dense (derived identifiers): about 4 records per bucket, ≤ 2^24 buckets (64 MiB).
     * Sparse (a phone's sightings, probed by every derived RPI): about 8 buckets per record,
     * so the bitmap answers most misses alone. */
    unsigned bits = 1, cap = sparse ? NK_MAX_BITS : 24;
    uint64_t target = sparse ? count * 8 : count / 4;
    while (bits < cap && ((uint64_t)1 << bits) < target) bits++;
    return bits;
}

static inline uint32_t load_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline int entry_less(const uint8_t *records, nk_entry a, nk_entry b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    int c = memcmp(records + (size_t)a.id * 16, records + (size_t)b.id * 16, 16);
    return c < 0 || (c == 0 && a.id < b.id);
}

/* Sorts a run of equal prefixes by the whole record; runs are tiny unless crafted, so
 * insertion sort below 32 entries and heap sort above. */
static void sift_down(const uint8_t *records, nk_entry *e, size_t root, size_t end) {
    while (2 * root + 1 < end) {
        size_t child = 2 * root + 1;
        if (child + 1 < end && entry_less(records, e[child], e[child + 1])) child++;
        if (!entry_less(records, e[root], e[child])) return;
        nk_entry tmp = e[root];
        e[root] = e[child];
        e[child] = tmp;
        root = child;
    }
}

static void sort_run(const uint8_t *records, nk_entry *e, size_t n) {
    if (n <= 32) {
        for (size_t i = 1; i < n; i++) {
            nk_entry v = e[i];
            size_t j = i;
            while (j > 0 && entry_less(records, v, e[j - 1])) {
                e[j] = e[j - 1];
                j--;
            }
            e[j] = v;
        }
        return;
    }
    for (size_t start = n / 2; start-- > 0;) sift_down(records, e, start, n);
    for (size_t end = n - 1; end > 0; end--) {
        nk_entry tmp = e[0];
        e[0] = e[end];
        e[end] = tmp;
        sift_down(records, e, 0, end);
    }
}

int nk_index_build(const uint8_t *records, uint32_t count, unsigned bits, uint32_t *offsets,
                   nk_entry *entries, uint64_t *bitmap) {
    nk_entry *tmp = malloc((size_t)count * sizeof *tmp + 1);
    if (!tmp) return -1;
    for (uint32_t i = 0; i < count; i++) {
        entries[i].prefix = load_be32(records + (size_t)i * 16);
        entries[i].id = i;
    }
    /* LSD radix sort on the 32-bit prefix: passes on bits 0–10, 11–21, 22–31. */
    static const unsigned shifts[3] = {0, 11, 22};
    nk_entry *src = entries, *dst = tmp;
    for (int pass = 0; pass < 3; pass++) {
        size_t counts[2048] = {0};
        unsigned shift = shifts[pass];
        for (uint32_t i = 0; i < count; i++) counts[(src[i].prefix >> shift) & 2047]++;
        size_t sum = 0;
        for (int d = 0; d < 2048; d++) {
            size_t c = counts[d];
            counts[d] = sum;
            sum += c;
        }
        for (uint32_t i = 0; i < count; i++) dst[counts[(src[i].prefix >> shift) & 2047]++] = src[i];
        nk_entry *swap = src;
        src = dst;
        dst = swap;
    }
    if (src != entries) memcpy(entries, src, (size_t)count * sizeof *entries);
    free(tmp);
    for (uint32_t i = 0; i < count;) {
        uint32_t j = i + 1;
        while (j < count && entries[j].prefix == entries[i].prefix) j++;
        if (j - i > 1) sort_run(records, entries + i, j - i);
        i = j;
    }
    /* Bucket starts: entries are sorted, so one sequential pass. */
    size_t buckets = (size_t)1 << bits;
    uint32_t i = 0;
    for (size_t b = 0; b < buckets; b++) {
        offsets[b] = i;
        while (i < count && (entries[i].prefix >> (32 - bits)) == b) i++;
    }
    offsets[buckets] = count;
    if (bitmap) {
        memset(bitmap, 0, ((buckets + 63) / 64) * sizeof *bitmap);
        for (size_t b = 0; b < buckets; b++)
            if (offsets[b] != offsets[b + 1]) bitmap[b / 64] |= (uint64_t)1 << (b % 64);
    }
    return 0;
}

static inline int entry_cmp_value(const nk_index *index, nk_entry e, uint32_t prefix,
                                  const uint8_t *value) {
    if (e.prefix != prefix) return e.prefix < prefix ? -1 : 1;
    return memcmp(index->records + (size_t)e.id * 16, value, 16);
}

void nk_index_find(const nk_index *index, const uint8_t value[16], uint32_t *lo_out,
                   uint32_t *hi_out) {
    uint32_t prefix = load_be32(value);
    uint32_t b = prefix >> (32 - index->bits);
    uint32_t lo = index->offsets[b], hi = index->offsets[b + 1], limit = hi;
    while (lo < hi) { /* lower bound of `value` in the bucket */
        uint32_t mid = lo + (hi - lo) / 2;
        if (entry_cmp_value(index, index->entries[mid], prefix, value) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint32_t end = lo;
    while (end < limit && entry_cmp_value(index, index->entries[end], prefix, value) == 0) end++;
    *lo_out = lo;
    *hi_out = end;
}
