package dev.alexnet.fuzz;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Regression mode of the fuzzer (part of {@code make test}, seconds): every file of the committed corpus
 * (tests/src/test/resources/fuzz/TARGET: the inputs that once failed, and hand-made edge cases), the valid
 * seeds, and a fixed set of 300 seeded mutations per reader must be read or refused cleanly.
 * {@code make fuzz} runs {@link FuzzLongTest} for longer.
 */
class FuzzCorpusTest {
    static final int REPLAYED_MUTATIONS = 300;

    @TempDir Path work;

    static List<byte[]> corpus(FuzzTarget t) throws IOException {
        List<byte[]> files = new ArrayList<>();
        URL dir = FuzzCorpusTest.class.getResource("/fuzz/" + t.dir());
        if (dir == null) return files;
        try (Stream<Path> s = Files.list(Path.of(dir.toURI()))) {
            for (Path p : s.sorted().toList()) files.add(Files.readAllBytes(p));
        } catch (URISyntaxException e) {
            throw new IOException(e);
        }
        return files;
    }

    @ParameterizedTest
    @EnumSource(FuzzTarget.class)
    void corpusSeedsAndSeededMutationsAreReadOrRefusedCleanly(FuzzTarget target) throws IOException {
        List<byte[]> seeds = target.seeds();
        List<byte[]> corpus = corpus(target);
        List<byte[]> pool = new ArrayList<>(seeds);
        pool.addAll(corpus);
        Fuzzer f = new Fuzzer(target, pool, work);
        for (byte[] seed : seeds) assertTrue(f.check(seed) == null && noThrow(target, seed), target + ": a valid seed is refused");
        for (byte[] c : corpus) f.checkAndRecord(c, null);
        SplittableRandom r = new SplittableRandom(20261201L + target.ordinal());
        for (int i = 0; i < REPLAYED_MUTATIONS; i++) f.checkAndRecord(f.mutate(r), null);
        assertEquals(List.of(), f.findings, target + ": inputs that were not read or refused cleanly");
    }

    /** The valid seeds are read without any exception (a reader that refused everything would pass the fuzzer). */
    private boolean noThrow(FuzzTarget target, byte[] seed) throws IOException {
        Path p = work.resolve("seed");
        Files.write(p, seed);
        target.read(p, work);
        return true;
    }
}
