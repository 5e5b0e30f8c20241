"""The evaluator core: sandbox, languages, problem packages, checkers and the runner.

Nothing here imports Quart, SQLAlchemy or any other `service` module, so the same code
runs inside the web process, in a remote worker and on the command line.
"""
