package dev.alexnet.model.cli;

/**
 * Lets modules built on top of the model (the benchmark runner in {@code bench}) add subcommands to
 * {@code bin/alexnet} without the model depending on them: implementations are listed in
 * {@code META-INF/services/dev.alexnet.model.cli.SubcommandProvider} and found with ServiceLoader.
 */
public interface SubcommandProvider {
    /** The subcommand's name, e.g. {@code compare}. */
    String name();

    /** A picocli command object (annotated with {@code @Command}). */
    Object command();
}
