"""The only modules that build select() statements."""
