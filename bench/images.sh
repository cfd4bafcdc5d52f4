#!/usr/bin/env bash
# Benchmarks whole node images (`piimage bake --base-image`, JVM start included, the installed command
# as in bench/bake.sh) against the shell baseline a user would script: per node `cp --sparse=always
# base.img node.img` + `mcopy` of the three seed files onto the boot partition; and, like for like with
# the manifest piimage writes (every image's SHA-256), the same loop + `sha256sum` of each image. Base: a ~2 GiB mostly-empty Ubuntu-layout image (512 MiB FAT32
# system-boot + ext4 writable with a few files), built with sfdisk/mkfs.vfat/mkfs.ext4/mtools (no loops,
# no root). Also: a .img.xz base (decompressed once by the bake) against one `xz -d` alone.
# Needs: hyperfine xz-utils dosfstools mtools fdisk e2fsprogs. Medians from hyperfine; results in
# bench/results/images.json and a summary on stdout (the figures in the README come from it).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
runs="${RUNS:-3}"
nodes="${NODES:-8}"
work="$(mktemp -d "${TMPDIR:-/tmp}/piimage-bench-images.XXXXXX")"
trap 'rm -rf "$work"' EXIT
results="$root/bench/results"
mkdir -p "$results"
export MTOOLS_SKIP_CHECK=1 PATH="$PATH:/usr/sbin:/sbin"

for tool in hyperfine xz sfdisk mkfs.vfat mkfs.ext4 mcopy truncate; do
  command -v "$tool" >/dev/null || { echo "bench: needs $tool (apt-get install hyperfine xz-utils dosfstools mtools fdisk e2fsprogs)" >&2; exit 1; }
done
# shellcheck source=bench/installed.sh
source "$root/bench/installed.sh"

# --- the base image: 4 MiB gap, 512 MiB FAT32, ~1.5 GiB ext4 = 2 GiB
base="$work/base.img"
mib=$((1024 * 1024))
boot_start=$((4 * mib)); boot_len=$((512 * mib)); total=$((2048 * mib))
root_start=$((boot_start + boot_len)); root_len=$((total - root_start))
truncate -s "$total" "$base"
printf 'label: dos\nlabel-id: 0x1234abcd\nstart=%d, size=%d, type=c, bootable\nstart=%d, size=%d, type=83\n' \
  $((boot_start / 512)) $((boot_len / 512)) $((root_start / 512)) $((root_len / 512)) | sfdisk -q "$base"
