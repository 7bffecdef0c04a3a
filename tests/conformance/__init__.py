"""fal's official client against the local server."""
