package dev.alexnet.bench;

import dev.alexnet.model.cli.SubcommandProvider;

/** Adds {@code compare-train} to {@code bin/alexnet} (listed in META-INF/services). */
public final class TrainCompareProvider implements SubcommandProvider {
    @Override public String name() { return "compare-train"; }
    @Override public Object command() { return new TrainCompareCommand(); }
}
