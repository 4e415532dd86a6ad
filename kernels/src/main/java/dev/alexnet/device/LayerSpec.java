package dev.alexnet.device;

import dev.alexnet.kernels.ConvShape;
import dev.alexnet.kernels.LinearShape;
import dev.alexnet.kernels.LrnParams;
import dev.alexnet.kernels.LrnShape;
import dev.alexnet.kernels.PoolShape;

/**
 * One layer of a network in per-image terms (the batch is chosen when a {@link Device} compiles it).
 * Shapes are C,H,W per image; a layer's input and output are dense NCHW, flattened for Linear.
 */
public sealed interface LayerSpec {
    String name();
    /** Input elements per image. */
    long inputSize();
    /** Output elements per image. */
    long outputSize();
    /** Multiply-accumulates per image (0 for layers without them). */
    default long macs() { return 0; }
    /** PyTorch shape of the weight ([K, C/G, R, S] or [out, in]); {@code null} for layers without parameters. */
    default int[] weightShape() { return null; }

    /** Convolution, bias and optional fused ReLU; weights [outC, inC/groups, k, k], bias [outC]. */
    record Conv(String name, int inC, int inH, int inW, int outC, int kernel, int stride, int pad, int groups, boolean relu)
            implements LayerSpec {
        public ConvShape shape(int batch) { return ConvShape.of(batch, inC, inH, inW, outC, kernel, stride, pad, groups); }
        public int outH() { return shape(1).p(); }
        public int outW() { return shape(1).q(); }
        public long inputSize() { return (long) inC * inH * inW; }
        public long outputSize() { return (long) outC * outH() * outW(); }
        public long macs() { return shape(1).macs(); }
        public int[] weightShape() { return new int[] {outC, inC / groups, kernel, kernel}; }
    }

    record MaxPool(String name, int c, int h, int w, int kernel, int stride, int pad) implements LayerSpec {
        public PoolShape shape(int batch) { return new PoolShape(batch, c, h, w, kernel, stride, pad); }
        public int outH() { return shape(1).p(); }
        public int outW() { return shape(1).q(); }
        public long inputSize() { return (long) c * h * w; }
        public long outputSize() { return (long) c * outH() * outW(); }
    }

    /** LRN across channels, confined to each of {@code channelGroups} groups (2 = per tower). */
    record Lrn(String name, int c, int h, int w, LrnParams params, int channelGroups) implements LayerSpec {
        public LrnShape shape(int batch) { return new LrnShape(batch, c, h, w, params, channelGroups); }
        public long inputSize() { return (long) c * h * w; }
        public long outputSize() { return inputSize(); }
    }

    /** Fully connected with bias and optional ReLU; weights [out, in] (PyTorch), input flattened C,H,W. */
    record Linear(String name, int in, int out, boolean relu) implements LayerSpec {
        public LinearShape shape(int batch) { return new LinearShape(batch, in, out); }
        public long inputSize() { return in; }
        public long outputSize() { return out; }
        public long macs() { return (long) in * out; }
        public int[] weightShape() { return new int[] {out, in}; }
    }

    /**
     * Inverted dropout (see {@link dev.alexnet.kernels.DropoutMask}): in training each element is zeroed with
     * probability {@code p} and the rest scaled by 1/(1-p); at inference the identity, so inference
     * programs leave it out ({@link Device#inferenceLayers}).
     *
     * @param offset global index of this layer's first feature (0 on one device, the tower's start on two)
     * @param total  features per image in the whole network (equal to {@code features} on one device)
     */
    record Dropout(String name, int features, float p, int offset, int total) implements LayerSpec {
        public Dropout {
            if (!(p >= 0 && p < 1)) throw new IllegalArgumentException(name + ": dropout probability must be in [0,1), got " + p);
            if (features <= 0 || offset < 0 || offset + features > total) throw new IllegalArgumentException(name + ": bad dropout geometry");
        }
        public Dropout(String name, int features, float p) { this(name, features, p, 0, features); }
        public long inputSize() { return features; }
        public long outputSize() { return features; }
        public dev.alexnet.kernels.DropoutMask mask(long seed) {
            return new dev.alexnet.kernels.DropoutMask(p, dev.alexnet.kernels.DropoutMask.key(seed, name), total, offset);
        }
    }

    record Softmax(String name, int classes) implements LayerSpec {
        public long inputSize() { return classes; }
        public long outputSize() { return classes; }
    }
}
