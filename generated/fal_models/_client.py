"""The clients: one attribute per endpoint, each loaded on first use."""

from __future__ import annotations

import functools as _functools
import typing as _t

from . import _runtime as _rt

if _t.TYPE_CHECKING:
    from .endpoints import f_lite_standard as _f_lite_standard
    from .endpoints import fast_lcm_diffusion as _fast_lcm_diffusion
    from .endpoints import flux_1_schnell as _flux_1_schnell
    from .endpoints import hidream_i1_fast as _hidream_i1_fast
    from .endpoints import hidream_i1_full as _hidream_i1_full
    from .endpoints import ideogram_v2 as _ideogram_v2
    from .endpoints import imagen4_preview as _imagen4_preview
    from .endpoints import imagen4_preview_fast as _imagen4_preview_fast
    from .endpoints import omnigen_v2 as _omnigen_v2
    from .endpoints import recraft_v2_text_to_image as _recraft_v2_text_to_image
    from .endpoints import stable_cascade as _stable_cascade
    from .endpoints import (
        stable_cascade_sote_diffusion as _stable_cascade_sote_diffusion,
    )
    from .endpoints import stable_diffusion_v35_large as _stable_diffusion_v35_large


class FalClient(_rt.SyncClient):
    """Synchronous client for 13 fal endpoints.

    The API key comes from ``key=...``, ``FAL_KEY``, or ``FAL_KEY_ID`` + ``FAL_KEY_SECRET``.
    """

    @_functools.cached_property
    def f_lite_standard(self) -> _f_lite_standard.FLiteStandard:
        """fal-ai/f-lite/standard"""
        from .endpoints.f_lite_standard import FLiteStandard

        return FLiteStandard(self)

    @_functools.cached_property
    def fast_lcm_diffusion(self) -> _fast_lcm_diffusion.FastLcmDiffusion:
        """fal-ai/fast-lcm-diffusion"""
        from .endpoints.fast_lcm_diffusion import FastLcmDiffusion

        return FastLcmDiffusion(self)

    @_functools.cached_property
    def flux_1_schnell(self) -> _flux_1_schnell.Flux1Schnell:
        """fal-ai/flux-1/schnell: FLUX.1 [schnell], turbo mode for next generation text-to-image model FLUX."""
        from .endpoints.flux_1_schnell import Flux1Schnell

        return Flux1Schnell(self)

    @_functools.cached_property
    def hidream_i1_fast(self) -> _hidream_i1_fast.HidreamI1Fast:
        """fal-ai/hidream-i1-fast"""
        from .endpoints.hidream_i1_fast import HidreamI1Fast

        return HidreamI1Fast(self)

    @_functools.cached_property
    def hidream_i1_full(self) -> _hidream_i1_full.HidreamI1Full:
        """fal-ai/hidream-i1-full"""
        from .endpoints.hidream_i1_full import HidreamI1Full

        return HidreamI1Full(self)

    @_functools.cached_property
    def ideogram_v2(self) -> _ideogram_v2.IdeogramV2:
        """fal-ai/ideogram/v2: Ideogram's state-of-the-art image generation model. Can be used as an API directly from fal."""
        from .endpoints.ideogram_v2 import IdeogramV2

        return IdeogramV2(self)

    @_functools.cached_property
    def imagen4_preview(self) -> _imagen4_preview.Imagen4Preview:
        """fal-ai/imagen4/preview: Generate images using Google's Imagen 4 model. Imagen 4 is designed to generate high-quality images with enhanced detail, richer lighting, and fewer artifacts. The model excels at: Capturing fine details and textures; Rendering diverse art styles from photorealism to animation; Understanding natural language prompts; Maintaining high visual quality and composition."""
        from .endpoints.imagen4_preview import Imagen4Preview

        return Imagen4Preview(self)

    @_functools.cached_property
    def imagen4_preview_fast(self) -> _imagen4_preview_fast.Imagen4PreviewFast:
        """fal-ai/imagen4/preview/fast: Generate images using Google's Imagen 4 Fast model."""
        from .endpoints.imagen4_preview_fast import Imagen4PreviewFast

        return Imagen4PreviewFast(self)

    @_functools.cached_property
    def omnigen_v2(self) -> _omnigen_v2.OmnigenV2:
        """fal-ai/omnigen-v2"""
        from .endpoints.omnigen_v2 import OmnigenV2

        return OmnigenV2(self)

    @_functools.cached_property
    def recraft_v2_text_to_image(
        self,
    ) -> _recraft_v2_text_to_image.RecraftV2TextToImage:
        """fal-ai/recraft/v2/text-to-image"""
        from .endpoints.recraft_v2_text_to_image import RecraftV2TextToImage

        return RecraftV2TextToImage(self)

    @_functools.cached_property
    def stable_cascade(self) -> _stable_cascade.StableCascade:
        """fal-ai/stable-cascade"""
        from .endpoints.stable_cascade import StableCascade

        return StableCascade(self)

    @_functools.cached_property
    def stable_cascade_sote_diffusion(
        self,
    ) -> _stable_cascade_sote_diffusion.StableCascadeSoteDiffusion:
        """fal-ai/stable-cascade/sote-diffusion: Anime finetune of Würstchen V3."""
        from .endpoints.stable_cascade_sote_diffusion import StableCascadeSoteDiffusion

        return StableCascadeSoteDiffusion(self)

    @_functools.cached_property
    def stable_diffusion_v35_large(
        self,
    ) -> _stable_diffusion_v35_large.StableDiffusionV35Large:
        """fal-ai/stable-diffusion-v35-large"""
        from .endpoints.stable_diffusion_v35_large import StableDiffusionV35Large

        return StableDiffusionV35Large(self)


