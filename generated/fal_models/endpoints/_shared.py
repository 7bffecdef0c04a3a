"""Models used by more than one endpoint, defined once (private: import them from the
endpoint modules, which import the ones they use under the same names)."""

from __future__ import annotations

from fal_models._runtime import FalModel, FileModel
from pydantic import ConfigDict, Field
from typing import Annotated


class Image(FileModel):
    model_config = ConfigDict(
        extra="allow",
        use_attribute_docstrings=True,
    )
    url: str
    width: int
    height: int
    content_type: str | None = "image/jpeg"


class ImageFile(FileModel):
    model_config = ConfigDict(
        extra="allow",
        use_attribute_docstrings=True,
    )
    url: str
    """The URL where the file can be downloaded from."""
    content_type: str | None = None
    """The mime type of the file."""
    file_name: str | None = None
    """The name of the file. It will be auto-generated if not provided."""
    file_size: int | None = None
    """The size of the file in bytes."""
    file_data: bytes | None = None
    """File data"""
    width: int | None = None
    """The width of the image"""
    height: int | None = None
    """The height of the image"""


class ImageSize(FalModel):
    model_config = ConfigDict(
        use_attribute_docstrings=True,
    )
    width: Annotated[int | None, Field(gt=0, le=14142)] = 512
    """The width of the generated image."""
    height: Annotated[int | None, Field(gt=0, le=14142)] = 512
    """The height of the generated image."""
