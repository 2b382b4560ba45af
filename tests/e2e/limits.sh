#!/usr/bin/env bash
# limits.sh: hostile sizes fail before anything is allocated. Each input below claims far more
# than a machine holds; under a 2 GB address space limit each must end with exit status 1 and a
# message saying what is too large (a kill, 137, or a crash, 134/139, fails the check).
source "$(dirname "$0")/lib/harness.bash" limits

# ASan reserves terabytes of shadow address space: no ulimit -v fits it and a real process.
if ldd "$TTC" 2>/dev/null | grep -q libasan || nm "$TTC" 2>/dev/null | grep -q __asan_init; then
  echo "skipped: $TTC is built with AddressSanitizer, which cannot run under ulimit -v"
  exit 77
fi
command -v python3 >/dev/null || { echo "skipped: python3 builds the hostile files"; exit 77; }

# limited DESCRIPTION -- command...: `expect 1` inside a 2 GB address space
limited() {
  local what=$1; shift 2
  out=$( (ulimit -v 2000000; "$@") 2>&1 ); local got=$?
  if [ "$got" -eq 1 ]; then ok; else fail "$what: exit $got, expected 1"; echo "$out" | head -20; fi
}

spec() { # NAME VOCAB HIDDEN REPEAT: a tiny-llama with those sizes
  sed -e "s/vocab_size: 96/vocab_size: $2/" -e "s/output_dim: 96/output_dim: $2/" \
      -e "s/hidden_dim: 32/hidden_dim: $3/g" -e "s/input_dim: 32/input_dim: $3/" -e "s/repeat: 2/repeat: $4/" \
      specs/tiny-llama.yaml > "$tmp/$1.yaml"
}

# --- specs: sizes past the table of limits, each with its line:col and the reason ---
spec hidden 96 1000000000 2
limited "hidden 10^9" -- "$TTC" compile "$tmp/hidden.yaml" -o "$tmp/x.plan"
contains "hidden 10^9" "hidden.yaml:8:26: error: layer 'embedding': hidden_dim must be at most 131072, got 1000000000"
contains "hidden 10^9 hint" "hint: ttc accepts hidden_dim up to 131072"
absent "hidden 10^9 writes no plan" "$tmp/x.plan"
spec repeat 96 32 10000000
limited "repeat 10^7" -- "$TTC" compile "$tmp/repeat.yaml" -o "$tmp/x.plan"
contains "repeat 10^7" "repeat.yaml:10:13: error: layer 'layer_{i}': repeat must be at most 16384, got 10000000"
spec vocab 1099511627776 32 2
limited "vocab 2^40" -- "$TTC" compile "$tmp/vocab.yaml" -o "$tmp/x.plan"
contains "vocab 2^40" "vocab_size must be at most 4194304, got 1099511627776"
# each size allowed, their products not: 4096 layers of a wide block
sed -e 's/hidden_dim: 32/hidden_dim: 131072/g' -e 's/ffn_dim: 48/ffn_dim: 1048576/' -e 's/repeat: 2/repeat: 4096/' \
    -e 's/input_dim: 32/input_dim: 131072/' specs/tiny-llama.yaml > "$tmp/wide.yaml"
limited "parameters past the table" -- "$TTC" compile "$tmp/wide.yaml" -o "$tmp/x.plan"
contains "parameters past the table" "parameters; ttc accepts at most 4398046511104"
# a sane model at absurd bounds
sed 's/max_sequence_length: 64/max_sequence_length: 16777216/' specs/tiny-llama.yaml > "$tmp/long.yaml"
limited "absurd --batch/--seq" -- "$TTC" compile "$tmp/long.yaml" --batch 65536 --seq 16777216 --max-seq 16777216 -o "$tmp/x.plan"
contains "absurd --batch/--seq" "the attention scores [batch, heads, seq, context] at batch 65536, seq 16777216"
contains "absurd --batch/--seq hint" "a smaller --batch, --seq or --max-seq"

# --- compiling never allocates weights: an 8B spec compiles inside the same 2 GB (on n300,
# where it fits DRAM: on one n150 it is refused as not fitting) ---
out=$( (ulimit -v 2000000; "$TTC" compile specs/llama-3.1-8b.yaml --hw specs/hw/wormhole_n300.yaml --seq 128 --max-seq 2048 -o "$tmp/l8.plan") 2>&1 )
if [ $? -eq 0 ]; then ok; else fail "8B compiles under ulimit -v"; echo "$out" | head; fi
# ... and running it says what it needs instead of being killed part way through the load
limited "8B does not fit 2 GB" -- "$TTC" run "$tmp/l8.plan" --random-weights 1 --input-ids 1,2,3
contains "8B does not fit 2 GB" "model 'llama-3.1-8b': its weights, KV cache and activations need at least"
contains "8B names the limit" "(ulimit -v)"
contains "8B hint" "--seq/--max-seq/--batch"

