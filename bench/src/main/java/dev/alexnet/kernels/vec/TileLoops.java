package dev.alexnet.kernels.vec;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The convolution tile kernels alone, for measuring their inner loops without the layer around them
 * (bench {@code TileLoopGflops}): one tile over {@code n} reduction steps, input rows contiguous (the
 * offset table is 0..n-1), operands allocated once and reused, so they stay in L1/L2. What a layer
 * loses beyond these figures is outside the loop (packing, tile prologues, cache misses).
 *
 * <p>Benchmark-only, so it lives in the bench jar, but in the kernels' package: the tile kernels are
 * package-private, and on the class path both jars share one class loader, hence one runtime package.
 */
public final class TileLoops implements AutoCloseable {
    /** The kernels this can run: table 6x4 and 4x6, panel 6x4, 5x4 and 4x6. */
    public static final String[] KERNELS = {"k6x4", "k4x6", "p6x4", "p5x4", "p4x6"};

    private final Arena arena = Arena.ofConfined();
    private final String kernel;
    private final int n;
    private final MemorySegment in, w, src, out;
    private final int[] pix = new int[8], spix = new int[8], opix = new int[8], xoff;
    private final ConvTiles.TileIo io = new ConvTiles.TileIo();

    public TileLoops(String kernel, int n) {
        if (!java.util.List.of(KERNELS).contains(kernel)) throw new IllegalArgumentException("kernel " + kernel + ": use one of " + String.join(", ", KERNELS));
        if (n < 1) throw new IllegalArgumentException("n must be positive");
        this.kernel = kernel;
        this.n = n;
        int L = ConvTiles.L;
        long rowBytes = ConvTiles.PS; // the panel kernels' row stride; the table kernels' rows the same
        if (n > ConvVec.KC) throw new IllegalArgumentException("n must be at most " + ConvVec.KC + " (a panel row)");
        in = arena.allocate(8 * rowBytes, 64);
        w = arena.allocate(n * 6L * L * 4, 64);
        src = arena.allocate(6L * L * 4, 64);
        out = arena.allocate(8 * 6L * L * 4, 64);
        xoff = new int[n];
        for (int j = 0; j < n; j++) xoff[j] = j;
        for (int i = 0; i < 8; i++) {
            pix[i] = (int) (i * rowBytes / 4);
            opix[i] = i * 6 * L;
        }
        io.src = src;
        io.srcPix = spix;
        io.out = out;
        io.outPix = opix;
        io.lastLanes = L;
    }

    /** Floating-point operations of one {@link #run}. */
    public double flops() {
        return 2.0 * (kernel.equals("p5x4") ? 20 : 24) * ConvTiles.L * n;
    }

    /** One tile over the n steps. */
    public void run() {
        switch (kernel) {
            case "k6x4" -> ConvTiles.k6x4(in, 0, pix, xoff, 0, n, w, 0, 0, io);
            case "k4x6" -> ConvTiles.k4x6(in, 0, pix, xoff, 0, n, w, 0, 0, io);
            case "p4x6" -> ConvTiles.p4x6(in, 0, n, w, 0, 0, io);
            case "p6x4" -> ConvTiles.p6x4(in, 0, n, w, 0, 0, io);
            default -> ConvTiles.p5x4(in, 0, n, w, 0, 0, io);
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
