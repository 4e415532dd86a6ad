package dev.alexnet.model;

import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.LayerSpec.Conv;
import dev.alexnet.device.LayerSpec.Dropout;
import dev.alexnet.device.LayerSpec.Linear;
import dev.alexnet.device.LayerSpec.Lrn;
import dev.alexnet.device.LayerSpec.MaxPool;
import dev.alexnet.kernels.LrnParams;

import java.util.ArrayList;
import java.util.List;

/**
 * The paper's AlexNet (Krizhevsky, Sutskever, Hinton 2012), as a list of layers for one device or for
 * each of the two towers.
 *
 * <p>Order within layers 1 and 2 follows the paper: conv, ReLU, response normalisation, then max
 * pooling ("max-pooling layers ... follow both response-normalization layers", section 3.5), as in
 * Caffe's bvlc_alexnet. (CaffeNet swaps pooling and LRN; that is not the paper's network.)
 *
 * @param inputSize   227 (default, conv1 pad 0) or 224 (conv1 pad 2, as torchvision)
 * @param lrnPerTower true: LRN sums only within each tower's half of the channels, as in the paper's
 *                    two-GPU network; false: across all channels (the single-column variant)
 * @param classes     fc8's outputs: 1000 for ImageNet, or as many as a training set has (taken from
 *                    fc8's shape when weights are loaded)
 */
public record AlexNetSpec(int inputSize, boolean lrnPerTower, int classes) {
    public static final AlexNetSpec PAPER = new AlexNetSpec(227, true);
    /** ImageNet's classes: the paper network's fc8 width. */
    public static final int CLASSES = 1000;
    /** The paper's dropout probability on the outputs of fc6 and fc7 (section 4.2). */
    public static final float PAPER_DROPOUT = 0.5f;
    /** The names of the parameterised layers, in order: {@code <name>.weight} and {@code <name>.bias} in safetensors. */
    public static final List<String> PARAM_LAYERS = List.of("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8");

    public AlexNetSpec {
        if (inputSize != 227 && inputSize != 224) throw new IllegalArgumentException("input size must be 227 or 224 (with conv1 pad 2), got " + inputSize);
        if (classes < 2) throw new IllegalArgumentException("a classifier needs at least 2 classes, got " + classes);
    }

    public AlexNetSpec(int inputSize, boolean lrnPerTower) { this(inputSize, lrnPerTower, CLASSES); }

    public AlexNetSpec withClasses(int classes) { return new AlexNetSpec(inputSize, lrnPerTower, classes); }

    public int conv1Pad() { return inputSize == 227 ? 0 : 2; }

    /** The whole network on one device: groups=2 where the paper's towers do not talk; ends with fc8 logits. */
    public List<LayerSpec> layers() {
        return towerLayers(1, 0, 0f);
    }

    /**
     * The network for training: as {@link #layers()} with dropout of probability {@code dropout} on the
     * outputs of fc6 and fc7 ({@code drop6}, {@code drop7}), as in the paper's section 4.2.
     */
    public List<LayerSpec> trainingLayers(float dropout) {
        return towerLayers(1, 0, dropout);
    }

    /** Tower {@code tower} (0 = A, 1 = B) of the split network, one list per segment between exchanges. */
    public List<List<LayerSpec>> towerSegments(int tower) {
        return segments(tower, 0f);
    }

    /** As {@link #towerSegments} with the training network's dropout layers (each tower drops its own half). */
    public List<List<LayerSpec>> towerTrainingSegments(int tower, float dropout) {
        return segments(tower, dropout);
    }

    private List<List<LayerSpec>> segments(int tower, float dropout) {
        if (tower != 0 && tower != 1) throw new IllegalArgumentException("tower must be 0 or 1");
        if (classes % 2 != 0) throw new IllegalArgumentException("two towers split fc8's " + classes + " classes in halves: use an even number of classes or one device");
        List<LayerSpec> all = towerLayers(2, tower, dropout);
        // Segments end where the next layer reads the other tower's activations: before conv3, fc6, fc7, fc8.
        List<List<LayerSpec>> segments = new ArrayList<>();
        List<LayerSpec> cur = new ArrayList<>();
        for (LayerSpec l : all) {
            if (EXCHANGE_BEFORE.contains(l.name()) && !cur.isEmpty()) {
                segments.add(cur);
                cur = new ArrayList<>();
            }
            cur.add(l);
        }
        segments.add(cur);
        return segments;
    }