class AsyncFalClient(_rt.AsyncClient):
    """Asynchronous client for 13 fal endpoints.

    The API key comes from ``key=...``, ``FAL_KEY``, or ``FAL_KEY_ID`` + ``FAL_KEY_SECRET``.
    """

    @_functools.cached_property
    def f_lite_standard(self) -> _f_lite_standard.AsyncFLiteStandard:
        """fal-ai/f-lite/standard"""
        from .endpoints.f_lite_standard import AsyncFLiteStandard

        return AsyncFLiteStandard(self)

    @_functools.cached_property
    def fast_lcm_diffusion(self) -> _fast_lcm_diffusion.AsyncFastLcmDiffusion:
        """fal-ai/fast-lcm-diffusion"""
        from .endpoints.fast_lcm_diffusion import AsyncFastLcmDiffusion

        return AsyncFastLcmDiffusion(self)

    @_functools.cached_property
    def flux_1_schnell(self) -> _flux_1_schnell.AsyncFlux1Schnell:
        """fal-ai/flux-1/schnell: FLUX.1 [schnell], turbo mode for next generation text-to-image model FLUX."""
        from .endpoints.flux_1_schnell import AsyncFlux1Schnell

        return AsyncFlux1Schnell(self)

    @_functools.cached_property
    def hidream_i1_fast(self) -> _hidream_i1_fast.AsyncHidreamI1Fast:
        """fal-ai/hidream-i1-fast"""
        from .endpoints.hidream_i1_fast import AsyncHidreamI1Fast

        return AsyncHidreamI1Fast(self)

    @_functools.cached_property
    def hidream_i1_full(self) -> _hidream_i1_full.AsyncHidreamI1Full:
        """fal-ai/hidream-i1-full"""
        from .endpoints.hidream_i1_full import AsyncHidreamI1Full

        return AsyncHidreamI1Full(self)

    @_functools.cached_property
    def ideogram_v2(self) -> _ideogram_v2.AsyncIdeogramV2:
        """fal-ai/ideogram/v2: Ideogram's state-of-the-art image generation model. Can be used as an API directly from fal."""
        from .endpoints.ideogram_v2 import AsyncIdeogramV2

        return AsyncIdeogramV2(self)

    @_functools.cached_property
    def imagen4_preview(self) -> _imagen4_preview.AsyncImagen4Preview:
        """fal-ai/imagen4/preview: Generate images using Google's Imagen 4 model. Imagen 4 is designed to generate high-quality images with enhanced detail, richer lighting, and fewer artifacts. The model excels at: Capturing fine details and textures; Rendering diverse art styles from photorealism to animation; Understanding natural language prompts; Maintaining high visual quality and composition."""
        from .endpoints.imagen4_preview import AsyncImagen4Preview

        return AsyncImagen4Preview(self)

    @_functools.cached_property
    def imagen4_preview_fast(self) -> _imagen4_preview_fast.AsyncImagen4PreviewFast:
        """fal-ai/imagen4/preview/fast: Generate images using Google's Imagen 4 Fast model."""
        from .endpoints.imagen4_preview_fast import AsyncImagen4PreviewFast

        return AsyncImagen4PreviewFast(self)

    @_functools.cached_property
    def omnigen_v2(self) -> _omnigen_v2.AsyncOmnigenV2:
        """fal-ai/omnigen-v2"""
        from .endpoints.omnigen_v2 import AsyncOmnigenV2

        return AsyncOmnigenV2(self)

    @_functools.cached_property
    def recraft_v2_text_to_image(
        self,
    ) -> _recraft_v2_text_to_image.AsyncRecraftV2TextToImage:
        """fal-ai/recraft/v2/text-to-image"""
        from .endpoints.recraft_v2_text_to_image import AsyncRecraftV2TextToImage

        return AsyncRecraftV2TextToImage(self)

    @_functools.cached_property
    def stable_cascade(self) -> _stable_cascade.AsyncStableCascade:
        """fal-ai/stable-cascade"""
        from .endpoints.stable_cascade import AsyncStableCascade

        return AsyncStableCascade(self)

    @_functools.cached_property
    def stable_cascade_sote_diffusion(
        self,
    ) -> _stable_cascade_sote_diffusion.AsyncStableCascadeSoteDiffusion:
        """fal-ai/stable-cascade/sote-diffusion: Anime finetune of Würstchen V3."""
        from .endpoints.stable_cascade_sote_diffusion import (
            AsyncStableCascadeSoteDiffusion,
        )

        return AsyncStableCascadeSoteDiffusion(self)

    @_functools.cached_property
    def stable_diffusion_v35_large(
        self,
    ) -> _stable_diffusion_v35_large.AsyncStableDiffusionV35Large:
        """fal-ai/stable-diffusion-v35-large"""
        from .endpoints.stable_diffusion_v35_large import AsyncStableDiffusionV35Large

        return AsyncStableDiffusionV35Large(self)
