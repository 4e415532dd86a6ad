# Panama AlexNet. `make run` and `make test` are all a fresh machine needs.
SHELL := /bin/bash
JAVA_HOME := $(shell bin/find-jdk)
ifeq ($(JAVA_HOME),)
$(error No JDK 25+ found: set JAVA_HOME to a JDK 25 or newer (Temurin 25 lives at /usr/lib/jvm/temurin-25-jdk-amd64))
endif
export JAVA_HOME
MVN := mvn -B -q -Dstyle.color=never
JAR := bench/target/alexnet-bench-0.1.0-SNAPSHOT.jar
SOURCES := $(shell find kernels native-bindings model bench -name '*.java' -o -name 'pom.xml' -o -path '*/resources/*' -type f 2>/dev/null) pom.xml

.PHONY: all build install run train test examples docs check-generated test-gpu fuzz soak bench bench-full golden mutation gpu-bundle clean

all: build

# The jars plus bench/target/lib (every runtime dependency): what bin/alexnet runs.
build: $(JAR)
$(JAR): $(SOURCES)
	$(MVN) -DskipTests install
	@touch $(JAR)

# The library's jars (and the tool's) into the local Maven repository, for projects that depend on them
# (README, "Use it as a library"); `make build` does the same.
install:
	$(MVN) -DskipTests install

# The demo: seeded paper weights, the shipped image, top-5 and a per-layer time table.
run: build
	bin/alexnet classify --timing

test: check-generated
	$(MVN) install
	$(MAKE) --no-print-directory examples

# examples/ is a project of its own that depends on the installed jars by their coordinates: building and
# running every example catches a change that breaks the public API. Needs `make install` (or `make test`) first.
examples:
	cd examples && $(MVN) -o package
	examples/run

# Javadoc of the public API into target/apidocs. Doclint is on (all but missing comments), and any warning
# fails the target, except javadoc's notice that the Vector API is an incubating module.
API_PACKAGES := dev.alexnet.tensor dev.alexnet.device dev.alexnet.device.java dev.alexnet.kernels dev.alexnet.model dev.alexnet.model.io \
    dev.alexnet.train dev.alexnet.train.data dev.alexnet.nativ dev.alexnet.nativ.dnnl dev.alexnet.nativ.cuda
docs: build
	rm -rf target/apidocs && mkdir -p target
	$(JAVA_HOME)/bin/javadoc -quiet -Xdoclint:all,-missing --add-modules jdk.incubator.vector \
	    -d target/apidocs -sourcepath kernels/src/main/java:native-bindings/src/main/java:model/src/main/java \
	    -classpath "$$(ls bench/target/lib/*.jar | grep -v /alexnet- | tr '\n' ':')" \
	    -doctitle "alexnet-jvm: the public API" -windowtitle alexnet-jvm $(API_PACKAGES) > target/javadoc.log 2>&1 \
	    || { cat target/javadoc.log >&2; exit 1; }
	@if grep -v -e 'using incubating module' -e '^[0-9]* warnings\?$$' target/javadoc.log | grep -q -e 'warning' -e 'error'; then \
	    cat target/javadoc.log >&2; echo "docs: javadoc warned (above): fix the comments" >&2; exit 1; fi
	@echo "docs: target/apidocs/index.html"

# One epoch of Fashion-MNIST with the defaults (docs/TRAINING.md). Needs Debian's dataset-fashion-mnist.
RUN ?= runs/fashion-mnist-$(shell date +%Y%m%d-%H%M%S)
FASHION_MNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
train: build
	@test -f $(FASHION_MNIST) || { echo "Fashion-MNIST is missing: install it with 'apt-get install -y dataset-fashion-mnist' (as root)" >&2; exit 2; }
	bin/alexnet train --data fashion-mnist --epochs 1 --out $(RUN)

