package dev.alexnet.model;

import dev.alexnet.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Shapes whose element or byte count overflows a long are refused by name, never wrapped into a small allocation. */
class TensorShapeOverflowTest {
    @Test
    void overflowingShapesAreRefused() {
        int big = Integer.MAX_VALUE;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment small = arena.allocate(16, 64);
            // (2^31-1)^2 elements fit a long, their bytes do not; 4 * 2^30 * 2^30 * 4 elements wrap to 0
            for (int[] shape : new int[][] {{big, big}, {big, big, big}, {4, 1 << 30, 1 << 30, 4}, {1 << 16, 1 << 16, 1 << 16, 1 << 16}}) {
                IllegalArgumentException a = assertThrows(IllegalArgumentException.class, () -> Tensor.allocate(arena, shape));
                assertTrue(a.getMessage().contains("more elements than a tensor can hold"), a.getMessage());
                IllegalArgumentException w = assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(small, shape));
                assertTrue(w.getMessage().contains("more elements than a tensor can hold"), w.getMessage());
            }
            // the largest shapes that fit are still accepted as shapes (wrap checks the size, nothing is allocated)
            IllegalArgumentException sized = assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(small, big, big / 4));
            assertTrue(sized.getMessage().contains("cannot hold shape"), sized.getMessage());
            assertEquals(4, Tensor.wrap(small, 2, 2).size());
        }
    }
}
