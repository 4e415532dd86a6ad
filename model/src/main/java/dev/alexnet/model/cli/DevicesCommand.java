package dev.alexnet.model.cli;

import dev.alexnet.device.DeviceProvider;
import dev.alexnet.model.Devices;
import picocli.CommandLine.Command;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;

/** Lists every registered backend with what it found here, or why it cannot run, without running the network. */
@Command(name = "devices", mixinStandardHelpOptions = true,
        description = "Lists every backend (java, ref, dnnl, cuda, ort ...) with what it found on this machine: CPU features and Vector API "
                + "species, library versions, GPUs, or the reason it is unavailable.")
final class DevicesCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        List<String> first = List.of("java", "ref", "dnnl", "cuda", "ort"); // the rest in class-path order
        List<DeviceProvider> providers = new ArrayList<>(Devices.providers());
        providers.sort(Comparator.comparingInt(p -> first.contains(p.kind()) ? first.indexOf(p.kind()) : first.size()));
        for (DeviceProvider p : providers) {
            DeviceProvider.Description d;
            try {
                d = p.describe();
            } catch (RuntimeException | LinkageError e) { // a provider's bug must not hide the other backends
                d = DeviceProvider.Description.unavailable("describe() failed: " + String.valueOf(e).replaceAll("\\s+", " ").strip());
            }
            System.out.printf("%-5s %s  %s%n", p.kind(), d.available() ? "available  " : "unavailable", p.usage());
            for (String line : d.details()) System.out.println("      " + line);
        }
        return 0;
    }
}
