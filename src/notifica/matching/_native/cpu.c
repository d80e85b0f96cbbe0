/* Run-time CPU feature detection (CPUID), so one build serves CPUs with and without the
 * AES and SHA instructions. */
#include "nk.h"

#include <string.h>

#if NK_X86
#include <cpuid.h>
#endif

void nk_cpu_detect(nk_cpu *out) {
    memset(out, 0, sizeof *out);
#if NK_X86
    unsigned int eax, ebx, ecx, edx;
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx)) {
        out->aes = (ecx >> 25) & 1;
        out->sse41 = (ecx >> 19) & 1;
        out->ssse3 = (ecx >> 9) & 1;
    }
    if (__get_cpuid_max(0, NULL) >= 7 && __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) {
        out->sha = (ebx >> 29) & 1;
    }
#endif
}
