puts "Goodbye World!"
