package dev.alexnet.bench;

import dev.alexnet.model.cli.SubcommandProvider;

/** Adds {@code compare} to {@code bin/alexnet} (listed in META-INF/services). */
public final class CompareProvider implements SubcommandProvider {
    @Override public String name() { return "compare"; }
    @Override public Object command() { return new CompareCommand(); }
}