# --- plans: a 2^62-byte arena with a valid checksum reaches the memory check; a cut file ---
expect 0 "compile tiny-llama" -- "$TTC" compile specs/tiny-llama.yaml --batch 2 -o "$tmp/t.plan"
python3 - "$tmp/t.plan" "$tmp/arena.plan" <<'EOF'
import struct, sys, zlib
b = bytearray(open(sys.argv[1], 'rb').read())
pos = 16                                   # magic, version, chunk count
while b[pos:pos + 4] != b'META':
    pos += 8 + struct.unpack_from('<I', b, pos + 4)[0]
at = pos + 8
at += 4 + struct.unpack_from('<I', b, at)[0]   # model_name
at += 4                                        # model_type
at += 4 + struct.unpack_from('<I', b, at)[0]   # device
at += 8 * 4                                    # vocab_size, max_batch, max_seq, max_ctx
struct.pack_into('<q', b, at, 1 << 62)         # arena_bytes
struct.pack_into('<I', b, len(b) - 4, zlib.crc32(bytes(b[:-4])) & 0xffffffff)
open(sys.argv[2], 'wb').write(b)
EOF
limited "2^62-byte arena" -- "$TTC" run "$tmp/arena.plan" --random-weights 1 --input-ids 1,2,3
contains "2^62-byte arena" "need at least 4.0 EiB (46116860184274"
head -c 1000 "$tmp/t.plan" > "$tmp/cut.plan"
limited "cut plan" -- "$TTC" run "$tmp/cut.plan" --random-weights 1 --input-ids 1,2,3
contains "cut plan" "cut.plan: truncated: 1000 of "
lacks "cut plan is not 'corrupted'" "checksum mismatch"

# --- safetensors and .npy headers that claim 2^40 elements ---
python3 - "$tmp" <<'EOF'
import json, struct, sys
d = sys.argv[1]
hdr = json.dumps({"model.embed_tokens.weight": {"dtype": "F32", "shape": [1 << 20, 1 << 20],
                                                "data_offsets": [0, 16]}}).encode()
open(d + '/huge.safetensors', 'wb').write(struct.pack('<Q', len(hdr)) + hdr + bytes(16))
def npy(name, descr, shape, data):
    h = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    h = h.ljust(118) + '\n'
    open(d + '/' + name, 'wb').write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(h)) + h.encode() + data)
npy('huge.npy', '<i8', '(1048576, 1048576)', bytes(64))
npy('u8.npy', '|u1', '(1, 3)', bytes([1, 2, 200]))
npy('i2.npy', '<i2', '(3,)', struct.pack('<3h', 5, -1, 7))
npy('f4.npy', '<f4', '(3,)', struct.pack('<3f', 1, 2, 3))
npy('ok.npy', '<u2', '(2, 2)', struct.pack('<4H', 1, 2, 3, 95))
EOF
limited "safetensors 2^40 elements" -- "$TTC" run "$tmp/t.plan" --weights "$tmp/huge.safetensors" --input-ids 1,2,3
contains "safetensors 2^40 elements" "F32 shape [1048576, 1048576] needs 4398046511104 bytes but data_offsets [0, 16] span 16"
limited "npy 2^40 elements" -- "$TTC" run "$tmp/t.plan" --random-weights 1 --input-ids "$tmp/huge.npy"
contains "npy 2^40 elements" "is truncated: shape (1048576, 1048576) of '<i8' needs 8796093022208 data bytes, the file has 64"

# --- ids of any integer dtype, range-checked against the plan (vocab_size 96) ---
expect 0 "uint16 ids" -- "$TTC" run "$tmp/t.plan" --random-weights 1 --input-ids "$tmp/ok.npy"
contains "uint16 ids" "logits  [2, 2, 96]"
expect 1 "uint8 id past the vocabulary" -- "$TTC" run "$tmp/t.plan" --random-weights 1 --input-ids "$tmp/u8.npy"
contains "uint8 id past the vocabulary" "u8.npy': token id 200 at [0, 2] is outside the vocabulary [0, 96)"
expect 1 "negative int16 id" -- "$TTC" run "$tmp/t.plan" --random-weights 1 --input-ids "$tmp/i2.npy"
contains "negative int16 id" "token id -1 at [0, 1] is negative; the vocabulary starts at 0"
expect 1 "float ids" -- "$TTC" run "$tmp/t.plan" --random-weights 1 --input-ids "$tmp/f4.npy"
contains "float ids" "ids must be integers: save with np.save(path, ids.astype(np.int64))"
expect 1 "literal id past the vocabulary" -- "$TTC" run "$tmp/t.plan" --random-weights 1 --input-ids 1,96,2
contains "literal id past the vocabulary" "--input-ids: token id 96 at [0, 1] is outside the vocabulary [0, 96)"
expect 1 "prompt id past the vocabulary" -- "$TTC" generate "$tmp/t.plan" --random-weights 1 --prompt-ids "$tmp/u8.npy" --max-new-tokens 2
contains "prompt id past the vocabulary" "--prompt-ids '$tmp/u8.npy': token id 200 at [0, 2]"

summary
