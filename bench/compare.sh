#!/usr/bin/env bash
# Compare the benchmarks of two revisions: each in a clone of its own with its own virtualenv, run
# alternately (before, after, before, after) so that a busy moment of the machine falls on both.
# Usage: bench/compare.sh BEFORE [AFTER] [OUT]   (AFTER defaults to HEAD; figures are printed, never judged)
set -euo pipefail
before=${1:?usage: bench/compare.sh BEFORE [AFTER] [OUT]}
after=${2:-HEAD}
repo=$(git rev-parse --show-toplevel)
out=${3:-$(mktemp -d)}
for side in before after; do
  rev=$before; [ "$side" = after ] && rev=$after
  git clone -q "$repo" "$out/$side"
  git -C "$out/$side" checkout -q "$(git -C "$repo" rev-parse "$rev")"
  make -C "$out/$side" setup >/dev/null
done
for round in 1 2; do
  for side in before after; do
    cd "$out/$side"
    {
      echo "== $side round $round extract"; .venv/bin/python bench/extract.py --contacts 30000
      echo "== $side round $round plan"; .venv/bin/python bench/plan.py --people 200000 --members 200000 --repeat 3
      echo "== $side round $round apply"; .venv/bin/python bench/apply.py --changes 20000 --kills 0
      echo "== $side round $round webhooks"; .venv/bin/python bench/webhooks.py --seconds 5
    } >>"$out/$side.txt" 2>&1
  done
done
grep -hE "^== |end to end|plan \(median|diff \(median|apply [0-9.]+ s wall|jobs [0-9]+, polls|events/s" \
  "$out/before.txt" "$out/after.txt"
echo "full output: $out/before.txt $out/after.txt"
