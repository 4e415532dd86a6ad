package dev.alexnet.kernels.vec;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Child-JVM side of {@link KernelC1Test}: loads the kernels as the library does ({@link Preload}), then calls
 * every register-tile kernel {@code args[0]} times, so that with low compile thresholds the JIT logs
 * which compiler took each one. The
 * arguments are small and in range (every offset and stride a few hundred bytes into one zeroed buffer);
 * what is computed does not matter here, only that each kernel runs. Prints {@code CALLED Class::method}
 * per kernel.
 */
public final class KernelC1Child {
    /** The tile kernels: generated (ConvTiles, LinearTiles, GemmTiles) or hand-written (WinogradVec, Reorders). */
    static final List<Class<?>> TILE_CLASSES = List.of(ConvTiles.class, LinearTiles.class, GemmTiles.class);

    public static void main(String[] args) throws Exception {
        int calls = Integer.parseInt(args[0]);
        Preload.classes(); // what loading any kernel entry point does first (it installs JitDirectives)
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(16 << 20, 64);
            ConvTiles.TileIo io = new ConvTiles.TileIo();
            io.src = io.out = buf;
            io.srcPix = io.outPix = new int[64];
            io.lastLanes = ConvTiles.L - 1;
            for (Method m : kernels()) {
                m.setAccessible(true);
                Class<?>[] ps = m.getParameterTypes();
                Object[] a = new Object[ps.length];
                for (int i = 0; i < ps.length; i++) a[i] = arg(ps[i], buf, io);
                for (int i = 0; i < calls; i++) m.invoke(null, a);
                called(m);
            }
            // WinogradVec.k6x4 reads absolute addresses: panels, partial sums and outputs inside buf, rows 256 bytes apart
            Method w = WinogradVec.class.getDeclaredMethod("k6x4", long.class, long.class, int.class, long.class, long.class, long.class, long.class, long.class);
            w.setAccessible(true);
            long base = buf.address();
            for (int i = 0; i < calls; i++) w.invoke(null, base, 256L, 2, base + (1 << 20), base + (2 << 20), 256L, base + (3 << 20), 256L);
            called(w);
            for (int i = 0; i < calls; i++) Reorders.tile(buf, 0, 256, 3, 5, buf, 1 << 20, 256, 5, 3);
            System.out.println("CALLED dev.alexnet.kernels.vec.Reorders::tile");
        }
    }

    /** The static methods named like a tile ({@code k6x4}, {@code p5x4}, {@code g1x2}) of {@link #TILE_CLASSES}. */
    static List<Method> kernels() {
        List<Method> ms = new ArrayList<>();
        for (Class<?> c : TILE_CLASSES) {
            for (Method m : c.getDeclaredMethods()) {
                if (Modifier.isStatic(m.getModifiers()) && m.getName().matches("[kpg]\\d+x\\d+")) ms.add(m);
            }
        }
        ms.sort(Comparator.comparing(m -> m.getDeclaringClass().getName() + "::" + m.getName()));
        return ms;
    }

    private static void called(Method m) {
        System.out.println("CALLED " + m.getDeclaringClass().getName() + "::" + m.getName());
    }

    private static Object arg(Class<?> t, MemorySegment buf, ConvTiles.TileIo io) {
        if (t == MemorySegment.class) return buf;
        if (t == long.class) return 256L;           // offsets and strides
        if (t == int.class) return 2;               // steps, rows, first table row
        if (t == float.class) return 0f;
        if (t == boolean.class) return true;
        if (t == int[].class) return new int[64];   // pixel and step tables: all zero, in range
        if (t == ConvTiles.TileIo.class) return io;
        throw new IllegalArgumentException("no test argument for a kernel parameter of type " + t);
    }
}
