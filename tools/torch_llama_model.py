"""torch_llama_model.py: the reference the Llama cross-check compares ttc with: Hugging Face
LlamaForCausalLM's forward (eval mode) written in plain torch float32 ops, with the device's
HiFi4 operand cut available as a model of the emulator's deviation. Imported by
tools/torch_llama_check.py; `bugs` (a set of names, used only by its --self-test) switches on
deliberate mistakes so the self-test can show each check is able to fail."""

import math

import numpy as np
import torch
import torch.nn.functional as F

from ttc_torch_common import CheckError

# The activations the specs name, as Hugging Face defines them.
ACTIVATIONS = {
    "silu": lambda x: x * torch.sigmoid(x),                                   # HF "silu"
    "gelu": lambda x: 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0))),        # HF "gelu"
    "gelu_tanh": lambda x: 0.5 * x * (1.0 + torch.tanh(                       # HF gelu_pytorch_tanh
        math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3)))),
}

# --------------------------------------------------------------------------------------------
# The reference: Hugging Face LlamaForCausalLM forward (eval mode) in plain torch fp32 ops.
# `bugs` (a set of names, used only by --self-test) switches on deliberate mistakes.
# --------------------------------------------------------------------------------------------

def rms_norm(x, weight, eps):
    """LlamaRMSNorm: x * rsqrt(mean(x^2) + eps) in float32, times the gain."""
    x = x.to(torch.float32)
    return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rope_inv_freq(layer, bugs=frozenset()):
    """HF _compute_default_rope_parameters, then _compute_llama3_parameters when scaled.
    Everything in float32 as HF computes it."""
    dim, theta = layer["head_dim"], layer["theta"]
    inv_freq = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    s = layer["scaling"]
    if s is None or "no-llama3-scaling" in bugs:
        return inv_freq
    factor, low, high = s["factor"], s["low_freq_factor"], s["high_freq_factor"]
    old_context_len = s["original_max_position"]
    low_freq_wavelen = old_context_len / low
    high_freq_wavelen = old_context_len / high
    wavelen = 2 * math.pi / inv_freq
    # wavelen < high_freq_wavelen: kept; wavelen > low_freq_wavelen: divided by factor
    inv_freq_llama = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    # in between: interpolated with a smooth factor
    smooth_factor = (old_context_len / wavelen - low) / (high - low)
    smoothed = (1 - smooth_factor) * inv_freq_llama / factor + smooth_factor * inv_freq_llama
    is_medium = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
    return torch.where(is_medium, smoothed, inv_freq_llama)


