import java.util.Scanner;

public class Share {
    public static void main(String[] args) {
        Scanner in = new Scanner(System.in);
        int t = in.nextInt();
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < t; i++) {
            double a = in.nextLong();
            double b = in.nextLong();
            out.append(a / b).append('\n');
        }
        System.out.print(out);
    }
}
