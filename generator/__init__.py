"""falgen: generate typed Python clients for fal.ai model endpoints from their OpenAPI specs."""

__version__ = "0.1.0"
