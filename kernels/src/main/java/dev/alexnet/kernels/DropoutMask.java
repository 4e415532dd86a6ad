package dev.alexnet.kernels;

/**
 * The dropout masks, a pure function of (seed, layer name, element): element {@code i} of image
 * {@code n} in a layer of {@code total} features (the whole network's width, also when a tower holds
 * only the features from {@code offset}) is kept when {@link #keep} says so. Inverted dropout: kept
 * elements are scaled by 1/(1-p) in training, and inference is the identity.
 *
 * <p>A counter-based generator (SplitMix64's finaliser over the element's global index) rather than a
 * stream: any thread, tower or resumed run computes the same mask for the same element, in any order.
 *
 * @param p       probability of dropping an element, in [0, 1)
 * @param key     {@link #key}(seed, layer name)
 * @param total   features per image in the whole network
 * @param offset  global index of this layer's first feature (0 on one device; the tower's start on two)
 */
public record DropoutMask(float p, long key, int total, int offset) {
    public DropoutMask {
        if (!(p >= 0 && p < 1)) throw new IllegalArgumentException("dropout probability must be in [0,1): " + p);
        if (total <= 0 || offset < 0 || offset >= total) throw new IllegalArgumentException("bad dropout geometry: offset " + offset + " of " + total);
    }

    /** The per-layer key for a step's seed. */
    public static long key(long seed, String layer) {
        return mix(seed ^ mix(layer.hashCode() * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L));
    }

    /** 1/(1-p): the scale of the kept elements. */
    public float scale() { return 1f / (1f - p); }

    /** Whether element {@code i} (local to this layer's slice) of image {@code n} is kept. */
    public boolean keep(long n, int i) {
        long index = n * total + offset + i;
        // The top 24 bits as a uniform in [0,1), compared in float: exact for every p that is a multiple of 2^-24.
        float u = (mix(key + index * 0x9E3779B97F4A7C15L) >>> 40) * 0x1.0p-24f;
        return u >= p;
    }

    /** The multiplier of element {@code i} of image {@code n}: 0 or {@link #scale()}. */
    public float factor(long n, int i) { return keep(n, i) ? scale() : 0f; }

    /** SplitMix64's finaliser: a bijection on longs that mixes every input bit into every output bit. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