# The tile kernels are generated (tools/gen_*_tiles.py, standard library only): regenerate them into a
# temporary folder and fail on any difference, so that an edit to a generated file cannot go unnoticed.
# Without python3 the check is skipped with a message (the build and the tests need no Python).
GENERATED := ConvTiles:gen_conv_tiles.py LinearTiles:gen_linear_tiles.py GemmTiles:gen_gemm_tiles.py
check-generated:
	@if ! command -v python3 >/dev/null; then \
	    echo "check-generated: SKIPPED: python3 not found, so the generated tile kernels were not compared with their generators (the tests themselves need no Python)" >&2; \
	    exit 0; fi; \
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && status=0 && \
	for g in $(GENERATED); do \
	    cls=$${g%%:*}; gen=tools/$${g#*:}; file=kernels/src/main/java/dev/alexnet/kernels/vec/$$cls.java; \
	    python3 $$gen > "$$tmp/$$cls.java" || { echo "check-generated: $$gen failed" >&2; exit 1; }; \
	    if ! cmp -s "$$tmp/$$cls.java" $$file; then \
	        echo "check-generated: $$file differs from what $$gen generates (edit the generator, then: python3 $$gen > $$file)" >&2; \
	        diff -u $$file "$$tmp/$$cls.java" | head -20 >&2; status=1; \
	    fi; \
	done; exit $$status

# The file readers (safetensors, .npy, images, training data) under random mutations, FUZZ_SECONDS each;
# failing inputs land in tests/target/fuzz-findings. A 1 GB heap: a small file that needs more is a finding.
# `make test` replays the committed corpus only.
FUZZ_SECONDS ?= 60
fuzz:
	$(MVN) verify -pl tests -am -Dtest=FuzzLongTest -Dsurefire.failIfNoSpecifiedTests=false \
	    -Dalexnet.test.groups=fuzz -Dalexnet.test.excludedGroups=gpu,soak "-Dalexnet.test.extra=-Dalexnet.fuzz.seconds=$(FUZZ_SECONDS) -Xmx1g"

# 10,000 passes at batch 1 and 500 at batch 32 on java:2, dnnl:2 and two java:1 towers, times SOAK_SCALE:
# RSS within 1%, live native bytes (NMT) and oneDNN handles unchanged, logits bitwise the same. Fixed heap, so
# that heap growth does not count as a leak.
SOAK_SCALE ?= 1
soak:
	$(MVN) verify -pl tests -am -Dtest=SoakTest -Dsurefire.failIfNoSpecifiedTests=false \
	    -Dalexnet.test.groups=soak -Dalexnet.test.excludedGroups=gpu,fuzz \
	    "-Dalexnet.test.extra=-Dalexnet.soak.scale=$(SOAK_SCALE) -Xms1g -Xmx1g -XX:+AlwaysPreTouch -XX:NativeMemoryTracking=summary"

# GPU-tagged tests only, with Maven (on a CUDA host without Maven, use the gpu-bundle: docs/GPU.md).
test-gpu:
	$(MVN) install -Dalexnet.test.groups=gpu -Dalexnet.test.excludedGroups= -Dalexnet.test.extra=-Dalexnet.gpu=true

# Quick JMH profile (a few minutes); `make bench-full` is the documented full profile.
bench: build
	bin/jmh-quick

bench-full: build
	bin/jmh-full

# Regenerate the PyTorch golden files (needs Debian's python3-torch; the tests themselves never need Python).
golden:
	python3 tests/golden/make_golden.py tests/src/test/resources/golden

# Hand-rolled mutation check (tools/mutation/run.py): small faults in the kernels, devices, model and CLI, one at a
# time, each against the tests that should notice; prints killed/survived. Not part of `make test` (tens of minutes).
mutation:
	python3 tools/mutation/run.py .

clean:
	$(MVN) clean
	rm -rf dist gpu-bundle

# ---- gpu-bundle: a self-contained folder for a CUDA host without a JDK or Maven (docs/GPU.md).
# A jlink-ed runtime, the project's jars with their runtime dependencies except the large ones the GPU tests
# never load (oneDNN 28 MB, ONNX Runtime 52 MB, the plotting libraries), the test classes, JUnit's console
# launcher, and the scripts run-gpu-tests and run-cuda-bench. About 58 MB.
GPU_BUNDLE_EXCLUDED := dnnl,onnxruntime,xchart,pdfbox,pdfbox-io,fontbox,graphics2d,VectorGraphics2D,animated-gif-lib,commons-logging
GPU_BUNDLE_MODULES := java.base,java.logging,java.xml,java.management,jdk.management,jdk.unsupported,jdk.incubator.vector
JUNIT_CONSOLE := org.junit.platform:junit-platform-console-standalone:1.14.1

gpu-bundle:
	$(MVN) -DskipTests install
	rm -rf gpu-bundle
	mkdir -p gpu-bundle/lib gpu-bundle/junit
	$(JAVA_HOME)/bin/jlink --add-modules $(GPU_BUNDLE_MODULES) --compress=zip-9 --strip-debug --no-header-files \
	    --no-man-pages --output gpu-bundle/runtime
	$(MVN) -pl tests dependency:copy-dependencies -DincludeScope=runtime -DexcludeArtifactIds=$(GPU_BUNDLE_EXCLUDED) \
	    -DoutputDirectory=$(CURDIR)/gpu-bundle/lib
	$(MVN) dependency:copy -Dartifact=$(JUNIT_CONSOLE) -Dmdep.stripVersion=true -DoutputDirectory=$(CURDIR)/gpu-bundle/junit
	cp -r tests/target/test-classes gpu-bundle/test-classes
	@ls gpu-bundle/test-classes/dev/alexnet/nativ/cuda/*Test.class >/dev/null || \
	    { echo "gpu-bundle: no GPU test classes copied (was tests/target being rebuilt?): run make gpu-bundle again" >&2; exit 1; }
	cp native-bindings/src/bundle/cuda/run-gpu-tests native-bindings/src/bundle/cuda/run-cuda-bench \
	    native-bindings/src/bundle/cuda/torch_alexnet.py gpu-bundle/
	chmod +x gpu-bundle/run-gpu-tests gpu-bundle/run-cuda-bench
	@du -sh gpu-bundle
