/* matmul_emul.c: the emulated matrix unit for LINEAR (see matmul_emul.h).
 *
 * Why a few float GEMMs are exact. A phase multiplies a B part (at most 7 significant bits for
 * B0, 4 for B2) by an A part (5 bits each); the merged operands A0+A1 = w & 0xFFFFC000 (10
 * bits) and B0+B2 = x & 0xFFFFE000 (11 bits) still multiply into at most 21 significant bits.
 * Every product below therefore fits fp32 exactly (outside the subnormal range), so
 *     B0 (A0+A1) = B0 A0 + B0 A1   and   (B0+B2)(A0+A1) = the four phase products
 * hold exactly per k, and a fused multiply-add rounds exactly like a multiply then an add.
 * With an fp32 destination, merging phases into one term only changes the order in which the
 * same exact products are summed: fp32 reassociation, nothing else. With a bf16 destination
 * the rounding after each phase's addition is part of the result, so each phase stays its own
 * term there.
 *
 * The kernel: for each block of KC input features, each panel of 32 output features, each tile
 * of MR rows, each 32-deep chunk and each term, a register tile accumulates the chunk's products
 * in fp32 (k in order, from +0) and is then added to the destination, which is rounded to bf16
 * after the addition when the destination is bf16. Threads take disjoint panels.
 *
 * Operand layouts. A part whose values are all bf16 numbers (A0, A1 and B0, B2 always are,
 * barring NaN payloads and subnormals; the merged parts when the operand was bf16 already) is
 * stored as bf16 pairs: one 32-bit word holds the part at input features 2i and 2i+1. That
 * halves the memory traffic, and on CPUs with AVX512-BF16 lets one VDPBF16PS do the work of
 * two fused multiply-adds: it adds the two products of a pair to the fp32 accumulator one after
 * the other, rounding each addition to nearest even (checked by probe_dot at run time, which
 * also finds which half goes first; the pairs are packed so that feature 2i does). Its only
 * departure from IEEE arithmetic is that it flushes subnormal inputs and results to zero, so a
 * term takes that path only when no operand is subnormal and the lowest bits of the two parts
 * multiply to at least 2^-126: then every product and every partial sum is a multiple of
 * 2^-126, no result is subnormal, and the bits equal the fused multiply-add path's. */
#include "matmul_emul.h"

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "numerics.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
/* Unrolling hints for the tile loops; an unoptimized (Debug) build ignores them and would warn. */
#ifdef __OPTIMIZE__
#define UNROLL_PRAGMA(x) _Pragma(#x)
#define UNROLL(n) UNROLL_PRAGMA(GCC unroll n)
#else
#define UNROLL(n)
#endif
#define HAVE_X86_VARIANTS 1
#define AVX512 __attribute__((target("avx512f")))
#endif

#define NR RT_MATMUL_PANEL
#define MR 8     /* rows of a register tile: 8 x 32 accumulators are 16 AVX-512 registers */
#define CHUNK 32 /* the device's k chunk: a bf16 destination is rounded after each */
#define KC 256   /* k per cache block, a multiple of CHUNK so chunks stay aligned to k = 0 */

/* Every helper the per-ISA variants use must inline into them. */
#define LOOP __attribute__((always_inline))

/* ---- terms ---- */

typedef enum { BPART_B0, BPART_B2, BPART_BFULL, BPART_COUNT } BPart;

typedef struct Term {
    BPart b;
    RtWeightPart a;
} Term;

enum { MAX_TERMS = 4 };

/* The products a mode sums, in the order they reach the destination within a chunk. */
static int mode_terms(const RtMatmulMode *mode, Term *t) {
    int n = 0;
    if (mode->fp32_acc) {
        switch (mode->fidelity) {
        case TTC_FIDELITY_LOFI: t[n++] = (Term){BPART_B0, RT_WPART_A0}; break;
        case TTC_FIDELITY_HIFI2: t[n++] = (Term){BPART_B0, RT_WPART_AFULL}; break;
        case TTC_FIDELITY_HIFI3:
            t[n++] = (Term){BPART_B0, RT_WPART_AFULL};
            t[n++] = (Term){BPART_B2, RT_WPART_A0};
            break;
        default: t[n++] = (Term){BPART_BFULL, RT_WPART_AFULL}; break;
        }
        return n;
    }
    int phases = ttc_fidelity_phases(mode->fidelity);
    if (phases < 1 || phases > 4) phases = 4;
    for (int p = 0; p < phases; p++)
        t[n++] = (Term){(p & 2) ? BPART_B2 : BPART_B0, (p & 1) ? RT_WPART_A1 : RT_WPART_A0};
    return n;
}

unsigned rt_matmul_parts_needed(TtcFidelity fidelity, int fp32_acc) {
    RtMatmulMode mode = {.fidelity = fidelity, .fp32_acc = fp32_acc};
    Term t[MAX_TERMS];
    unsigned parts = 0;
    for (int i = 0, n = mode_terms(&mode, t); i < n; i++) parts |= 1u << t[i].a;
    return parts;
}

/* ---- what a weight part holds ---- */

/* bf16: every value is a bf16 number (low 16 bits zero). normal: no subnormal value. zero:
 * every value is +0 or -0. low_exp: the exponent of the lowest set bit over the nonzero finite
 * values (INT_MAX when there are none): every product of parts p and q is a multiple of
 * 2^(p.low_exp + q.low_exp). */
typedef struct PartStats {
    int bf16, normal, zero, low_exp;
} PartStats;

static void stats_init(PartStats *s) { *s = (PartStats){1, 1, 1, INT_MAX}; }

static inline void stats_add(PartStats *s, float v) {
    uint32_t u = ttc_f32_bits(v), e = (u >> 23) & 0xFFu, mag = u & 0x7FFFFFFFu;
    s->bf16 &= (u & 0xFFFFu) == 0;
    s->zero &= mag == 0;
    s->normal &= e != 0 || mag == 0;
    int low = (int)e - 150 + __builtin_ctz((u & 0x007FFFFFu) | 0x00800000u);
    if (e != 0 && e != 0xFFu && low < s->low_exp) s->low_exp = low;
}

