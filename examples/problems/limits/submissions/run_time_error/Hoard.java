// Allocates far beyond the 256 MiB limit: the JVM throws OutOfMemoryError (a run-time error)
// or the sandbox stops it for memory; both are accepted in run_time_error.
import java.util.ArrayList;

public class Hoard {
    public static void main(String[] args) {
        ArrayList<long[]> blocks = new ArrayList<>();
        for (int i = 0; i < 1024; i++) {
            long[] block = new long[1 << 17];  // 1 MiB
            java.util.Arrays.fill(block, i);
            blocks.add(block);
        }
        System.out.println(blocks.size());
    }
}
