package dev.alexnet.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.cli.TrainedLabels;
import dev.alexnet.model.io.Safetensors;
import dev.alexnet.model.io.WeightFileException;
import dev.alexnet.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A training run's checkpoint: one safetensors file ({@code RUN_DIR/checkpoint.safetensors}) holding the
 * parameters under their PyTorch names, the momentum under {@code momentum.<name>}, and in its metadata
 * the {@link State} (epoch, position in the epoch, learning rate, schedule, seed) and the class names.
 * Every random draw of a run is a function of the seed and the position (shuffle order, augmentation,
 * dropout masks), so the state is enough to continue bit for bit.
 *
 * <p>Written to a temporary file in the same directory, then renamed over the previous one: a crash
 * leaves the old checkpoint or the new one, never half of one.
 */
public final class Checkpoint {
    public static final String FILE = "checkpoint.safetensors";
    private static final String MOMENTUM = "momentum.";
    private static final String STATE_KEY = "alexnet.train.state";
    private static final String CLASSES_KEY = TrainedLabels.CLASSES_KEY;
    private static final ObjectMapper JSON = new ObjectMapper();

    private Checkpoint() {}

    /**
     * Where a run stands.
     *
     * @param epoch        the epoch in progress (0-based)
     * @param batchInEpoch batches of that epoch already trained
     * @param step         optimizer steps so far (the dropout seed of step s is derived from it)
     * @param lr           the current learning rate
     * @param bestValError the best validation top-1 error so far (1.0 before the first)
     * @param lrDrops      learning-rate drops so far
     * @param seed         the run's seed
     */
    public record State(int epoch, int batchInEpoch, long step, float lr, double bestValError, int lrDrops, long seed) {}

    public static void write(Path runDir, Parameters p, State state, List<String> classNames) throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>(p.values().tensors());
        for (var e : p.momentum().entrySet()) tensors.put(MOMENTUM + e.getKey(), e.getValue());
        Safetensors.write(runDir.resolve(FILE), tensors, metadata(state, classNames));
    }

    /** Writes the parameters alone, PyTorch names, with the class names in the metadata. */
    public static void writeWeights(Path file, AlexNetWeights w, List<String> classNames, Map<String, String> extra) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>(extra);
        meta.put(CLASSES_KEY, json(classNames));
        w.save(file, meta);
    }

    private static Map<String, String> metadata(State s, List<String> classNames) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("format", "pt");
        m.put(STATE_KEY, json(s));
        m.put(CLASSES_KEY, json(classNames));
        return m;
    }

    private static String json(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A checkpoint read back: parameters with their momentum, the state and the class names. */
    public record Loaded(Parameters params, State state, List<String> classNames) {}

    public static Loaded read(Path runDir) {
        Path file = runDir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("no checkpoint in " + runDir + " (expected " + FILE + "): give --resume the RUN_DIR of an earlier train run");
        }
        Map<String, String> meta = Safetensors.metadata(file);
        String stateJson = meta.get(STATE_KEY);
        if (stateJson == null) throw new WeightFileException(file + " is not a training checkpoint (no " + STATE_KEY + " in its metadata)");
        State state;
        List<String> names;
        try {
            state = JSON.readValue(stateJson, State.class);
            names = Arrays.asList(JSON.readValue(meta.getOrDefault(CLASSES_KEY, "[]"), String[].class));
        } catch (IOException e) {
            throw new WeightFileException(file + ": unreadable training state in the metadata (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        try (AlexNetWeights w = AlexNetWeights.load(file); Arena arena = Arena.ofConfined()) {
            Parameters p = new Parameters(w);
            try {
                Map<String, Tensor> all = Safetensors.read(file, arena);
                for (var e : p.momentum().entrySet()) {
                    Tensor m = all.get(MOMENTUM + e.getKey());
                    if (m == null || !Arrays.equals(m.shape(), e.getValue().shape())) {
                        throw new WeightFileException(file + ": momentum of '" + e.getKey() + "' is missing or has the wrong shape");
                    }
                    e.getValue().copyFrom(m);
                }
            } catch (RuntimeException e) {
                p.close();
                throw e;
            }
            return new Loaded(p, state, names);
        }
    }
}
