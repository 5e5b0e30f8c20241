"""Subcommands of the `verdict` command line, one module per area."""
