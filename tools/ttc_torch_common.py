"""What the PyTorch cross-checks of ttc (torch_bert_check.py, torch_llama_check.py) share.

Both write seeded weights to safetensors files and inputs to .npy files, run the `ttc` binary,
compare its outputs with a torch float32 reference by PCC and max abs error, and exit 0 (pass),
1 (a mismatch or any error) or 77 (torch/numpy missing, the ctest/automake convention for
"skipped"). The file formats, the way ttc is run, the statistics and main()'s work-directory
handling are here, once, so that the two checks cannot drift apart; what each reference
computes, and its bounds, stay in its own tool.

Importing this module exits 77 when python3-torch, python3-numpy or python3-yaml is missing, so
a tool imports it before its own torch imports.
"""

import io
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile

EXIT_OK, EXIT_FAIL, EXIT_SKIP = 0, 1, 77

# Debian's python3-torch depends on python3-numpy and python3-yaml, so all three are there or
# the check cannot run at all.
try:
    import numpy as np
    import torch
    import yaml
except ImportError as e:
    print("SKIP: python3-torch not installed (%s; run with /usr/bin/python3, "
          "needs python3-torch, python3-numpy and python3-yaml)" % e)
    sys.exit(EXIT_SKIP)

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class CheckError(Exception):
    """A user-facing error: printed as 'error: ...' and the tool exits 1."""


def load_yaml(path):
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.safe_load(f)
    except OSError as e:
        raise CheckError("cannot read spec '%s': %s" % (path, e.strerror))
    except yaml.YAMLError as e:
        raise CheckError("spec '%s' is not valid YAML: %s" % (path, e))


# --------------------------------------------------------------------------------------------
# Files: safetensors and .npy, written atomically.
# --------------------------------------------------------------------------------------------

def bf16_bits(t):
    """float32 tensor -> uint16 numpy array of bfloat16 bits, rounded to nearest even.
    Done on the bit pattern (not via torch.bfloat16) so the file content is explicit here."""
    bits = t.contiguous().numpy().view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16  # no NaN/Inf among these weights
    return rounded.astype(np.uint16)


def bf16_bits_to_f32(bits):
    return torch.from_numpy((bits.astype(np.uint32) << 16).view(np.float32))


def atomic_write(path, chunks):
    """Writes the byte chunks to path through a temp file in the same directory, renamed over
    path only when complete, so a failure never leaves a partial file behind."""
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def write_safetensors(path, tensors):
    """tensors: {name: (dtype string as in the format, shape, little-endian bytes)}.
    Layout: u64 LE header length, JSON header padded with spaces to a multiple of 8 (so the data
    section is 8-aligned), then each tensor's bytes back to back in header order."""
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    atomic_write(path, [len(text).to_bytes(8, "little"), text]
                 + [data for (_, _, data) in tensors.values()])


# Bytes per element of the dtypes encode_weights writes.
DTYPE_SIZES = {"F32": 4, "BF16": 2, "F16": 2, "I64": 8}


def read_safetensors(path):
    """The inverse, for --self-test: {name: (dtype, shape, bytes)}; checks the layout rules."""
    with open(path, "rb") as f:
        blob = f.read()
    n = int.from_bytes(blob[:8], "little")
    if n % 8 or 8 + n > len(blob):
        raise CheckError("%s: bad header length %d" % (path, n))
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    data, out, end = blob[8 + n:], {}, 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, stop = info["data_offsets"]
        if begin != end or stop - begin != DTYPE_SIZES[info["dtype"]] * math.prod(info["shape"]):
            raise CheckError("%s: tensor '%s' has inconsistent data_offsets" % (path, name))
        out[name] = (info["dtype"], tuple(info["shape"]), data[begin:stop])
        end = stop
    if end != len(data):
        raise CheckError("%s: %d trailing bytes after the last tensor" % (path, len(data) - end))
    return out


def encode_weights(weights, dtype, prefix=True):
    """{name: tensor} -> write_safetensors' {name: (dtype, shape, bytes)}: float tensors as
    dtype 'F32', 'BF16' or 'F16', int64 tensors as I64; prefix False strips 'model.' from the
    names."""
    out = {}
    for name, t in weights.items():
        if not prefix and name.startswith("model."):
            name = name[len("model."):]
        if t.dtype == torch.int64:
            out[name] = ("I64", t.shape, t.numpy().astype("<i8").tobytes())
        elif dtype == "BF16":
            out[name] = ("BF16", t.shape, bf16_bits(t).astype("<u2").tobytes())
        elif dtype == "F16":
            out[name] = ("F16", t.shape, t.numpy().astype("<f2").tobytes())
        else:
            out[name] = ("F32", t.shape, t.numpy().astype("<f4").tobytes())
    return out


def rounded_weights(weights, dtype):
    """The weights exactly as a file of that dtype stores them, widened back to float32 (int64
    tensors as they are)."""
    if dtype == "BF16":
        return {name: (t if t.dtype == torch.int64 else bf16_bits_to_f32(bf16_bits(t)))
                for name, t in weights.items()}
    if dtype == "F16":  # numpy's float32 -> float16 rounds to nearest even
        return {name: (t if t.dtype == torch.int64 else
                       torch.from_numpy(t.numpy().astype(np.float16).astype(np.float32)))
                for name, t in weights.items()}
    return weights


