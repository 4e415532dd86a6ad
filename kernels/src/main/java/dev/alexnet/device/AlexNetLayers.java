package dev.alexnet.device;

import dev.alexnet.device.LayerSpec.Conv;
import dev.alexnet.device.LayerSpec.Dropout;
import dev.alexnet.device.LayerSpec.Linear;
import dev.alexnet.device.LayerSpec.Lrn;
import dev.alexnet.device.LayerSpec.MaxPool;
import dev.alexnet.kernels.LrnParams;

import java.util.ArrayList;
import java.util.List;

/**
 * The one definition of AlexNet's layer list, for every module: the model's {@code AlexNetSpec} delegates
 * here, and so do the benchmarks and tests that run the network (this module is the one they all see;
 * the model module depends on the native bindings, not the other way round).
 *
 * <p>Layers 1 and 2 follow the paper by default: conv, ReLU, response normalisation, then max pooling
 * ("max-pooling layers ... follow both response-normalization layers", section 3.5), as in Caffe's
 * bvlc_alexnet. {@link Order#CAFFENET} swaps pooling and LRN, as CaffeNet does; it is not the paper's
 * network and is used only where a benchmark must match an outside baseline that has that order.
 *
 * <p>Spatial sizes follow from the input size; {@link #scaled} keeps the structure (strides, pads, groups,
 * towers, the three exchanges) with fewer channels and a smaller input, for tests that run the whole chain
 * on the scalar reference.
 *
 * @param inputSize    height and width of the input image (227 for the paper network)
 * @param conv1Pad     conv1's padding (0 at 227; 2 at 224, as torchvision)
 * @param widthDivisor the paper's channel counts (96, 256, 384, 384, 256) are divided by this
 * @param fcWidth      outputs of fc6 and fc7 (4096 in the paper)
 * @param classes      outputs of fc8 (1000 for ImageNet)
 * @param lrnPerTower  true: LRN sums only within each tower's half of the channels, as in the paper's
 *                     two-GPU network; false: across all channels (the single-column variant)
 * @param order        where pooling sits relative to LRN in layers 1 and 2
 * @param lrn          the response normalisation's constants ({@link LrnParams#PAPER} unless weights trained
 *                     with other constants say so, as Caffe's bvlc_alexnet does)
 */
