package dev.alexnet.kernels;

/**
 * LRN over [N,C,H,W], the window confined to each of {@code channelGroups} contiguous channel
 * groups (1 = across all channels; 2 = per tower, as in the paper's two-GPU network).
 */
public record LrnShape(int n, int c, int h, int w, LrnParams params, int channelGroups) {
    public LrnShape {
        if (n <= 0 || c <= 0 || h <= 0 || w <= 0) throw new IllegalArgumentException("bad LRN shape " + this);
        if (channelGroups <= 0 || c % channelGroups != 0) throw new IllegalArgumentException("channel groups must divide C in " + this);
    }
    public long size() { return (long) n * c * h * w; }
    public LrnShape withBatch(int batch) { return new LrnShape(batch, c, h, w, params, channelGroups); }
}
