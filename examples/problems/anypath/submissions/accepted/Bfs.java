import java.io.DataInputStream;
import java.io.IOException;
import java.util.ArrayDeque;

public class Bfs {
    private static final DataInputStream IN = new DataInputStream(System.in);

    private static int readInt() throws IOException {
        int c = IN.read();
        while (c == ' ' || c == '\n' || c == '\r') c = IN.read();
        int x = 0;
        while (c >= '0' && c <= '9') {
            x = x * 10 + (c - '0');
            c = IN.read();
        }
        return x;
    }

    public static void main(String[] args) throws IOException {
        int n = readInt(), m = readInt();
        int[] head = new int[n + 1], next = new int[2 * m], to = new int[2 * m];
        java.util.Arrays.fill(head, -1);
        for (int i = 0; i < m; i++) {
            int u = readInt(), v = readInt();
            to[2 * i] = v; next[2 * i] = head[u]; head[u] = 2 * i;
            to[2 * i + 1] = u; next[2 * i + 1] = head[v]; head[v] = 2 * i + 1;
        }
        int[] previous = new int[n + 1];
        previous[1] = -1;
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        queue.add(1);
        while (!queue.isEmpty()) {
            int u = queue.poll();
            for (int e = head[u]; e != -1; e = next[e]) {
                if (previous[to[e]] == 0) {
                    previous[to[e]] = u;
                    queue.add(to[e]);
                }
            }
        }
        if (previous[n] == 0) {
            System.out.println(-1);
            return;
        }
        StringBuilder out = new StringBuilder();
        java.util.ArrayList<Integer> path = new java.util.ArrayList<>();
        for (int u = n; u != -1; u = previous[u]) path.add(u);
        out.append(path.size()).append('\n');
        for (int i = path.size() - 1; i >= 0; i--) {
            out.append(path.get(i)).append(i > 0 ? ' ' : '\n');
        }
        System.out.print(out);
    }
}
