greeting=("Hello" "world!")
echo "${greeting[@]}"
