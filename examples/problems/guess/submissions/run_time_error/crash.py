print(500, flush=True)
answer = input()
raise SystemExit(f"giving up after {answer!r}")
