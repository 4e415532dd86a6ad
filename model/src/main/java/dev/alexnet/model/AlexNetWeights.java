package dev.alexnet.model;

import dev.alexnet.device.AlexNetLayers.Arch;
import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.model.io.Safetensors;
import dev.alexnet.model.io.WeightFileException;
import dev.alexnet.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * The 16 parameter tensors of AlexNet under their PyTorch names ({@code conv1.weight} [96,3,11,11] ...
 * {@code fc8.bias} [1000]), whole-network shapes; for torchvision's AlexNet ({@link #arch()}) the same
 * names with its shapes, read from and written to files under its {@code state_dict} names
 * ({@code features.0.weight} ... {@code classifier.6.bias}). Owns the memory they live in (an arena; a file is
 * read into it, never mapped, so changing the file later cannot touch loaded weights): close it when no
 * program compiled from it is running any more.
 *
 * <pre>{@code
 * try (AlexNetWeights w = AlexNetWeights.load(Path.of("alexnet.safetensors"))) {   // PyTorch names, float32
 *     Tensor conv1 = w.get("conv1.weight");                                          // [96, 3, 11, 11]
 * }
 * AlexNetWeights seeded = AlexNetWeights.paperInit(42);                // the paper's initialisation
 * seeded.save(Path.of("seed42.safetensors"), Map.of());
 * }</pre>
 */
public final class AlexNetWeights implements AutoCloseable {
    private final Arena arena;
    private final Map<String, Tensor> tensors;
    private final String origin;
    private final int classes;
    private final Arch arch;

    private AlexNetWeights(Arena arena, Map<String, Tensor> tensors, String origin) {
        this(arena, tensors, origin, Arch.PAPER);
    }

    private AlexNetWeights(Arena arena, Map<String, Tensor> tensors, String origin, Arch arch) {
        this.arena = arena;
        this.tensors = tensors;
        this.origin = origin;
        this.arch = arch;
        Tensor fc8 = tensors.get("fc8.bias");
        if (fc8 == null || fc8.rank() != 1) throw new WeightFileException(origin + ": tensor 'fc8.bias' is missing or not a vector");
        this.classes = fc8.dim(0);
        validate(tensors, origin, classes, arch);
    }

    /** Which network these parameters belong to: the paper's or torchvision's. */
    public Arch arch() { return arch; }

    /** The 1000-class (or {@code classes}-class) spec of {@code arch} at its usual input size. */
    private static AlexNetSpec specOf(Arch arch, int classes) {
        return (arch == Arch.TORCHVISION ? AlexNetSpec.TORCHVISION : AlexNetSpec.PAPER).withClasses(classes);
    }

    /** fc8's outputs: 1000 for ImageNet weights, 10 for Fashion-MNIST ones. */
    public int classes() { return classes; }

    /** Where the weights came from, e.g. "paper init, seed 42" or a file name. */
    public String origin() { return origin; }
    public boolean random() { return !origin.startsWith("file "); }

    public Tensor get(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new IllegalArgumentException("no tensor '" + name + "'");
        return t;
    }

    public Map<String, Tensor> tensors() { return java.util.Collections.unmodifiableMap(tensors); }

    /**
     * Paper initialisation (section 5): weights from N(0, 0.01); biases 1 in conv2, conv4, conv5 and
     * the fully connected layers, 0 in conv1 and conv3. Each tensor has its own stream derived from
     * {@code seed}, so the result does not depend on thread count.
     */
    public static AlexNetWeights paperInit(long seed) {
        return init(Init.PAPER, seed, AlexNetSpec.CLASSES);
    }

    /** How parameters are initialised before training. */
    public enum Init {
        /** Section 5 of the paper: weights N(0, 0.01); biases 1 in conv2, conv4, conv5, fc6-fc8, else 0. */
        PAPER,
        /** He et al. 2015 ("Kaiming normal", fan-in): weights N(0, 2 / fan_in), biases 0. */
        HE
    }

    /**
     * Fresh parameters for a {@code classes}-way network. Each tensor has its own random stream derived
     * from {@code seed}, so the result does not depend on the number of threads.
     */
    public static AlexNetWeights init(Init kind, long seed, int classes) {
        return init(kind, seed, classes, Arch.PAPER);
    }

