"""Verdict: a self-hosted programming judge (Quart web app plus a sandboxed evaluator)."""
