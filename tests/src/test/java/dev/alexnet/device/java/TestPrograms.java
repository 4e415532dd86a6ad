package dev.alexnet.device.java;

import dev.alexnet.device.Device;
import dev.alexnet.device.Layer;
import dev.alexnet.device.Program;

import dev.alexnet.kernels.vec.ThreadTeam;

import java.util.List;

/** Test access to the vector program compiler on a team the test holds, so that it can read the team's counters. */
public final class TestPrograms {
    private TestPrograms() {}

    /** What {@code new JavaDevice(team.size(), VECTOR).compile(layers, batch)} builds, on {@code team}. */
    public static Program vector(List<Layer> layers, int batch, ThreadTeam team) {
        return vector(layers, batch, team, JavaDevice.Options.DEFAULT);
    }

    /** As above with the Java device's {@code options}. */
    public static Program vector(List<Layer> layers, int batch, ThreadTeam team, JavaDevice.Options options) {
        Device.checkChain(layers);
        return VectorPrograms.compile(List.copyOf(layers), batch, team, options);
    }
}