    /** The layers whose input is gathered from both towers (the paper's communication points). */
    public static final List<String> EXCHANGE_BEFORE = List.of("conv3", "fc6", "fc7", "fc8");

    /**
     * The network with every layer's output channels divided by {@code split} (1 = whole network,
     * 2 = one tower). Layers that read both towers keep their full input width.
     */
    private List<LayerSpec> towerLayers(int split, int tower, float dropout) {
        int s = inputSize, g = split == 1 ? 2 : 1; // inside one tower, the grouped layers are plain
        LrnParams lrn = LrnParams.PAPER;
        int lrnGroups = split == 1 && lrnPerTower ? 2 : 1;
        List<LayerSpec> l = new ArrayList<>();
        Conv conv1 = new Conv("conv1", 3, s, s, 96 / split, 11, 4, conv1Pad(), 1, true);
        l.add(conv1);                                                            // 3x227x227 -> 96x55x55
        l.add(new Lrn("lrn1", 96 / split, 55, 55, lrn, lrnGroups));
        l.add(new MaxPool("pool1", 96 / split, 55, 55, 3, 2, 0));                // -> 96x27x27
        l.add(new Conv("conv2", 96 / split, 27, 27, 256 / split, 5, 1, 2, g, true)); // -> 256x27x27
        l.add(new Lrn("lrn2", 256 / split, 27, 27, lrn, lrnGroups));
        l.add(new MaxPool("pool2", 256 / split, 27, 27, 3, 2, 0));               // -> 256x13x13
        l.add(new Conv("conv3", 256, 13, 13, 384 / split, 3, 1, 1, 1, true));    // reads both towers
        l.add(new Conv("conv4", 384 / split, 13, 13, 384 / split, 3, 1, 1, g, true));
        l.add(new Conv("conv5", 384 / split, 13, 13, 256 / split, 3, 1, 1, g, true));
        l.add(new MaxPool("pool5", 256 / split, 13, 13, 3, 2, 0));               // -> 256x6x6 = 9216
        l.add(new Linear("fc6", 9216, 4096 / split, true));                      // reads both towers
        if (dropout > 0) l.add(new Dropout("drop6", 4096 / split, dropout, tower * 4096 / split, 4096));
        l.add(new Linear("fc7", 4096, 4096 / split, true));
        if (dropout > 0) l.add(new Dropout("drop7", 4096 / split, dropout, tower * 4096 / split, 4096));
        l.add(new Linear("fc8", 4096, classes / split, false));
        if (conv1.outH() != 55) throw new AssertionError("conv1 must produce 55x55");
        return l;
    }

    /** Shape of a parameter tensor of the whole 1000-class network, PyTorch layout. */
    public static int[] paramShape(String name) {
        return PAPER.shapeOf(name);
    }

    /** Shape of a parameter tensor of this network (fc8 has {@link #classes} rows), PyTorch layout. */
    public int[] shapeOf(String name) {
        return switch (name) {
            case "conv1.weight" -> new int[] {96, 3, 11, 11};
            case "conv2.weight" -> new int[] {256, 48, 5, 5};
            case "conv3.weight" -> new int[] {384, 256, 3, 3};
            case "conv4.weight" -> new int[] {384, 192, 3, 3};
            case "conv5.weight" -> new int[] {256, 192, 3, 3};
            case "fc6.weight" -> new int[] {4096, 9216};
            case "fc7.weight" -> new int[] {4096, 4096};
            case "fc8.weight" -> new int[] {classes, 4096};
            case "conv1.bias" -> new int[] {96};
            case "conv2.bias", "conv5.bias" -> new int[] {256};
            case "conv3.bias", "conv4.bias" -> new int[] {384};
            case "fc6.bias", "fc7.bias" -> new int[] {4096};
            case "fc8.bias" -> new int[] {classes};
            default -> throw new IllegalArgumentException("AlexNet has no parameter '" + name + "'");
        };
    }

    /** All parameter names in file order: conv1.weight, conv1.bias, ..., fc8.bias. */
    public static List<String> paramNames() {
        List<String> names = new ArrayList<>();
        for (String l : PARAM_LAYERS) {
            names.add(l + ".weight");
            names.add(l + ".bias");
        }
        return names;
    }

    public static long parameterCount() {
        long n = 0;
        for (String name : paramNames()) {
            long c = 1;
            for (int d : paramShape(name)) c *= d;
            n += c;
        }
        return n;
    }
}
