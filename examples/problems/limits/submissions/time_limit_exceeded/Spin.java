public class Spin {
    private static volatile long steps;

    public static void main(String[] args) {
        while (true) {
            steps++;
        }
    }
}