def rope_cos_sin(layer, seq, bugs=frozenset()):
    """LlamaRotaryEmbedding: angles pos * inv_freq in float32, emb = cat(freqs, freqs).
    Returns cos, sin [seq, head_dim]."""
    positions = torch.arange(seq, dtype=torch.float32)
    if "positions-from-1" in bugs:
        positions = positions + 1
    freqs = positions[:, None] * rope_inv_freq(layer, bugs)[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rope(x, cos, sin, bugs=frozenset()):
    """x [B, heads, S, D]: x * cos + rotate_half(x) * sin (HF apply_rotary_pos_emb)."""
    if "interleaved-rope" in bugs:  # GPT-J / Meta pairing (2i, 2i+1) on HF-ordered weights
        half = x.shape[-1] // 2
        c, s = cos[..., :half], sin[..., :half]
        x0, x1 = x[..., 0::2], x[..., 1::2]
        return torch.stack((x0 * c - x1 * s, x1 * c + x0 * s), dim=-1).flatten(-2)
    return x * cos + rotate_half(x) * sin


def repeat_kv(x, n_rep, bugs=frozenset()):
    """[B, kv_heads, S, D] -> [B, kv_heads * n_rep, S, D]: query head h reads kv head h // n_rep."""
    if n_rep == 1:
        return x
    if "kv-heads-modulo" in bugs:  # head h reads kv head h % kv_heads instead
        return x.repeat(1, n_rep, 1, 1)
    batch, kv_heads, seq, dim = x.shape
    return x[:, :, None].expand(batch, kv_heads, n_rep, seq, dim).reshape(
        batch, kv_heads * n_rep, seq, dim)


def attention_mask(seq, window, bugs=frozenset()):
    """Additive [seq, seq]: 0 where query i sees key j (j <= i, and i - j < window when a
    sliding window is set: the last `window` positions including itself), else float32 min."""
    i = torch.arange(seq)[:, None]
    j = torch.arange(seq)[None, :]
    allowed = j <= i
    if "no-causal-mask" in bugs:
        allowed = torch.ones_like(allowed)
    if window and "no-sliding-window" not in bugs:
        if "window-off-by-one" in bugs:
            window += 1
        allowed = allowed & (i - j < window)
    return torch.where(allowed, 0.0, torch.finfo(torch.float32).min)


def device_cut(t, mask):
    """Keeps the float32 bits of t under mask (truncation toward zero)."""
    bits = t.contiguous().numpy().view(np.uint32) & np.uint32(mask)
    return torch.from_numpy(bits.view(np.float32))


def matmul_xwt(x, weight, bias=None, bugs=frozenset()):
    """x W^T + b as torch.nn.Linear. With 'hifi4-operand-cut' (--self-test's model of ttc's
    expected deviation, not a bug): the operands as the emulated matrix unit sees them at HiFi4
    (DEVICE.md section 4: the fidelity phases sum to the weight's sign, exponent and top 9
    mantissa bits, w & 0xFFFFC000, times the activation cut to tf32, x & 0xFFFFE000)."""
    if "hifi4-operand-cut" in bugs:
        x, weight = device_cut(x, 0xFFFFE000), device_cut(weight, 0xFFFFC000)
    return F.linear(x, weight, bias)


def linear(x, w, name, bugs=frozenset()):
    return matmul_xwt(x, w[name + ".weight"], w.get(name + ".bias"), bugs)


def llama_attention(x, w, p, layer, cos, sin, bugs=frozenset()):
    """LlamaAttention (eager) including o_proj. x [B, S, H] -> [B, S, H]."""
    batch, seq, _ = x.shape
    heads, kv_heads, dim = layer["heads"], layer["kv_heads"], layer["head_dim"]

    def split(t, n):  # [B, S, n*D] -> [B, n, S, D]; head h owns columns h*D .. h*D+D-1
        return t.view(batch, seq, n, dim).transpose(1, 2)

    q = split(linear(x, w, p + "self_attn.q_proj", bugs), heads)
    k = split(linear(x, w, p + "self_attn.k_proj", bugs), kv_heads)
    v = split(linear(x, w, p + "self_attn.v_proj", bugs), kv_heads)
    if "no-rope" not in bugs:
        q = apply_rope(q, cos, sin, bugs)
        if "no-rope-on-k" not in bugs:
            k = apply_rope(k, cos, sin, bugs)
    k = repeat_kv(k, heads // kv_heads, bugs)
    v = repeat_kv(v, heads // kv_heads, bugs)
    scale_dim = layer["hidden"] // heads if "scale-by-hidden-over-heads" in bugs else dim
    scores = torch.matmul(q, k.transpose(2, 3)) * scale_dim ** -0.5
    scores = scores + attention_mask(seq, layer["window"], bugs)
    probs = torch.softmax(scores, dim=-1, dtype=torch.float32)
    context = torch.matmul(probs, v).transpose(1, 2).reshape(batch, seq, heads * dim)
    return linear(context, w, p + "self_attn.o_proj", bugs)


def llama_mlp(x, w, p, layer, bugs=frozenset()):
    """LlamaMLP: down(act(gate(x)) * up(x))."""
    act = ACTIVATIONS[layer["activation"]]
    return linear(act(linear(x, w, p + "mlp.gate_proj", bugs))
                  * linear(x, w, p + "mlp.up_proj", bugs), w, p + "mlp.down_proj", bugs)


def llama_forward(cfg, weights, ids, bugs=frozenset()):
    """ids [B, S] -> logits [B, S, vocab], every position (HF LlamaForCausalLM, no cache)."""
    w = {(name[len("model."):] if name.startswith("model.") else name): t
         for name, t in weights.items()}
    seq = ids.shape[1]
    x = w["embed_tokens.weight"][ids]
    for n, layer in enumerate(cfg["layers"]):
        layer = dict(layer, hidden=cfg["hidden"])
        p = "layers.%d." % n
        cos, sin = rope_cos_sin(layer, seq, bugs)
        x = x + llama_attention(rms_norm(x, w[p + "input_layernorm.weight"], layer["eps"]),
                                w, p, layer, cos, sin, bugs)
        x = x + llama_mlp(rms_norm(x, w[p + "post_attention_layernorm.weight"], layer["eps"]),
                          w, p, layer, bugs)
    x = rms_norm(x, w["norm.weight"], cfg["final_eps"])
    head = w["embed_tokens.weight"] if cfg["tied"] else w["lm_head.weight"]
    return matmul_xwt(x, head, None, bugs)


def torch_greedy(cfg, weights, prompt, new_tokens, eos):
    """Greedy tokens as ttc generate produces them: each step the argmax of the last position's
    logits, recomputed over the whole sequence so far. Sequences that produced eos keep going
    while another is live (their later tokens are not compared); all stop when all are done.
    Returns (tokens [steps][B], top-2 margins [steps][B], logits [steps] of [B, vocab])."""
    seqs, tokens, margins, all_logits = prompt.clone(), [], [], []
    done = torch.zeros(prompt.shape[0], dtype=torch.bool)
    for _ in range(new_tokens):
        logits = llama_forward(cfg, weights, seqs)[:, -1]
        top = logits.topk(2, dim=-1)
        nxt = logits.argmax(dim=-1)  # first index of the maximum, as a C loop with '>' picks
        tokens.append(nxt.tolist())
        margins.append((top.values[:, 0] - top.values[:, 1]).tolist())
        all_logits.append(logits)
        if eos is not None:
            done |= nxt == eos
            if bool(done.all()):
                break
        seqs = torch.cat((seqs, nxt[:, None]), dim=1)
    return tokens, margins, all_logits


# --------------------------------------------------------------------------------------------
# Spec -> the Llama configuration the reference implements.
# --------------------------------------------------------------------------------------------



def _require(cond, path, message):
    if not cond:
        raise CheckError("%s: %s (this check covers Hugging Face LlamaForCausalLM-style decoders)"
                         % (path, message))


def _get(params, key, kind, path, where, default=None):
    """params[key] as a positive int (kind int) or a float (kind float; PyYAML reads '1e-5'
    without a dot as a string, float() takes it). Without a default the key is required."""
    value = params.get(key, default)
    if value is None:
        raise CheckError("%s: %s: '%s' must be set" % (path, where, key))
    if kind is int and isinstance(value, bool):
        raise CheckError("%s: %s: '%s' is not a number" % (path, where, key))
    try:
        value = kind(value)
    except (TypeError, ValueError):
        raise CheckError("%s: %s: '%s' is not a number" % (path, where, key))
    if value <= 0:
        raise CheckError("%s: %s: '%s' must be positive" % (path, where, key))
    return value


def llama_config_from_spec(spec, path, min_positions):
    """ArchitectureSpec -> {vocab, max_pos, hidden, eos, final_eps, tied, layers: [{heads,
    kv_heads, head_dim, ffn, activation, eps, bias, qkv_bias, theta, scaling, window}]},
    refusing anything a LlamaForCausalLM (with the Qwen2/Mistral/Gemma-MLP options) cannot
    express. Defaults are taken only where HF's LlamaConfig and ttc agree (num_kv_heads = heads,
    head_dim = hidden / heads, rope theta 10000); elsewhere the key is required, because the
    reference must not guess a default ttc might resolve differently (ttc's attention.bias
    defaults to true, BERT's, while HF's attention_bias defaults to false)."""
    _require(isinstance(spec, dict) and isinstance(spec.get("model"), dict)
             and isinstance(spec.get("layers"), list), path, "expected 'model' and 'layers'")
    model = spec["model"]
    _require(model.get("type") == "decoder", path, "model.type must be 'decoder'")
    cfg = {"vocab": _get(model, "vocab_size", int, path, "model"),
           "max_pos": _get(model, "max_sequence_length", int, path, "model"),
           "eos": None, "layers": [], "final_eps": None, "tied": None}
    if model.get("eos_token_id") is not None:
        eos = model["eos_token_id"]
        _require(isinstance(eos, int) and not isinstance(eos, bool) and 0 <= eos < cfg["vocab"],
                 path, "model.eos_token_id must be a token id below vocab_size")
        cfg["eos"] = eos
    _require(all(isinstance(entry, dict) for entry in spec["layers"]), path, "bad 'layers'")
    kinds = [entry.get("type") for entry in spec["layers"]]
    _require(kinds[:1] == ["embedding"] and kinds.count("embedding") == 1, path,
             "the first layer must be the only 'embedding'")
    _require(kinds[-2:] == ["norm", "linear"] and kinds.count("norm") == 1
             and kinds.count("linear") == 1, path,
             "the last two layers must be the final norm and the lm_head linear")
    for entry in spec["layers"]:
        where = "layer '%s'" % entry.get("id")
        params = entry.get("params") or {}
        if entry["type"] == "embedding":
            _require(params.get("position") == "none" and "norm" not in params
                     and "token_types" not in params, path,
                     where + ": needs position: none, no norm and no token types")
            cfg["hidden"] = _get(params, "hidden_dim", int, path, where)
            cfg["embedding_id"] = entry.get("id")
        elif entry["type"] == "transformer":
            attn = params.get("attention") or {}
            rope = attn.get("rope")
            _require(_get(params, "hidden_dim", int, path, where) == cfg["hidden"], path,
                     where + ": hidden_dim differs from the embedding's")
            heads = _get(params, "num_heads", int, path, where)
            kv_heads = _get(params, "num_kv_heads", int, path, where, default=heads)
            _require(heads % kv_heads == 0, path, where + ": num_kv_heads must divide num_heads")
            _require("head_dim" in params or cfg["hidden"] % heads == 0, path,
                     where + ": num_heads must divide hidden_dim, or give head_dim")
            head_dim = _get(params, "head_dim", int, path, where, default=cfg["hidden"] // heads)
            _require(head_dim % 2 == 0, path, where + ": rope needs an even head_dim")
            _require(params.get("ffn_type") == "gated", path, where + ": ffn_type must be gated")
            _require(params.get("norm_type") == "rmsnorm", path, where + ": needs rmsnorm")
            _require(params.get("residual_pattern") == "pre_norm", path, where + ": needs pre_norm")
            _require(params.get("activation") in ACTIVATIONS, path,
                     where + ": activation must be one of " + ", ".join(ACTIVATIONS))
            _require(attn.get("causal") is True, path, where + ": attention must be causal")
            _require(isinstance(attn.get("bias"), bool), path, where +
                     ": set attention.bias explicitly (ttc defaults it to true, HF to false)")
            _require(isinstance(rope, dict), path, where + ": attention.rope must be given")
            scaling = rope.get("scaling")
            if scaling is not None:
                _require(isinstance(scaling, dict) and scaling.get("type") == "llama3", path,
                         where + ": rope.scaling must be {type: llama3, ...}")
                swhere = where + " rope.scaling"
                scaling = {"factor": _get(scaling, "factor", float, path, swhere),
                           "low_freq_factor": _get(scaling, "low_freq_factor", float, path, swhere),
                           "high_freq_factor": _get(scaling, "high_freq_factor", float, path,
                                                    swhere),
                           "original_max_position": _get(scaling, "original_max_position", int,
                                                         path, swhere)}
            window = attn.get("sliding_window", 0)
            _require(isinstance(window, int) and not isinstance(window, bool) and window >= 0,
                     path, where + ": sliding_window must be a non-negative integer")
            layer = {"heads": heads, "kv_heads": kv_heads, "head_dim": head_dim,
                     "ffn": _get(params, "ffn_dim", int, path, where),
                     "activation": params["activation"],
                     "eps": _get(params, "norm_eps", float, path, where),
                     "bias": attn["bias"], "qkv_bias": bool(attn.get("qkv_bias", attn["bias"])),
                     "theta": _get(rope, "theta", float, path, where + " rope", default=10000.0),
                     "scaling": scaling, "window": window}
            repeat = _get(entry, "repeat", int, path, where, default=1)
            cfg["layers"].extend(dict(layer) for _ in range(repeat))
        elif entry["type"] == "norm":
            _require(params.get("norm_type") == "rmsnorm", path, where + ": needs rmsnorm")
            _require(params.get("hidden_dim", cfg["hidden"]) == cfg["hidden"], path,
                     where + ": hidden_dim differs from the embedding's")
            cfg["final_eps"] = _get(params, "norm_eps", float, path, where)
        elif entry["type"] == "linear":
            tied = params.get("tied_to")
            _require(tied is None or tied == cfg.get("embedding_id"), path,
                     where + ": tied_to must name the embedding layer")
            _require(not params.get("bias", False), path, where + ": an lm_head has no bias")
            _require(_get(params, "input_dim", int, path, where) == cfg["hidden"], path,
                     where + ": input_dim must be the hidden size")
            _require(_get(params, "output_dim", int, path, where) == cfg["vocab"], path,
                     where + ": output_dim must be vocab_size")
            cfg["tied"] = tied is not None
        else:
            _require(False, path,
                     where + ": layer type '%s' has no Llama equivalent" % entry["type"])
    _require(cfg["layers"], path, "no transformer layers")
    _require(cfg["max_pos"] >= min_positions, path,
             "max_sequence_length must be at least %d" % min_positions)
    return cfg


