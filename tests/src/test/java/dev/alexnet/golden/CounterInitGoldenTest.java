package dev.alexnet.golden;

import com.fasterxml.jackson.databind.JsonNode;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.CounterInit;
import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** {@link CounterInit} and its numpy twin in make_golden.py produce the same bits. */
class CounterInitGoldenTest {

    @Test
    void javaValuesEqualNumpyBitForBit() {
        JsonNode counter = Golden.manifest().get("counter");
        try (Arena arena = Arena.ofConfined()) {
            Tensor check = Golden.read(counter.get("file").asText(), arena);
            JsonNode rows = counter.get("rows");
            assertEquals(rows.size(), check.dim(0), "rows in " + counter.get("file"));
            int cols = check.dim(1);
            for (int r = 0; r < rows.size(); r++) {
                int stream = rows.get(r).get("stream").asInt();
                long start = rows.get(r).get("start").asLong();
                float scale = (float) rows.get(r).get("scale").asDouble();
                for (int j = 0; j < cols; j++) {
                    float want = check.get((long) r * cols + j), got = CounterInit.value(stream, start + j, scale);
                    if (Float.floatToRawIntBits(got) != Float.floatToRawIntBits(want)) {
                        fail("stream " + stream + " element " + (start + j) + ": Java " + got + ", numpy " + want);
                    }
                }
            }
        }
    }

    @Test
    void fillMatchesValue() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(100 * Float.BYTES, 64);
            CounterInit.fill(seg, 100, 7, 0.125f);
            for (int i = 0; i < 100; i++) assertEquals(CounterInit.value(7, i, 0.125f), seg.getAtIndex(JAVA_FLOAT, i));
        }
    }

    @Test
    void scalesAndStreamsAgreeWithTheScript() {
        JsonNode counter = Golden.manifest().get("counter");
        JsonNode names = counter.get("param_names"), scales = counter.get("param_scales");
        assertEquals(AlexNetSpec.paramNames().size(), names.size());
        for (int i = 0; i < names.size(); i++) {
            assertEquals(AlexNetSpec.paramNames().get(i), names.get(i).asText(), "stream " + i + " is this parameter");
            assertEquals((float) scales.get(i).asDouble(), CounterInit.scale(i), "scale of " + names.get(i).asText());
        }
        assertEquals(counter.get("input_stream").asInt(), CounterInit.INPUT_STREAM);
        assertEquals((float) counter.get("input_scale").asDouble(), CounterInit.INPUT_SCALE);
    }

    @Test
    void valuesAreExactMultiplesInTheDocumentedRange() {
        // ((u >>> 8) * 2^-24 - 0.5) * scale: in [-scale/2, scale/2), a multiple of scale * 2^-24.
        for (int i = 0; i < 10_000; i++) {
            float v = CounterInit.value(3, i, 0.5f);
            assertTrue(v >= -0.25f && v < 0.25f, "value " + v);
            double m = v / (0.5 * 0x1p-24);
            assertEquals(Math.rint(m), m, 0, "not on the 2^-24 grid: " + v);
        }
    }
}
