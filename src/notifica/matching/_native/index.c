/* A sorted prefix index over 16-byte records, after the PrefixIdMap of Google's matcher
 * (protocol.md §15.1): records are bucketed by their first `bits` bits with a counting sort
 * (two linear passes), then each bucket is sorted by the full 16 bytes. A look-up reads one
 * bucket's bounds and binary-searches inside it, so even a bucket crowded by crafted
 * identifiers costs O(log n), never a linear scan. */
#include "nk.h"

#include <string.h>

#define NK_MAX_BITS 28 /* 1 GiB of bucket bounds at most; 2^28 buckets ≈ 1.9 G records */

unsigned nk_index_bits_for(uint64_t count) {
    /* About two records per bucket keeps the bucket table small and look-ups at one probe. */
    unsigned bits = 1;
    while (bits < NK_MAX_BITS && ((uint64_t)1 << (bits + 1)) <= count) bits++;
    return bits;
}

static inline int record_less(const uint8_t *records, uint32_t a, uint32_t b) {
    int c = memcmp(records + (size_t)a * 16, records + (size_t)b * 16, 16);
    return c < 0 || (c == 0 && a < b);
}

static void sift_down(const uint8_t *records, uint32_t *ids, size_t start, size_t end) {
    size_t root = start;
    while (2 * root + 1 < end) {
        size_t child = 2 * root + 1;
        if (child + 1 < end && record_less(records, ids[child], ids[child + 1])) child++;
        if (!record_less(records, ids[root], ids[child])) return;
        uint32_t tmp = ids[root];
        ids[root] = ids[child];
        ids[child] = tmp;
        root = child;
    }
}

static void sort_ids(const uint8_t *records, uint32_t *ids, size_t n) {
    if (n <= 16) { /* insertion sort: buckets hold about two records on average */
        for (size_t i = 1; i < n; i++) {
            uint32_t v = ids[i];
            size_t j = i;
            while (j > 0 && record_less(records, v, ids[j - 1])) {
                ids[j] = ids[j - 1];
                j--;
            }
            ids[j] = v;
        }
        return;
    }
    /* heap sort: O(n log n) whatever the input, and no recursion */
    for (size_t start = n / 2; start-- > 0;) sift_down(records, ids, start, n);
    for (size_t end = n - 1; end > 0; end--) {
        uint32_t tmp = ids[0];
        ids[0] = ids[end];
        ids[end] = tmp;
        sift_down(records, ids, 0, end);
    }
}

int nk_index_build(const uint8_t *records, uint32_t count, unsigned bits, uint32_t *offsets,
                   uint32_t *ids) {
    size_t buckets = (size_t)1 << bits;
    memset(offsets, 0, (buckets + 1) * sizeof *offsets);
    for (uint32_t i = 0; i < count; i++) offsets[nk_bucket(records + (size_t)i * 16, bits) + 1]++;
    for (size_t b = 0; b < buckets; b++) offsets[b + 1] += offsets[b];
    /* Scatter with offsets[b] as the cursor of bucket b; afterwards offsets[b] is the end of
     * bucket b, i.e. the start of bucket b + 1, so shifting by one restores the starts. */
    for (uint32_t i = 0; i < count; i++) {
        uint32_t b = nk_bucket(records + (size_t)i * 16, bits);
        ids[offsets[b]++] = i;
    }
    memmove(offsets + 1, offsets, buckets * sizeof *offsets);
    offsets[0] = 0;
    for (size_t b = 0; b < buckets; b++) {
        uint32_t lo = offsets[b], hi = offsets[b + 1];
        if (hi - lo > 1) sort_ids(records, ids + lo, hi - lo);
    }
    return 0;
}

void nk_index_find(const nk_index *index, const uint8_t value[16], uint32_t *lo_out,
                   uint32_t *hi_out) {
    uint32_t b = nk_bucket(value, index->bits);
    uint32_t lo = index->offsets[b], hi = index->offsets[b + 1];
    /* lower bound of `value` in [lo, hi) */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (memcmp(index->records + (size_t)index->ids[mid] * 16, value, 16) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint32_t end = lo, limit = index->offsets[b + 1];
    while (end < limit && memcmp(index->records + (size_t)index->ids[end] * 16, value, 16) == 0)
        end++;
    *lo_out = lo;
    *hi_out = end;
}
