package dev.alexnet.bench;

import dev.alexnet.model.cli.SubcommandProvider;

/** Adds {@code peak} to {@code bin/alexnet} (listed in META-INF/services). */
public final class PeakProvider implements SubcommandProvider {
    @Override public String name() { return "peak"; }
    @Override public Object command() { return new PeakCommand(); }
}
