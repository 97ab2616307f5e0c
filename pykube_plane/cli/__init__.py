"""The `kplane` command."""
