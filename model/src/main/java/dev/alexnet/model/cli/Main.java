package dev.alexnet.model.cli;

import dev.alexnet.model.io.WeightFileException;
import dev.alexnet.nativ.NativeLibraryException;
import dev.alexnet.nativ.cuda.CudaUnavailableException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ServiceLoader;

/** {@code bin/alexnet}: forward, classify, export-weights, plus the subcommands other modules provide (compare, peak). */
@Command(name = "alexnet", mixinStandardHelpOptions = true, version = "alexnet-jvm 0.1.0",
        description = "The 2012 AlexNet on the JVM: Vector API kernels, oneDNN and CUDA through FFM, two towers on two devices.",
        subcommands = {ForwardCommand.class, ClassifyCommand.class, ExportWeightsCommand.class, ExportOnnxCommand.class,
                ImportCaffeCommand.class, DevicesCommand.class,
                dev.alexnet.train.cli.TrainCommand.class, dev.alexnet.train.cli.EvaluateCommand.class})
public final class Main {
    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        for (SubcommandProvider p : ServiceLoader.load(SubcommandProvider.class)) cli.addSubcommand(p.name(), p.command());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            boolean userError = e instanceof IllegalArgumentException || e instanceof WeightFileException
                    || e instanceof IllegalStateException || e instanceof UnsupportedOperationException
                    || e instanceof CudaUnavailableException || e instanceof NativeLibraryException;
            // a file that cannot be written or read (full disk, permissions): one line, exit 1, no trace
            boolean fileError = e instanceof IOException || e instanceof UncheckedIOException;
            cmd.getErr().println("error: " + e.getMessage());
            if (!(userError || fileError) || System.getenv("ALEXNET_DEBUG") != null) e.printStackTrace(cmd.getErr());
            return userError ? 2 : 1;
        });
        // a bad option or value: one line naming it and where the usage is, exit 2 (not picocli's whole usage text)
        cli.setParameterExceptionHandler((e, a) -> {
            CommandLine c = e.getCommandLine();
            c.getErr().println("error: " + e.getMessage().strip().replaceAll("\\s*\\R\\s*", " ")
                    + " (see '" + c.getCommandSpec().qualifiedName() + " --help')");
            return CommandLine.ExitCode.USAGE;
        });
        return cli.execute(args);
    }
}