/* ---- the dot-product instruction ---- */

/* 0: VDPBF16PS is not usable as the kernel needs it; 1: it adds the high half's product first;
 * 2: the low half's first. */
static int dot_order;
static pthread_once_t dot_once = PTHREAD_ONCE_INIT;

#ifdef HAVE_X86_VARIANTS
/* VDPBF16PS acc += pairs of b * a, as inline assembly so that the AVX-512F code can carry it
 * without the compiler being allowed AVX512-BF16 anywhere else; it only runs on CPUs that
 * report the extension (probe_dot). */
static inline LOOP AVX512 __m512 dpbf16(__m512 acc, __m512i b, __m512i a) {
    __asm__("vdpbf16ps %2, %1, %0" : "+v"(acc) : "v"(b), "v"(a));
    return acc;
}

/* 1 + p + q for one pair of products p (high half) and q (low half), as VDPBF16PS adds them. */
static AVX512 float dot_probe(float hi_a, float hi_b, float lo_a, float lo_b) {
    uint32_t a = ttc_f32_bits(hi_a) | ttc_f32_bits(lo_a) >> 16, b = ttc_f32_bits(hi_b) | ttc_f32_bits(lo_b) >> 16;
    __m512 r = dpbf16(_mm512_set1_ps(1.0f), _mm512_set1_epi32((int)b), _mm512_set1_epi32((int)a));
    return _mm512_cvtss_f32(r);
}

/* Two additions rounded one at a time (1 + 2^-24 is a tie that stays 1; one fused rounding of
 * 1 + 2^-23 would not), and which goes first: with 2^-24 first the result is 1 + 2^-23; with
 * 2^-23 first, 1 + 2^-23 + 2^-24 ties to 1 + 2^-22. */
static void probe_dot(void) {
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bf16")) return;
    if (dot_probe(0x1p-12f, 0x1p-12f, 0x1p-12f, 0x1p-12f) != 1.0f) return;
    float r = dot_probe(0x1p-12f, 0x1p-12f, 0x1p-12f, 0x1p-11f);
    dot_order = r == 1.0f + 0x1p-23f ? 1 : r == 1.0f + 0x1p-22f ? 2 : 0;
}
#else
static void probe_dot(void) {}
#endif

static int dot_pair_order(void) {
    pthread_once(&dot_once, probe_dot);
    return dot_order;
}

/* The 32-bit word of a bf16 pair: feature k (2i) in the half the dot product takes first. */
static inline uint32_t pair_word(float first, float second, int k_high) {
    uint32_t f = ttc_f32_bits(first) >> 16, s = ttc_f32_bits(second) >> 16;
    return k_high ? f << 16 | s : s << 16 | f;
}

/* ---- weights ---- */

/* Part p of one weight value (p is a constant in each loop that calls this, once inlined). */
static inline LOOP float weight_part_value(float w, RtWeightPart p) {
    return p == RT_WPART_A0 ? ttc_fid_high(w, TTC_FID_A_HI)
           : p == RT_WPART_A1 ? ttc_fid_low(w, TTC_FID_A_LO_CLEAR)
                              : ttc_fid_high(w, TTC_FID_A_FULL);
}

static void weight_stats(const float *w, int64_t n, RtWeightPart p, PartStats *st) {
    for (int64_t i = 0; i < n; i++) stats_add(st, weight_part_value(w[i], p));
}

/* Bytes of one packed part in either layout, [panels][k][32] floats or [panels][k/2][32]
 * pairs, in *bytes; 0 when that does not fit a size_t. */
static int part_bytes(int64_t panels, int64_t k, int bf16, size_t *bytes) {
    uint64_t kk = (uint64_t)(bf16 ? (k + 1) / 2 : k);
    if (kk && (uint64_t)panels > SIZE_MAX / (NR * 4) / kk) return 0;
    *bytes = (size_t)panels * (size_t)kk * NR * 4;
    return 1;
}

/* Packs part p of w[n, k] into dst; `row` is scratch for k + 1 floats. */
static void pack_part(const float *w, int64_t n, int64_t k, RtWeightPart p, int bf16, int k_high, int64_t panels,
                      float *row, void *dst) {
    float *f = dst;
    uint32_t *pairs = dst;
    int64_t kp = (k + 1) / 2;
    for (int64_t pan = 0; pan < panels; pan++)
        for (int j = 0; j < NR; j++) {
            int64_t r = pan * NR + j;
            for (int64_t kk = 0; kk < k; kk++) row[kk] = r < n ? weight_part_value(w[r * k + kk], p) : 0.0f;
            row[k] = 0.0f;                               /* an odd k's missing pair partner */
            if (!bf16)
                for (int64_t kk = 0; kk < k; kk++) f[(pan * k + kk) * NR + j] = row[kk];
            else
                for (int64_t i = 0; i < kp; i++) pairs[(pan * kp + i) * NR + j] = pair_word(row[2 * i], row[2 * i + 1], k_high);
        }
}

