# Breadth-first search from crossing n, so the way is built from 1 forwards.
n, m, *rest = $stdin.read.split.map(&:to_i)
adjacent = Array.new(n + 1) { [] }
m.times do |i|
  u, v = rest[2 * i], rest[2 * i + 1]
  adjacent[u] << v
  adjacent[v] << u
end
toward = Array.new(n + 1, 0)
toward[n] = -1
queue = [n]
until queue.empty?
  u = queue.shift
  adjacent[u].each do |v|
    next unless toward[v].zero?
    toward[v] = u
    queue << v
  end
end
if toward[1].zero?
  puts(-1)
else
  path = [1]
  path << toward[path.last] while path.last != n
  puts path.size
  puts path.join(" ")
end
