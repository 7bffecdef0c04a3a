"""The clients: one attribute per endpoint, each loaded on first use."""

from __future__ import annotations

import typing as _t

from . import _runtime as _rt

if _t.TYPE_CHECKING:
    from .endpoints.f_lite_standard import AsyncFLiteStandard, FLiteStandard
    from .endpoints.fast_lcm_diffusion import AsyncFastLcmDiffusion, FastLcmDiffusion
    from .endpoints.flux_1_schnell import AsyncFlux1Schnell, Flux1Schnell
    from .endpoints.hidream_i1_fast import AsyncHidreamI1Fast, HidreamI1Fast
    from .endpoints.hidream_i1_full import AsyncHidreamI1Full, HidreamI1Full
    from .endpoints.ideogram_v2 import AsyncIdeogramV2, IdeogramV2
    from .endpoints.imagen4_preview import AsyncImagen4Preview, Imagen4Preview
    from .endpoints.imagen4_preview_fast import AsyncImagen4PreviewFast, Imagen4PreviewFast
    from .endpoints.omnigen_v2 import AsyncOmnigenV2, OmnigenV2
    from .endpoints.recraft_v2_text_to_image import AsyncRecraftV2TextToImage, RecraftV2TextToImage
    from .endpoints.stable_cascade import AsyncStableCascade, StableCascade
    from .endpoints.stable_cascade_sote_diffusion import (
        AsyncStableCascadeSoteDiffusion,
        StableCascadeSoteDiffusion,
    )
    from .endpoints.stable_diffusion_v35_large import (
        AsyncStableDiffusionV35Large,
        StableDiffusionV35Large,
    )

# Endpoint attribute -> (module, class name): the runtime imports each on first use.
_ENDPOINTS = {
    "f_lite_standard": ("f_lite_standard", "FLiteStandard"),
    "fast_lcm_diffusion": ("fast_lcm_diffusion", "FastLcmDiffusion"),
    "flux_1_schnell": ("flux_1_schnell", "Flux1Schnell"),
    "hidream_i1_fast": ("hidream_i1_fast", "HidreamI1Fast"),
    "hidream_i1_full": ("hidream_i1_full", "HidreamI1Full"),
    "ideogram_v2": ("ideogram_v2", "IdeogramV2"),
    "imagen4_preview": ("imagen4_preview", "Imagen4Preview"),
    "imagen4_preview_fast": ("imagen4_preview_fast", "Imagen4PreviewFast"),
    "omnigen_v2": ("omnigen_v2", "OmnigenV2"),
    "recraft_v2_text_to_image": ("recraft_v2_text_to_image", "RecraftV2TextToImage"),
    "stable_cascade": ("stable_cascade", "StableCascade"),
    "stable_cascade_sote_diffusion": (
        "stable_cascade_sote_diffusion",
        "StableCascadeSoteDiffusion",
    ),
    "stable_diffusion_v35_large": ("stable_diffusion_v35_large", "StableDiffusionV35Large"),
}


class FalClient(_rt.SyncClient):
    """Synchronous client for 13 fal endpoints.

    The API key comes from ``key=...``, ``FAL_KEY``, or ``FAL_KEY_ID`` + ``FAL_KEY_SECRET``.
    """

    _endpoints = _ENDPOINTS
    _flavour = ""

    if _t.TYPE_CHECKING:
        f_lite_standard: FLiteStandard
        """fal-ai/f-lite/standard"""
        fast_lcm_diffusion: FastLcmDiffusion
        """fal-ai/fast-lcm-diffusion"""
        flux_1_schnell: Flux1Schnell
        """fal-ai/flux-1/schnell: FLUX.1 [schnell], turbo mode for next generation text-to-image model FLUX."""
        hidream_i1_fast: HidreamI1Fast
        """fal-ai/hidream-i1-fast"""
        hidream_i1_full: HidreamI1Full
        """fal-ai/hidream-i1-full"""
        ideogram_v2: IdeogramV2
        """fal-ai/ideogram/v2: Ideogram's state-of-the-art image generation model. Can be used as an API directly from fal."""
        imagen4_preview: Imagen4Preview
        """fal-ai/imagen4/preview: Generate images using Google's Imagen 4 model. Imagen 4 is designed to generate high-quality images with enhanced detail, richer lighting, and fewer artifacts. The model excels at: Capturing fine details and textures; Rendering diverse art styles from photorealism to animation; Understanding natural language prompts; Maintaining high visual quality and composition."""
        imagen4_preview_fast: Imagen4PreviewFast
        """fal-ai/imagen4/preview/fast: Generate images using Google's Imagen 4 Fast model."""
        omnigen_v2: OmnigenV2
        """fal-ai/omnigen-v2"""
        recraft_v2_text_to_image: RecraftV2TextToImage
        """fal-ai/recraft/v2/text-to-image"""
        stable_cascade: StableCascade
        """fal-ai/stable-cascade"""
        stable_cascade_sote_diffusion: StableCascadeSoteDiffusion
        """fal-ai/stable-cascade/sote-diffusion: Anime finetune of Würstchen V3."""
        stable_diffusion_v35_large: StableDiffusionV35Large
        """fal-ai/stable-diffusion-v35-large"""


class AsyncFalClient(_rt.AsyncClient):
    """Asynchronous client for 13 fal endpoints.

    The API key comes from ``key=...``, ``FAL_KEY``, or ``FAL_KEY_ID`` + ``FAL_KEY_SECRET``.
    """

    _endpoints = _ENDPOINTS
    _flavour = "Async"

    if _t.TYPE_CHECKING:
        f_lite_standard: AsyncFLiteStandard
        """fal-ai/f-lite/standard"""
        fast_lcm_diffusion: AsyncFastLcmDiffusion
        """fal-ai/fast-lcm-diffusion"""
        flux_1_schnell: AsyncFlux1Schnell
        """fal-ai/flux-1/schnell: FLUX.1 [schnell], turbo mode for next generation text-to-image model FLUX."""
        hidream_i1_fast: AsyncHidreamI1Fast
        """fal-ai/hidream-i1-fast"""
        hidream_i1_full: AsyncHidreamI1Full
        """fal-ai/hidream-i1-full"""
        ideogram_v2: AsyncIdeogramV2
        """fal-ai/ideogram/v2: Ideogram's state-of-the-art image generation model. Can be used as an API directly from fal."""
        imagen4_preview: AsyncImagen4Preview
        """fal-ai/imagen4/preview: Generate images using Google's Imagen 4 model. Imagen 4 is designed to generate high-quality images with enhanced detail, richer lighting, and fewer artifacts. The model excels at: Capturing fine details and textures; Rendering diverse art styles from photorealism to animation; Understanding natural language prompts; Maintaining high visual quality and composition."""
        imagen4_preview_fast: AsyncImagen4PreviewFast
        """fal-ai/imagen4/preview/fast: Generate images using Google's Imagen 4 Fast model."""
        omnigen_v2: AsyncOmnigenV2
        """fal-ai/omnigen-v2"""
        recraft_v2_text_to_image: AsyncRecraftV2TextToImage
        """fal-ai/recraft/v2/text-to-image"""
        stable_cascade: AsyncStableCascade
        """fal-ai/stable-cascade"""
        stable_cascade_sote_diffusion: AsyncStableCascadeSoteDiffusion
        """fal-ai/stable-cascade/sote-diffusion: Anime finetune of Würstchen V3."""
        stable_diffusion_v35_large: AsyncStableDiffusionV35Large
        """fal-ai/stable-diffusion-v35-large"""
