# Guesses 1, 2, 3, ...: out of guesses long before most numbers.
guess = 0
while True:
    guess += 1
    print(guess, flush=True)
    if input() == "correct":
        break
