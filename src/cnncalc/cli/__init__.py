"""One module per command (or family of commands); each registers on cli.app."""