RtMatmulWeights *rt_matmul_prepare(const float *w, int64_t n, int64_t k, unsigned parts) {
    if (n < 0 || k < 0) return NULL;
    /* Describe the parts to be packed, and A1 always: without A1, A0 + A1 is A0 (one copy kept)
     * and the phases that multiply A1 add nothing. */
    PartStats st[RT_WPART_COUNT];
    unsigned look = parts | 1u << RT_WPART_A1;
    if (parts & (1u << RT_WPART_AFULL)) look |= 1u << RT_WPART_A0; /* AFULL may become A0 */
    for (int p = 0; p < RT_WPART_COUNT; p++) {
        stats_init(&st[p]);
        if ((look >> p) & 1u) weight_stats(w, n * k, (RtWeightPart)p, &st[p]);
    }
    int a1_zero = st[RT_WPART_A1].zero;
    if (a1_zero) {
        if (parts & (1u << RT_WPART_AFULL)) parts |= 1u << RT_WPART_A0;
        parts &= ~((1u << RT_WPART_A1) | (1u << RT_WPART_AFULL));
    }
    int64_t panels = (n + NR - 1) / NR;
    size_t head = (sizeof(RtMatmulWeights) + 63) / 64 * 64, bytes = head, size[RT_WPART_COUNT] = {0};
    for (int p = 0; p < RT_WPART_COUNT; p++) {
        if (!((parts >> p) & 1u)) continue;
        if (!part_bytes(panels, k, st[p].bf16, &size[p]) || size[p] > SIZE_MAX - 64 - bytes) return NULL;
        bytes += size[p];
    }
    RtMatmulWeights *mw = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!mw) return NULL;
    memset(mw, 0, sizeof *mw);
    mw->n = n;
    mw->k = k;
    mw->panels = panels;
    mw->a1_zero = a1_zero;
    mw->pair_k_high = dot_pair_order() != 2;
    float *row = malloc((size_t)(k + 1) * sizeof *row);
    if (!row) {
        free(mw);
        return NULL;
    }
    char *next = (char *)mw + head;
    for (int p = 0; p < RT_WPART_COUNT; p++) {
        mw->part_bf16[p] = (uint8_t)st[p].bf16;
        mw->part_low_exp[p] = st[p].low_exp;
        mw->part_normal[p] = (uint8_t)st[p].normal;
        if (!((parts >> p) & 1u)) continue;
        pack_part(w, n, k, (RtWeightPart)p, st[p].bf16, mw->pair_k_high, panels, row, next);
        mw->part[p] = next;
        next += size[p];
    }
    free(row);
    if (a1_zero && mw->part[RT_WPART_A0]) {
        mw->part[RT_WPART_AFULL] = mw->part[RT_WPART_A0];
        mw->part_bf16[RT_WPART_AFULL] = mw->part_bf16[RT_WPART_A0];
        mw->part_low_exp[RT_WPART_AFULL] = mw->part_low_exp[RT_WPART_A0];
        mw->part_normal[RT_WPART_AFULL] = mw->part_normal[RT_WPART_A0];
    }
    return mw;
}

float rt_matmul_weight_value(const RtMatmulWeights *w, RtWeightPart p, int64_t j, int64_t kk) {
    if (!w->part[p] || j < 0 || j >= w->panels * NR || kk < 0 || kk >= w->k) return 0.0f;
    int64_t pan = j / NR, col = j % NR;
    if (!w->part_bf16[p]) return ((const float *)w->part[p])[(pan * w->k + kk) * NR + col];
    uint32_t word = ((const uint32_t *)w->part[p])[(pan * ((w->k + 1) / 2) + kk / 2) * NR + col];
    int in_high = (kk % 2 == 0) == (w->pair_k_high != 0);
    return ttc_bits_f32(in_high ? word & 0xFFFF0000u : word << 16);
}

/* ---- activations ---- */

/* What decides how the terms of one call run, from one pass over x:
 * - bfull_bf16: x & 0xFFFFE000 is a bf16 number everywhere (x's bits 15..13 are clear, as in
 *   bf16 activations), so BFULL can go in bf16 pairs; B0 and B2 of a normal x always can;
 * - b2_zero: every B2 part is 0 (the phases that read it add nothing);
 * - tile_emin: per tile of MR rows, the least exponent field of a nonzero value, TILE_NONE when
 *   all are zero, -1 when the tile holds a subnormal, infinite or NaN value. A part's lowest bit
 *   is at least 2^(emin - 127 - 6) for B0 (x's bit 17) and 2^(emin - 127 - 10) for B2 and BFULL
 *   (bit 13), which is what the VDPBF16PS condition needs (dot_min_emin). */
enum { TILE_NONE = 0x1FF };

typedef struct ActStats {
    int bfull_bf16, b2_zero;
    int32_t *tile_emin;
} ActStats;

/* The loops below run once per call over the whole activation, so they are written to
 * vectorize: blocks of BLOCK values copied into local arrays, per-lane accumulators, no branches
 * on data, and an AVX-512 variant (the per-lane shifts and selects need it to be wide). */
#define BLOCK 16

/* Folds the pattern u into the running statistics of act_stats. */
static inline LOOP void act_fold(uint32_t u, uint32_t *emin, uint32_t *bad, uint32_t *low3, uint32_t *b2) {
    uint32_t e = (u >> 23) & 0xFFu, mag = u & 0x7FFFFFFFu;
    uint32_t ee = mag ? e : (uint32_t)TILE_NONE;
    *emin = ee < *emin ? ee : *emin;
    *bad |= (uint32_t)(e == 0 && mag != 0) | (uint32_t)(e == 0xFFu);
    *low3 |= u & 0x0000E000u;
    *b2 |= u & 0x0001E000u;
}

static inline LOOP void act_stats_loop(const float *x, int64_t m, int64_t k, ActStats *st) {
    uint32_t low3 = 0, b2 = 0;
    for (int64_t t0 = 0; t0 < m; t0 += MR) {
        uint32_t emin[BLOCK], bad[BLOCK], l3[BLOCK], lb2[BLOCK];
        for (int q = 0; q < BLOCK; q++) emin[q] = TILE_NONE, bad[q] = l3[q] = lb2[q] = 0;
        for (int64_t i = t0; i < m && i < t0 + MR; i++) {
            const float *xr = x + i * k;
            int64_t c = 0;
            for (; c + BLOCK <= k; c += BLOCK) {
                uint32_t u[BLOCK];
                memcpy(u, xr + c, sizeof u);
                for (int q = 0; q < BLOCK; q++) act_fold(u[q], &emin[q], &bad[q], &l3[q], &lb2[q]);
            }
            for (; c < k; c++) act_fold(ttc_f32_bits(xr[c]), &emin[0], &bad[0], &l3[0], &lb2[0]);
        }
        uint32_t e = TILE_NONE, any_bad = 0;
        for (int q = 0; q < BLOCK; q++) {
            e = emin[q] < e ? emin[q] : e;
            any_bad |= bad[q];
            low3 |= l3[q];
            b2 |= lb2[q];
        }
        st->tile_emin[t0 / MR] = any_bad ? -1 : (int32_t)e;
    }
    st->bfull_bf16 = low3 == 0;
    st->b2_zero = b2 == 0; /* an infinity's bits 16..13 are clear; a NaN may only waste a term */
}

