import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TagFilter;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;
import org.junit.platform.engine.discovery.ClassSelector;
import org.junit.platform.engine.discovery.DiscoverySelectors;

import java.util.ArrayList;
import java.util.List;

/**
 * Runs the named test classes (gpu-tagged tests excluded) for tools/mutation/run.py. Exit 0: all passed;
 * 1: a test failed (the mutant is killed); 3: none of the classes exists in this tree.
 */
public final class MutationLauncher {
    public static void main(String[] args) {
        List<ClassSelector> selectors = new ArrayList<>();
        for (String name : args) {
            try {
                Class.forName(name, false, MutationLauncher.class.getClassLoader());
                selectors.add(DiscoverySelectors.selectClass(name));
            } catch (ClassNotFoundException e) {
                System.out.println("not in this tree: " + name);
            }
        }
        if (selectors.isEmpty()) System.exit(3);
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectors).filters(TagFilter.excludeTags("gpu")).build();
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        launcher.execute(request, listener);
        TestExecutionSummary s = listener.getSummary();
        System.out.printf("tests %d, failed %d, skipped %d%n", s.getTestsStartedCount(), s.getTotalFailureCount(), s.getTestsSkippedCount());
        for (TestExecutionSummary.Failure f : s.getFailures()) {
            String m = String.valueOf(f.getException().getMessage()).lines().findFirst().orElse("");
            System.out.println("  FAILED " + f.getTestIdentifier().getDisplayName() + ": " + m.substring(0, Math.min(160, m.length())));
        }
        System.exit(s.getTotalFailureCount() == 0 ? 0 : 1);
    }
}