public record AlexNetLayers(int inputSize, int conv1Pad, int widthDivisor, int fcWidth, int classes, boolean lrnPerTower, Order order,
                            LrnParams lrn) {
    /** Where max pooling sits in layers 1 and 2. */
    public enum Order {
        /** conv, ReLU, LRN, pool: the paper's network (the default everywhere). */
        PAPER,
        /** conv, ReLU, pool, LRN: CaffeNet's order (LRN on the pooled, 4x smaller maps). */
        CAFFENET
    }

    /** The paper network at 227x227, LRN per tower, 1000 classes. */
    public static final AlexNetLayers PAPER = paper(227, true, 1000);

    /** The layers whose input is gathered from both towers (the paper's communication points). */
    public static final List<String> EXCHANGE_BEFORE = List.of("conv3", "fc6", "fc7", "fc8");

    public AlexNetLayers {
        if (inputSize < 11 || conv1Pad < 0 || widthDivisor < 1 || fcWidth < 1 || classes < 1 || order == null) {
            throw new IllegalArgumentException("bad AlexNet geometry: input " + inputSize + ", conv1 pad " + conv1Pad
                    + ", width divisor " + widthDivisor + ", fc width " + fcWidth + ", classes " + classes + ", order " + order);
        }
        if (96 % (2 * widthDivisor) != 0) throw new IllegalArgumentException("width divisor " + widthDivisor + " must leave whole towers of every layer");
        if (lrn == null) throw new IllegalArgumentException("LRN parameters are null");
    }

    /** With the paper's LRN constants. */
    public AlexNetLayers(int inputSize, int conv1Pad, int widthDivisor, int fcWidth, int classes, boolean lrnPerTower, Order order) {
        this(inputSize, conv1Pad, widthDivisor, fcWidth, classes, lrnPerTower, order, LrnParams.PAPER);
    }

    /** The same network with other LRN constants. */
    public AlexNetLayers withLrn(LrnParams lrn) {
        return new AlexNetLayers(inputSize, conv1Pad, widthDivisor, fcWidth, classes, lrnPerTower, order, lrn);
    }

    /** The paper network's channels at {@code inputSize} (227: conv1 pad 0; 224: pad 2, as torchvision). */
    public static AlexNetLayers paper(int inputSize, boolean lrnPerTower, int classes) {
        return new AlexNetLayers(inputSize, inputSize == 227 ? 0 : 2, 1, 4096, classes, lrnPerTower, Order.PAPER);
    }

    /** The same structure with every convolution's channels divided by {@code widthDivisor}, on a smaller input. */
    public AlexNetLayers scaled(int inputSize, int widthDivisor, int fcWidth, int classes) {
        return new AlexNetLayers(inputSize, conv1Pad, widthDivisor, fcWidth, classes, lrnPerTower, order, lrn);
    }

    public AlexNetLayers withOrder(Order order) {
        return new AlexNetLayers(inputSize, conv1Pad, widthDivisor, fcWidth, classes, lrnPerTower, order, lrn);
    }

    public AlexNetLayers withLrnPerTower(boolean lrnPerTower) {
        return new AlexNetLayers(inputSize, conv1Pad, widthDivisor, fcWidth, classes, lrnPerTower, order, lrn);
    }

    /** The whole network on one device: groups=2 where the paper's towers do not talk; ends with fc8's logits. */
    public List<LayerSpec> layers() {
        return layers(1, 0, 0f);
    }

    /** As {@link #layers()} with dropout of probability {@code dropout} on the outputs of fc6 and fc7 (drop6, drop7). */
    public List<LayerSpec> trainingLayers(float dropout) {
        return layers(1, 0, dropout);
    }

    /**
     * Tower {@code tower} (0 = A, 1 = B) of the split network, one list per segment between exchanges;
     * with {@code dropout > 0} each tower drops its own half of fc6's and fc7's outputs.
     */
    public List<List<LayerSpec>> towerSegments(int tower, float dropout) {
        if (tower != 0 && tower != 1) throw new IllegalArgumentException("tower must be 0 or 1, got " + tower);
        if (classes % 2 != 0) throw new IllegalArgumentException("two towers split fc8's " + classes + " classes in halves: use an even number of classes or one device");
        if (fcWidth % 2 != 0) throw new IllegalArgumentException("two towers split fc6 and fc7 in halves: fc width " + fcWidth + " is odd");
        // Segments end where the next layer reads the other tower's activations: before conv3, fc6, fc7, fc8.
        List<List<LayerSpec>> segments = new ArrayList<>();
        List<LayerSpec> cur = new ArrayList<>();
        for (LayerSpec l : layers(2, tower, dropout)) {
            if (EXCHANGE_BEFORE.contains(l.name()) && !cur.isEmpty()) {
                segments.add(cur);
                cur = new ArrayList<>();
            }
            cur.add(l);
        }
        segments.add(cur);
        return segments;
    }

    /**
     * The network with every layer's output channels divided by {@code split} (1 = whole network,
     * 2 = one tower). Layers that read both towers keep their full input width.
     */
    private List<LayerSpec> layers(int split, int tower, float dropout) {
        int d = widthDivisor, g = split == 1 ? 2 : 1; // inside one tower, the grouped layers are plain
        int c1 = 96 / d, c2 = 256 / d, c3 = 384 / d, c4 = 384 / d, c5 = 256 / d;
        int lrnGroups = split == 1 && lrnPerTower ? 2 : 1;
        List<LayerSpec> l = new ArrayList<>();
        Conv conv1 = new Conv("conv1", 3, inputSize, inputSize, c1 / split, 11, 4, conv1Pad, 1, true);
        l.add(conv1);                                                            // 3x227x227 -> 96x55x55
        int pooled1 = normalisedAndPooled(l, "1", c1 / split, conv1.outH(), lrn, lrnGroups); // -> 96x27x27
        Conv conv2 = new Conv("conv2", c1 / split, pooled1, pooled1, c2 / split, 5, 1, 2, g, true);
        l.add(conv2);                                                            // -> 256x27x27
        int s = normalisedAndPooled(l, "2", c2 / split, conv2.outH(), lrn, lrnGroups); // -> 256x13x13
        l.add(new Conv("conv3", c2, s, s, c3 / split, 3, 1, 1, 1, true));        // reads both towers
        l.add(new Conv("conv4", c3 / split, s, s, c4 / split, 3, 1, 1, g, true));
        l.add(new Conv("conv5", c4 / split, s, s, c5 / split, 3, 1, 1, g, true));
        MaxPool pool5 = new MaxPool("pool5", c5 / split, s, s, 3, 2, 0);
        l.add(pool5);                                                            // -> 256x6x6 = 9216
        int f = fcWidth;
        l.add(new Linear("fc6", c5 * pool5.outH() * pool5.outW(), f / split, true)); // reads both towers
        if (dropout > 0) l.add(new Dropout("drop6", f / split, dropout, tower * f / split, f));
        l.add(new Linear("fc7", f, f / split, true));
        if (dropout > 0) l.add(new Dropout("drop7", f / split, dropout, tower * f / split, f));
        l.add(new Linear("fc8", f, classes / split, false));
        return l;
    }

    /** Adds lrnN and poolN in this network's order to a c x h x h map; returns the pooled size. */
    private int normalisedAndPooled(List<LayerSpec> l, String n, int c, int h, LrnParams lrn, int lrnGroups) {
        MaxPool pool = new MaxPool("pool" + n, c, h, h, 3, 2, 0);
        int p = pool.outH();
        if (order == Order.PAPER) {
            l.add(new Lrn("lrn" + n, c, h, h, lrn, lrnGroups));
            l.add(pool);
        } else {
            l.add(pool);
            l.add(new Lrn("lrn" + n, c, p, p, lrn, lrnGroups));
        }
        return p;
    }
}