/* The B part `p` of x[0..n), the masks constant inside each loop. */
static inline LOOP float act_part_value(float x, BPart p) {
    return p == BPART_B0 ? ttc_fid_high(x, TTC_FID_B_HI)
           : p == BPART_B2 ? ttc_fid_low(x, TTC_FID_B_LO_CLEAR)
                           : ttc_fid_high(x, TTC_FID_B_FULL);
}

static inline LOOP void act_part_loop(const float *x, int64_t n, BPart p, float *out) {
    int64_t i = 0;
    for (; i + BLOCK <= n; i += BLOCK) {
        float v[BLOCK], xs[BLOCK];
        memcpy(xs, x + i, sizeof xs);
        for (int q = 0; q < BLOCK; q++) v[q] = act_part_value(xs[q], p);
        memcpy(out + i, v, sizeof v);
    }
    for (; i < n; i++) out[i] = act_part_value(x[i], p);
}

/* A part [m, k] as bf16 pairs [m, ceil(k/2)], the odd k's partner zero. Only the tiles that
 * pass dot_min_emin read these words, and there every value is a bf16 number. */
static inline LOOP void act_pairs_loop(const float *src, int64_t m, int64_t k, int k_high, uint32_t *dst) {
    int64_t kp = (k + 1) / 2, full = k / 2;
    for (int64_t i = 0; i < m; i++) {
        const float *s = src + i * k;
        uint32_t *d = dst + i * kp;
        int64_t j = 0;
        for (; j + BLOCK <= full; j += BLOCK) {
            uint32_t u[2 * BLOCK], w[BLOCK];
            memcpy(u, s + 2 * j, sizeof u);
            if (k_high)
                for (int q = 0; q < BLOCK; q++) w[q] = (u[2 * q] & 0xFFFF0000u) | u[2 * q + 1] >> 16;
            else
                for (int q = 0; q < BLOCK; q++) w[q] = (u[2 * q + 1] & 0xFFFF0000u) | u[2 * q] >> 16;
            memcpy(d + j, w, sizeof w);
        }
        for (; j < full; j++) d[j] = pair_word(s[2 * j], s[2 * j + 1], k_high);
        if (full < kp) d[full] = pair_word(s[2 * full], 0.0f, k_high);
    }
}

/* The loops compiled per instruction set; act_loops picks a set. */
typedef struct ActLoops {
    void (*stats)(const float *x, int64_t m, int64_t k, ActStats *st);
    void (*part)(const float *x, int64_t n, BPart p, float *out);
    void (*pairs)(const float *s, int64_t m, int64_t k, int k_high, uint32_t *d);
} ActLoops;

static void act_stats_base(const float *x, int64_t m, int64_t k, ActStats *st) { act_stats_loop(x, m, k, st); }
static void act_part_base(const float *x, int64_t n, BPart p, float *out) { act_part_loop(x, n, p, out); }
static void act_pairs_base(const float *s, int64_t m, int64_t k, int k_high, uint32_t *d) {
    act_pairs_loop(s, m, k, k_high, d);
}
static const ActLoops act_base = {act_stats_base, act_part_base, act_pairs_base};
#ifdef HAVE_X86_VARIANTS
static AVX512 void act_stats_avx512(const float *x, int64_t m, int64_t k, ActStats *st) {
    act_stats_loop(x, m, k, st);
}
static AVX512 void act_part_avx512(const float *x, int64_t n, BPart p, float *out) { act_part_loop(x, n, p, out); }
static AVX512 void act_pairs_avx512(const float *s, int64_t m, int64_t k, int k_high, uint32_t *d) {
    act_pairs_loop(s, m, k, k_high, d);
}
static const ActLoops act_avx512 = {act_stats_avx512, act_part_avx512, act_pairs_avx512};
#endif

/* The least tile_emin with which term (b, a) may run through VDPBF16PS with the same bits as the
 * fused multiply-add tiles (see the file comment): the lowest bits of the two parts multiply to
 * at least 2^-126, and the B part itself is normal (B2's smallest is 2^(emin - 137)). */
static int32_t dot_min_emin(BPart b, int32_t a_low_exp) {
    int32_t sb = b == BPART_B0 ? 6 : 10, floor = b == BPART_B0 ? 1 : 11;
    if (a_low_exp == INT_MAX) return floor; /* a part of zeros: every product is 0 */
    int64_t need = (int64_t)sb + 1 - a_low_exp;
    return need > floor ? (need > TILE_NONE ? TILE_NONE : (int32_t)need) : floor;
}

/* ---- the kernel ---- */

enum { DEST_F32, DEST_BF16_RNE, DEST_BF16_TRUNC };

/* How a term runs: both parts fp32-laid (F32); bf16-pair weights, fp32 activations (A16); both
 * bf16 pairs through VDPBF16PS (DOT) in the row tiles whose tile_emin reaches dot_min, A16 in
 * the others. */
typedef enum { TERM_F32, TERM_A16, TERM_DOT } TermKind;

typedef struct Job {
    int64_t m, k;
    int nterms;
    TermKind kind[MAX_TERMS];
    const float *b[MAX_TERMS];       /* activation part of each term, [m, k] */
    const uint32_t *pairs[MAX_TERMS]; /* DOT terms: the same part in bf16 pairs, [m, k/2] */
    int32_t dot_min[MAX_TERMS];       /* DOT terms: dot_min_emin */
    const int32_t *tile_emin;         /* ActStats.tile_emin */
    const void *a[MAX_TERMS];         /* packed weight part of each term */
    int k_high;                       /* bf16 pair layout (RtMatmulWeights.pair_k_high) */
    int dest;                 /* DEST_* */
    float *d;                 /* destination [m, ldd], starts at zero */
    int64_t ldd;
    int64_t p0, p1;           /* panels of this job */
} Job;

