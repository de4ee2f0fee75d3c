#!/bin/sh
# rebuild all parts from src/ (ids continue across files)
cd "$(dirname "$0")"
n=1
for s in src/part-*.txt; do
  p=$(basename "$s" .txt)
  out=$(python3 convert.py "$s" "$p.jsonl" $n) || exit 1
  n=$(echo "$out" | awk '{print $NF}')
done
python3 ../validate.py part-*.jsonl
