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
 * <p>{@link Arch#TORCHVISION} is the second named definition: torchvision's {@code alexnet} (the "one weird
 * trick" variant that PyTorch users have): conv1 64 x 11x11 stride 4 pad 2, pool, conv2 192 x 5x5 pad 2,
 * pool, conv3 384, conv4 256, conv5 256 (3x3 pad 1), pool5, then torchvision's adaptive average pooling to
 * 6x6, dropout, fc6 9216 -> 4096, dropout, fc7, fc8; no groups, no LRN. The adaptive pooling is the
 * identity whenever pool5's map is already 6x6 (inputs 223 to 254, so 224 and 227), and other sizes are
 * refused. Its two towers split every layer's output channels; without groups every layer after pool1
 * reads both towers, so they exchange before conv2 ... conv5 and fc6 ... fc8 ({@link #exchangeBefore}).
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
 * @param order        where pooling sits relative to LRN in layers 1 and 2 (paper network only)
 * @param lrn          the response normalisation's constants ({@link LrnParams#PAPER} unless weights trained
 *                     with other constants say so, as Caffe's bvlc_alexnet does; unused by torchvision's network)
 * @param arch         which network: the paper's or torchvision's
 */
public record AlexNetLayers(int inputSize, int conv1Pad, int widthDivisor, int fcWidth, int classes, boolean lrnPerTower, Order order,
                            LrnParams lrn, Arch arch) {
    /** The two named networks. */
    public enum Arch {
        /** Krizhevsky et al. 2012: 96-256-384-384-256 channels, groups 2 on conv2/4/5, LRN after conv1 and conv2. */
        PAPER,
        /** torchvision.models.alexnet: 64-192-384-256-256 channels, no groups, no LRN, dropout before fc6 and fc7. */
        TORCHVISION;

        /** The command-line name: {@code paper} or {@code torchvision}. */
        public String cliName() { return name().toLowerCase(java.util.Locale.ROOT); }

        /** Parses {@code paper} or {@code torchvision}, with a message naming both otherwise. */
        public static Arch parse(String s) {
            return switch (s == null ? "" : s.strip().toLowerCase(java.util.Locale.ROOT)) {
                case "paper" -> PAPER;
                case "torchvision", "tv" -> TORCHVISION;
                default -> throw new IllegalArgumentException("--arch must be paper or torchvision, got '" + s + "'");
            };
        }
    }

    /** torchvision's adaptive average pooling target: fc6 reads 256 x 6 x 6. */
    public static final int TORCHVISION_POOL = 6;
    /** Where max pooling sits in layers 1 and 2. */
    public enum Order {
        /** conv, ReLU, LRN, pool: the paper's network (the default everywhere). */
        PAPER,
        /** conv, ReLU, pool, LRN: CaffeNet's order (LRN on the pooled, 4x smaller maps). */
        CAFFENET
    }

    /** The paper network at 227x227, LRN per tower, 1000 classes. */
    public static final AlexNetLayers PAPER = paper(227, true, 1000);

    /** torchvision's AlexNet at 224x224, 1000 classes. */
    public static final AlexNetLayers TORCHVISION = torchvision(224, 1000);

    /** The layers whose input is gathered from both towers (the paper's communication points). */
    public static final List<String> EXCHANGE_BEFORE = List.of("conv3", "fc6", "fc7", "fc8");

    /** torchvision's exchanges: every layer after pool1 reads all channels of its input. */
    public static final List<String> TORCHVISION_EXCHANGE_BEFORE = List.of("conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8");

    public AlexNetLayers {
        if (inputSize < 11 || conv1Pad < 0 || widthDivisor < 1 || fcWidth < 1 || classes < 1 || order == null || arch == null) {
            throw new IllegalArgumentException("bad AlexNet geometry: input " + inputSize + ", conv1 pad " + conv1Pad
                    + ", width divisor " + widthDivisor + ", fc width " + fcWidth + ", classes " + classes + ", order " + order + ", arch " + arch);
        }
        if (lrn == null) throw new IllegalArgumentException("LRN parameters are null");
        int first = arch == Arch.PAPER ? 96 : 64; // every later width is a multiple of conv1's
        if (first % (2 * widthDivisor) != 0) throw new IllegalArgumentException("width divisor " + widthDivisor + " must leave whole towers of every layer");
        if (arch == Arch.TORCHVISION) {
            int p = pool5Size(inputSize, conv1Pad);
            if (p != TORCHVISION_POOL) {
                throw new IllegalArgumentException("torchvision AlexNet at input " + inputSize + ": pool5's map is " + p + "x" + p
                        + ", and adaptive average pooling to 6x6 is only the identity (the one case implemented) when it is already 6x6:"
                        + " resize the images to 224x224 (--input-size 224)");
            }
        }
    }

    /** The paper network's geometry with the layer order {@code order} (the paper's definition). */
    public AlexNetLayers(int inputSize, int conv1Pad, int widthDivisor, int fcWidth, int classes, boolean lrnPerTower, Order order) {
        this(inputSize, conv1Pad, widthDivisor, fcWidth, classes, lrnPerTower, order, LrnParams.PAPER, Arch.PAPER);
    }

    /** The paper network with the LRN constants {@code lrn}. */
    public AlexNetLayers(int inputSize, int conv1Pad, int widthDivisor, int fcWidth, int classes, boolean lrnPerTower, Order order,
                         LrnParams lrn) {
        this(inputSize, conv1Pad, widthDivisor, fcWidth, classes, lrnPerTower, order, lrn, Arch.PAPER);
    }

    /** Network {@code arch} with the paper's LRN constants. */
    public AlexNetLayers(int inputSize, int conv1Pad, int widthDivisor, int fcWidth, int classes, boolean lrnPerTower, Order order,
                         Arch arch) {
        this(inputSize, conv1Pad, widthDivisor, fcWidth, classes, lrnPerTower, order, LrnParams.PAPER, arch);
    }

    /** The same network with other LRN constants. */
    public AlexNetLayers withLrn(LrnParams lrn) {
        return new AlexNetLayers(inputSize, conv1Pad, widthDivisor, fcWidth, classes, lrnPerTower, order, lrn, arch);
    }

    /** pool5's spatial size: the same kernels, strides and pads in both networks. */
    private static int pool5Size(int inputSize, int conv1Pad) {
        int c1 = (inputSize + 2 * conv1Pad - 11) / 4 + 1;
        int p1 = (c1 - 3) / 2 + 1, p2 = (p1 - 3) / 2 + 1;
        return p2 < 3 ? 0 : (p2 - 3) / 2 + 1;
    }

    /**
     * torchvision's AlexNet ({@link Arch#TORCHVISION}) at {@code inputSize} (conv1 pad 2, as torchvision;
     * pool5 must come out 6x6) with {@code classes} outputs.
     */
    public static AlexNetLayers torchvision(int inputSize, int classes) {
        return new AlexNetLayers(inputSize, 2, 1, 4096, classes, false, Order.PAPER, Arch.TORCHVISION);
    }

    /** The layers whose input this network's two towers gather from both ({@link #EXCHANGE_BEFORE} for the paper's). */
    public List<String> exchangeBefore() {
        return arch == Arch.PAPER ? EXCHANGE_BEFORE : TORCHVISION_EXCHANGE_BEFORE;
    }

    /** The paper network's channels at {@code inputSize} (227: conv1 pad 0; 224: pad 2, as torchvision). */
    public static AlexNetLayers paper(int inputSize, boolean lrnPerTower, int classes) {
        return new AlexNetLayers(inputSize, inputSize == 227 ? 0 : 2, 1, 4096, classes, lrnPerTower, Order.PAPER);
    }

    /** The same structure with every convolution's channels divided by {@code widthDivisor}, on a smaller input. */
    public AlexNetLayers scaled(int inputSize, int widthDivisor, int fcWidth, int classes) {
        return new AlexNetLayers(inputSize, conv1Pad, widthDivisor, fcWidth, classes, lrnPerTower, order, lrn, arch);
    }

    public AlexNetLayers withOrder(Order order) {
        return new AlexNetLayers(inputSize, conv1Pad, widthDivisor, fcWidth, classes, lrnPerTower, order, lrn, arch);
    }

    public AlexNetLayers withLrnPerTower(boolean lrnPerTower) {
        return new AlexNetLayers(inputSize, conv1Pad, widthDivisor, fcWidth, classes, lrnPerTower, order, lrn, arch);
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
            if (exchangeBefore().contains(l.name()) && !cur.isEmpty()) {
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
        if (arch == Arch.TORCHVISION) return torchvisionLayers(split, tower, dropout);
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

    /**
     * torchvision's features and classifier with {@code split} as in {@link #layers(int, int, float)}: every
     * layer but conv1 reads its whole input (both towers'). Inference has no dropout and no average pooling
     * (the identity at 6x6); with {@code dropout > 0}, drop5 and drop6 sit before fc6 and fc7, as
     * torchvision's classifier has them.
     */
    private List<LayerSpec> torchvisionLayers(int split, int tower, float dropout) {
        int d = widthDivisor;
        int c1 = 64 / d, c2 = 192 / d, c3 = 384 / d, c4 = 256 / d, c5 = 256 / d;
        List<LayerSpec> l = new ArrayList<>();
        Conv conv1 = new Conv("conv1", 3, inputSize, inputSize, c1 / split, 11, 4, conv1Pad, 1, true);
        l.add(conv1);                                                            // 3x224x224 -> 64x55x55
        MaxPool pool1 = new MaxPool("pool1", c1 / split, conv1.outH(), conv1.outW(), 3, 2, 0);
        l.add(pool1);                                                            // -> 64x27x27
        int s1 = pool1.outH();
        Conv conv2 = new Conv("conv2", c1, s1, s1, c2 / split, 5, 1, 2, 1, true);
        l.add(conv2);                                                            // -> 192x27x27
        MaxPool pool2 = new MaxPool("pool2", c2 / split, s1, s1, 3, 2, 0);
        l.add(pool2);                                                            // -> 192x13x13
        int s = pool2.outH();
        l.add(new Conv("conv3", c2, s, s, c3 / split, 3, 1, 1, 1, true));
        l.add(new Conv("conv4", c3, s, s, c4 / split, 3, 1, 1, 1, true));
        l.add(new Conv("conv5", c4, s, s, c5 / split, 3, 1, 1, 1, true));
        MaxPool pool5 = new MaxPool("pool5", c5 / split, s, s, 3, 2, 0);
        l.add(pool5);                                                            // -> 256x6x6 = 9216 (avgpool: identity)
        int f = fcWidth, flat = c5 * pool5.outH() * pool5.outW();
        if (dropout > 0) l.add(new Dropout("drop5", flat / split, dropout, tower * flat / split, flat));
        l.add(new Linear("fc6", flat, f / split, true));
        if (dropout > 0) l.add(new Dropout("drop6", f / split, dropout, tower * f / split, f));
        l.add(new Linear("fc7", f, f / split, true));
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