def save_npy(path, array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    atomic_write(path, [buffer.getvalue()])


# --------------------------------------------------------------------------------------------
# Running ttc and comparing its outputs.
# --------------------------------------------------------------------------------------------

def require_ttc_and_overlay(opts):
    """Refuses to start a cross-check without the ttc binary or the hardware overlay."""
    if not (os.path.isfile(opts.ttc) and os.access(opts.ttc, os.X_OK)):
        raise CheckError("ttc binary '%s' not found or not executable "
                         "(build it, or pass --ttc / set TTC_BIN)" % opts.ttc)
    if not os.path.isfile(opts.hw):
        raise CheckError("hardware overlay '%s' not found" % opts.hw)


def run_ttc(args, what, verbose=True):
    """Runs ttc (printing the command line when verbose); returns its stdout. A failure, with
    ttc's output, is a CheckError."""
    if verbose:
        print("$ " + " ".join(args), flush=True)
    try:
        proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    except OSError as e:
        raise CheckError("cannot run %s: %s" % (args[0], e.strerror))
    except subprocess.TimeoutExpired:
        raise CheckError("%s timed out after 600 s" % what)
    if proc.returncode != 0:
        raise CheckError("%s failed (exit %d):\n%s%s" % (
            what, proc.returncode, proc.stdout.decode(errors="replace"),
            proc.stderr.decode(errors="replace")))
    return proc.stdout.decode(errors="replace")


def load_output(path, shape):
    """A float32 .npy output of `ttc run` with the expected shape, as a tensor."""
    if not os.path.exists(path):
        raise CheckError("ttc run exited 0 but did not write %s" % path)
    array = np.load(path)
    if array.dtype != np.float32 or tuple(array.shape) != tuple(shape):
        raise CheckError("%s: expected float32 %s, got %s %s"
                         % (path, list(shape), array.dtype, list(array.shape)))
    return torch.from_numpy(array)


def metrics(got, want):
    """(PCC, max abs error) of two tensors, computed in float64."""
    got64 = np.asarray(got, np.float64).ravel()
    want64 = np.asarray(want, np.float64).ravel()
    return float(np.corrcoef(got64, want64)[0, 1]), float(np.abs(got64 - want64).max())


class SelfTestChecks:
    """--self-test's tally: check(name, passed, detail) prints an 'ok' or 'FAIL' line; .ok is
    False once any check failed."""

    def __init__(self):
        self.ok = True

    def __call__(self, name, passed, detail=""):
        self.ok &= bool(passed)
        print("%s %s%s" % ("ok  " if passed else "FAIL", name, (": " + detail) if detail else ""))


# --------------------------------------------------------------------------------------------
# Command line and main().
# --------------------------------------------------------------------------------------------

def add_run_arguments(ap, workdir_holds):
    """The options every check takes after --spec: --hw, --ttc, --workdir (which holds
    `workdir_holds`), --keep, --seed."""
    ap.add_argument("--hw", default=os.path.join(REPO_ROOT, "specs", "hw", "reference.yaml"),
                    help="hardware overlay (default: specs/hw/reference.yaml, the fp32 one)")
    ap.add_argument("--ttc", default=os.environ.get("TTC_BIN") or
                    os.path.join(REPO_ROOT, "build", "ttc"),
                    help="ttc binary (default: $TTC_BIN, else build/ttc)")
    ap.add_argument("--workdir", help="where %s go (default: a fresh temporary directory, "
                    "removed at the end)" % workdir_holds)
    ap.add_argument("--keep", action="store_true", help="keep the temporary work directory")
    ap.add_argument("--seed", type=int, default=1234,
                    help="seed for weights and inputs (default 1234)")


def run_main(opts, workdir_prefix, self_test, cross_check, verdicts):
    """main() of a check after parsing: runs self_test or cross_check (opts, workdir) in
    --workdir or a fresh temporary directory (removed at the end unless --keep), with torch's
    gradients off, and prints the verdict: `verdicts(ok)` gives the cross-check's (pass, fail)
    lines. Returns the exit status."""
    sys.stdout.reconfigure(line_buffering=True)  # keep our lines in order with ttc's and stderr
    opts.spec, opts.hw, opts.ttc = (os.path.abspath(p) for p in (opts.spec, opts.hw, opts.ttc))
    # ctest ends a test that times out with SIGTERM: turn it into an exception so that the
    # `finally` below removes the temporary directory (and subprocess.run kills ttc).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(EXIT_FAIL))
    temporary = opts.workdir is None
    try:
        if temporary:
            workdir = tempfile.mkdtemp(prefix=workdir_prefix)
        else:
            workdir = os.path.abspath(opts.workdir)
            os.makedirs(workdir, exist_ok=True)
    except OSError as e:
        print("error: cannot create work directory: %s" % e, file=sys.stderr)
        return EXIT_FAIL
    try:
        torch.set_grad_enabled(False)
        ok = (self_test if opts.self_test else cross_check)(opts, workdir)
    except CheckError as e:
        print("error: %s" % e, file=sys.stderr)
        return EXIT_FAIL
    finally:
        if temporary and not opts.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        elif temporary:
            print("work directory kept: %s" % workdir)
    if ok and opts.self_test:
        print("PASS: self-test")
        return EXIT_OK
    passed, failed = verdicts(ok)
    if ok:
        print(passed)
        return EXIT_OK
    if opts.self_test:
        print("FAIL: self-test", file=sys.stderr)
    else:
        print(failed, file=sys.stderr)
    return EXIT_FAIL
