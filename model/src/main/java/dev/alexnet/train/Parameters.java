package dev.alexnet.train;

import dev.alexnet.device.Layer;
import dev.alexnet.device.LayerSpec;
import dev.alexnet.device.TrainLayer;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.tensor.Tensor;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parameter store of a training run: the values (PyTorch names and layouts, in memory this store
 * owns), their gradients and the optimizer's momentum, one tensor of each per parameter. Devices read
 * the values and write the gradients through views ({@link TrainLayer}); the optimizer changes values
 * and momentum in place between steps. A tower's layers are views of the output-channel halves.
 */
public final class Parameters implements AutoCloseable {
    private final AlexNetWeights values;
    private final Arena arena = Arena.ofShared();
    private final Map<String, Tensor> grads = new LinkedHashMap<>();
    private final Map<String, Tensor> momentum = new LinkedHashMap<>();

    /** Takes a copy of {@code initial}: the store never writes to the caller's tensors (or to a file). */
    public Parameters(AlexNetWeights initial) {
        this.values = AlexNetWeights.copyOf(initial);
        for (var e : values.tensors().entrySet()) {
            grads.put(e.getKey(), zeros(e.getValue().shape()));
            momentum.put(e.getKey(), zeros(e.getValue().shape()));
        }
    }

    private Tensor zeros(int[] shape) {
        Tensor t = Tensor.allocate(arena, shape);
        t.data().fill((byte) 0);
        return t;
    }

    public AlexNetWeights values() { return values; }
    public int classes() { return values.classes(); }
    public Map<String, Tensor> grads() { return Collections.unmodifiableMap(grads); }
    public Map<String, Tensor> momentum() { return Collections.unmodifiableMap(momentum); }

    /** The whole network's training layers bound to the values and gradients. */
    public List<TrainLayer> bind(List<LayerSpec> specs) {
        return bind(specs, 1, 0);
    }

    /** One tower's training layers: every parameter's output-channel half {@code tower} (0 or 1). */
    public List<TrainLayer> bindTower(List<LayerSpec> specs, int tower) {
        return bind(specs, 2, tower);
    }

    private List<TrainLayer> bind(List<LayerSpec> specs, int split, int tower) {
        List<TrainLayer> out = new ArrayList<>();
        for (LayerSpec s : specs) {
            if (s.weightShape() == null) {
                out.add(TrainLayer.of(s));
                continue;
            }
            String w = s.name() + ".weight", b = s.name() + ".bias";
            out.add(new TrainLayer(new Layer(s, half(values.get(w), split, tower), half(values.get(b), split, tower)),
                    half(grads.get(w), split, tower), half(grads.get(b), split, tower)));
        }
        return out;
    }

    private static Tensor half(Tensor t, int split, int tower) {
        int rows = t.dim(0) / split;
        return split == 1 ? t : t.slice(tower * rows, (tower + 1) * rows);
    }

    /** Checks that a network spec matches these parameters (fc8's classes). */
    public void check(AlexNetSpec spec) {
        if (spec.classes() != classes()) {
            throw new IllegalArgumentException("the network has " + spec.classes() + " classes but the parameters have " + classes());
        }
    }

    @Override
    public void close() {
        values.close();
        if (arena.scope().isAlive()) arena.close();
    }
}
