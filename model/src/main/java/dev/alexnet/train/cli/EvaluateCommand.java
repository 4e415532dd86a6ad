package dev.alexnet.train.cli;

import dev.alexnet.device.java.JavaDevice;
import dev.alexnet.model.AlexNetSpec;
import dev.alexnet.model.AlexNetWeights;
import dev.alexnet.model.Devices;
import dev.alexnet.model.Network;
import dev.alexnet.model.Networks;
import dev.alexnet.train.DataSources;
import dev.alexnet.train.Evaluator;
import dev.alexnet.train.data.Dataset;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "evaluate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Top-1 and top-5 accuracy of trained weights on a labelled set; --ten-crop averages the softmax over the paper's ten crops.")
public final class EvaluateCommand implements Callable<Integer> {
    @Option(names = "--weights", required = true, paramLabel = "FILE", description = "safetensors with PyTorch names (fc8's rows give the classes)") Path weights;
    @Option(names = "--data", required = true, paramLabel = "SET", description = "fashion-mnist (its test set), a directory of class folders (its val/ if present), or X.npy with --labels") String data;
    @Option(names = "--labels", paramLabel = "L.npy") Path labels;
    @Option(names = "--ten-crop", description = "four corners, centre and their reflections, softmax averaged (section 4.1)") boolean tenCrop;
    @Option(names = "--batch", defaultValue = "50") int batch;
    @Option(names = "--max-images", defaultValue = "0", description = "the first N images only (0: all)") int maxImages;
    @Option(names = "--device", paramLabel = "DEV", description = "java:N (default: java:<cores>), ref:1, dnnl:N, cuda:K") String device;
    @Option(names = "--towers", paramLabel = "A,B") String towers;

    @Override
    public Integer call() {
        if (device != null && towers != null) throw new IllegalArgumentException("give --device or --towers, not both");
        if (batch < 1) throw new IllegalArgumentException("--batch must be at least 1");
        String placement = towers != null ? towers : device != null ? device : "java:" + Runtime.getRuntime().availableProcessors();
        try (AlexNetWeights w = AlexNetWeights.load(weights); Dataset ds = DataSources.openForEvaluation(data, labels)) {
            AlexNetSpec spec = AlexNetSpec.PAPER.withClasses(w.classes());
            try (Network net = Networks.open(spec, w, placement, JavaDevice.Kernels.VECTOR, Devices.Precision.FP32)) {
                long t0 = System.nanoTime();
                Evaluator.Result r = Evaluator.evaluate(net, ds, batch, tenCrop, maxImages);
                double s = (System.nanoTime() - t0) / 1e9;
                System.out.printf(Locale.ROOT, "%s on %s (%d images%s, %s): top-1 %.4f  top-5 %.4f  loss %.4f  (%.1f s)%n",
                        weights.getFileName(), data, r.images(), tenCrop ? ", ten crops each" : "", placement, r.top1(), r.top5(), r.loss(), s);
            }
        }
        return 0;
    }
}
