#!/usr/bin/python3
"""Cross-check ttc against a PyTorch float32 BERT encoder built from the same weights.

The tool reads a BERT-style ArchitectureSpec (DESIGN.md section 3), writes seeded random weights
with Hugging Face tensor names to safetensors files (F32, and BF16 to check BF16 loading), writes
input ids / token types / attention mask as .npy, runs `ttc compile` + `ttc run` with the fp32
reference overlay, recomputes the Hugging Face BertModel forward in plain torch ops, and compares
the last hidden state and the pooler output (PCC and max abs error).

Run with Debian's interpreter, which is where python3-torch and python3-numpy live:
    /usr/bin/python3 tools/torch_bert_check.py --spec specs/tiny-bert.yaml

Exit status: 0 every output within bounds, 1 a mismatch or any error, 77 torch/numpy missing
(the ctest/automake convention for "skipped").
"""

import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# Exits 77 (skipped) when python3-torch, python3-numpy or python3-yaml is missing.
from ttc_torch_common import (REPO_ROOT, CheckError, SelfTestChecks, add_run_arguments,
                              encode_weights, load_output, load_yaml, metrics, read_safetensors,
                              require_ttc_and_overlay, rounded_weights, run_main, run_ttc,
                              save_npy, write_safetensors)

import numpy as np
import torch
import torch.nn.functional as F

# The input shape the check runs at: batch 2, seq 16, and the second sequence padded so the
# attention mask matters (its last PAD_TOKENS positions have mask 0).
BATCH, SEQ, PAD_TOKENS = 2, 16, 5

# Acceptance bounds. Both sides compute in fp32 (specs/hw/reference.yaml: fp32 activations and
# weights, HiFi4, fp32 accumulation), so they differ only by summation order and by the libm /
# torch implementations of exp, erf, tanh and rsqrt: ~1e-7 relative per op, ~1e-6 at the end
# (measured: 1.2e-6 on tiny-bert, 2.7e-6 on 12-layer bert-base). The hidden states leave a
# LayerNorm with gain ~1 and are O(1), so 1e-3 absolute is far above that noise, and it is as
# loose as the bound can be: with BERT's 0.02 weight scale attention is nearly uniform, so
# semantic bugs move the outputs only by ~2e-3 (LayerNorm eps 1e-5 for 1e-12) to ~1e-2
# (attention mask ignored); --self-test prints these figures. PCC >= 0.9999 is the bar
# DESIGN.md section 8 sets for the reference overlay; on its own it would miss the mask bug.
MIN_PCC = 0.9999
MAX_ABS_ERR = 1e-3


# --------------------------------------------------------------------------------------------
# Spec -> the BERT configuration the reference implements.
# --------------------------------------------------------------------------------------------

ACTIVATIONS = {
    "gelu": lambda x: 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0))),        # HF "gelu"
    "gelu_tanh": lambda x: 0.5 * x * (1.0 + torch.tanh(                       # HF "gelu_new"
        math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3)))),
    "relu": torch.relu,
    "silu": lambda x: x * torch.sigmoid(x),
}


def _require(cond, path, message):
    if not cond:
        raise CheckError("%s: %s (this check covers Hugging Face BertModel-style encoders)"
                         % (path, message))


def _get(params, key, kind, path, where, default=None):
    """params[key] as a positive int (kind int) or a float (kind float; PyYAML reads '1e-12'
    without a dot as a string, float() takes it). No default: the key is required, because the
    reference must not guess a default ttc might resolve differently."""
    value = params.get(key, default)
    if value is None:
        raise CheckError("%s: %s: '%s' must be set" % (path, where, key))
    try:
        value = kind(value)
    except (TypeError, ValueError):
        raise CheckError("%s: %s: '%s' is not a number" % (path, where, key))
    if kind is int and value <= 0:
        raise CheckError("%s: %s: '%s' must be positive" % (path, where, key))
    return value


