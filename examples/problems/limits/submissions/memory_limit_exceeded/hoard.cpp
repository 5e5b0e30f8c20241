// Fills 1 GiB of vectors, a MiB at a time: four times the memory limit.
#include <iostream>
#include <vector>

int main() {
    std::vector<std::vector<char>> blocks;
    for (int i = 0; i < 1024; i++) blocks.emplace_back(1 << 20, char(i));
    std::cout << blocks.size() << '\n';
}
