"""HTTP and websocket routes, one module per fal host."""
