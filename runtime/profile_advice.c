/* profile_advice.c: the configuration change `ttc profile` suggests for a slow op.
 *
 * Each rule reads what the cost model charged (DEVICE.md §6: the binding bound of the op) and the
 * op's resolved configuration, and names the one overlay key whose change lowers that bound:
 *   ethernet (collectives)      -> replicate the module, or fewer chips (an overlay's device)
 *   unfused attention ops       -> kernel_variant: flash (no score tensor through memory)
 *   DRAM, weights dominate      -> weight_dtype one step smaller (bf16 -> bfp8 -> bfp4)
 *   DRAM, activations dominate  -> memory: l1 (or bf16 activations when they are fp32)
 *   compute, matrix unit        -> math_fidelity one step lower (HiFi4/3 -> HiFi2 -> LoFi)
 *   NoC                         -> smaller tiles (bfp8 weights, bf16 activations) or operands
 *                                  sharded like the op's output (sharding: height)
 * The path is the op's module as a glob over repeated layers, because a bottleneck in one layer
 * is the same in all of them and overlays are written that way (specs/hw/performance.yaml). */
#include <stdio.h>
#include <string.h>

#include "profile.h"

static int is_matmul(int kind) {
    return kind == TTC_OP_LINEAR || kind == TTC_OP_ATTN_SCORES || kind == TTC_OP_ATTN_CONTEXT ||
           kind == TTC_OP_ATTENTION;
}

/* Bytes one chip holds of tensor t in format `dtype`, at the plan's upper-bound shape. */
static double chip_bytes(const TtcPlan *p, int t, int dtype) {
    const TtcTensorDesc *d = &p->tensors[t];
    double elems = (double)ttc_shape_max_elems(&d->shape);
    if (d->shard_chips > 1) elems /= d->shard_chips;
    return elems * ttc_dtype_tile_bytes((TtcDType)dtype) / 1024.0;
}

static void set(TtcSuggestion *s, const char *key, const char *value) {
    snprintf(s->key, sizeof s->key, "%s", key);
    snprintf(s->value, sizeof s->value, "%s", value);
}

static const char *fidelity_name(int f) {
    static const char *const names[] = {"LoFi", "HiFi2", "HiFi3", "HiFi4"};
    return f >= 0 && f < 4 ? names[f] : "?";
}

/* Fewer chips of the same family, for an overlay's `device:` (none when there is none). */
static void fewer_chips(const TtcPlan *p, TtcSuggestion *s) {
    int chips = p->mesh_rows * p->mesh_cols;
    if (strncmp(p->device, "wormhole", 8) != 0 || chips < 2) return;
    snprintf(s->devices[0], sizeof s->devices[0], "%s", chips > 2 ? "wormhole_n300" : "wormhole_n150");
    if (chips > 2) snprintf(s->devices[1], sizeof s->devices[1], "wormhole_n150");
}

static int suggest_collective(const TtcPlan *p, const TtcOpDesc *op, TtcSuggestion *s) {
    set(s, "sharding", "replicate");
    snprintf(s->why, sizeof s->why,
             "collectives move partial results between the %d chips over Ethernet; a replicated module "
             "computes everything on every chip and needs none",
             p->mesh_rows * p->mesh_cols);
    snprintf(s->caveat, sizeof s->caveat, "every chip then holds the module's whole weights and does all its work");
    fewer_chips(p, s);
    (void)op;
    return 1;
}

static int suggest_dram(const TtcPlan *p, const TtcOpDesc *op, TtcSuggestion *s) {
    const TtcOpConfig *cfg = &op->cfg;
    if (op->kind == TTC_OP_LINEAR) {
        int w = op->in[1];
        double wb = chip_bytes(p, w, p->tensors[w].dtype);
        double ab = chip_bytes(p, op->in[0], cfg->act_dtype) + chip_bytes(p, op->out, cfg->act_dtype);
        int wd = p->tensors[w].dtype;
        if (wb >= ab && (wd == TTC_F32 || wd == TTC_BF16)) {
            set(s, "weight_dtype", "bfp8");
            snprintf(s->why, sizeof s->why,
                     "DRAM-bound on its %s weights (%.2f MB per step); bfp8 tiles take 1088 bytes instead of %d",
                     ttc_dtype_name((TtcDType)wd), wb / 1e6, ttc_dtype_tile_bytes((TtcDType)wd));
            snprintf(s->caveat, sizeof s->caveat,
                     "bfp8 shares one exponent per 16 values (full precision from HiFi2 up): check with ttc run "
                     "--check");
            return 1;
        }
        if (wb >= ab && wd == TTC_BFP8) {
            set(s, "weight_dtype", "bfp4");
            snprintf(s->why, sizeof s->why,
                     "DRAM-bound on its bfp8 weights (%.2f MB per step); bfp4 tiles take 576 bytes instead of 1088",
                     wb / 1e6);
            snprintf(s->caveat, sizeof s->caveat,
                     "bfp4 keeps 3 mantissa bits: a visible accuracy loss; check with ttc run --check");
            return 1;
        }
        if (wb >= ab) {
            snprintf(s->why, sizeof s->why, "DRAM-bound on weights already in %s: at the DRAM roofline",
                     ttc_dtype_name((TtcDType)wd));
            return 0;
        }
    }
    if (cfg->memory == TTC_MEM_DRAM) {
        set(s, "memory", "l1");
        snprintf(s->why, sizeof s->why,
                 "DRAM-bound on its activations; memory: l1 keeps them in the cores' L1 (ttc check says whether "
                 "they fit)");
        snprintf(s->caveat, sizeof s->caveat, "L1 is 1.4 MB per core: long sequences may not fit");
        return 1;
    }
    if (cfg->act_dtype == TTC_F32) {
        set(s, "activation_dtype", "bf16");
        snprintf(s->why, sizeof s->why, "DRAM-bound on fp32 activations; bf16 halves their bytes");
        snprintf(s->caveat, sizeof s->caveat, "bf16 keeps 8 mantissa bits: check with ttc run --check");
        return 1;
    }
    snprintf(s->why, sizeof s->why, "DRAM-bound with bf16 activations in L1 already: at the DRAM roofline");
    return 0;
}

