import java.util.Scanner;

public class Steps {
    public static void main(String[] args) {
        Scanner in = new Scanner(System.in);
        long n = in.nextLong(), k = in.nextLong();
        System.out.println(2 * n * k);
    }
}
