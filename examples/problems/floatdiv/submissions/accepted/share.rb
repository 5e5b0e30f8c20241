t, *rest = $stdin.read.split.map(&:to_i)
puts (0...t).map { |i| format("%.10g", rest[2 * i].fdiv(rest[2 * i + 1])) }
