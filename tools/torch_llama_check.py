#!/usr/bin/python3
"""Cross-check ttc against a PyTorch float32 Llama-style decoder built from the same weights.

The tool reads a decoder ArchitectureSpec (DESIGN.md section 3) and derives variants of it
(MQA, Qwen2 q/k/v biases, tied lm_head, Mistral sliding window, Llama-3 RoPE scaling, GeGLU, ...),
writes each to the work directory, writes seeded random weights with Hugging Face
LlamaForCausalLM tensor names (F32, BF16 and F16 safetensors), runs `ttc compile` with the fp32
reference overlay, and then for every variant:

  1. prefill: `ttc run` logits [batch, seq, vocab] for two 16-token prompts, for each weights file,
     against the Hugging Face Llama forward written here in plain torch float32 (for the BF16 and
     F16 files, on the weights rounded exactly as the file stores them): PCC >= 0.9999 and a max
     abs error bound computed from the emulated device's documented matmul precision (see
     MIN_PCC below);
  2. generation: `ttc generate` greedy tokens (batch 1 from an 11-token prompt, and batch 2 from
     the two 16-token prompts up to the KV cache's end) against torch's greedy tokens, each step
     an argmax over logits recomputed on the full sequence (no KV cache on the torch side); a
     different token is accepted only at a near-tie that the prefill deviation explains.

--sabotage gives ttc a deliberately wrong spec (e.g. rope theta x2) to see the check fail.

Run with Debian's interpreter, which is where python3-torch and python3-numpy live:
    /usr/bin/python3 tools/torch_llama_check.py                 # specs/tiny-llama.yaml + variants
    /usr/bin/python3 tools/torch_llama_check.py --self-test     # the reference alone, no ttc

Exit status: 0 every check within bounds, 1 a mismatch or any error, 77 torch/numpy missing
(the ctest/automake convention for "skipped").
"""

import argparse
import copy
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# Exits 77 (skipped) when python3-torch, python3-numpy or python3-yaml is missing.
from ttc_torch_common import (EXIT_FAIL, REPO_ROOT, CheckError, SelfTestChecks, add_run_arguments,
                              atomic_write, encode_weights, load_output, load_yaml, metrics,
                              read_safetensors, require_ttc_and_overlay, rounded_weights, run_main,
                              run_ttc, save_npy, write_safetensors)

import numpy as np
import torch
import torch.nn.functional as F
import yaml

from torch_llama_model import (ACTIVATIONS, llama_config_from_spec, apply_rope, attention_mask, device_cut, linear, llama_attention,
                               llama_forward, llama_mlp, matmul_xwt, repeat_kv, rms_norm, rope_cos_sin,
                               rope_inv_freq, rotate_half, torch_greedy)

# The shapes the check runs at. The plan is compiled for --batch 2 --seq 16 --max-seq 32: the
# prefill check fills the plan (2 prompts x 16 tokens); greedy generation runs batch 1 from a
# shorter prompt (a prompt below the plan's --seq bound, decode past it), and batch 2 from the
# two full prompts up to the last KV cache slot (16 + 16 = 32 = --max-seq).
BATCH, SEQ, MAX_SEQ = 2, 16, 32
GEN_PROMPT, NEW_TOKENS = 11, 16

# Acceptance bounds for the prefill logits. The reference overlay (specs/hw/reference.yaml: fp32
# activations and weights, HiFi4, fp32 accumulation) is not fp32 arithmetic on the emulated
# device: its matrix unit sees fp32 operands cut to tf32, and at HiFi4 the fidelity phases sum to
# the weight's top 1+9 mantissa bits times the activation's top 1+10 (DEVICE.md section 4), both
# truncated: ~1e-3 relative per product, biased toward zero. Everything else (norms, RoPE,
# softmax, activations) is fp32 and agrees with torch to ~1e-7 relative.
#
# So the max-abs bound is computed, per variant and weights file: DEVICE_MARGIN times the
# deviation that this cut alone produces in torch (the reference with every weight matmul's
# operands cut as above, vs plain fp32, on the same weights and ids; --self-test prints it).
# ttc's measured deviation equals that model's to within 6% on every variant, weights file and
# seed tried, and on stories110m (logits 2.9, deviation 3.6e-2). On tiny-llama the logits are
# O(0.1) (largest ~0.45) and the model gives 0.4e-3 .. 2.4e-3, so the bound is ~1e-3 .. 5e-3;
# the semantic bugs --self-test tries move the logits by 1.1e-2 (rope theta x2, RMSNorm eps
# 1e-6 for 1e-5, a dropped k bias) to 6e-1, all caught; only gelu_tanh for gelu (2e-4) is
# below the device's own deviation, and no bound on these logits can see it.
# PCC >= 0.9999 is the bar DESIGN.md sections 4 and 8 set for the reference overlay; the cut
# gives >= 0.999995 here, rope theta x2 0.99991, so PCC alone would miss the subtler bugs.
# With another overlay the model does not apply: give --max-abs-err.
MIN_PCC = 0.9999
DEVICE_MARGIN = 2.0
ABS_FLOOR = 1e-5  # fp32 noise (~1e-7 here) with headroom, should the cut change nothing

# Greedy tokens: two logits each off by e can swap when torch's top two are closer than 2e.
# ttc's token at each step must be torch's argmax on ttc's own sequence so far, or a near-tie:
# within 2e of it, e being the max abs error this variant's prefill logits showed in the same
# run (F32 weights, the file generate reads; at most the bound). Near-ties are listed.

# The overlay the computed bound models (DESIGN.md section 4's reference overlay).
REFERENCE_DEFAULTS = {"activation_dtype": "fp32", "weight_dtype": "fp32",
                      "math_fidelity": "HiFi4", "fp32_dest_acc": True}


# --------------------------------------------------------------------------------------------
# Variants: the base spec with one feature switched on, written to the work directory.
# --------------------------------------------------------------------------------------------

def _transformers(spec):
    return [entry["params"] for entry in spec["layers"] if entry.get("type") == "transformer"]


def _attn(params):
    return params.setdefault("attention", {})


