import sys

data = sys.stdin.buffer.read().split()
numbers = data[1:]
sys.stdout.write(str(sum(map(int, numbers))) + "\n" + "\n".join(x.decode() for x in numbers) + "\n")
