def greet
  puts "Hello world!"