def _mqa(spec):
    """num_kv_heads 1, and head_dim twice hidden/heads, so q/o are not square and the
    attention scale is 1/sqrt(head_dim), not 1/sqrt(hidden/heads)."""
    for p in _transformers(spec):
        p["num_kv_heads"] = 1
        p["head_dim"] = 2 * (p["hidden_dim"] // p["num_heads"])


def _qkv_bias(spec):
    """Qwen2: biases on q/k/v only, RoPE theta 1e6, RMSNorm eps 1e-6."""
    for p in _transformers(spec):
        _attn(p).update(bias=False, qkv_bias=True)
        _attn(p).setdefault("rope", {})["theta"] = 1000000.0
        p["norm_eps"] = 1e-6
    spec["layers"][-2]["params"]["norm_eps"] = 1e-6


def _attn_bias(spec):
    """HF LlamaConfig attention_bias: biases on q, k, v and o."""
    for p in _transformers(spec):
        _attn(p).update(bias=True)
        _attn(p).pop("qkv_bias", None)


def _tied(spec):
    spec["layers"][-1]["params"]["tied_to"] = spec["layers"][0]["id"]


def _sliding(spec):
    for p in _transformers(spec):
        _attn(p)["sliding_window"] = 4


def _llama3(spec):
    """Llama 3.2's theta and scaling factor, with original_max_position 256 instead of 8192 so
    that at head_dim 8 each band shows: wavelength 6.3 kept (below 256/4), 168 interpolated
    (between 64 and 256), 4400 and 118000 divided by 32; at positions < 32 the interpolated
    frequency turns by ~1 radian less than unscaled."""
    for p in _transformers(spec):
        _attn(p)["rope"] = {"theta": 500000.0,
                            "scaling": {"type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
                                        "high_freq_factor": 4.0, "original_max_position": 256}}


def _geglu(activation):
    def change(spec):
        for p in _transformers(spec):
            p["activation"] = activation
    return change


# name -> (what it checks, spec edit); "base" is the spec as given (--spec).
VARIANTS = {
    "base": ("the spec as given", None),
    "mqa": ("num_kv_heads 1 (MQA), head_dim 2 x hidden/heads", _mqa),
    "qkv-bias": ("Qwen2: qkv_bias, rope theta 1e6, eps 1e-6", _qkv_bias),
    "attn-bias": ("bias: true (q, k, v and o biases)", _attn_bias),
    "tied": ("lm_head tied_to the embedding", _tied),
    "sliding-window": ("Mistral sliding_window 4", _sliding),
    "llama3-rope": ("llama3 rope scaling, factor 32, original_max_position 256", _llama3),
    "geglu": ("GeGLU: gated gelu (erf)", _geglu("gelu")),
    "geglu-tanh": ("GeGLU: gated gelu_tanh (Gemma's activation)", _geglu("gelu_tanh")),
    "eos": ("eos_token_id set to a greedy token (the 6th if new there): generation stops on it",
            None),
}

# --sabotage: a wrong setting in the spec ttc compiles only (torch keeps the true one), to see
# the check fail. Each edits every transformer layer where it applies.

def _sab_theta(p):
    rope = _attn(p).setdefault("rope", {})
    rope["theta"] = 2.0 * float(rope.get("theta", 10000.0))


def _sab_eps(p):
    p["norm_eps"] = float(p["norm_eps"]) / 10.0


def _sab_window(p):
    if _attn(p).get("sliding_window"):
        _attn(p)["sliding_window"] += 1


def _sab_scaling(p):
    _attn(p).get("rope", {}).pop("scaling", None)


def _sab_activation(p):
    p["activation"] = {"silu": "gelu", "gelu": "gelu_tanh", "gelu_tanh": "gelu"}[p["activation"]]


SABOTAGE = {
    "rope-theta": ("rope theta x2", _sab_theta),
    "norm-eps": ("RMSNorm eps / 10 in the layers", _sab_eps),
    "sliding-window": ("sliding_window + 1 (where set)", _sab_window),
    "rope-scaling": ("llama3 rope scaling dropped (where set)", _sab_scaling),
    "activation": ("silu->gelu, gelu->gelu_tanh, gelu_tanh->gelu", _sab_activation),
}


def variant_spec(base, name, eos=None):
    spec = copy.deepcopy(base)
    spec["model"]["name"] = "%s-%s" % (base["model"].get("name", "spec"), name)
    edit = VARIANTS[name][1]
    if edit is not None:
        edit(spec)
    if name == "eos":
        spec["model"]["eos_token_id"] = int(eos)
    return spec


def write_yaml(path, spec, comment):
    text = "# %s\n%s" % (comment, yaml.safe_dump(spec, sort_keys=False, default_flow_style=None))
    atomic_write(path, [text.encode("utf-8")])


# --------------------------------------------------------------------------------------------
# Weights: Hugging Face names, seeded values (the file formats are ttc_torch_common's).
# --------------------------------------------------------------------------------------------

Q_K_SCALE = 8.0
GATE_UP_SCALE = 8.0


def make_weights(cfg, seed):
    """Seeded weights named as in a LlamaForCausalLM checkpoint (with the 'model.' prefix).

    Matrices and the embedding ~N(0, 0.02) as Llama initializes them, except q_proj and k_proj
    ~N(0, 0.16): at 0.02 the attention scores are ~1e-2 and softmax is nearly uniform, so RoPE,
    mask and KV-head bugs would barely move the output; at 0.16 scores are O(1). Likewise
    gate_proj and up_proj ~N(0, 0.16): at 0.02 their outputs are ~0.1, where silu and gelu are
    nearly linear (gelu_tanh for gelu moved the logits by 5e-7, under the fp32 noise) and the MLP
    adds ~4% to the residual stream; at 0.16 they are O(1) and the MLP matters. RMSNorm gains
    1 + N(0, 0.1) and q/k/v biases N(0, 0.1) (o_proj's N(0, 0.02)), not the usual 1 and 0, so a
    gain or bias that ttc drops or misplaces changes the outputs measurably."""
    gen = torch.Generator().manual_seed(seed)

    def normal(shape, std, mean=0.0):
        return torch.randn(*shape, generator=gen, dtype=torch.float32) * std + mean

    hidden = cfg["hidden"]
    w = {"model.embed_tokens.weight": normal((cfg["vocab"], hidden), 0.02)}
    for n, layer in enumerate(cfg["layers"]):
        p = "model.layers.%d." % n
        q_width = layer["heads"] * layer["head_dim"]
        kv_width = layer["kv_heads"] * layer["head_dim"]
        w[p + "input_layernorm.weight"] = normal((hidden,), 0.1, mean=1.0)
        for proj, width, scale in (("q", q_width, Q_K_SCALE), ("k", kv_width, Q_K_SCALE),
                                   ("v", kv_width, 1.0)):
            w[p + "self_attn.%s_proj.weight" % proj] = normal((width, hidden), 0.02 * scale)
            if layer["qkv_bias"]:
                w[p + "self_attn.%s_proj.bias" % proj] = normal((width,), 0.1)
        w[p + "self_attn.o_proj.weight"] = normal((hidden, q_width), 0.02)
        if layer["bias"]:  # at 0.1 it would swamp the 0.02-scale residual stream
            w[p + "self_attn.o_proj.bias"] = normal((hidden,), 0.02)
        w[p + "post_attention_layernorm.weight"] = normal((hidden,), 0.1, mean=1.0)
        w[p + "mlp.gate_proj.weight"] = normal((layer["ffn"], hidden), 0.02 * GATE_UP_SCALE)
        w[p + "mlp.up_proj.weight"] = normal((layer["ffn"], hidden), 0.02 * GATE_UP_SCALE)
        w[p + "mlp.down_proj.weight"] = normal((hidden, layer["ffn"]), 0.02)
    w["model.norm.weight"] = normal((hidden,), 0.1, mean=1.0)
    if not cfg["tied"]:
        w["lm_head.weight"] = normal((cfg["vocab"], hidden), 0.02)
    return w


# The weights files each variant gets: (label, safetensors dtype, keep the 'model.' prefix).
# The BF16 file drops the prefix (DESIGN.md: names with or without it are accepted);
# lm_head.weight never has it, as in Hugging Face checkpoints.
WEIGHT_FILES = (("f32", "F32", True), ("bf16", "BF16", False), ("f16", "F16", True))


def make_inputs(cfg, seed):
    """ids [B, S] uniform over the whole vocabulary, with the first and last ids placed once
    each so that both ends of the embedding table are read."""
    gen = torch.Generator().manual_seed(seed + 1)
    ids = torch.randint(0, cfg["vocab"], (BATCH, SEQ), generator=gen, dtype=torch.int64)
    ids[0, 3], ids[1, 7] = 0, cfg["vocab"] - 1
    return ids


# --------------------------------------------------------------------------------------------
# Comparison.
# --------------------------------------------------------------------------------------------

def compare(name, got, want, bound, why):
    """Prints PCC and max abs error of got vs want against MIN_PCC and bound (why: how the
    bound was set); returns (ok, pcc, max_abs)."""
    got, want = got.numpy(), want.numpy()
    if got.shape != want.shape:
        print("FAIL %-30s shape %s, expected %s" % (name, got.shape, want.shape))
        return False, float("nan"), float("inf")
    if not np.all(np.isfinite(got)):
        print("FAIL %-30s %d non-finite values" % (name, int(np.sum(~np.isfinite(got)))))
        return False, float("nan"), float("inf")
    pcc, max_abs = metrics(got, want)
    ok = pcc >= MIN_PCC and max_abs <= bound
    worst = np.unravel_index(int(np.abs(got.astype(np.float64) - want).argmax()), got.shape)
    print("%s %-30s PCC %.8f  max abs err %.2e %s %.2e %s  (|logit| <= %.2f; worst at %s: got "
          "%.7f, expected %.7f)" % ("ok  " if ok else "FAIL", name, pcc, max_abs,
                                    "<=" if max_abs <= bound else "> ", bound, why,
                                    np.abs(want).max(), list(map(int, worst)), got[worst],
                                    want[worst]))
    return ok, pcc, max_abs


def device_deviation(cfg, weights, ids):
    """Max abs change of the logits that the HiFi4 operand cut alone causes (see matmul_xwt)."""
    return metrics(llama_forward(cfg, weights, ids, {"hifi4-operand-cut"}),
                   llama_forward(cfg, weights, ids))[1]


def abs_bound(opts, cfg, weights, ids):
    """(max abs bound, how it was set) for one variant and weights file."""
    if opts.max_abs_err is not None:
        return opts.max_abs_err, "(--max-abs-err)"
    dev = device_deviation(cfg, weights, ids)
    bound = max(DEVICE_MARGIN * dev, ABS_FLOOR)
    return bound, "(%gx HiFi4 cut's %.2e)" % (DEVICE_MARGIN, dev)


def check_overlay(opts):
    """The computed bound models the reference overlay's arithmetic: refuse another overlay
    unless --max-abs-err is given."""
    if opts.max_abs_err is not None:
        return
    hw = load_yaml(opts.hw)
    defaults = (hw or {}).get("defaults") or {} if isinstance(hw, dict) else {}
    differs = sorted(k for k, v in REFERENCE_DEFAULTS.items() if defaults.get(k) != v)
    extra = sorted(k for k in ("modules", "modes") if isinstance(hw, dict) and hw.get(k))
    if differs or extra:
        raise CheckError("overlay '%s' is not the reference arithmetic (%s): the computed "
                         "max-abs bound models fp32 activations and weights at HiFi4 with fp32 "
                         "accumulation; give --max-abs-err for this overlay"
                         % (opts.hw, ", ".join(["defaults." + k + " differs" for k in differs]
                                               + [k + " set" for k in extra])))


def compare_tokens(name, cfg, weights, prompt, got_steps, new_tokens, tie_gap):
    """got_steps: ttc's tokens, [steps][B]. Checks that each is torch's argmax over logits
    recomputed on ttc's own sequence so far (or within tie_gap of it), that ttc stopped where
    its tokens say (eos in every sequence, or new_tokens steps), and counts the tokens equal to
    torch's own greedy sequence. A sequence is compared up to and including its eos; after it
    ttc keeps decoding while another sequence is live and those tokens mean nothing.
    Returns (ok, equal tokens, compared tokens, near-ties)."""
    eos, batch, length = cfg["eos"], prompt.shape[0], prompt.shape[1]
    want, margins, _ = torch_greedy(cfg, weights, prompt, new_tokens, eos)
    if not got_steps or any(len(row) != batch for row in got_steps):
        print("FAIL %-30s ttc printed %d steps of %s tokens, expected %d per step"
              % (name, len(got_steps), sorted({len(r) for r in got_steps}), batch))
        return False, 0, 0, 0

    def ends(steps, b):  # steps of sequence b that count: up to and including its eos
        col = [row[b] for row in steps]
        return col[:col.index(eos) + 1] if eos is not None and eos in col else col

    bad = sorted({tok for row in got_steps for tok in row if not 0 <= tok < cfg["vocab"]})
    if bad:
        print("FAIL %-30s ttc printed token ids outside the vocabulary: %s" % (name, bad))
        return False, 0, 0, 0
    got = [ends(got_steps, b) for b in range(batch)]
    expected_steps = new_tokens
    if eos is not None and all(eos in g for g in got):
        expected_steps = max(len(g) for g in got)
    ok = len(got_steps) == expected_steps
    if not ok:
        print("FAIL %-30s ttc generated %d steps; its tokens reach eos %s at %s, so %d expected"
              % (name, len(got_steps), eos, [len(g) - 1 if eos in g else None for g in got],
                 expected_steps))
    # Torch on ttc's sequence: position length-1+t predicts step t (causal, so one forward).
    seqs = torch.cat((prompt, torch.tensor(got_steps, dtype=torch.int64).T), dim=1)[:, :-1]
    logits = llama_forward(cfg, weights, seqs)[:, length - 1:]
    ties, equal, total, wrong = [], 0, 0, 0
    want_cols = [ends(want, b) for b in range(batch)]
    for b in range(batch):
        for t, token in enumerate(got[b]):
            gap = float(logits[b, t].max() - logits[b, t, token])
            if gap > tie_gap:
                ok = False
                wrong += 1
                if wrong > 3:
                    continue
                print("FAIL %-30s sequence %d step %d: ttc chose %d, torch's argmax on the same "
                      "sequence is %d, %.2e higher (allowed near-tie gap %.1e)"
                      % (name, b, t, token, int(logits[b, t].argmax()), gap, tie_gap))
            elif gap > 0:
                ties.append("sequence %d step %d (gap %.1e)" % (b, t, gap))
        # tokens equal to torch's greedy ones: the common prefix (after a near-tie the two
        # sequences differ and later coincidences mean nothing)
        same = next((i for i, (g, w) in enumerate(zip(got[b], want_cols[b])) if g != w),
                    min(len(got[b]), len(want_cols[b])))
        equal += same
        total += max(len(got[b]), len(want_cols[b]))
    if wrong > 3:
        print("FAIL %-30s ... %d tokens in all are not torch's argmax nor a near-tie"
              % (name, wrong))
    if ok:
        print("ok   %-30s %d/%d tokens as torch greedy (smallest torch top-2 margin %.1e)%s"
              % (name, equal, total, min(min(row) for row in margins),
                 "; near-ties (allowed gap %.1e) where ttc took another token: %s"
                 % (tie_gap, ", ".join(ties)) if ties else ""))
    return ok, equal, total, len(ties)


def parse_generated(text, batch):
    """ttc generate's stdout: batch 1 space-separated ids on one line; batch > 1 one line per
    step with the batch's ids. Returns [steps][B]."""
    try:
        if batch == 1:
            return [[int(tok)] for tok in text.split()]
        return [[int(tok) for tok in line.split()] for line in text.splitlines() if line.strip()]
    except ValueError:
        raise CheckError("ttc generate printed something other than token ids:\n%s" % text)


# --------------------------------------------------------------------------------------------
# The cross-check.
# --------------------------------------------------------------------------------------------

def check_variant(opts, base_spec, name, workdir, summary):
    """Compiles one variant, runs the prefill and generation checks. Returns True if all pass."""
    vdir = os.path.join(workdir, name)
    os.makedirs(vdir, exist_ok=True)

    def f(file):
        return os.path.join(vdir, file)

    eos_note = ""
    if name == "eos":
        # Pick an eos that greedy generation from the batch-1 prompt reaches at step 5 (the
        # 6th token) and not before, so that stopping early or late both show; if greedy
        # loops before that, the last token it produces for the first time.
        cfg0 = llama_config_from_spec(base_spec, opts.spec, MAX_SEQ)
        w0 = make_weights(cfg0, opts.seed)
        tokens, _, _ = torch_greedy(cfg0, w0, make_inputs(cfg0, opts.seed)[:1, :GEN_PROMPT],
                                    NEW_TOKENS, None)
        seen = [row[0] for row in tokens]
        fresh = [t for t in range(len(seen)) if seen[t] not in seen[:t]]  # fresh[0] is 0
        step = next((t for t in fresh if t >= 5), fresh[-1])  # greedy may loop early
        eos_note = " (token %d, greedy step %d)" % (seen[step], step)
        spec = variant_spec(base_spec, name, eos=seen[step])
    else:
        spec = variant_spec(base_spec, name)
    spec_path = f("spec.yaml")
    write_yaml(spec_path, spec, "variant '%s' of %s: %s" % (name, opts.spec, VARIANTS[name][0]))
    cfg = llama_config_from_spec(spec, spec_path, MAX_SEQ)
    ttc_spec_path = spec_path
    if opts.sabotage:
        wrong = copy.deepcopy(spec)
        for params in _transformers(wrong):
            SABOTAGE[opts.sabotage][1](params)
        ttc_spec_path = f("spec-sabotaged.yaml")
        write_yaml(ttc_spec_path, wrong, "variant '%s' with --sabotage %s: %s (ttc only)"
                   % (name, opts.sabotage, SABOTAGE[opts.sabotage][0]))
    layer = cfg["layers"][0]
    print("\n== %s: %s%s\n   %d layers, hidden %d, heads %d/%d kv, head_dim %d, ffn %d (%s), "
          "vocab %d, rope theta %g%s%s%s%s"
          % (name, VARIANTS[name][0], eos_note, len(cfg["layers"]), cfg["hidden"], layer["heads"],
             layer["kv_heads"], layer["head_dim"], layer["ffn"], layer["activation"], cfg["vocab"],
             layer["theta"], " llama3" if layer["scaling"] else "",
             ", window %d" % layer["window"] if layer["window"] else "",
             ", qkv bias" if layer["qkv_bias"] else "", ", tied" if cfg["tied"] else ""))

    weights = make_weights(cfg, opts.seed)
    ids = make_inputs(cfg, opts.seed)
    save_npy(f("ids.npy"), ids.numpy())                        # int64 [2, 16]
    prompt = ids[:1, :GEN_PROMPT]
    save_npy(f("prompts.npy"), ids.numpy().astype(np.int32))   # int32: both are accepted
    references = {}
    for label, dtype, prefix in WEIGHT_FILES:
        write_safetensors(f("weights-%s.safetensors" % label),
                          encode_weights(weights, dtype, prefix))
        references[label] = rounded_weights(weights, dtype)

    run_ttc([opts.ttc, "compile", ttc_spec_path, "--hw", opts.hw, "--batch", str(BATCH),
             "--seq", str(SEQ), "--max-seq", str(MAX_SEQ), "-o", f("p.plan")], "ttc compile")
    ok = True
    row = summary.setdefault(name, {})
    for label, dtype, prefix in WEIGHT_FILES:
        out = f("logits-%s.npy" % label)
        if os.path.exists(out):  # a kept --workdir may hold outputs of an earlier run
            os.unlink(out)
        run_ttc([opts.ttc, "run", f("p.plan"), "--weights", f("weights-%s.safetensors" % label),
                 "--input-ids", f("ids.npy"), "--output", out],
                 "ttc run (%s weights)" % dtype, verbose=opts.verbose)
        want = llama_forward(cfg, references[label], ids)
        got = load_output(out, (BATCH, SEQ, cfg["vocab"]))
        bound, why = abs_bound(opts, cfg, references[label], ids)
        passed, pcc, max_abs = compare("prefill, %s%s" % (dtype, "" if prefix else " no model."),
                                       got, want, bound, why)
        ok &= passed
        row[label] = (pcc, max_abs)
        row[label + "-bound"] = bound

    for gen_name, ids_arg, gen_prompt in (("b1", ",".join(map(str, prompt[0].tolist())), prompt),
                                          ("b2", f("prompts.npy"), ids)):
        batch, length = gen_prompt.shape
        new = min(NEW_TOKENS, MAX_SEQ - length)
        text = run_ttc([opts.ttc, "generate", f("p.plan"),
                        "--weights", f("weights-f32.safetensors"),
                        "--prompt-ids", ids_arg, "--max-new-tokens", str(new)],
                       "ttc generate (batch %d)" % batch, verbose=opts.verbose)
        passed, agree, total, ties = compare_tokens(
            "generate batch %d, %d+%d tokens" % (batch, length, new), cfg, weights, gen_prompt,
            parse_generated(text, batch), new, 2 * min(row["f32"][1], row["f32-bound"]))
        ok &= passed
        row[gen_name] = (agree, total)
        row["ties"] = row.get("ties", 0) + ties
    return ok


def cross_check(opts, workdir):
    base = load_yaml(opts.spec)
    llama_config_from_spec(base, opts.spec, MAX_SEQ)  # refuse a non-Llama spec before anything runs
    require_ttc_and_overlay(opts)
    check_overlay(opts)
    print("base spec %s, overlay %s; plan --batch %d --seq %d --max-seq %d; seed %d; "
          "bounds PCC >= %g, max abs err <= %s%s"
          % (opts.spec, opts.hw, BATCH, SEQ, MAX_SEQ, opts.seed, MIN_PCC,
             "%g" % opts.max_abs_err if opts.max_abs_err is not None else
             "%gx the deviation the HiFi4 operand cut gives in torch" % DEVICE_MARGIN,
             "; SABOTAGE %s in ttc's spec: %s" % (opts.sabotage, SABOTAGE[opts.sabotage][0])
             if opts.sabotage else ""))
    summary, failed = {}, []
    for name in opts.variants:
        try:
            if not check_variant(opts, base, name, workdir, summary):
                failed.append(name)
        except CheckError as e:  # one variant ttc refuses must not hide the others
            print("FAIL %s: %s" % (name, e))
            failed.append(name)

    print("\nsummary: prefill logits PCC / max abs err (bound); greedy tokens as torch's")
    print("  %-15s %-30s %-30s %-30s %-7s %s" % ("variant", "F32", "BF16 (no model.)", "F16",
                                                 "gen b1", "gen b2"))
    for name in opts.variants:
        row = summary.get(name, {})
        cells = ["%.8f / %.1e (%.1e)" % (row[label] + (row[label + "-bound"],))
                 if label in row else "-" for label, _, _ in WEIGHT_FILES]
        gens = ["%d/%d" % row[g] if g in row else "-" for g in ("b1", "b2")]
        print("  %-15s %-30s %-30s %-30s %-7s %s%s" % (name, *cells, *gens,
                                                      "   FAIL" if name in failed else ""))
    ties = sum(row.get("ties", 0) for row in summary.values())
    if ties:
        print("greedy generation: %d near-tie(s) where ttc took another token than torch's "
              "argmax within the allowed gap (listed above)" % ties)
    if failed:
        print("failed: %s" % ", ".join(failed))
        print("hint: rerun with --keep --variants NAME, then `ttc run PLAN ... --check` on the "
              "kept files names the first op that diverges from ttc's own fp32 reference path")
    if failed:
        return False
    return ties or True  # a count of near-ties (truthy) or True


# --------------------------------------------------------------------------------------------
# --self-test: checks the pieces of this tool without ttc.
# --------------------------------------------------------------------------------------------

def llama3_inv_freq_scalar(inv_freq, s):
    """Llama 3's reference (meta-llama apply_scaling), one frequency at a time in float64."""
    out = []
    low_wavelen = s["original_max_position"] / s["low_freq_factor"]
    high_wavelen = s["original_max_position"] / s["high_freq_factor"]
    for freq in inv_freq:
        wavelen = 2 * math.pi / freq
        if wavelen < high_wavelen:
            out.append(freq)
        elif wavelen > low_wavelen:
            out.append(freq / s["factor"])
        else:
            smooth = ((s["original_max_position"] / wavelen - s["low_freq_factor"])
                      / (s["high_freq_factor"] - s["low_freq_factor"]))
            out.append((1 - smooth) * freq / s["factor"] + smooth * freq)
    return out


def self_test(opts, workdir):
    check = SelfTestChecks()

    base = load_yaml(opts.spec)
    configs = {}
    for name in VARIANTS:
        spec = variant_spec(base, name, eos=0)
        path = os.path.join(workdir, "%s.yaml" % name)
        write_yaml(path, spec, "self-test variant %s" % name)
        configs[name] = llama_config_from_spec(load_yaml(path), path, MAX_SEQ)  # survives the YAML trip
    check("%d variant specs written and read back" % len(configs), True,
          ", ".join(configs))
    cfg = configs["base"]

    # safetensors: write, re-read, compare; BF16 / F16 rounding against torch's own conversion.
    weights = make_weights(cfg, opts.seed)
    for label, dtype, prefix in WEIGHT_FILES:
        path = os.path.join(workdir, "self-test-%s.safetensors" % label)
        encoded = encode_weights(weights, dtype, prefix)
        write_safetensors(path, encoded)
        back = read_safetensors(path)
        expected = {name: (d, tuple(shape), b) for name, (d, shape, b) in encoded.items()}
        check("safetensors %s round trip (%d tensors, %d bytes%s)"
              % (dtype, len(back), os.path.getsize(path), "" if prefix else ", no 'model.'"),
              back == expected and (prefix or not any(k.startswith("model.") for k in back)))
    for dtype, torch_dtype in (("BF16", torch.bfloat16), ("F16", torch.float16)):
        mine = rounded_weights(weights, dtype)
        check("%s rounding equals torch's float32->%s (round to nearest even)"
              % (dtype, str(torch_dtype).split(".")[1]),
              all(torch.equal(mine[k], t.to(torch_dtype).to(torch.float32))
                  for k, t in weights.items()))
    names = set(weights)
    check("HF names: %d tensors, lm_head present unless tied, q/k/v biases only with qkv_bias"
          % len(names),
          "lm_head.weight" in names and "lm_head.weight" not in make_weights(configs["tied"], 1)
          and "model.layers.0.self_attn.q_proj.bias" not in names
          and "model.layers.0.self_attn.k_proj.bias" in make_weights(configs["qkv-bias"], 1)
          and "model.layers.0.self_attn.o_proj.bias" not in make_weights(configs["qkv-bias"], 1)
          and "model.layers.0.self_attn.o_proj.bias" in make_weights(configs["attn-bias"], 1))

    ids = make_inputs(cfg, opts.seed)
    path = os.path.join(workdir, "ids.npy")
    for dtype in (np.int64, np.int32):
        save_npy(path, ids.numpy().astype(dtype))
        back = np.load(path)
        check("ids.npy round trip as %s %s" % (back.dtype, list(back.shape)),
              back.dtype == dtype and np.array_equal(back, ids.numpy()))

    gen = torch.Generator().manual_seed(opts.seed)
    layer = dict(cfg["layers"][0], hidden=cfg["hidden"])
    heads, kv_heads, dim = layer["heads"], layer["kv_heads"], layer["head_dim"]
    hidden = cfg["hidden"]
    x = torch.randn(BATCH, SEQ, hidden, generator=gen)

    # Elementwise pieces against torch's and float64 numpy's.
    g = torch.rand(hidden, generator=gen) + 0.5
    want = (x.double() / np.sqrt((x.double() ** 2).mean(-1, keepdim=True) + 1e-5)) * g.double()
    err = float((rms_norm(x, g, 1e-5).double() - want).abs().max())
    check("RMSNorm vs float64", err < 1e-6, "max abs %.2e" % err)
    for act, fn in (("silu", F.silu), ("gelu", F.gelu),
                    ("gelu_tanh", lambda t: F.gelu(t, approximate="tanh"))):
        err = float((ACTIVATIONS[act](x) - fn(x)).abs().max())
        check("%s vs torch.nn.functional" % act, err < 1e-6, "max abs %.2e" % err)

    # RoPE: rotate-half is the complex rotation of the pairs (i, i + D/2) by pos * inv_freq[i],
    # and makes q.k depend only on the distance between positions.
    cos, sin = rope_cos_sin(layer, SEQ)
    q = torch.randn(1, heads, SEQ, dim, generator=gen, dtype=torch.float64).float()
    z = torch.complex(q[..., :dim // 2].double(), q[..., dim // 2:].double())
    angles = torch.arange(SEQ, dtype=torch.float64)[:, None] * rope_inv_freq(layer).double()[None]
    z = z * torch.polar(torch.ones_like(angles), angles)
    err = float((apply_rope(q, cos, sin).double() - torch.cat((z.real, z.imag), -1)).abs().max())
    check("rotate-half RoPE = complex rotation of pairs (i, i+D/2)", err < 1e-5,
          "max abs %.2e" % err)
    cos2, sin2 = rope_cos_sin(layer, SEQ + 5)
    k = torch.randn(1, heads, SEQ, dim, generator=gen)
    s1 = apply_rope(q, cos, sin) @ apply_rope(k, cos, sin).transpose(-1, -2)
    shifted = apply_rope(F.pad(q, (0, 0, 5, 0)), cos2, sin2)[..., 5:, :]
    s2 = shifted @ apply_rope(F.pad(k, (0, 0, 5, 0)), cos2, sin2)[..., 5:, :].transpose(-1, -2)
    err = float((s1 - s2).abs().max())
    check("RoPE scores depend only on relative position (shift by 5)", err < 1e-4,
          "max abs %.2e" % err)

    # Llama 3 scaling: the vectorised HF form against Meta's per-frequency loop, and each band
    # populated in the llama3-rope variant.
    l3 = configs["llama3-rope"]["layers"][0]
    plain = rope_inv_freq(dict(l3, scaling=None)).double().tolist()
    scaled = rope_inv_freq(l3).double()
    want = torch.tensor(llama3_inv_freq_scalar(plain, l3["scaling"]), dtype=torch.float64)
    err = float(((scaled - want) / want).abs().max())
    ratio = [p / s for p, s in zip(plain, scaled.tolist())]
    bands = (sum(abs(r - 1) < 1e-6 for r in ratio),
             sum(1 + 1e-6 < r < l3["scaling"]["factor"] - 1e-3 for r in ratio),
             sum(abs(r - l3["scaling"]["factor"]) < 1e-3 for r in ratio))
    check("llama3 inv_freq (HF torch.where form) = Meta's per-frequency loop", err < 1e-6,
          "max rel %.1e; kept / interpolated / divided: %d / %d / %d" % (err, *bands))
    check("llama3-rope variant has a frequency in each band", all(bands))

    with torch.no_grad():
        # Attention without rope, kv_heads = heads, no window = torch.nn.MultiheadAttention
        # with a causal mask (q, k, v, o biases included).
        mha_layer = dict(configs["attn-bias"]["layers"][0], hidden=hidden)
        w = {k[len("model."):]: t for k, t in make_weights(configs["attn-bias"], opts.seed).items()
             if k.startswith("model.")}
        p = "layers.0."
        mha_layer.update(kv_heads=mha_layer["heads"], head_dim=hidden // mha_layer["heads"])
        for proj in ("k", "v"):  # a full-width k/v (this config's are narrower with GQA)
            w[p + "self_attn.%s_proj.weight" % proj] = torch.randn(hidden, hidden,
                                                                   generator=gen) * 0.1
            w[p + "self_attn.%s_proj.bias" % proj] = torch.randn(hidden, generator=gen) * 0.1
        w[p + "self_attn.q_proj.weight"] = torch.randn(hidden, hidden, generator=gen) * 0.1
        w[p + "self_attn.q_proj.bias"] = torch.randn(hidden, generator=gen) * 0.1
        w[p + "self_attn.o_proj.weight"] = torch.randn(hidden, hidden, generator=gen) * 0.1
        mha = torch.nn.MultiheadAttention(hidden, mha_layer["heads"], batch_first=True)
        mha.in_proj_weight.copy_(torch.cat([w[p + "self_attn.%s_proj.weight" % n] for n in "qkv"]))
        mha.in_proj_bias.copy_(torch.cat([w[p + "self_attn.%s_proj.bias" % n] for n in "qkv"]))
        mha.out_proj.weight.copy_(w[p + "self_attn.o_proj.weight"])
        mha.out_proj.bias.copy_(w[p + "self_attn.o_proj.bias"])
        mha.train()  # dropout 0: keeps torch on its plain (non-"fast path") implementation
        causal = torch.triu(torch.ones(SEQ, SEQ, dtype=torch.bool), diagonal=1)
        want, _ = mha(x, x, x, attn_mask=causal, need_weights=False)
        got = llama_attention(x, w, p, dict(mha_layer, window=0), cos, sin, {"no-rope"})
        err = float((got - want).abs().max())
        check("causal attention vs torch.nn.MultiheadAttention", err < 1e-5, "max abs %.2e" % err)

        # GQA: repeat_kv equals plain multi-head attention whose k/v weights repeat each kv
        # head's rows for its group of query heads (query head h reads kv head h // group).
        w = {k[len("model."):]: t for k, t in weights.items() if k.startswith("model.")}
        group = heads // kv_heads
        wide = dict(w)
        for proj in ("k", "v"):
            rows = w[p + "self_attn.%s_proj.weight" % proj].view(kv_heads, dim, hidden)
            wide[p + "self_attn.%s_proj.weight" % proj] = rows.repeat_interleave(
                group, dim=0).reshape(heads * dim, hidden)
        got = llama_attention(x, w, p, layer, cos, sin)
        want = llama_attention(x, wide, p, dict(layer, kv_heads=heads), cos, sin)
        err = float((got - want).abs().max())
        check("GQA %d/%d via repeat_kv = MHA with repeated k/v weights" % (heads, kv_heads),
              err < 1e-6, "max abs %.2e" % err)

        # Sliding window: a window as long as the sequence is plain causal; window 1 attends to
        # itself only, so the attention output is o_proj(v) of the same position.
        got = llama_attention(x, w, p, dict(layer, window=SEQ), cos, sin)
        want = llama_attention(x, w, p, dict(layer, window=0), cos, sin)
        err = float((got - want).abs().max())
        check("sliding window = sequence length is plain causal", err < 1e-7, "max abs %.2e" % err)
        got = llama_attention(x, w, p, dict(layer, window=1), cos, sin)
        v = repeat_kv(linear(x, w, p + "self_attn.v_proj").view(BATCH, SEQ, kv_heads, dim)
                      .transpose(1, 2), group).transpose(1, 2).reshape(BATCH, SEQ, heads * dim)
        err = float((got - linear(v, w, p + "self_attn.o_proj")).abs().max())
        check("sliding window 1 attends to itself only", err < 1e-6, "max abs %.2e" % err)
        mask = attention_mask(6, 3) == 0
        check("sliding window 3: row 5 sees positions 3, 4, 5",
              mask[5].tolist() == [False, False, False, True, True, True])

        # Causality: the logits of a prefix do not depend on what follows, for every variant.
        worst = 0.0
        for name, c in configs.items():
            wv = make_weights(c, opts.seed)
            full = llama_forward(c, wv, ids)
            for t in (1, 5, SEQ - 1):
                worst = max(worst, float((llama_forward(c, wv, ids[:, :t]) - full[:, :t])
                                         .abs().max()))
        check("every variant: logits of a prefix = the full sequence's first positions",
              worst < 1e-6, "max abs %.2e" % worst)

        # What ttc is expected to deviate by: the HiFi4 operand cut of every matmul with
        # weights (see matmul_xwt), for each variant and weights file; the bound is
        # DEVICE_MARGIN times it. PCC must stay clear of MIN_PCC.
        print("expected deviation: torch with the HiFi4 operand cut (DEVICE.md section 4) vs "
              "plain fp32; the max-abs bound is %gx it" % DEVICE_MARGIN)
        bound_of, worst_pcc = {}, 1.0
        for label, dtype, _ in WEIGHT_FILES:
            cells = []
            for name, c in configs.items():
                wv = rounded_weights(make_weights(c, opts.seed), dtype)
                pcc, dev = metrics(llama_forward(c, wv, ids, {"hifi4-operand-cut"}),
                                   llama_forward(c, wv, ids))
                worst_pcc = min(worst_pcc, pcc)
                if dtype == "F32":
                    bound_of[name] = max(DEVICE_MARGIN * dev, ABS_FLOOR)
                cells.append("%s %.1e" % (name, dev))
            print("     %-4s weights: %s" % (dtype, ", ".join(cells)))
        check("the cut keeps PCC far above %g" % MIN_PCC, 1 - worst_pcc < (1 - MIN_PCC) / 10,
              "lowest %.8f" % worst_pcc)

        # Sensitivity: how far plausible ttc bugs move the prefill logits, against the bounds.
        print("sensitivity: a ttc bug that ... changes the prefill logits (F32 weights) by "
              "(bounds: PCC >= %g, max abs <= the variant's bound)" % MIN_PCC)

        def changed(c, **change):
            return dict(c, layers=[dict(lay, **change) for lay in c["layers"]])

        def theta_times(c, k):
            return dict(c, layers=[dict(lay, theta=lay["theta"] * k) for lay in c["layers"]])

        def drop(c, name):
            wv = make_weights(c, opts.seed)
            return {k: (torch.zeros_like(t) if k.endswith(name) else t) for k, t in wv.items()}

        def as_untied(c):  # lm_head reads a separate matrix (here: a fresh one)
            wv = make_weights(c, opts.seed)
            wv["lm_head.weight"] = torch.randn(c["vocab"], c["hidden"], generator=gen) * 0.02
            return dict(c, tied=False), wv

        bugs = [  # (description, variant, bugged cfg, bugged weights or None, bug flags)
            ("uses rope theta x2", "base", theta_times(cfg, 2.0), None, ()),
            ("uses rope theta 1e4 for 1e6", "qkv-bias", theta_times(configs["qkv-bias"], 0.01),
             None, ()),
            ("rotates pairs interleaved", "base", cfg, None, {"interleaved-rope"}),
            ("shifts all positions by +1", "base", cfg, None, {"positions-from-1"}),
            ("forgets rope on k", "base", cfg, None, {"no-rope-on-k"}),
            ("forgets rope", "base", cfg, None, {"no-rope"}),
            ("maps kv head h % kv", "base", cfg, None, {"kv-heads-modulo"}),
            ("scales by hidden/heads", "mqa", configs["mqa"], None,
             {"scale-by-hidden-over-heads"}),
            ("drops the causal mask", "base", cfg, None, {"no-causal-mask"}),
            ("ignores the window", "sliding-window", configs["sliding-window"], None,
             {"no-sliding-window"}),
            ("window excludes itself", "sliding-window", configs["sliding-window"], None,
             {"window-off-by-one"}),
            ("ignores llama3 scaling", "llama3-rope", configs["llama3-rope"], None,
             {"no-llama3-scaling"}),
            ("drops the k bias", "qkv-bias", configs["qkv-bias"],
             drop(configs["qkv-bias"], "k_proj.bias"), ()),
            ("drops the o bias", "attn-bias", configs["attn-bias"],
             drop(configs["attn-bias"], "o_proj.bias"), ()),
            ("ignores norm gains", "base", cfg,
             {k: (torch.ones_like(t) if "norm" in k else t)
              for k, t in make_weights(cfg, opts.seed).items()}, ()),
            ("uses RMSNorm eps 1e-6", "base", changed(dict(cfg, final_eps=1e-6), eps=1e-6),
             None, ()),
            ("uses gelu for silu", "base", changed(cfg, activation="gelu"), None, ()),
            ("uses gelu_tanh for gelu", "geglu", changed(configs["geglu"], activation="gelu_tanh"),
             None, ()),
            ("unties the lm_head", "tied", *as_untied(configs["tied"]), ()),
        ]
        for desc, variant, bug_cfg, bug_weights, flags in bugs:
            c = configs[variant]
            wv = make_weights(c, opts.seed)
            want = llama_forward(c, wv, ids)
            got = llama_forward(bug_cfg, bug_weights if bug_weights is not None else wv, ids,
                                frozenset(flags))
            pcc, max_abs = metrics(got, want)
            caught = pcc < MIN_PCC or max_abs > bound_of[variant]
            print("     %-28s (%-14s) PCC %.8f  max abs %.1e %s %.1e  %s"
                  % (desc, variant, pcc, max_abs, ">" if caught else "<=", bound_of[variant],
                     "caught" if caught else "NOT caught by the bounds"))
        print("     (a shift of every position is invisible by design: RoPE scores depend on "
              "relative positions only;\n      gelu_tanh differs from gelu by less than the "
              "device's own operand cut moves the logits)")
    return check.ok


# --------------------------------------------------------------------------------------------

class ArgumentParser(argparse.ArgumentParser):
    def error(self, message):  # exit 1 like every other error here, not argparse's 2
        self.print_usage(sys.stderr)
        self.exit(EXIT_FAIL, "%s: error: %s\n" % (self.prog, message))


def parse_args(argv):
    variants = "\n".join("  %-15s %s" % (n, d) for n, (d, _) in VARIANTS.items())
    sabotage = "\n".join("  %-15s %s" % (n, d) for n, (d, _) in SABOTAGE.items())
    ap = ArgumentParser(
        description="Cross-check ttc's decoder (prefill logits, greedy generation) against a "
                    "PyTorch float32 reference with Hugging Face LlamaForCausalLM semantics, "
                    "from the same safetensors weights, on a spec and variants of it.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="variants (of --spec; written to the work directory):\n%s\n\n"
               "--sabotage (ttc compiles a wrong spec, torch keeps the right one):\n%s\n\n"
               "Exit status: 0 pass, 1 mismatch or error, 77 python3-torch/numpy not installed."
               % (variants, sabotage))
    ap.add_argument("--spec", default=os.path.join(REPO_ROOT, "specs", "tiny-llama.yaml"),
                    help="Llama-style decoder ArchitectureSpec the variants derive from "
                         "(default: specs/tiny-llama.yaml)")
    ap.add_argument("--variants", default=",".join(VARIANTS),
                    help="comma-separated variants to check (default: all)")
    add_run_arguments(ap, "specs, weights, inputs, plans and outputs")
    ap.add_argument("--sabotage", choices=sorted(SABOTAGE),
                    help="give ttc a deliberately wrong spec (see below); the check must fail")
    ap.add_argument("--max-abs-err", type=float, metavar="X",
                    help="a fixed max abs error bound for the logits instead of the computed "
                         "one (%gx the HiFi4 operand cut's deviation; needed with an overlay "
                         "other than the reference one)" % DEVICE_MARGIN)
    ap.add_argument("--verbose", action="store_true", help="also print every ttc run/generate")
    ap.add_argument("--self-test", action="store_true",
                    help="check this tool's safetensors and .npy writing and its torch "
                         "reference against torch.nn modules and independent formulations, and "
                         "print how far typical bugs move the logits; does not run ttc")
    opts = ap.parse_args(argv)
    opts.variants = [v.strip() for v in opts.variants.split(",") if v.strip()]
    unknown = [v for v in opts.variants if v not in VARIANTS]
    if unknown or not opts.variants:
        ap.error("unknown variant(s) %s; choose from %s" % (", ".join(unknown) or "(none)",
                                                          ", ".join(VARIANTS)))
    return opts


def main(argv):
    opts = parse_args(argv)
    torch.manual_seed(opts.seed)
    return run_main(opts, "ttc-torch-llama-", self_test, cross_check, lambda ok: (
        "PASS: every variant within PCC >= %g and its max abs err bound, greedy tokens equal%s"
        % (MIN_PCC, "" if ok is True else " but for %d near-tie(s)" % ok),
        "FAIL: ttc differs from the PyTorch reference (PCC < %g, max abs err above its bound, or "
        "greedy tokens differ)%s" % (MIN_PCC, " -- expected: --sabotage %s" % opts.sabotage
                                     if opts.sabotage else "")))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
