#!/usr/bin/env bash
# What C2 made of the tile kernels in each of N fresh JVMs running the same workload: per JVM, the kernel
# figures the workload prints, then each compiled kernel's innermost FMA loops (FMAs / zmm moves to and
# from the stack / instructions, from tools/jit_loops.py). A kernel whose loop differs between JVMs (say
# 49 instructions and no stack moves in most, 61 with 6 stack moves in some) runs at different speeds in
# different JVMs for their whole life: bench/RESULTS.md, "Direct 3x3 loops".
#
#   tools/jit_census.sh N 'Class::method,...' [java flags ...] -- [KernelGflops arguments ...]
#   tools/jit_census.sh 6 'ConvTiles::p5x4,ConvTiles::p6x4' -XX:-TieredCompilation -- batches=32 threads=1 what=conv layers=conv3,conv5 reps=5
#
# Classes are in dev.alexnet.kernels.vec. Needs a build (make build) and objdump (binutils).
set -euo pipefail
cd "$(dirname "$0")/.."
n=$1 methods=$2
shift 2
flags=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do flags+=("$1"); shift; done
[ $# -gt 0 ] && shift
prints=(-XX:+UnlockDiagnosticVMOptions -XX:CompileCommand=quiet)
IFS=',' read -ra ms <<< "$methods"
for m in "${ms[@]}"; do prints+=("-XX:CompileCommand=print,dev.alexnet.kernels.vec.$m"); done
java="$(bin/find-jdk)/bin/java"
cp="bench/target/alexnet-bench-0.1.0-SNAPSHOT.jar:bench/target/lib/*"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for i in $(seq 1 "$n"); do
  "$java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED ${flags[@]+"${flags[@]}"} "${prints[@]}" \
      -cp "$cp" dev.alexnet.bench.kernels.KernelGflops "$@" > "$work/dump.txt" 2>&1
  grep -E "GFLOP/s|images/s|GB/s" "$work/dump.txt" | grep -v "^ " | sed "s/^/[$i] /" || true
  # one line per compiled method (OSR compilations, marked %, left out)
  python3 tools/jit_loops.py "$work/dump.txt" "$work/loops" | paste - - | grep -v ' % ' | grep '^nm' \
      | sed -E "s/^nm[0-9]+: +[0-9]+ +[0-9]+ +//; s/dev\.alexnet\.kernels\.vec\.//; s/\t +/  /" | sed "s/^/[$i] /" || true
  rm -rf "$work/loops" "$work/dump.txt"
done
