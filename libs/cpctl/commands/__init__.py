"""One module per area of the public API; each defines a Typer app or plain commands."""
