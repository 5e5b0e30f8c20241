import sys


def main() -> None:
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    numbers = data[1 : n + 1]
    total = sum(map(int, numbers))
    numbers.reverse()
    sys.stdout.buffer.write(str(total).encode() + b"\n" + b"\n".join(numbers) + b"\n")


main()
