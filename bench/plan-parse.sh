#!/usr/bin/env bash
# Times `piimage check` (JVM start included) on generated plans of 256 KiB, 512 KiB and 1 MiB (the
# largest plan piimage reads) in three shapes, to show parsing grows linearly with the plan's size:
#   nodes   - thousands of worker entries (the plan is invalid: too many nodes for podSubnet; parsed whole)
#   line    - one comment line as long as the plan
#   flow    - one flow list of name servers ([a, b, ...])
# and a plan just over 1 MiB, which is refused unread. Medians from hyperfine.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
runs="${RUNS:-5}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
command -v hyperfine >/dev/null || { echo "bench: needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
"$root/piimage" --version >/dev/null   # build the jar if needed

base="$root/examples/makina.yaml"
make_plan() { # shape bytes file
  python3 - "$1" "$2" "$3" "$base" <<'PY'
import sys
shape, size, out, base = sys.argv[1], int(sys.argv[2]), sys.argv[3], open(sys.argv[4]).read()
if shape == "nodes":
    text, i = base, 0
    while len(text) < size - 200:
        text += f"  - name: w{i}\n    role: worker\n    address: 192.168.{3 + i // 250 % 250}.{1 + i % 250}\n"
        i += 1
elif shape == "line":
    text = base + "#" + "x" * (size - len(base) - 2) + "\n"
else:
    n = (size - len(base) - 40) // 9
    text = base.replace("# dns: [192.168.3.1]", "dns: [" + ", ".join(["8.8.8.8"] * n) + "]")
open(out, "w").write(text[:size] if shape == "line" else text)
PY
}

printf '| shape | 256 KiB | 512 KiB | 1 MiB |\n|---|---|---|---|\n'
for shape in nodes line flow; do
  row="| $shape |"
  for kib in 256 512 1024; do
    plan="$work/$shape-$kib.yaml"
    make_plan "$shape" $((kib * 1024 - 1)) "$plan"
    hyperfine -N -w 1 -r "$runs" -i --export-json "$work/r.json" "$root/piimage check $plan" >/dev/null 2>&1
    ms="$(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["results"][0]["median"]*1000))' "$work/r.json")"
    row="$row $ms ms |"
  done
  echo "$row"
done
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' '#' >"$work/over.yaml"
"$root/piimage" check "$work/over.yaml" | head -1 || true
