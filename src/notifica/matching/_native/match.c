/* GAEN's validity rules applied to identifier hits (protocol.md §11):
 *  - all 144 RPIs are derived from the rolling start, as GMS does, but only the first
 *    `rolling_period` of them can match;
 *  - the RPI of interval i matches a sighting at interval t only if t ∈ [i − 12, i + 13)
 *    (±2 h of clock drift, INT RollingProximityIdValidator).
 * Intervals are compared as 64-bit signed values so nothing wraps at 0 or 2^32. */
#include "nk.h"

#include <stdlib.h>

int nk_matches_push(nk_matches *m, uint32_t key, uint32_t interval, uint32_t obs) {
    if (m->count == m->capacity) {
        size_t capacity = m->capacity ? 2 * m->capacity : 256;
        uint32_t *data = realloc(m->data, capacity * 3 * sizeof *data);
        if (!data) return -1;
        m->data = data;
        m->capacity = capacity;
    }
    uint32_t *t = m->data + 3 * m->count++;
    t[0] = key;
    t[1] = interval;
    t[2] = obs;
    return 0;
}

static int triple_cmp(const void *pa, const void *pb) {
    const uint32_t *a = pa, *b = pb;
    for (int i = 0; i < 3; i++)
        if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
    return 0;
}

void nk_matches_sort(nk_matches *m) {
    if (m->count > 1) qsort(m->data, m->count, 3 * sizeof *m->data, triple_cmp);
}

static inline int is_valid(const nk_rules *rules, uint32_t k, uint32_t j, uint32_t obs) {
    if ((int64_t)j >= rules->periods[k]) return 0;
    int64_t interval = (int64_t)rules->rsins[k] + j;
    int64_t seen = rules->obs_intervals[obs];
    return seen >= interval - NK_DRIFT && seen < interval + NK_DRIFT + 1;
}

int nk_match_key(const nk_index *obs, const nk_rules *rules, uint32_t k, const uint8_t *rpis,
                 nk_matches *out) {
    uint32_t periods = (uint32_t)rules->periods[k];
    for (uint32_t j = 0; j < periods; j++) {
        const uint8_t *rpi = rpis + (size_t)j * NK_RPI_LEN;
        if (!nk_index_may_hold(obs, rpi)) continue; /* the common case: a miss */
        uint32_t lo, hi;
        nk_index_find(obs, rpi, &lo, &hi);
        for (uint32_t p = lo; p < hi; p++) {
            uint32_t o = obs->entries[p].id;
            if (is_valid(rules, k, j, o) &&
                nk_matches_push(out, k, (uint32_t)rules->rsins[k] + j, o) < 0)
                return -1;
        }
    }
    return 0;
}

int nk_match_indexed(const nk_index *derived, const nk_rules *rules, const uint8_t *obs_rpis,
                     uint32_t obs_count, nk_matches *out) {
    for (uint32_t o = 0; o < obs_count; o++) {
        uint32_t lo, hi;
        nk_index_find(derived, obs_rpis + (size_t)o * NK_RPI_LEN, &lo, &hi);
        for (uint32_t p = lo; p < hi; p++) {
            uint32_t position = derived->entries[p].id;
            uint32_t k = position / NK_RPIS_PER_KEY, j = position % NK_RPIS_PER_KEY;
            if (is_valid(rules, k, j, o) &&
                nk_matches_push(out, k, (uint32_t)rules->rsins[k] + j, o) < 0)
                return -1;
        }
    }
    return 0;
}
