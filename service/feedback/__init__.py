"""Feedback: the per-group visibility policy and the one filter that applies it.

``policy`` (pure) says which level each test group is at, and when; ``disclosure`` turns a
submission's full data into what one viewer sees; ``queries`` reads what both depend on.
"""