static inline LOOP float dest_add(float d, float partial, int dest) {
    float s = d + partial;
    if (dest == DEST_F32) return s;
    uint32_t u = ttc_f32_bits(s);
    return ttc_bits_f32(dest == DEST_BF16_RNE ? ttc_bf16_rne_bits32(u) : ttc_bf16_trunc_bits32(u));
}

/* The two features of a bf16 pair word: the first (k even) and the second. */
static inline LOOP float pair_first(uint32_t w, int k_high) { return ttc_bits_f32(k_high ? w & 0xFFFF0000u : w << 16); }
static inline LOOP float pair_second(uint32_t w, int k_high) { return ttc_bits_f32(k_high ? w << 16 : w & 0xFFFF0000u); }

/* One chunk of one term for `rows` rows and one panel: the portable register tile. acc starts
 * at +0 and takes the products in k order, as the AVX-512 tiles do, so all give the same bits
 * (a product is exact, so mul + add equals the fused multiply-add). */
static inline LOOP void tile_portable(int rows, int klen, const Job *j, int t, int64_t i, int64_t c, int64_t p) {
    float acc[MR][NR];
    const float *b = j->b[t] + i * j->k + c;
    for (int r = 0; r < rows; r++)
        for (int q = 0; q < NR; q++) acc[r][q] = 0.0f;
    if (j->kind[t] == TERM_F32) {
        const float *a = (const float *)j->a[t] + (p * j->k + c) * NR;
        for (int kk = 0; kk < klen; kk++)
            for (int r = 0; r < rows; r++) {
                float bv = b[r * j->k + kk];
                for (int q = 0; q < NR; q++) acc[r][q] += bv * a[kk * NR + q];
            }
    } else { /* TERM_A16: weights in pairs, c is even */
        const uint32_t *a = (const uint32_t *)j->a[t] + (p * ((j->k + 1) / 2) + c / 2) * NR;
        for (int kk = 0; kk < klen; kk++) {
            const uint32_t *ak = a + (kk / 2) * NR;
            for (int r = 0; r < rows; r++) {
                float bv = b[r * j->k + kk];
                for (int q = 0; q < NR; q++)
                    acc[r][q] += bv * (kk % 2 == 0 ? pair_first(ak[q], j->k_high) : pair_second(ak[q], j->k_high));
            }
        }
    }
    float *d = j->d + i * j->ldd + p * NR;
    for (int r = 0; r < rows; r++)
        for (int q = 0; q < NR; q++) d[r * j->ldd + q] = dest_add(d[r * j->ldd + q], acc[r][q], j->dest);
}

#ifdef HAVE_X86_VARIANTS

/* s rounded to bf16 per DEST_* (ttc_bf16_rne_bits32 / ttc_bf16_trunc_bits32, 16 lanes). */
static inline LOOP AVX512 __m512 dest_round512(__m512 s, int dest) {
    if (dest == DEST_F32) return s;
    __m512i u = _mm512_castps_si512(s);
    __m512i r = u;
    if (dest == DEST_BF16_RNE) {
        __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
        r = _mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7FFF)));
    }
    __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7FFFFFFF)),
                                            _mm512_set1_epi32(0x7F800000));
    r = _mm512_mask_mov_epi32(r, nan, _mm512_or_si512(u, _mm512_set1_epi32(0x00400000)));
    return _mm512_castsi512_ps(_mm512_and_si512(r, _mm512_set1_epi32((int)0xFFFF0000u)));
}

static inline LOOP AVX512 void store_tile512(const int rows, const __m512 *lo, const __m512 *hi, float *d, int64_t ldd,
                                             int dest) {
UNROLL(8)
    for (int r = 0; r < rows; r++) {
        float *dr = d + r * ldd;
        _mm512_storeu_ps(dr, dest_round512(_mm512_add_ps(_mm512_loadu_ps(dr), lo[r]), dest));
        _mm512_storeu_ps(dr + 16, dest_round512(_mm512_add_ps(_mm512_loadu_ps(dr + 16), hi[r]), dest));
    }
}

/* The AVX-512 register tiles. `rows` is a constant at each call site (tile512_rows), so the row
 * loops unroll and the 2 * rows accumulators live in registers. */

/* fp32 weights, fp32 activations. */
static inline LOOP AVX512 void tile512_f32(const int rows, int klen, const float *b, int64_t ldb, const float *a,
                                           __m512 *lo, __m512 *hi) {
UNROLL(2)
    for (int kk = 0; kk < klen; kk++) {
        __m512 a_lo = _mm512_loadu_ps(a + kk * NR), a_hi = _mm512_loadu_ps(a + kk * NR + 16);
UNROLL(8)
        for (int r = 0; r < rows; r++) {
            __m512 bv = _mm512_set1_ps(b[r * ldb + kk]);
            lo[r] = _mm512_fmadd_ps(bv, a_lo, lo[r]);
            hi[r] = _mm512_fmadd_ps(bv, a_hi, hi[r]);
        }
    }
}

