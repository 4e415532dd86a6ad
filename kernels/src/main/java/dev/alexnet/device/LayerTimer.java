package dev.alexnet.device;

/** Receives the wall time of each layer a {@link Program} runs. A device may synchronise to measure it. */
public interface LayerTimer {
    void record(String layer, long nanos);

    /** False for {@link #NONE}: devices skip timing (and any synchronisation it needs). */
    default boolean enabled() { return true; }

    LayerTimer NONE = new LayerTimer() {
        @Override public void record(String layer, long nanos) {}
        @Override public boolean enabled() { return false; }
    };
}