    /** As {@link #init(Init, long, int)} for {@code arch}'s shapes (the same rule per named layer). */
    public static AlexNetWeights init(Init kind, long seed, int classes, Arch arch) {
        if (kind == Init.HE) return heInit(seed, classes, arch);
        Arena arena = Arena.ofShared();
        Map<String, Tensor> t = allocate(arena, specOf(arch, classes));
        List<String> names = AlexNetSpec.paramNames();
        IntStream.range(0, names.size()).parallel().forEach(i -> {
            String name = names.get(i);
            Tensor x = t.get(name);
            if (name.endsWith(".weight")) {
                SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + i);
                for (long j = 0; j < x.size(); j++) x.data().setAtIndex(JAVA_FLOAT, j, (float) (0.01 * rng.nextGaussian()));
            } else {
                boolean one = !(name.equals("conv1.bias") || name.equals("conv3.bias"));
                x.data().fill((byte) 0);
                if (one) for (long j = 0; j < x.size(); j++) x.data().setAtIndex(JAVA_FLOAT, j, 1f);
            }
        });
        return new AlexNetWeights(arena, t, "paper init, seed " + seed, arch);
    }

    private static AlexNetWeights heInit(long seed, int classes, Arch arch) {
        Arena arena = Arena.ofShared();
        Map<String, Tensor> t = allocate(arena, specOf(arch, classes));
        List<String> names = AlexNetSpec.paramNames();
        IntStream.range(0, names.size()).parallel().forEach(i -> {
            Tensor x = t.get(names.get(i));
            if (names.get(i).endsWith(".weight")) {
                long fanIn = x.size() / x.dim(0);
                double std = Math.sqrt(2.0 / fanIn);
                SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + i);
                for (long j = 0; j < x.size(); j++) x.data().setAtIndex(JAVA_FLOAT, j, (float) (std * rng.nextGaussian()));
            } else {
                x.data().fill((byte) 0);
            }
        });
        return new AlexNetWeights(arena, t, "he init, seed " + seed, arch);
    }

    /** A copy of {@code other} in memory this object owns (writable, independent of any file). */
    public static AlexNetWeights copyOf(AlexNetWeights other) {
        Arena arena = Arena.ofShared();
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (var e : other.tensors.entrySet()) {
            Tensor x = Tensor.allocate(arena, e.getValue().shape());
            x.copyFrom(e.getValue());
            t.put(e.getKey(), x);
        }
        return new AlexNetWeights(arena, t, other.origin, other.arch);
    }

    /** The counter-based weights shared with the PyTorch golden script (see {@link CounterInit}). */
    public static AlexNetWeights counter() {
        return counter(Arch.PAPER);
    }

    /** The counter weights of {@code arch}'s 1000-class network: stream i is parameter i, with the same scales. */
    public static AlexNetWeights counter(Arch arch) {
        Arena arena = Arena.ofShared();
        Map<String, Tensor> t = allocate(arena, specOf(arch, AlexNetSpec.CLASSES));
        List<String> names = AlexNetSpec.paramNames();
        IntStream.range(0, names.size()).parallel().forEach(i -> {
            Tensor x = t.get(names.get(i));
            CounterInit.fill(x.data(), x.size(), i, CounterInit.scale(i));
        });
        return new AlexNetWeights(arena, t, arch == Arch.PAPER ? "counter init (golden)" : "counter init (golden, torchvision)", arch);
    }

    /**
     * Reads a safetensors file into memory this object owns; every AlexNet tensor must be there with its
     * exact shape, F32, and finite (a NaN or infinity in a weight is refused, naming the tensor). The
     * network is told by the names: torchvision's {@code state_dict} ({@code features.0.weight} ...) is
     * torchvision's AlexNet, as are the project's names over torchvision's shapes (conv1 with 64 kernels);
     * anything else must be the paper network.
     */
    public static AlexNetWeights load(Path file) {
        Arena arena = Arena.ofShared();
        try {
            Map<String, Tensor> all = Safetensors.read(file, arena);
            Tensor conv1 = all.get("conv1.weight");
            Arch arch = all.containsKey(AlexNetSpec.TORCHVISION.fileName("conv1.weight"))
                    || (conv1 != null && conv1.rank() == 4 && conv1.dim(0) == 64) ? Arch.TORCHVISION : Arch.PAPER;
            AlexNetSpec spec = specOf(arch, AlexNetSpec.CLASSES);
            Map<String, Tensor> t = new LinkedHashMap<>();
            for (String name : AlexNetSpec.paramNames()) {
                String fileName = all.containsKey(name) ? name : spec.fileName(name);
                Tensor x = all.get(fileName);
                if (x == null) throw new WeightFileException(file + ": tensor '" + spec.fileName(name) + "' is missing (expected shape "
                        + (name.startsWith("fc8.") ? Arrays.toString(spec.shapeOf(name)).replace("1000", "classes") : Arrays.toString(spec.shapeOf(name)))
                        + (arch == Arch.PAPER ? "; names follow PyTorch: conv1.weight ... fc8.bias, or torchvision's state_dict: features.0.weight ... classifier.6.bias)"
                                              : "; torchvision's state_dict names: features.0.weight ... classifier.6.bias)"));
                t.put(name, x);
            }
            AlexNetWeights w = new AlexNetWeights(arena, t, "file " + file.getFileName(), arch);
            for (var e : t.entrySet()) checkFinite(file, spec.fileName(e.getKey()), e.getValue());
            return w;
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static void checkFinite(Path file, String name, Tensor x) {
        NonFinite.Scan scan = NonFinite.scan(x.data(), x.size());
        if (scan.any()) {
            throw new WeightFileException(file + ": tensor '" + name + "' holds " + x.data().getAtIndex(JAVA_FLOAT, scan.first())
                    + " at flat index " + scan.first() + " (weights must be finite)");
        }
    }

    public void save(Path file, Map<String, String> metadata) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("network", arch == Arch.PAPER ? "alexnet-2012-paper" : "alexnet-torchvision");
        meta.put("origin", origin);
        if (metadata != null) meta.putAll(metadata);
        if (arch == Arch.PAPER) {
            Safetensors.write(file, tensors, meta);
        } else { // torchvision's state_dict names, so that load_state_dict takes the file as it is
            AlexNetSpec spec = specOf(arch, classes);
            Map<String, Tensor> named = new LinkedHashMap<>();
            for (var e : tensors.entrySet()) named.put(spec.fileName(e.getKey()), e.getValue());
            Safetensors.write(file, named, meta);
        }
    }

    private static Map<String, Tensor> allocate(Arena arena, AlexNetSpec spec) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (String name : AlexNetSpec.paramNames()) t.put(name, Tensor.allocate(arena, spec.shapeOf(name)));
        return t;
    }

    private static void validate(Map<String, Tensor> t, String origin, int classes, Arch arch) {
        AlexNetSpec spec = specOf(arch, classes);
        for (String name : AlexNetSpec.paramNames()) {
            Tensor x = t.get(name);
            if (x == null) throw new WeightFileException(origin + ": tensor '" + spec.fileName(name) + "' is missing");
            if (!Arrays.equals(x.shape(), spec.shapeOf(name))) {
                throw new WeightFileException(origin + ": tensor '" + spec.fileName(name) + "' has shape " + Arrays.toString(x.shape())
                        + ", expected " + Arrays.toString(spec.shapeOf(name)) + " (" + arch.cliName() + " AlexNet)");
            }
        }
    }

    private void checkClasses(AlexNetSpec spec) {
        if (spec.arch() != arch) {
            throw new IllegalArgumentException("the network is " + spec.arch().cliName() + " AlexNet but the weights (" + origin + ") are "
                    + arch.cliName() + " AlexNet's: pass --arch " + arch.cliName());
        }
        if (spec.classes() != classes) {
            throw new IllegalArgumentException("the network has " + spec.classes() + " classes but the weights (" + origin + ") have " + classes);
        }
    }

    /** The whole network's layers with their parameters (views, no copies). */
    public List<Layer> layers(AlexNetSpec spec) {
        checkClasses(spec);
        return bind(spec.layers(), 1, 0);
    }

    /** Binds layer specs of the whole network (e.g. {@link AlexNetSpec#trainingLayers}) to these tensors. */
    public List<Layer> bindWhole(List<LayerSpec> specs) {
        checkShapes(specs, 1);
        return bind(specs, 1, 0);
    }

    /** Binds one tower's layer specs (output-channel halves of every parameter) to these tensors. */
    public List<Layer> bindTower(List<LayerSpec> specs, int tower) {
        checkShapes(specs, 2);
        return bind(specs, 2, tower);
    }

    /** Tower {@code tower}'s segments with its slice of every parameter (views: output-channel rows). */
    public List<List<Layer>> towerSegments(AlexNetSpec spec, int tower) {
        checkClasses(spec);
        List<List<Layer>> out = new ArrayList<>();
        for (List<LayerSpec> seg : spec.towerSegments(tower)) out.add(bind(seg, 2, tower));
        return out;
    }

    /** Refuses layer specs whose parameters are not these tensors' (e.g. the paper's layers over torchvision's weights). */
    private void checkShapes(List<LayerSpec> specs, int split) {
        for (LayerSpec s : specs) {
            int[] ws = s.weightShape();
            if (ws == null) continue;
            int[] have = get(s.name() + ".weight").shape().clone();
            have[0] /= split;
            if (!Arrays.equals(ws, have)) {
                throw new IllegalArgumentException(s.name() + " wants weights " + Arrays.toString(ws) + " but the weights (" + origin + ", "
                        + arch.cliName() + " AlexNet) hold " + Arrays.toString(have) + (split == 2 ? " per tower" : ""));
            }
        }
    }

    private List<Layer> bind(List<LayerSpec> specs, int split, int tower) {
        List<Layer> layers = new ArrayList<>();
        for (LayerSpec s : specs) {
            if (s.weightShape() != null) {
                Tensor w = get(s.name() + ".weight"), b = get(s.name() + ".bias");
                int rows = w.dim(0) / split;
                layers.add(new Layer(s, w.slice(tower * rows, (tower + 1) * rows), b.slice(tower * rows, (tower + 1) * rows)));
            } else {
                layers.add(Layer.of(s));
            }
        }
        return layers;
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
    }
}
