"""Rules in plain Python: tested without a browser."""