mkfs.vfat -F 32 -n system-boot --offset=$((boot_start / 512)) "$base" $((boot_len / 1024)) >/dev/null
mkdir -p "$work/bootfs" "$work/rootfs/etc" "$work/rootfs/usr/lib"
head -c $((8 * mib)) /dev/urandom >"$work/bootfs/vmlinuz"
head -c $((30 * mib)) /dev/urandom >"$work/bootfs/initrd.img"
head -c $((1 * mib)) /dev/urandom >"$work/bootfs/start4.elf"
echo "console=serial0,115200 multipath=off dwc_otg.lpm_enable=0 console=tty1 root=LABEL=writable rootfstype=ext4 rootwait fixrtc quiet splash" >"$work/bootfs/cmdline.txt"
printf '[all]\nkernel=vmlinuz\ncmdline=cmdline.txt\n' >"$work/bootfs/config.txt"
printf '#cloud-config\n' >"$work/bootfs/user-data"; printf 'instance-id: x\n' >"$work/bootfs/meta-data"; printf 'version: 2\n' >"$work/bootfs/network-config"
mcopy -s -o -i "$base@@$boot_start" "$work"/bootfs/* ::/
echo ubuntu >"$work/rootfs/etc/hostname"
head -c $((100 * mib)) /dev/urandom >"$work/rootfs/usr/lib/blob"
mkfs.ext4 -q -F -L writable -E offset=$root_start -d "$work/rootfs" "$base" $((root_len / 1024))k
rm -rf "$work/bootfs" "$work/rootfs"

# --- a plan of N workers (plus one control plane among them) using ubuntu-24.04
key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEyhZ8i+YCd1XNBRAE4jd6SKKj1cZ2m39l0vbYL5qMYz bench@piimage"
{
  printf 'apiVersion: piimage/v1\ncluster: {name: bench, kubernetesVersion: "1.31"}\n'
  printf 'endpoint: {vip: 10.30.0.10, port: 6443, loadBalancer: vip-only}\nnetwork: {subnet: 10.30.0.0/24, gateway: 10.30.0.1}\n'
  printf 'os: {image: ubuntu-24.04, sshAuthorizedKeys: ["%s"]}\nnodes:\n' "$key"
  printf '  - {name: n1, role: control-plane, address: 10.30.0.11, model: pi4}\n'
  for i in $(seq 2 "$nodes"); do printf '  - {name: n%d, role: worker, address: 10.30.0.%d, model: pi4}\n' "$i" $((10 + i)); done
} >"$work/plan.yaml"
"$piimage" bake -q "$work/plan.yaml" -o "$work/seeds"   # secrets + the seed files the baseline copies
# The same cluster with its first node only: the bake's fixed cost (JVM start, plan, base scan) shows
# apart from the cost per image. Same secrets directory name: plan1.secrets is made once here.
head -n 7 "$work/plan.yaml" >"$work/plan1.yaml"
"$piimage" bake -q "$work/plan1.yaml" -o "$work/seeds1" 2>/dev/null

cat >"$work/baseline.sh" <<EOF
#!/bin/sh
set -e
mkdir -p "$work/out-baseline"
for i in \$(seq 1 $nodes); do
  cp --sparse=always "$base" "$work/out-baseline/n\$i.img"
  cd "$work/seeds/n\$i"
  mcopy -o -i "$work/out-baseline/n\$i.img@@$boot_start" user-data meta-data network-config ::/
  if [ "\${1:-}" = sums ]; then sha256sum "$work/out-baseline/n\$i.img" >/dev/null; fi
done
EOF
chmod +x "$work/baseline.sh"

xz -k -T0 -1 "$base"
echo "base: $(du -h --apparent-size "$base" | cut -f1) apparent, $(du -h "$base" | cut -f1) allocated; .xz $(du -h "$base.xz" | cut -f1)"

# Every run starts with no dirty pages: without the sync, a run paid for the writeback of the
# previous run's gigabytes at random (8-node bakes took 1.25-2.08 s, medians moved by 0.5 s).
hyperfine -N --style basic --warmup 1 --runs "$runs" --export-json "$results/images.json" \
  --prepare "sh -c 'rm -rf $work/out-bake $work/out-seeds $work/out-one $work/out-baseline $work/out-xz $work/dec.img; sync'" \
  -n "piimage bake --base-image base.img ($nodes nodes)" \
     "$piimage bake -q $work/plan.yaml -o $work/out-bake --base-image $base" \
  -n "piimage bake, seeds only ($nodes nodes, no images)" \
     "$piimage bake -q $work/plan.yaml -o $work/out-seeds" \
  -n "piimage bake --base-image base.img (1 node)" \
     "$piimage bake -q $work/plan1.yaml -o $work/out-one --base-image $base" \
  -n "baseline: cp --sparse=always + mcopy x$nodes" "$work/baseline.sh" \
  -n "baseline with the hashes: cp --sparse=always + mcopy + sha256sum x$nodes" "$work/baseline.sh sums" \
  -n "piimage bake --base-image base.img.xz ($nodes nodes)" \
     "$piimage bake -q $work/plan.yaml -o $work/out-xz --base-image $base.xz" \
  -n "xz -dc base.img.xz > file (once)" "sh -c 'xz -dc $base.xz > $work/dec.img'"

echo
"$root/bench/table.py" "$results/images.json"
echo
echo "machine: $(nproc) CPUs, $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$results/images.json" "$nodes" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
nodes = int(sys.argv[2])
for r in results:
    print(f"  {r['median']:7.2f} s median  (min {r['min']:.2f}, max {r['max']:.2f})  {r['command']}")
med = {r["command"]: r["median"] for r in results}
bake_n = next(v for k, v in med.items() if k.startswith("piimage bake --base-image base.img (") and "1 node" not in k)
bake_1 = next(v for k, v in med.items() if "(1 node)" in k)
base_n = next(v for k, v in med.items() if k.startswith("baseline:"))
sums_n = next(v for k, v in med.items() if k.startswith("baseline with the hashes"))
seeds_n = next(v for k, v in med.items() if "seeds only" in k)
# The baseline copies seed files a bake already made, so the like-for-like figure is what the images
# add to a bake of the same plan.
print(f"per image: piimage {(bake_n - seeds_n) / nodes * 1000:.0f} ms (bake with images minus the same bake"
      f" without, / {nodes}); baseline {base_n / nodes * 1000:.0f} ms (cp + mcopy),"
      f" {sums_n / nodes * 1000:.0f} ms with sha256sum (what the same manifest costs in shell)")
print(f"  also: {(bake_n - bake_1) / (nodes - 1) * 1000:.0f} ms per extra image from the medians of {nodes} and 1 node;"
      f" whole bake / {nodes} = {bake_n / nodes * 1000:.0f} ms")
PY
