package dev.alexnet.model;

import dev.alexnet.device.AlexNetLayers;
import dev.alexnet.device.AlexNetLayers.Arch;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.kernels.LrnParams;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The paper's AlexNet (Krizhevsky, Sutskever, Hinton 2012), as a list of layers for one device or for
 * each of the two towers, with its parameter names and shapes. The layer lists come from
 * {@link AlexNetLayers} (the one definition, in the kernels module so that every module can use it):
 * conv, ReLU, response normalisation, then max pooling in layers 1 and 2, as in the paper. With
 * {@link Arch#TORCHVISION} it is torchvision's AlexNet instead (no groups, no LRN, 64-192-384-256-256
 * channels); both name their parameters {@code conv1.weight} ... {@code fc8.bias} inside the program, and
 * torchvision's files use its {@code state_dict} names ({@link #fileName}).
 *
 * @param inputSize   227 (default, conv1 pad 0) or 224 (conv1 pad 2, as torchvision)
 * @param lrnPerTower true: LRN sums only within each tower's half of the channels, as in the paper's
 *                    two-GPU network; false: across all channels (the single-column variant)
 * @param classes     fc8's outputs: 1000 for ImageNet, or as many as a training set has (taken from
 *                    fc8's shape when weights are loaded)
 * @param lrn         the response normalisation's constants: the paper's unless weights say otherwise
 *                    (Caffe's bvlc_alexnet: k=1, alpha/n); torchvision's network has no LRN
 * @param arch        the paper's network or torchvision's (for which {@code lrnPerTower} means nothing)
 */
public record AlexNetSpec(int inputSize, boolean lrnPerTower, int classes, LrnParams lrn, Arch arch) {
    public static final AlexNetSpec PAPER = new AlexNetSpec(227, true);
    /** torchvision's AlexNet at 224x224, 1000 classes. */
    public static final AlexNetSpec TORCHVISION = new AlexNetSpec(224, false, 1000, Arch.TORCHVISION);
    /** ImageNet's classes: the paper network's fc8 width. */
    public static final int CLASSES = 1000;
    /** The paper's dropout probability on the outputs of fc6 and fc7 (section 4.2). */
    public static final float PAPER_DROPOUT = 0.5f;
    /** The names of the parameterised layers, in order: {@code <name>.weight} and {@code <name>.bias} in safetensors. */
    public static final List<String> PARAM_LAYERS = List.of("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8");

    /**
     * torchvision's {@code state_dict} name of each parameterised layer: {@code features.0} is conv1 ...
     * {@code classifier.6} is fc8 (the indices of its Sequential modules).
     */
    public static final Map<String, String> TORCHVISION_NAMES = Map.of(
            "conv1", "features.0", "conv2", "features.3", "conv3", "features.6", "conv4", "features.8",
            "conv5", "features.10", "fc6", "classifier.1", "fc7", "classifier.4", "fc8", "classifier.6");

    public AlexNetSpec {
        if (arch == null) throw new IllegalArgumentException("no architecture given: paper or torchvision");
        if (inputSize != 227 && inputSize != 224) {
            throw new IllegalArgumentException("input size must be 227 or 224 (" + (arch == Arch.PAPER ? "with conv1 pad 2" : "torchvision's")
                    + "), got " + inputSize + (arch == Arch.TORCHVISION ? ": torchvision's adaptive average pooling is implemented only where it is"
                    + " the identity (pool5 already 6x6); resize the images to 224x224" : ""));
        }
        if (classes < 2) throw new IllegalArgumentException("a classifier needs at least 2 classes, got " + classes);
        if (lrn == null) throw new IllegalArgumentException("LRN parameters are null");
    }

    public AlexNetSpec(int inputSize, boolean lrnPerTower, int classes, Arch arch) { this(inputSize, lrnPerTower, classes, LrnParams.PAPER, arch); }

    public AlexNetSpec(int inputSize, boolean lrnPerTower, int classes, LrnParams lrn) { this(inputSize, lrnPerTower, classes, lrn, Arch.PAPER); }

    public AlexNetSpec(int inputSize, boolean lrnPerTower, int classes) { this(inputSize, lrnPerTower, classes, LrnParams.PAPER, Arch.PAPER); }

    public AlexNetSpec(int inputSize, boolean lrnPerTower) { this(inputSize, lrnPerTower, CLASSES); }

    public AlexNetSpec withClasses(int classes) { return new AlexNetSpec(inputSize, lrnPerTower, classes, lrn, arch); }

    /** The same network with other LRN constants (e.g. those Caffe's trained weights were trained with). */
    public AlexNetSpec withLrn(LrnParams lrn) { return new AlexNetSpec(inputSize, lrnPerTower, classes, lrn, arch); }

    /** The same network and settings with {@code arch}'s layers. */
    public AlexNetSpec withArch(Arch arch) { return new AlexNetSpec(inputSize, lrnPerTower, classes, lrn, arch); }

    /** 0 for the paper network at 227, else 2 (torchvision always pads conv1 by 2). */
    public int conv1Pad() { return arch == Arch.PAPER && inputSize == 227 ? 0 : 2; }

    /** The layer-list definition this network delegates to (shared by every module; see {@link AlexNetLayers}). */
    public AlexNetLayers definition() {
        return arch == Arch.TORCHVISION ? AlexNetLayers.torchvision(inputSize, classes) : AlexNetLayers.paper(inputSize, lrnPerTower, classes).withLrn(lrn);
    }

    /** The layers whose input this network's two towers gather from both. */
    public List<String> exchangeBefore() {
        return definition().exchangeBefore();
    }

    /**
     * The name a parameter has in this network's safetensors files: the project's own ({@code conv1.weight})
     * for the paper network, torchvision's {@code state_dict} name ({@code features.0.weight}) for torchvision's.
     */
    public String fileName(String name) {
        if (arch == Arch.PAPER) return name;
        int dot = name.lastIndexOf('.');
        String layer = TORCHVISION_NAMES.get(name.substring(0, Math.max(dot, 0)));
        if (layer == null) throw new IllegalArgumentException("AlexNet has no parameter '" + name + "'");
        return layer + name.substring(dot);
    }

    /** The whole network on one device: groups=2 where the paper's towers do not talk; ends with fc8 logits. */
    public List<LayerSpec> layers() {
        return definition().layers();
    }

    /**
     * The network for training: as {@link #layers()} with dropout of probability {@code dropout} on the
     * outputs of fc6 and fc7 ({@code drop6}, {@code drop7}), as in the paper's section 4.2.
     */
    public List<LayerSpec> trainingLayers(float dropout) {
        return definition().trainingLayers(dropout);
    }

    /** Tower {@code tower} (0 = A, 1 = B) of the split network, one list per segment between exchanges. */
    public List<List<LayerSpec>> towerSegments(int tower) {
        return definition().towerSegments(tower, 0f);
    }

    /** As {@link #towerSegments} with the training network's dropout layers (each tower drops its own half). */
    public List<List<LayerSpec>> towerTrainingSegments(int tower, float dropout) {
        return definition().towerSegments(tower, dropout);
    }

    /** The layers whose input is gathered from both towers (the paper's communication points). */
    public static final List<String> EXCHANGE_BEFORE = AlexNetLayers.EXCHANGE_BEFORE;

    /** Shape of a parameter tensor of the whole 1000-class network, PyTorch layout. */
    public static int[] paramShape(String name) {
        return PAPER.shapeOf(name);
    }

    /** Shape of a parameter tensor of this network (fc8 has {@link #classes} rows), PyTorch layout, from its layer list. */
    public int[] shapeOf(String name) {
        int dot = name.lastIndexOf('.');
        String layer = name.substring(0, Math.max(dot, 0)), kind = name.substring(dot + 1);
        for (LayerSpec l : layers()) {
            int[] ws = l.weightShape();
            if (ws == null || !l.name().equals(layer)) continue;
            if (kind.equals("weight")) return ws;
            if (kind.equals("bias")) return new int[] {ws[0]};
        }
        throw new IllegalArgumentException("AlexNet has no parameter '" + name + "'");
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
        return PAPER.parameters();
    }

    /** This network's parameter count (61,100,840 for torchvision's at 1000 classes). */
    public long parameters() {
        long n = 0;
        for (String name : paramNames()) {
            long c = 1;
            for (int d : shapeOf(name)) c *= d;
            n += c;
        }
        return n;
    }
}