/* bf16-pair weights widened in registers (a shift or a mask per half), fp32 activations. */
static inline LOOP AVX512 void tile512_a16(const int rows, int klen, const float *b, int64_t ldb, const uint32_t *a,
                                           int k_high, __m512 *lo, __m512 *hi) {
    const __m512i mask = _mm512_set1_epi32((int)0xFFFF0000u);
    for (int kk = 0; kk < klen; kk += 2) {
        __m512i w_lo = _mm512_loadu_si512(a + (kk / 2) * NR), w_hi = _mm512_loadu_si512(a + (kk / 2) * NR + 16);
        __m512i hl = _mm512_and_si512(w_lo, mask), hh = _mm512_and_si512(w_hi, mask);
        __m512i sl = _mm512_slli_epi32(w_lo, 16), sh = _mm512_slli_epi32(w_hi, 16);
        __m512 f_lo = _mm512_castsi512_ps(k_high ? hl : sl), f_hi = _mm512_castsi512_ps(k_high ? hh : sh);
        __m512 s_lo = _mm512_castsi512_ps(k_high ? sl : hl), s_hi = _mm512_castsi512_ps(k_high ? sh : hh);
UNROLL(8)
        for (int r = 0; r < rows; r++) {
            __m512 bv = _mm512_set1_ps(b[r * ldb + kk]);
            lo[r] = _mm512_fmadd_ps(bv, f_lo, lo[r]);
            hi[r] = _mm512_fmadd_ps(bv, f_hi, hi[r]);
        }
        if (kk + 1 >= klen) break; /* an odd chunk end: the pair's second half is padding */
UNROLL(8)
        for (int r = 0; r < rows; r++) {
            __m512 bv = _mm512_set1_ps(b[r * ldb + kk + 1]);
            lo[r] = _mm512_fmadd_ps(bv, s_lo, lo[r]);
            hi[r] = _mm512_fmadd_ps(bv, s_hi, hi[r]);
        }
    }
}

/* bf16 pairs on both sides: one VDPBF16PS per pair of features (see the file comment). A
 * padded second half multiplies 0 by 0 and adds +0, which changes no accumulator (never -0). */
static inline LOOP AVX512 void tile512_dot(const int rows, int klen, const uint32_t *b, int64_t ldb, const uint32_t *a,
                                           __m512 *lo, __m512 *hi) {
UNROLL(2)
    for (int kp = 0; kp < (klen + 1) / 2; kp++) {
        __m512i a_lo = _mm512_loadu_si512(a + kp * NR), a_hi = _mm512_loadu_si512(a + kp * NR + 16);
UNROLL(8)
        for (int r = 0; r < rows; r++) {
            __m512i bv = _mm512_set1_epi32((int)b[r * ldb + kp]);
            lo[r] = dpbf16(lo[r], bv, a_lo);
            hi[r] = dpbf16(hi[r], bv, a_hi);
        }
    }
}

static inline LOOP AVX512 void tile512(const int rows, int klen, const Job *j, int t, int64_t i, int64_t c,
                                           int64_t p) {
    __m512 lo[MR], hi[MR];
UNROLL(8)
    for (int r = 0; r < rows; r++) lo[r] = hi[r] = _mm512_setzero_ps();
    int64_t kp = (j->k + 1) / 2;
    if (j->kind[t] == TERM_F32)
        tile512_f32(rows, klen, j->b[t] + i * j->k + c, j->k, (const float *)j->a[t] + (p * j->k + c) * NR, lo, hi);
    else if (j->kind[t] == TERM_DOT && j->tile_emin[i / MR] >= j->dot_min[t])
        tile512_dot(rows, klen, j->pairs[t] + i * kp + c / 2, kp, (const uint32_t *)j->a[t] + (p * kp + c / 2) * NR, lo,
                    hi);
    else
        tile512_a16(rows, klen, j->b[t] + i * j->k + c, j->k, (const uint32_t *)j->a[t] + (p * kp + c / 2) * NR,
                    j->k_high, lo, hi);
    store_tile512(rows, lo, hi, j->d + i * j->ldd + p * NR, j->ldd, j->dest);
}

static AVX512 void tile512_rows(int rows, int klen, const Job *j, int t, int64_t i, int64_t c, int64_t p) {
    switch (rows) {
    case 8: tile512(8, klen, j, t, i, c, p); break;
    case 7: tile512(7, klen, j, t, i, c, p); break;
    case 6: tile512(6, klen, j, t, i, c, p); break;
    case 5: tile512(5, klen, j, t, i, c, p); break;
    case 4: tile512(4, klen, j, t, i, c, p); break;
    case 3: tile512(3, klen, j, t, i, c, p); break;
    case 2: tile512(2, klen, j, t, i, c, p); break;
    default: tile512(1, klen, j, t, i, c, p); break;
    }
}

#endif

/* The loop nest around the register tiles: `wide` (a constant in each variant below) picks the
 * AVX-512 tiles, a call into AVX-512 code, or the portable tile, inlined into each variant. */
static inline LOOP void job_loop(const Job *j, const int wide) {
    for (int64_t k0 = 0; k0 < j->k; k0 += KC) {
        int64_t k1 = k0 + KC < j->k ? k0 + KC : j->k;
        for (int64_t p = j->p0; p < j->p1; p++)
            for (int64_t i = 0; i < j->m; i += MR) {
                int rows = j->m - i < MR ? (int)(j->m - i) : MR;
                for (int64_t c = k0; c < k1; c += CHUNK) {
                    int klen = k1 - c < CHUNK ? (int)(k1 - c) : CHUNK;
                    for (int t = 0; t < j->nterms; t++) {
#ifdef HAVE_X86_VARIANTS
                        if (wide) {
                            tile512_rows(rows, klen, j, t, i, c, p);
                            continue;
                        }
#endif
                        tile_portable(rows, klen, j, t, i, c, p);
                    }
                }
            }
    }
}

static void job_base(const Job *j) { job_loop(j, 0); }
#ifdef HAVE_X86_VARIANTS
__attribute__((target("avx2"))) static void job_avx2(const Job *j) { job_loop(j, 0); }
static void job_avx512(const Job *j) { job_loop(j, 1); }
#endif

/* ---- switches ---- */

static RtIsa isa_limit = RT_ISA_AVX512;
static RtDestRounding dest_rounding = RT_DEST_NEAREST_EVEN;
static int thread_setting = 0;

static int use_isa(RtIsa isa) {
#ifdef HAVE_X86_VARIANTS
    if (isa > isa_limit) return 0;
    if (isa == RT_ISA_AVX512) return __builtin_cpu_supports("avx512f");
    if (isa == RT_ISA_AVX2) return __builtin_cpu_supports("avx2");
#endif
    return isa == RT_ISA_BASE;
}

