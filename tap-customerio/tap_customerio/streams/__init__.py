"""Stream classes, one module per API domain."""
