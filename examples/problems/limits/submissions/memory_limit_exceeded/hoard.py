# Builds 1 GiB of bytes, a MiB at a time: four times the memory limit.
blocks = [bytes([i % 256]) * (1 << 20) for i in range(1024)]
print(len(blocks))
