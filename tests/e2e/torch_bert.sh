#!/usr/bin/env bash
# torch_bert.sh: cross-check ttc's BERT encoder against a PyTorch float32 reference
# (tools/torch_bert_check.py) on specs/tiny-bert.yaml with specs/hw/reference.yaml.
#
# ctest sets TTC_SOURCE_DIR, TTC_BIN and TTC_TEST_TMP; by hand, from the repo root:
#     bash tests/e2e/torch_bert.sh
# Exit status: 0 pass, 1 fail, 77 skipped (Debian's python3-torch not installed).
source "$(dirname "${BASH_SOURCE[0]}")/lib/torch_check.bash" torch_bert torch_bert_check.py tiny-bert.yaml

self_test
cross_check
echo "torch_bert: PASS"
exit 0
