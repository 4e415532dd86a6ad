package dev.alexnet.fuzz;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code make fuzz}: each reader for {@code alexnet.fuzz.seconds} seconds (FUZZ_SECONDS, default 60) of
 * random mutations. Inputs that fail land in tests/target/fuzz-findings with their stack traces; fix the
 * reader, then copy the input into tests/src/test/resources/fuzz/TARGET so {@code make test} replays it.
 */
@Tag("fuzz")
class FuzzLongTest {
    @TempDir Path work;

    @ParameterizedTest
    @EnumSource(FuzzTarget.class)
    void fuzzForTheSetTime(FuzzTarget target) throws IOException {
        long seconds = Long.getLong("alexnet.fuzz.seconds", 60);
        long seed = Long.getLong("alexnet.fuzz.seed", System.nanoTime());
        List<byte[]> pool = new ArrayList<>(target.seeds());
        pool.addAll(FuzzCorpusTest.corpus(target));
        Fuzzer f = new Fuzzer(target, pool, work);
        SplittableRandom r = new SplittableRandom(seed);
        Path findings = Path.of("target", "fuzz-findings");
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < end && f.findings.size() < 20) f.checkAndRecord(f.mutate(r), findings);
        System.out.printf("[fuzz] %s: %d inputs in %d s (seed %d), %d finding(s)%n", target, f.runs, seconds, seed, f.findings.size());
        f.findings.forEach(s -> System.out.println("[fuzz]   " + s));
        assertEquals(List.of(), f.findings, target + ": findings in target/fuzz-findings");
    }
}
