#!/usr/bin/python3
"""Hand-rolled mutation check: applies each small source fault below to a copy of one file, compiles that file
alone over the built tree, runs the tests that should notice, and counts the faults killed (a test failed) and
survived (every test passed). The sources are never modified: the mutated class goes first on the class path.

Usage: python3 tools/mutation/run.py [--no-build] [--no-baseline] [--only ID,ID] [TREE]      (also `make mutation`)
TREE (default .) is a checkout of this project; it is built with `mvn -o test-compile` first unless --no-build, and
its tests must pass unmutated first (--no-baseline skips that check).
Standard library only; needs the JDK (bin/find-jdk) and Maven offline with the project's dependencies.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

K = "kernels/src/main/java/dev/alexnet/"
M = "model/src/main/java/dev/alexnet/model/"
T = "dev.alexnet."

# (id, file, exact text, replacement, what the fault is, test classes that should notice)
MUTANTS = [
    ("pool-split", K + "kernels/vec/NchwPoolLrn.java",
     "poolUnits(out, in, s, rows[member], ThreadTeam.from(units, member, members), ThreadTeam.from(units, member + 1, members));",
     "poolUnits(out, in, s, rows[member], ThreadTeam.from(units, member, members), ThreadTeam.from(units, member + 1, members) - (member > 0 ? 1 : 0));",
     "NCHW pooling: members after the first skip their last unit",
     [T + "kernels.vec.MemoryBoundVecTest", T + "kernels.vec.LayerVecTest", T + "device.java.VectorProgramThreadsTest"]),
    ("lrn-split", K + "kernels/vec/NchwPoolLrn.java",
     "lrnUnits(out, in, s, ThreadTeam.from(units, member, members), ThreadTeam.from(units, member + 1, members));",
     "lrnUnits(out, in, s, ThreadTeam.from(units, member, members), ThreadTeam.from(units, member + 1, members) - (member > 0 ? 1 : 0));",
     "NCHW LRN: members after the first skip their last unit",
     [T + "kernels.vec.MemoryBoundVecTest", T + "kernels.vec.LayerVecTest", T + "device.java.VectorProgramThreadsTest"]),
    ("linear-split", K + "kernels/vec/LinearVec.java",
     "forwardUnits(out, in, ThreadTeam.from(panels, member, members), ThreadTeam.from(panels, member + 1, members));",
     "forwardUnits(out, in, ThreadTeam.from(panels, member, members), ThreadTeam.from(panels, member + 1, members) - (member > 0 ? 1 : 0));",
     "linear layer: members after the first skip their last panel",
     [T + "kernels.vec.LayerVecTest", T + "device.java.VectorProgramThreadsTest"]),
    ("softmax-split", K + "device/java/VectorPrograms.java",
     "SoftmaxVec.forward(out, in, cols, ThreadTeam.from(batch, m, ms), ThreadTeam.from(batch, m + 1, ms));",
     "SoftmaxVec.forward(out, in, cols, ThreadTeam.from(batch, m, ms), ThreadTeam.from(batch, m + 1, ms) - (m > 0 ? 1 : 0));",
     "softmax program: members after the first skip their last row",
     [T + "kernels.vec.ChainVecTest", T + "device.java.VectorProgramThreadsTest"]),
    ("agreement-bound", K + "kernels/Agreement.java",
     "return nonFinite == 0 && maxRel <= bound && !Double.isNaN(maxRel);",
     "return nonFinite == 0 && maxRel <= 10 * bound && !Double.isNaN(maxRel);",
     "agreement passes at ten times its bound",
     [T + "bench.CompareRunnerTest", T + "bench.CompareOutputTest"]),
    ("conv-ref-float", K + "kernels/ref/ConvRef.java",
     "double acc = bias == null ? 0 : bias.getAtIndex(JAVA_FLOAT, k);",
     "float acc = bias == null ? 0 : bias.getAtIndex(JAVA_FLOAT, k);",
     "the conv oracle accumulates in float",
     [T + "golden.KernelGoldenTest", T + "foundation.HandWorkedKernelTest"]),
    ("linear-ref-float", K + "kernels/ref/LinearRef.java",
     "double acc = bias == null ? 0 : bias.getAtIndex(JAVA_FLOAT, o);",
     "float acc = bias == null ? 0 : bias.getAtIndex(JAVA_FLOAT, o);",
     "the linear oracle accumulates in float",
     [T + "golden.KernelGoldenTest", T + "foundation.HandWorkedKernelTest"]),
    ("dropout-at-inference", K + "device/Device.java",
     "List<Layer> out = layers.stream().filter(l -> !(l.spec() instanceof LayerSpec.Dropout)).toList();",
     "List<Layer> out = layers.stream().filter(l -> !(l.spec() instanceof LayerSpec.Dropout) || l.spec().name().equals(\"drop6\")).toList();",
     "inference programs keep drop6",
     [T + "foundation.DropoutTest", T + "foundation.AlexNetLayersTest"]),
    ("crop-offset", M + "Images.java",
     "long x0 = (sw - size) / 2, y0 = (sh - size) / 2;",
     "long x0 = (sw - size) / 2 + 1, y0 = (sh - size) / 2;",
     "preprocessing crops one pixel right of centre",
     [T + "model.ImagesTest", T + "golden.PreprocessGoldenTest"]),
    ("mean-green", M + "Images.java",
     "((rgb >> 8) & 0xff) - MEAN_RGB[1]",
     "((rgb >> 8) & 0xff) - MEAN_RGB[2]",
     "preprocessing subtracts the blue mean from green",
     [T + "model.ImagesTest", T + "golden.PreprocessGoldenTest"]),
    ("init-std", M + "AlexNetWeights.java",
     "(float) (0.01 * rng.nextGaussian())",
     "(float) (0.011 * rng.nextGaussian())",
     "paper init with standard deviation 0.011",
     [T + "model.NetworkPrepareTest", T + "model.InitAndClassNamesTest"]),
    ("init-bias", M + "AlexNetWeights.java",
     "boolean one = !(name.equals(\"conv1.bias\") || name.equals(\"conv3.bias\"));",
     "boolean one = !(name.equals(\"conv1.bias\"));",
     "paper init sets conv3's biases to 1",
     [T + "model.NetworkPrepareTest", T + "model.InitAndClassNamesTest"]),
    ("classify-order", M + "cli/ClassifyCommand.java",
     ".sorted(Comparator.comparingDouble(c -> -prob.get((long) img * classes + c)))",
     ".sorted(Comparator.comparingDouble(c -> prob.get((long) img * classes + c)))",
     "classify lists the least likely classes",
     [T + "cli.CliOutputTest", T + "cli.CliSmallInputsTest", T + "cli.CliEndToEndTest"]),
    ("lrn-grouping", K + "device/AlexNetLayers.java",
     "int lrnGroups = split == 1 && lrnPerTower ? 2 : 1;",
     "int lrnGroups = 1;",
     "the one-device network normalises across all channels even per tower",
     [T + "golden.NetworkGoldenTest"]),
]

JVM_FLAGS = ["--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-XX:-TieredCompilation",
             "-Xss4m", "-Djava.awt.headless=true"]
MODULES = {"alexnet-kernels": "kernels", "alexnet-native-bindings": "native-bindings", "alexnet-model": "model",
           "alexnet-bench": "bench"}


def sh(cmd, cwd, **kw):
    return subprocess.run(cmd, cwd=cwd, text=True, capture_output=True, **kw)


def classpath(tree, tmp, env):
    out = os.path.join(tmp, "cp.txt")
    r = sh(["mvn", "-B", "-q", "-o", "dependency:build-classpath", "-pl", "tests", "-Dmdep.outputFile=" + out,
            "-Dmdep.includeScope=test"], tree, env=env)
    if r.returncode != 0:
        sys.exit("mvn dependency:build-classpath failed:\n" + r.stdout + r.stderr)
    cp = []
    engine = None
    for e in open(out).read().strip().split(":"):
        m = re.search(r"/dev/alexnet/(alexnet-[a-z-]+)/", e)
        if m and m.group(1) in MODULES:
            e = os.path.join(tree, MODULES[m.group(1)], "target", "classes")  # this tree's classes, not a stale jar
        if "junit-platform-engine" in e:
            engine = e
        cp.append(e)
    launcher = engine.replace("junit-platform-engine", "junit-platform-launcher")
    if not os.path.exists(launcher):
        sys.exit("junit-platform-launcher not in the local repository: " + launcher)
    return [os.path.join(tree, "tests", "target", "test-classes")] + cp + [launcher]


def main():
    args = sys.argv[1:]
    build = "--no-build" not in args
    baseline = "--no-baseline" not in args
    only = None
    rest = []
    i = 0
    while i < len(args):
        if args[i] == "--only":
            only = set(args[i + 1].split(","))
            i += 2
            continue
        if args[i] not in ("--no-build", "--no-baseline"):
            rest.append(args[i])
        i += 1
    tree = os.path.abspath(rest[0] if rest else ".")
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ)
    jdk = sh([os.path.join(here, "..", "..", "bin", "find-jdk")], tree).stdout.strip()
    if jdk:
        env["JAVA_HOME"] = jdk
    java, javac = (os.path.join(env["JAVA_HOME"], "bin", x) for x in ("java", "javac"))
    if build:
        r = sh(["mvn", "-B", "-q", "-o", "test-compile", "-pl", "tests", "-am"], tree, env=env)
        if r.returncode != 0:
            sys.exit("build failed:\n" + r.stdout[-3000:] + r.stderr[-3000:])
    mutants = [m for m in MUTANTS if only is None or m[0] in only]
    with tempfile.TemporaryDirectory(prefix="alexnet-mutation-") as tmp:
        cp = classpath(tree, tmp, env)
        tool = os.path.join(tmp, "tool")
        r = sh([javac, "-d", tool, "-cp", ":".join(cp), os.path.join(here, "MutationLauncher.java")], tree, env=env)
        if r.returncode != 0:
            sys.exit("MutationLauncher did not compile:\n" + r.stderr)
        if baseline:  # the unmutated tree must pass, or a "killed" means nothing
            tests = sorted({t for m in mutants for t in m[5]})
            r = sh([java] + JVM_FLAGS + ["-cp", ":".join([tool] + cp), "MutationLauncher"] + tests, tree, env=env)
            if r.returncode not in (0, 3):
                sys.exit("the unmutated tree fails its tests:\n" + r.stdout[-3000:])
            print("baseline: " + "; ".join(l for l in r.stdout.splitlines() if l.startswith("tests ")), flush=True)
        results = []
        for n, (mid, path, old, new, what, tests) in enumerate(mutants):
            src = open(os.path.join(tree, path)).read()
            if src.count(old) != 1:
                results.append((mid, "NOT-APPLIED", 0, what, "text found %d times in %s" % (src.count(old), path)))
                continue
            d = os.path.join(tmp, "m%d" % n)
            os.makedirs(os.path.join(d, "src"))
            os.makedirs(os.path.join(d, "classes"))
            f = os.path.join(d, "src", os.path.basename(path))
            open(f, "w").write(src.replace(old, new))
            r = sh([javac, "-nowarn", "-proc:none", "--add-modules", "jdk.incubator.vector", "-d", os.path.join(d, "classes"),
                    "-cp", ":".join(cp), f], tree, env=env)
            if r.returncode != 0:
                results.append((mid, "NOT-COMPILED", 0, what, r.stderr.strip().splitlines()[0]))
                continue
            t0 = time.time()
            try:
                r = sh([java] + JVM_FLAGS + ["-cp", ":".join([os.path.join(d, "classes"), tool] + cp), "MutationLauncher"] + tests,
                       tree, env=env, timeout=1200)
                code, out = r.returncode, r.stdout
            except subprocess.TimeoutExpired:
                code, out = 1, "timed out (counted as killed)"
            status = {0: "SURVIVED", 3: "NO-TESTS"}.get(code, "KILLED")
            detail = "; ".join(l.strip() for l in out.splitlines() if l.startswith(("tests ", "  FAILED", "not in")))[:300]
            results.append((mid, status, time.time() - t0, what, detail))
            print("%-22s %-9s %5.0fs  %s | %s" % results[-1], flush=True)
        killed = sum(1 for r in results if r[1] == "KILLED")
        survived = sum(1 for r in results if r[1] == "SURVIVED")
        print("\n%s: %d mutants, %d killed, %d survived, %d not run" % (tree, len(results), killed, survived,
                                                                        len(results) - killed - survived))
        for r in results:
            if r[1] not in ("KILLED", "SURVIVED"):
                print("  %s %s: %s" % (r[1], r[0], r[4]))


if __name__ == "__main__":
    main()
