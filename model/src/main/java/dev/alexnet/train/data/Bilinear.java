package dev.alexnet.train.data;

/**
 * Bilinear resampling with {@code align_corners=False} semantics, as {@code torch.nn.functional.interpolate(x,
 * size=(out, out), mode='bilinear', align_corners=False, antialias=False)}: output pixel {@code d} samples the
 * input at {@code s = (d + 0.5) * in / out - 0.5}, clamped below at 0; it blends input pixels {@code floor(s)} and
 * {@code min(floor(s) + 1, in - 1)} with weights {@code 1 - frac(s)} and {@code frac(s)}. No antialiasing filter is
 * applied when shrinking (as PyTorch with {@code antialias=False}).
 *
 * <p>An {@link Axis} holds the indices and weights of one axis once, so that a caller can sample any window of the
 * scaled image without scaling the whole of it. Instances are immutable and shared between threads.
 */
public final class Bilinear {
    private Bilinear() {}

    /** One axis of a resampling from {@code in} to {@code out} pixels: per output pixel its two inputs and weight. */
    public record Axis(int in, int out, int[] lo, int[] hi, float[] frac) {
        public static Axis of(int in, int out) {
            if (in <= 0 || out <= 0) throw new IllegalArgumentException("bilinear axis " + in + " -> " + out + ": sizes must be positive");
            int[] lo = new int[out], hi = new int[out];
            float[] frac = new float[out];
            double scale = (double) in / out;
            for (int d = 0; d < out; d++) {
                double s = Math.max(0.0, (d + 0.5) * scale - 0.5);
                int i0 = Math.min((int) s, in - 1);
                lo[d] = i0;
                hi[d] = Math.min(i0 + 1, in - 1);
                frac[d] = (float) (s - i0);
            }
            return new Axis(in, out, lo, hi, frac);
        }
    }

    /**
     * The value of the scaled image at output row {@code y}, column {@code x}, for a single-channel image of bytes
     * (row-major, {@code cols} per row, from {@code base}).
     */
    public static float sample(byte[] img, int base, int cols, Axis ay, Axis ax, int y, int x) {
        int r0 = base + ay.lo[y] * cols, r1 = base + ay.hi[y] * cols;
        int c0 = ax.lo[x], c1 = ax.hi[x];
        float fy = ay.frac[y], fx = ax.frac[x];
        float top = (img[r0 + c0] & 0xff) * (1 - fx) + (img[r0 + c1] & 0xff) * fx;
        float bot = (img[r1 + c0] & 0xff) * (1 - fx) + (img[r1 + c1] & 0xff) * fx;
        return top * (1 - fy) + bot * fy;
    }

    /** The same for one channel of packed {@code 0xRRGGBB} ints; {@code shift} is 16, 8 or 0. */
    public static float sample(int[] rgb, int cols, int shift, Axis ay, Axis ax, int y, int x) {
        int r0 = ay.lo[y] * cols, r1 = ay.hi[y] * cols;
        int c0 = ax.lo[x], c1 = ax.hi[x];
        float fy = ay.frac[y], fx = ax.frac[x];
        float top = ((rgb[r0 + c0] >> shift) & 0xff) * (1 - fx) + ((rgb[r0 + c1] >> shift) & 0xff) * fx;
        float bot = ((rgb[r1 + c0] >> shift) & 0xff) * (1 - fx) + ((rgb[r1 + c1] >> shift) & 0xff) * fx;
        return top * (1 - fy) + bot * fy;
    }
}
