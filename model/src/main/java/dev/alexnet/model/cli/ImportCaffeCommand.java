package dev.alexnet.model.cli;

import dev.alexnet.model.caffe.CaffeImport;
import dev.alexnet.model.caffe.MeanImage;
import dev.alexnet.model.io.AtomicFiles;
import dev.alexnet.model.io.Safetensors;
import dev.alexnet.model.io.WeightFileException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "import-caffe", mixinStandardHelpOptions = true,
        description = {"Converts Caffe's bvlc_alexnet.caffemodel (the paper's network, trained) to safetensors with PyTorch names.",
                "conv1's input channels are reversed (Caffe reads BGR), the LRN constants the weights were trained with are kept in the metadata, "
                        + "and with --mean classify then prepares images as Caffe did: resize to 256x256, subtract the mean image, centre crop, 0-255 scale."})
final class ImportCaffeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "FILE", description = "bvlc_alexnet.caffemodel (the BVLC model zoo)")
    Path model;

    @Option(names = "--mean", paramLabel = "FILE", description = "imagenet_mean.binaryproto (Caffe's ilsvrc12 data); without it classify subtracts per-channel means")
    Path mean;

    @Option(names = "--output", required = true, paramLabel = "FILE", description = "the safetensors file to write")
    Path output;

    @Override
    public Integer call() throws Exception {
        // the cheap checks before 233 MB are read
        for (Path p : mean == null ? new Path[] {model} : new Path[] {model, mean}) {
            String opt = p == model ? "--model" : "--mean";
            if (!Files.exists(p)) throw new IllegalArgumentException(opt + " " + p + ": no such file");
            if (Files.isDirectory(p)) throw new IllegalArgumentException(opt + " " + p + " is a directory, expected a file");
            if (!Files.isReadable(p)) throw new IllegalArgumentException(opt + " " + p + ": permission denied");
        }
        AtomicFiles.checkWritable(output, "--output");
        MeanImage m = mean == null ? null : MeanImage.read(mean); // small: a malformed mean file fails before the model is read
        if (m != null && (m.height() < 227 || m.width() < 227)) {
            throw new WeightFileException(mean + ": the mean image is " + m.height() + " x " + m.width() + ", smaller than the network's 227 x 227 input");
        }
        try (Arena arena = Arena.ofShared()) {
            CaffeImport.Converted c = CaffeImport.convert(model, arena);
            Safetensors.write(output, c.tensors(), c.metadata(model, m));
            long params = c.tensors().values().stream().mapToLong(t -> t.size()).sum();
            System.out.printf("wrote %s: %d tensors, %,d parameters from %s (%s layers), %d classes; conv1 reads RGB; LRN %s%n",
                    output, c.tensors().size(), params, model.getFileName(), c.legacyLayers() ? "legacy V1" : "current", c.classes(),
                    c.metadata(model, null).get("lrn"));
            System.out.println(m != null ? "preprocessing: resize to " + m.width() + "x" + m.height() + ", subtract the mean image, centre crop (Caffe's)"
                    : "preprocessing: no --mean, so classify subtracts per-channel ImageNet means after scaling the shorter side to 256");
        }
        return 0;
    }
}
