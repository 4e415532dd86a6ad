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

.PHONY: all build run test test-gpu bench bench-full golden gpu-bundle clean

all: build

# The jars plus bench/target/lib (every runtime dependency): what bin/alexnet runs.
build: $(JAR)
$(JAR): $(SOURCES)
	$(MVN) -DskipTests install
	@touch $(JAR)

# The demo: seeded paper weights, the shipped image, top-5 and a per-layer time table.
run: build
	bin/alexnet classify --timing

test:
	$(MVN) install

# GPU-tagged tests only (on the lent GPU host, from the bundle: see README).
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

clean:
	$(MVN) clean
	rm -rf dist gpu-bundle