RtIsa rt_matmul_limit_isa(RtIsa limit) {
    isa_limit = limit;
    if (use_isa(RT_ISA_AVX512)) return RT_ISA_AVX512;
    return use_isa(RT_ISA_AVX2) ? RT_ISA_AVX2 : RT_ISA_BASE;
}

RtDestRounding rt_matmul_dest_rounding(void) { return dest_rounding; }
void rt_matmul_set_dest_rounding(RtDestRounding r) { dest_rounding = r; }
void rt_matmul_set_threads(int n) { thread_setting = n > 0 ? n : 0; }

int rt_matmul_threads(void) {
    if (thread_setting > 0) return thread_setting;
    const char *env = getenv("TTC_THREADS");
    long n = env && *env ? strtol(env, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

static void run_job(const Job *j) {
#ifdef HAVE_X86_VARIANTS
    if (use_isa(RT_ISA_AVX512)) {
        job_avx512(j);
        return;
    }
    if (use_isa(RT_ISA_AVX2)) {
        job_avx2(j);
        return;
    }
#endif
    job_base(j);
}

/* A small persistent pool: starting a thread per call costs tens of microseconds, which is the
 * whole of a decode-sized matmul. Workers sleep on a condition variable; a call hands each a job
 * with a generation number, runs its own share, and waits for the others. Calls are serialized
 * by `pool.call`, so concurrent callers (not expected: a session is single-threaded) stay correct. */
enum { MAX_THREADS = 64 };

static struct {
    pthread_mutex_t call, lock;
    pthread_cond_t wake, done;
    int workers;          /* started so far */
    unsigned long gen;    /* bumped for every call that uses the pool */
    const Job *jobs;      /* this call's jobs; job i+1 goes to worker i */
    int n_jobs, pending;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
          PTHREAD_COND_INITIALIZER, 0, 0, NULL, 0, 0};

/* Spins before a pooled thread sleeps: about a hundred microseconds (pause is ~140 cycles on
 * recent x86). Longer, and a spinning worker competes with OpenBLAS threads in prefill. */
#define POOL_SPIN 2000

static inline void pool_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *pool_worker(void *arg) {
    int id = (int)(intptr_t)arg;
    unsigned long seen = 0;
    for (;;) {
        /* Calls come in bursts (every matmul of a decode step): spin a little before sleeping,
         * so a call finds its worker awake instead of paying a futex wake-up each time. */
        for (int spin = 0; spin < POOL_SPIN && __atomic_load_n(&pool.gen, __ATOMIC_ACQUIRE) == seen; spin++)
            pool_pause();
        pthread_mutex_lock(&pool.lock);
        while (__atomic_load_n(&pool.gen, __ATOMIC_ACQUIRE) == seen) pthread_cond_wait(&pool.wake, &pool.lock);
        seen = __atomic_load_n(&pool.gen, __ATOMIC_ACQUIRE);
        int has_job = id + 1 < pool.n_jobs;
        const Job *j = has_job ? &pool.jobs[id + 1] : NULL;
        pthread_mutex_unlock(&pool.lock);
        if (!has_job) continue; /* no job for this worker in this call */
        run_job(j);
        pthread_mutex_lock(&pool.lock);
        if (__atomic_sub_fetch(&pool.pending, 1, __ATOMIC_ACQ_REL) == 0) pthread_cond_signal(&pool.done);
        pthread_mutex_unlock(&pool.lock);
    }
    return NULL;
}

/* Starts workers up to `want`; returns how many exist. Helpers may run anywhere but on the
 * caller's CPU: left to itself the scheduler often starts a new thread on its parent's busy CPU
 * and moves it only after a millisecond or two. */
static int pool_grow(int want) {
    while (pool.workers < want && pool.workers < MAX_THREADS - 1) {
        pthread_attr_t attr;
        int have_attr = pthread_attr_init(&attr) == 0;
#ifdef __linux__
        cpu_set_t others;
        int here = sched_getcpu();
        if (have_attr && here >= 0 && here < CPU_SETSIZE && sched_getaffinity(0, sizeof others, &others) == 0) {
            CPU_CLR(here, &others);
            if (CPU_COUNT(&others) > 0) pthread_attr_setaffinity_np(&attr, sizeof others, &others);
        }
#endif
        if (have_attr) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_t tid;
        int ok = pthread_create(&tid, have_attr ? &attr : NULL, pool_worker, (void *)(intptr_t)pool.workers) == 0;
        if (have_attr) pthread_attr_destroy(&attr);
        if (!ok) break;
        pool.workers++;
    }
    return pool.workers;
}

/* Below this many multiply-adds a call runs on the calling thread: waking a pooled worker costs
 * a few microseconds, about what 2^18 multiply-adds take. */
#define MIN_MACS_PER_THREAD (1 << 18)

/* Runs `whole` over all panels, split across threads by panel; the split does not change any
 * result (threads own disjoint output columns and every column is summed the same way). */
static void run_parallel(const Job *whole) {
    int64_t panels = whole->p1 - whole->p0;
    int64_t macs = whole->m * whole->k * panels * NR * whole->nterms;
    int64_t t = rt_matmul_threads();
    if (t > panels) t = panels;
    if (t > macs / MIN_MACS_PER_THREAD) t = macs / MIN_MACS_PER_THREAD;
    if (t > MAX_THREADS) t = MAX_THREADS;
    if (t < 2) {
        run_job(whole);
        return;
    }
    pthread_mutex_lock(&pool.call);
    pthread_mutex_lock(&pool.lock);
    int workers = pool_grow((int)t - 1);
    pthread_mutex_unlock(&pool.lock);
    if (workers + 1 < t) t = workers + 1;
    Job jobs[MAX_THREADS];
    for (int64_t i = 0; i < t; i++) {
        jobs[i] = *whole;
        jobs[i].p0 = whole->p0 + panels * i / t;
        jobs[i].p1 = whole->p0 + panels * (i + 1) / t;
    }
    if (t >= 2) {
        pthread_mutex_lock(&pool.lock);
        pool.jobs = jobs;
        pool.n_jobs = (int)t;
        __atomic_store_n(&pool.pending, (int)t - 1, __ATOMIC_RELEASE);
        __atomic_add_fetch(&pool.gen, 1, __ATOMIC_ACQ_REL);
        pthread_cond_broadcast(&pool.wake);
        pthread_mutex_unlock(&pool.lock);
    }
    run_job(&jobs[0]);
    if (t >= 2) {
        for (int spin = 0; spin < POOL_SPIN && __atomic_load_n(&pool.pending, __ATOMIC_ACQUIRE) > 0; spin++)
            pool_pause();
        pthread_mutex_lock(&pool.lock);
        while (__atomic_load_n(&pool.pending, __ATOMIC_ACQUIRE) > 0) pthread_cond_wait(&pool.done, &pool.lock);
        pool.n_jobs = 0;
        pthread_mutex_unlock(&pool.lock);
    }
    pthread_mutex_unlock(&pool.call);
}

/* ---- the call ---- */

static const ActLoops *act_loops(void) {
#ifdef HAVE_X86_VARIANTS
    if (use_isa(RT_ISA_AVX512)) return &act_avx512;
#endif
    return &act_base;
}

TtcStatus rt_matmul_emul(const float *x, int64_t m, const RtMatmulWeights *w, const float *bias,
                         const RtMatmulMode *mode, float *out) {
    int64_t n = w->n, k = w->k, kp = (k + 1) / 2;
    if (m <= 0 || n <= 0) return TTC_OK;
    Term terms[MAX_TERMS];
    int nterms = mode_terms(mode, terms);
    for (int t = 0; t < nterms; t++)
        if (!w->part[terms[t].a] && !(terms[t].a == RT_WPART_A1 && w->a1_zero)) return TTC_E_INTERNAL;
    ActStats st = {.bfull_bf16 = 0, .b2_zero = 1, .tile_emin = malloc((size_t)((m + MR - 1) / MR) * sizeof(int32_t))};
    if (!st.tile_emin) return TTC_E_INTERNAL;
    const ActLoops *loops = act_loops();
    if (k > 0) loops->stats(x, m, k, &st);

    /* Plan the terms: which run, how, and which activation parts (and pairs) they read. */
    int dot = use_isa(RT_ISA_AVX512) && dot_pair_order() != 0 && (dot_pair_order() == 1) == (w->pair_k_high != 0);
    Job job = {.m = m, .k = k, .k_high = w->pair_k_high, .tile_emin = st.tile_emin, .p0 = 0, .p1 = w->panels};
    job.dest = mode->fp32_acc ? DEST_F32 : mode->dest_round == RT_DEST_TRUNCATE ? DEST_BF16_TRUNC : DEST_BF16_RNE;
    BPart job_b[MAX_TERMS];
    unsigned need_part = 0, need_pairs = 0;
    for (int t = 0; t < nterms && k > 0; t++) {
        BPart b = terms[t].b;
        RtWeightPart a = terms[t].a;
        /* A term whose operand part is zero everywhere adds +0 to every chunk: it cannot change
         * the destination (which is never -0), so it is skipped. */
        if ((a == RT_WPART_A1 && w->a1_zero) || (b == BPART_B2 && st.b2_zero)) continue;
        TermKind kind = !w->part_bf16[a] ? TERM_F32 : TERM_A16;
        if (kind == TERM_A16 && dot && w->part_normal[a] && (b != BPART_BFULL || st.bfull_bf16)) {
            kind = TERM_DOT;
            need_pairs |= 1u << b;
            job.dot_min[job.nterms] = dot_min_emin(b, w->part_low_exp[a]);
        }
        need_part |= 1u << b;
        job.kind[job.nterms] = kind;
        job.a[job.nterms] = w->part[a];
        job_b[job.nterms++] = b;
    }

    /* One scratch block for everything: one allocation per call keeps glibc reusing the same
     * heap memory instead of mapping (and page-faulting) fresh pages for each buffer. The
     * destination is `out` itself when its rows are whole panels, else a padded part of it. */
    int64_t ldd = w->panels * NR;
    size_t words = ldd == n ? 0 : (size_t)(m * ldd);
    size_t part_at[BPART_COUNT], pairs_at[BPART_COUNT];
    for (int p = 0; p < BPART_COUNT; p++) {
        part_at[p] = words;
        words += (need_part >> p) & 1u ? ((size_t)(m * k) + 15) / 16 * 16 : 0;
        pairs_at[p] = words;
        words += (need_pairs >> p) & 1u ? ((size_t)(m * kp) + 15) / 16 * 16 : 0;
    }
    uint32_t *scratch = words ? aligned_alloc(64, words * 4) : NULL;
    if (words && !scratch) {
        free(st.tile_emin);
        return TTC_E_INTERNAL;
    }
    float *d = ldd == n ? out : (float *)scratch;
    memset(d, 0, (size_t)(m * ldd) * sizeof(float));
    for (int p = 0; p < BPART_COUNT; p++) {
        if ((need_part >> p) & 1u) loops->part(x, m * k, (BPart)p, (float *)(scratch + part_at[p]));
        if ((need_pairs >> p) & 1u)
            loops->pairs((float *)(scratch + part_at[p]), m, k, w->pair_k_high, scratch + pairs_at[p]);
    }
    for (int t = 0; t < job.nterms; t++) {
        job.b[t] = (const float *)(scratch + part_at[job_b[t]]);
        job.pairs[t] = scratch + pairs_at[job_b[t]];
    }
    job.d = d;
    job.ldd = ldd;
    if (job.nterms) run_parallel(&job);

    for (int64_t i = 0; i < m; i++) {
        float *o = out + i * n;
        const float *di = d + i * ldd;
        if (bias)
            for (int64_t j = 0; j < n; j++) o[j] = di[j] + bias[j];
        else if (d != out)
            memcpy(o, di, (size_t)n * sizeof(float));
    }
    free(scratch);
    free(st.tile_emin);
    return TTC_OK;
}
