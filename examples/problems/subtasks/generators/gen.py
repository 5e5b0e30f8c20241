"""Write the test data of `subtasks` (deterministic): python3 generators/gen.py from the package."""

import random
from pathlib import Path

GROUPS = {"g1": (10, 100, 20), "g2": (20000, 10_000, 30), "g3": (20000, 10**12, 50)}


def write(path: Path, numbers: list[int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.with_suffix(".in").write_text(f"{len(numbers)}\n{' '.join(map(str, numbers))}\n")
    path.with_suffix(".ans").write_text(f"{sum(numbers)}\n")


def main() -> None:
    rng = random.Random(8)
    data = Path("data")
    write(data / "sample" / "1", [1, 2, 3])
    for group, (count, largest, points) in GROUPS.items():
        folder = data / "secret" / group
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "test_group.yaml").write_text(f"max_score: {points}\n")
        write(folder / "1-largest", [largest] * count)
        write(folder / "2-random", [rng.randint(0, largest) for _ in range(count)])


if __name__ == "__main__":
    main()
