"""Models used by more than one endpoint, defined once."""

from __future__ import annotations

from typing import Annotated
from pydantic import BaseModel, ConfigDict, Field
from fal_models._runtime import FileModel


class Image(FileModel):
    model_config = ConfigDict(
        use_attribute_docstrings=True,
    )
    url: Annotated[str, Field(title="Url")]
    width: Annotated[int, Field(title="Width")]
    height: Annotated[int, Field(title="Height")]
    content_type: Annotated[str | None, Field(title="Content Type")] = "image/jpeg"


class ImageFile(FileModel):
    model_config = ConfigDict(
        use_attribute_docstrings=True,
    )
    url: Annotated[str, Field(title="Url")]
    """
    The URL where the file can be downloaded from.
    """
    content_type: Annotated[str | None, Field(examples=["image/png"], title="Content Type")] = None
    """
    The mime type of the file.
    """
    file_name: Annotated[str | None, Field(examples=["z9RV14K95DvU.png"], title="File Name")] = None
    """
    The name of the file. It will be auto-generated if not provided.
    """
    file_size: Annotated[int | None, Field(examples=[4404019], title="File Size")] = None
    """
    The size of the file in bytes.
    """
    file_data: Annotated[bytes | None, Field(title="File Data")] = None
    """
    File data
    """
    width: Annotated[int | None, Field(title="Width")] = None
    """
    The width of the image
    """
    height: Annotated[int | None, Field(title="Height")] = None
    """
    The height of the image
    """


class ImageSize(BaseModel):
    model_config = ConfigDict(
        use_attribute_docstrings=True,
    )
    width: Annotated[int | None, Field(gt=0, le=14142, title="Width")] = 512
    """
    The width of the generated image.
    """
    height: Annotated[int | None, Field(gt=0, le=14142, title="Height")] = 512
    """
    The height of the generated image.
    """