def bert_config_from_spec(spec, path):
    """ArchitectureSpec -> {vocab, max_pos, hidden, token_types, emb_eps, layers: [{heads, ffn,
    eps, activation}], pooler: bool}, refusing anything a BertModel cannot express."""
    _require(isinstance(spec, dict) and isinstance(spec.get("model"), dict)
             and isinstance(spec.get("layers"), list), path, "expected 'model' and 'layers'")
    model = spec["model"]
    _require(model.get("type") == "encoder", path, "model.type must be 'encoder'")
    cfg = {"vocab": _get(model, "vocab_size", int, path, "model"),
           "max_pos": _get(model, "max_sequence_length", int, path, "model"),
           "layers": [], "pooler": False}
    _require(all(isinstance(entry, dict) for entry in spec["layers"]), path, "bad 'layers'")
    kinds = [entry.get("type") for entry in spec["layers"]]
    _require(kinds[:1] == ["embedding"] and kinds.count("embedding") == 1, path,
             "the first layer must be the only 'embedding'")
    for entry in spec["layers"]:
        where = "layer '%s'" % entry.get("id")
        params = entry.get("params") or {}
        if entry["type"] == "embedding":
            _require(params.get("position") == "learned" and params.get("norm") == "layernorm",
                     path, where + ": needs position: learned and norm: layernorm")
            cfg["hidden"] = _get(params, "hidden_dim", int, path, where)
            cfg["token_types"] = _get(params, "token_types", int, path, where)
            cfg["emb_eps"] = _get(params, "norm_eps", float, path, where)
        elif entry["type"] == "transformer":
            _require(not cfg["pooler"], path, where + ": transformer layers after the pooler")
            attn = params.get("attention") or {}
            heads = _get(params, "num_heads", int, path, where)
            _require(_get(params, "hidden_dim", int, path, where) == cfg["hidden"], path,
                     where + ": hidden_dim differs from the embedding's")
            _require(params.get("num_kv_heads", heads) == heads, path, where + ": no GQA in BERT")
            _require(cfg["hidden"] % heads == 0 and
                     params.get("head_dim", cfg["hidden"] // heads) * heads == cfg["hidden"],
                     path, where + ": head_dim * num_heads must equal hidden_dim")
            _require(params.get("ffn_type", "mlp") == "mlp", path, where + ": ffn_type must be mlp")
            _require(params.get("norm_type") == "layernorm", path, where + ": needs layernorm")
            _require(params.get("residual_pattern") == "post_norm", path,
                     where + ": needs post_norm")
            _require(not attn.get("causal", False) and attn.get("bias", True)
                     and "rope" not in attn and not attn.get("sliding_window", 0),
                     path, where + ": attention must be bidirectional, with biases, without rope")
            _require(params.get("activation") in ACTIVATIONS, path,
                     where + ": activation must be one of " + ", ".join(ACTIVATIONS))
            layer = {"heads": heads, "ffn": _get(params, "ffn_dim", int, path, where),
                     "eps": _get(params, "norm_eps", float, path, where),
                     "activation": params["activation"]}
            repeat = _get(entry, "repeat", int, path, where, default=1)
            cfg["layers"].extend(dict(layer) for _ in range(repeat))
        elif entry["type"] == "pooler":
            _require(params.get("activation", "tanh") == "tanh", path, where + ": needs tanh")
            cfg["pooler"] = True
        else:
            _require(False, path,
                     where + ": layer type '%s' has no BERT equivalent" % entry["type"])
    _require(cfg["layers"], path, "no transformer layers")
    _require(cfg["max_pos"] >= SEQ, path, "max_sequence_length must be at least %d" % SEQ)
    return cfg


# --------------------------------------------------------------------------------------------
# Weights: Hugging Face names, seeded values (the file formats are ttc_torch_common's).
# --------------------------------------------------------------------------------------------

def make_weights(cfg, seed):
    """Seeded weights named as in a BertForPreTraining checkpoint (with the 'bert.' prefix).

    Matrices and embeddings ~N(0, 0.02) as BERT initializes them; LayerNorm gains 1 + N(0, 0.1) and
    every bias N(0, 0.1), not the usual 1 and 0, so a gain or bias that ttc drops or misplaces
    changes the outputs measurably. Two tensors ttc has to ignore: 'cls.predictions.bias' (an MLM
    head) and the int64 'bert.embeddings.position_ids' buffer older checkpoints carry."""
    gen = torch.Generator().manual_seed(seed)

    def normal(shape, std, mean=0.0):
        return torch.randn(*shape, generator=gen, dtype=torch.float32) * std + mean

    hidden = cfg["hidden"]
    w = {}

    def linear_params(name, n_out, n_in):
        w[name + ".weight"] = normal((n_out, n_in), 0.02)  # torch Linear layout: [out, in]
        w[name + ".bias"] = normal((n_out,), 0.1)

    def norm_params(name):
        w[name + ".weight"] = normal((hidden,), 0.1, mean=1.0)
        w[name + ".bias"] = normal((hidden,), 0.1)

    w["bert.embeddings.word_embeddings.weight"] = normal((cfg["vocab"], hidden), 0.02)
    w["bert.embeddings.position_embeddings.weight"] = normal((cfg["max_pos"], hidden), 0.02)
    w["bert.embeddings.token_type_embeddings.weight"] = normal((cfg["token_types"], hidden), 0.02)
    norm_params("bert.embeddings.LayerNorm")
    for n, layer in enumerate(cfg["layers"]):
        p = "bert.encoder.layer.%d." % n
        for proj in ("query", "key", "value"):
            linear_params(p + "attention.self." + proj, hidden, hidden)
        linear_params(p + "attention.output.dense", hidden, hidden)
        norm_params(p + "attention.output.LayerNorm")
        linear_params(p + "intermediate.dense", layer["ffn"], hidden)
        linear_params(p + "output.dense", hidden, layer["ffn"])
        norm_params(p + "output.LayerNorm")
    if cfg["pooler"]:
        linear_params("bert.pooler.dense", hidden, hidden)
    w["cls.predictions.bias"] = normal((cfg["vocab"],), 0.1)
    w["bert.embeddings.position_ids"] = torch.arange(cfg["max_pos"], dtype=torch.int64)[None]
    return w


def make_inputs(cfg, seed):
    """ids [B, S] random in [1, vocab), token types 0 then 1 (two segments, as for a sentence
    pair), mask 1 except the last PAD_TOKENS positions of the last sequence, whose ids and token
    types are 0 as a tokenizer pads them."""
    gen = torch.Generator().manual_seed(seed + 1)
    ids = torch.randint(1, cfg["vocab"], (BATCH, SEQ), generator=gen, dtype=torch.int64)
    token_types = torch.zeros(BATCH, SEQ, dtype=torch.int64)
    mask = torch.ones(BATCH, SEQ, dtype=torch.int64)
    mask[-1, SEQ - PAD_TOKENS:] = 0
    for b in range(BATCH):
        valid = int(mask[b].sum())
        if cfg["token_types"] > 1:
            token_types[b, valid // 2:valid] = 1
        ids[b, valid:] = 0
    return ids, token_types, mask


# --------------------------------------------------------------------------------------------
# The reference: Hugging Face BertModel forward (eval mode, no dropout) in plain torch fp32 ops.
# --------------------------------------------------------------------------------------------

def dense(x, w, name):
    """torch.nn.Linear with the HF tensors name.weight [out, in] and name.bias [out]."""
    return F.linear(x, w[name + ".weight"], w[name + ".bias"])


def layer_norm(x, w, name, eps):
    return F.layer_norm(x, (x.shape[-1],), w[name + ".weight"], w[name + ".bias"], eps)


def bert_attention(x, w, p, heads, ext_mask):
    """BertSelfAttention + the output projection (before residual and LayerNorm).
    x [B, S, H]; ext_mask [B, 1, 1, S] additive. Returns [B, S, H]."""
    batch, seq, hidden = x.shape
    head_dim = hidden // heads

    def split_heads(t):  # [B, S, H] -> [B, heads, S, head_dim]; head h owns columns h*d..h*d+d-1
        return t.view(batch, seq, heads, head_dim).transpose(1, 2)

    q = split_heads(dense(x, w, p + "attention.self.query"))
    k = split_heads(dense(x, w, p + "attention.self.key"))
    v = split_heads(dense(x, w, p + "attention.self.value"))
    scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(head_dim) + ext_mask
    context = torch.matmul(torch.softmax(scores, dim=-1), v)
    context = context.transpose(1, 2).reshape(batch, seq, hidden)
    return dense(context, w, p + "attention.output.dense")


def bert_layer(x, w, p, layer, ext_mask):
    """One BertLayer, post-norm: x = LN(x + attention(x)); x = LN(x + dense(act(dense(x))))."""
    x = layer_norm(x + bert_attention(x, w, p, layer["heads"], ext_mask), w,
                   p + "attention.output.LayerNorm", layer["eps"])
    h = ACTIVATIONS[layer["activation"]](dense(x, w, p + "intermediate.dense"))
    return layer_norm(x + dense(h, w, p + "output.dense"), w, p + "output.LayerNorm", layer["eps"])


def extended_attention_mask(mask):
    """HF get_extended_attention_mask: [B, S] of 1/0 -> additive [B, 1, 1, S], 0 where attended and
    the most negative float32 where masked, broadcast over heads and query positions."""
    return (1.0 - mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min


def bert_forward(cfg, weights, ids, token_types, mask):
    """Returns (last hidden state [B, S, H], pooled [B, H] or None)."""
    w = {name[len("bert."):]: t for name, t in weights.items() if name.startswith("bert.")}
    positions = torch.arange(ids.shape[1])
    x = (w["embeddings.word_embeddings.weight"][ids]
         + w["embeddings.position_embeddings.weight"][positions][None]
         + w["embeddings.token_type_embeddings.weight"][token_types])
    x = layer_norm(x, w, "embeddings.LayerNorm", cfg["emb_eps"])
    ext_mask = extended_attention_mask(mask)
    for n, layer in enumerate(cfg["layers"]):
        x = bert_layer(x, w, "encoder.layer.%d." % n, layer, ext_mask)
    pooled = torch.tanh(dense(x[:, 0], w, "pooler.dense")) if cfg["pooler"] else None
    return x, pooled


# --------------------------------------------------------------------------------------------
# Comparison.
# --------------------------------------------------------------------------------------------

def compare(name, got, want):
    """Prints PCC and max abs error of got vs want; returns True when both are within bounds."""
    got, want = got.numpy(), want.numpy()
    if got.shape != want.shape:
        print("FAIL %-33s shape %s, expected %s" % (name, got.shape, want.shape))
        return False
    if not np.all(np.isfinite(got)):
        print("FAIL %-33s %d non-finite values" % (name, int(np.sum(~np.isfinite(got)))))
        return False
    pcc, max_abs = metrics(got, want)
    ok = pcc >= MIN_PCC and max_abs <= MAX_ABS_ERR
    worst = np.unravel_index(int(np.abs(got.astype(np.float64) - want).argmax()), got.shape)
    print("%s %-33s PCC %.7f  max abs err %.3e  (worst at %s: got %.6f, expected %.6f)"
          % ("ok  " if ok else "FAIL", name, pcc, max_abs, list(map(int, worst)),
             got[worst], want[worst]))
    return ok


def cross_check(opts, workdir):
    cfg = bert_config_from_spec(load_yaml(opts.spec), opts.spec)
    require_ttc_and_overlay(opts)
    print("spec %s: %d layers, hidden %d, heads %d, ffn %d, vocab %d; batch %d, seq %d, seed %d"
          % (opts.spec, len(cfg["layers"]), cfg["hidden"], cfg["layers"][0]["heads"],
             cfg["layers"][0]["ffn"], cfg["vocab"], BATCH, SEQ, opts.seed))

    def f(name):
        return os.path.join(workdir, name)

    weights = make_weights(cfg, opts.seed)
    ids, token_types, mask = make_inputs(cfg, opts.seed)
    write_safetensors(f("weights-f32.safetensors"), encode_weights(weights, "F32"))
    write_safetensors(f("weights-bf16.safetensors"), encode_weights(weights, "BF16"))
    save_npy(f("ids.npy"), ids.numpy())                                  # int64
    save_npy(f("token_types.npy"), token_types.numpy().astype(np.int32))  # int32: both accepted
    save_npy(f("mask.npy"), mask.numpy())                                # int64

    run_ttc([opts.ttc, "compile", opts.spec, "--hw", opts.hw, "--batch", str(BATCH),
             "--seq", str(SEQ), "-o", f("bert.plan")], "ttc compile")
    ok = True
    for label, file_dtype, ref_weights in (("f32", "F32", weights),
                                           ("bf16", "BF16", rounded_weights(weights, "BF16"))):
        outputs = ["--output", f("hidden-%s.npy" % label)]
        if cfg["pooler"]:
            outputs += ["--output-pooled", f("pooled-%s.npy" % label)]
        for path in outputs[1::2]:  # a kept --workdir may hold outputs of an earlier run
            if os.path.exists(path):
                os.unlink(path)
        run_ttc([opts.ttc, "run", f("bert.plan"), "--weights", f("weights-%s.safetensors" % label),
                 "--input-ids", f("ids.npy"), "--token-type-ids", f("token_types.npy"),
                 "--attention-mask", f("mask.npy")] + outputs, "ttc run (%s weights)" % file_dtype)
        want_hidden, want_pooled = bert_forward(cfg, ref_weights, ids, token_types, mask)
        got = load_output(f("hidden-%s.npy" % label), (BATCH, SEQ, cfg["hidden"]))
        ok &= compare("last_hidden_state (%s weights)" % file_dtype, got, want_hidden)
        if cfg["pooler"]:
            got = load_output(f("pooled-%s.npy" % label), (BATCH, cfg["hidden"]))
            ok &= compare("pooler_output (%s weights)" % file_dtype, got, want_pooled)
    if not ok:
        print("hint: rerun with --keep, then `ttc run PLAN ... --check` on the kept files names "
              "the first op that diverges from ttc's own fp32 reference path")
    return ok


# --------------------------------------------------------------------------------------------
# --self-test: checks the pieces of this tool without ttc.
# --------------------------------------------------------------------------------------------

def self_test(opts, workdir):
    check = SelfTestChecks()

    cfg = bert_config_from_spec(load_yaml(opts.spec), opts.spec)

    # safetensors: write, re-read, compare; BF16 rounding against torch's own conversion.
    weights = make_weights(cfg, opts.seed)
    for dtype in ("F32", "BF16"):
        path = os.path.join(workdir, "self-test-%s.safetensors" % dtype)
        encoded = encode_weights(weights, dtype)
        write_safetensors(path, encoded)
        back = read_safetensors(path)
        expected = {name: (d, tuple(shape), b) for name, (d, shape, b) in encoded.items()}
        check("safetensors %s round trip (%d tensors, %d bytes)"
              % (dtype, len(back), os.path.getsize(path)), back == expected)
    mine = rounded_weights(weights, "BF16")
    check("bf16 rounding equals torch's float32->bfloat16 (round to nearest even)",
          all(torch.equal(mine[k], t.to(torch.bfloat16).to(torch.float32))
              for k, t in weights.items() if t.dtype == torch.float32))

    ids, token_types, mask = make_inputs(cfg, opts.seed)
    for name, array, dtype in (("ids", ids, np.int64), ("token_types", token_types, np.int32)):
        path = os.path.join(workdir, name + ".npy")
        save_npy(path, array.numpy().astype(dtype))
        back = np.load(path)
        check("%s.npy round trip as %s %s" % (name, back.dtype, list(back.shape)),
              back.dtype == dtype and np.array_equal(back, array.numpy()))

    # The reference against torch's own modules: one HF BERT layer is exactly a post-norm
    # nn.TransformerEncoderLayer (erf GELU) whose key padding mask is the attention mask.
    w = {k[len("bert."):]: t for k, t in weights.items() if k.startswith("bert.")}
    x = torch.randn(BATCH, SEQ, cfg["hidden"], generator=torch.Generator().manual_seed(opts.seed))
    layer = cfg["layers"][0]
    torch_layer = torch.nn.TransformerEncoderLayer(
        cfg["hidden"], layer["heads"], layer["ffn"], dropout=0.0, activation="gelu",
        layer_norm_eps=layer["eps"], batch_first=True, norm_first=False)
    p = "encoder.layer.0."
    with torch.no_grad():
        sa = torch_layer.self_attn
        sa.in_proj_weight.copy_(torch.cat([w[p + "attention.self.%s.weight" % n]
                                           for n in ("query", "key", "value")]))
        sa.in_proj_bias.copy_(torch.cat([w[p + "attention.self.%s.bias" % n]
                                         for n in ("query", "key", "value")]))
        for dst, src in ((sa.out_proj, "attention.output.dense"),
                         (torch_layer.linear1, "intermediate.dense"),
                         (torch_layer.linear2, "output.dense"),
                         (torch_layer.norm1, "attention.output.LayerNorm"),
                         (torch_layer.norm2, "output.LayerNorm")):
            dst.weight.copy_(w[p + src + ".weight"])
            dst.bias.copy_(w[p + src + ".bias"])
        # train() with dropout 0 keeps torch on its plain (non-"fast path") implementation.
        torch_layer.train()
        padding = mask == 0
        want_attn, _ = sa(x, x, x, key_padding_mask=padding, need_weights=False)
        got_attn = bert_attention(x, w, p, layer["heads"], extended_attention_mask(mask))
        err = float((got_attn - want_attn).abs().max())
        check("multi-head attention vs torch.nn.MultiheadAttention", err < 1e-5,
              "max abs %.2e" % err)
        want_layer = torch_layer(x, src_key_padding_mask=padding)
        got_layer = bert_layer(x, w, p, layer, extended_attention_mask(mask))
        err = float((got_layer - want_layer).abs().max())
        check("post-norm encoder layer vs torch.nn.TransformerEncoderLayer", err < 1e-5,
              "max abs %.2e" % err)
        gelu_err = float((ACTIVATIONS["gelu"](x) - F.gelu(x)).abs().max())
        check("erf GELU vs torch.nn.functional.gelu", gelu_err < 1e-6, "max abs %.2e" % gelu_err)
        tanh_err = float((ACTIVATIONS["gelu_tanh"](x) - F.gelu(x, approximate="tanh")).abs().max())
        check("tanh GELU vs torch.nn.functional.gelu(approximate='tanh')", tanh_err < 1e-6,
              "max abs %.2e" % tanh_err)

        # Padding must not change the valid positions: the last sequence cut to its valid tokens
        # and run without a mask gives what the padded batch gives there (HF semantics).
        hidden, pooled = bert_forward(cfg, weights, ids, token_types, mask)
        valid = int(mask[-1].sum())
        alone, alone_pooled = bert_forward(cfg, weights, ids[-1:, :valid], token_types[-1:, :valid],
                                           mask[-1:, :valid])
        err = max(float((alone[0] - hidden[-1, :valid]).abs().max()),
                  float((alone_pooled[0] - pooled[-1]).abs().max()) if cfg["pooler"] else 0.0)
        check("padded sequence equals the same sequence unpadded", err < 1e-5, "max abs %.2e" % err)

        # Sensitivity: how far plausible ttc bugs move the outputs, measured against the bounds.
        print("sensitivity: a ttc bug that ... changes last_hidden_state / pooler_output by")
        base = bert_forward(cfg, weights, ids, token_types, mask)

        def every_layer(**change):
            return dict(cfg, layers=[dict(layer, **change) for layer in cfg["layers"]])

        no_value_bias = dict(weights)
        no_value_bias["bert.encoder.layer.0.attention.self.value.bias"] = torch.zeros(cfg["hidden"])
        bugs = {
            "ignores the attention mask": (cfg, weights, ids, token_types, torch.ones_like(mask)),
            "ignores token types": (cfg, weights, ids, torch.zeros_like(token_types), mask),
            "uses LayerNorm eps 1e-5": (dict(every_layer(eps=1e-5), emb_eps=1e-5),
                                        weights, ids, token_types, mask),
            "drops one value bias": (cfg, no_value_bias, ids, token_types, mask),
            "uses tanh GELU for erf": (every_layer(activation="gelu_tanh"),
                                       weights, ids, token_types, mask),
        }
        for name, bug in bugs.items():
            figures = [metrics(got, want) for got, want in zip(bert_forward(*bug), base)
                       if want is not None]
            caught = any(pcc < MIN_PCC or max_abs > MAX_ABS_ERR for pcc, max_abs in figures)
            print("     %-27s %s  %s" % (
                name, " / ".join("PCC %.6f max abs %.1e" % f for f in figures),
                "caught" if caught else "NOT caught by the bounds"))
    return check.ok


# --------------------------------------------------------------------------------------------

def parse_args(argv):
    ap = argparse.ArgumentParser(
        description="Cross-check ttc's BERT encoder output against a PyTorch float32 reference "
                    "(Hugging Face BertModel semantics) from the same safetensors weights.",
        epilog="Exit status: 0 pass, 1 mismatch or error, 77 python3-torch/numpy not installed.")
    ap.add_argument("--spec", default=os.path.join(REPO_ROOT, "specs", "tiny-bert.yaml"),
                    help="BERT-style ArchitectureSpec (default: specs/tiny-bert.yaml)")
    add_run_arguments(ap, "weights, inputs, plan and outputs")
    ap.add_argument("--self-test", action="store_true",
                    help="check this tool's safetensors and .npy writing and its torch "
                         "reference against torch.nn modules, and print how far typical bugs "
                         "move the outputs; does not run ttc")
    return ap.parse_args(argv)


def main(argv):
    opts = parse_args(argv)
    return run_main(opts, "ttc-torch-bert-", self_test, cross_check, lambda ok: (
        "PASS: every output within PCC >= %g and max abs err <= %g" % (MIN_PCC, MAX_ABS_ERR),
        "FAIL: ttc differs from the PyTorch reference beyond PCC >= %g or max abs err > %g"
        % (MIN_PCC, MAX_ABS_ERR)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