static int suggest_compute(const TtcPlan *p, const TtcOpDesc *op, TtcSuggestion *s) {
    if (!is_matmul(op->kind)) {
        snprintf(s->why, sizeof s->why, "bound by the vector unit, which no configuration key speeds up");
        return 0;
    }
    int f = op->cfg.fidelity;
    int wd = op->kind == TTC_OP_LINEAR ? p->tensors[op->in[1]].dtype : -1;
    if (f == TTC_FIDELITY_LOFI) {
        snprintf(s->why, sizeof s->why, "compute-bound at LoFi already (one phase): at the compute roofline");
        return 0;
    }
    int to = f >= TTC_FIDELITY_HIFI3 ? TTC_FIDELITY_HIFI2 : TTC_FIDELITY_LOFI;
    set(s, "math_fidelity", fidelity_name(to));
    snprintf(s->why, sizeof s->why, "compute-bound at %s (%d phases per tile product); %s takes %d", fidelity_name(f),
             f + 1, fidelity_name(to), to + 1);
    if (to == TTC_FIDELITY_LOFI)
        snprintf(s->caveat, sizeof s->caveat,
                 "LoFi multiplies only 1+4 weight and 1+6 activation mantissa bits: accuracy drops; pair it with "
                 "bfp8 weights and check with ttc run --check");
    else if (wd == TTC_BF16 || wd == TTC_F32)
        snprintf(s->caveat, sizeof s->caveat,
                 "%s weights keep all their bits only at HiFi4: check with ttc run --check",
                 ttc_dtype_name((TtcDType)wd));
    else if (wd >= 0)
        snprintf(s->caveat, sizeof s->caveat, "%s weights keep full precision at HiFi2",
                 ttc_dtype_name((TtcDType)wd));
    else
        snprintf(s->caveat, sizeof s->caveat, "activations lose mantissa bits below HiFi4: check with ttc run --check");
    return 1;
}

static int suggest_noc(const TtcPlan *p, const TtcOpDesc *op, TtcSuggestion *s) {
    if (op->kind == TTC_OP_LINEAR) {
        int wd = p->tensors[op->in[1]].dtype;
        if (wd == TTC_BF16 || wd == TTC_F32) {
            set(s, "weight_dtype", "bfp8");
            snprintf(s->why, sizeof s->why,
                     "NoC-bound: each core receives its block of %s weight tiles; bfp8 tiles are 1088 bytes instead "
                     "of %d",
                     ttc_dtype_name((TtcDType)wd), ttc_dtype_tile_bytes((TtcDType)wd));
            snprintf(s->caveat, sizeof s->caveat, "bfp8 shares one exponent per 16 values: check with ttc run --check");
            return 1;
        }
    }
    if (op->cfg.act_dtype == TTC_F32) {
        set(s, "activation_dtype", "bf16");
        snprintf(s->why, sizeof s->why, "NoC-bound on fp32 activation tiles; bf16 tiles are half the bytes");
        snprintf(s->caveat, sizeof s->caveat, "bf16 keeps 8 mantissa bits: check with ttc run --check");
        return 1;
    }
    if (!is_matmul(op->kind) && op->kind != TTC_OP_ALL_REDUCE && op->kind != TTC_OP_ALL_GATHER) {
        set(s, "sharding", "height");
        snprintf(s->why, sizeof s->why,
                 "NoC-bound: its inputs come from other cores; height-sharded in L1 like its output, each core "
                 "reads its own rows");
        snprintf(s->caveat, sizeof s->caveat,
                 "a reshard before it may cost what it saves: compare the estimates with ttc compile --verbose");
        return 1;
    }
    snprintf(s->why, sizeof s->why, "NoC-bound with compact tiles already: at the NoC roofline");
    return 0;
}

int ttc_profile_suggest(const TtcPlan *p, int k, TtcSuggestion *s) {
    memset(s, 0, sizeof *s);
    if (!p->op_costs || k < 0 || k >= p->n_ops) {
        snprintf(s->why, sizeof s->why, "no device estimate");
        return 0;
    }
    const TtcOpDesc *op = &p->ops[k];
    const TtcOpCost *c = &p->op_costs[k];
    char module[TTC_NAME_MAX];
    ttc_profile_module(op->path, module, sizeof module);
    ttc_profile_pattern(module, s->module, sizeof s->module);
    if (op->kind == TTC_OP_ALL_REDUCE || op->kind == TTC_OP_ALL_GATHER || c->bound == TTC_BOUND_ETHERNET)
        return suggest_collective(p, op, s);
    if (op->kind == TTC_OP_ATTN_SCORES || op->kind == TTC_OP_SOFTMAX || op->kind == TTC_OP_ATTN_CONTEXT) {
        set(s, "kernel_variant", "flash");
        snprintf(s->why, sizeof s->why,
                 "attention runs unfused (kernel_variant naive): the [B,H,S,T] scores pass through memory between "
                 "three ops; flash keeps them in the cores' circular buffers");
        return 1;
    }
    switch (c->bound) {
    case TTC_BOUND_DRAM: return suggest_dram(p, op, s);
    case TTC_BOUND_COMPUTE: return suggest_compute(p, op, s);
    case TTC_BOUND_NOC: return suggest_noc(p, op, s);
    default: return 0;
    }
}
