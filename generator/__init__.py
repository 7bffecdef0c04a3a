"""falgen: generate typed Python clients for fal.ai model endpoints from their OpenAPI specs."""

__version__ = "0.1.0"

from pathlib import Path as _Path

# The templates: inside the package when installed as a wheel, beside it in a source checkout.
TEMPLATES_DIR = next(
    path
    for path in (_Path(__file__).parent / "templates", _Path(__file__).parent.parent / "templates")
    if path.is_dir()
)
