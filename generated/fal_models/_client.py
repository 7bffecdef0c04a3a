"""The clients: one attribute per endpoint, each loaded on first use."""

from __future__ import annotations

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
    "stable_diffusion_v35_large": (
        "stable_diffusion_v35_large",
        "StableDiffusionV35Large",
    ),
}


class FalClient(_rt.SyncClient):
    """Synchronous client for 13 fal endpoints.

    The API key comes from ``key=...``, ``FAL_KEY``, or ``FAL_KEY_ID`` + ``FAL_KEY_SECRET``.
    """

    _endpoints = _ENDPOINTS
    _flavour = ""

    if _t.TYPE_CHECKING:
        f_lite_standard: _f_lite_standard.FLiteStandard
        """fal-ai/f-lite/standard"""
        fast_lcm_diffusion: _fast_lcm_diffusion.FastLcmDiffusion
        """fal-ai/fast-lcm-diffusion"""
        flux_1_schnell: _flux_1_schnell.Flux1Schnell
        """fal-ai/flux-1/schnell: FLUX.1 [schnell], turbo mode for next generation text-to-image model FLUX."""
        hidream_i1_fast: _hidream_i1_fast.HidreamI1Fast
        """fal-ai/hidream-i1-fast"""
        hidream_i1_full: _hidream_i1_full.HidreamI1Full
        """fal-ai/hidream-i1-full"""
        ideogram_v2: _ideogram_v2.IdeogramV2
        """fal-ai/ideogram/v2: Ideogram's state-of-the-art image generation model. Can be used as an API directly from fal."""
        imagen4_preview: _imagen4_preview.Imagen4Preview
        """fal-ai/imagen4/preview: Generate images using Google's Imagen 4 model. Imagen 4 is designed to generate high-quality images with enhanced detail, richer lighting, and fewer artifacts. The model excels at: Capturing fine details and textures; Rendering diverse art styles from photorealism to animation; Understanding natural language prompts; Maintaining high visual quality and composition."""
        imagen4_preview_fast: _imagen4_preview_fast.Imagen4PreviewFast
        """fal-ai/imagen4/preview/fast: Generate images using Google's Imagen 4 Fast model."""
        omnigen_v2: _omnigen_v2.OmnigenV2
        """fal-ai/omnigen-v2"""
        recraft_v2_text_to_image: _recraft_v2_text_to_image.RecraftV2TextToImage
        """fal-ai/recraft/v2/text-to-image"""
        stable_cascade: _stable_cascade.StableCascade
        """fal-ai/stable-cascade"""
        stable_cascade_sote_diffusion: (
            _stable_cascade_sote_diffusion.StableCascadeSoteDiffusion
        )
        """fal-ai/stable-cascade/sote-diffusion: Anime finetune of Würstchen V3."""
        stable_diffusion_v35_large: _stable_diffusion_v35_large.StableDiffusionV35Large
        """fal-ai/stable-diffusion-v35-large"""


class AsyncFalClient(_rt.AsyncClient):
    """Asynchronous client for 13 fal endpoints.

    The API key comes from ``key=...``, ``FAL_KEY``, or ``FAL_KEY_ID`` + ``FAL_KEY_SECRET``.
    """

    _endpoints = _ENDPOINTS
    _flavour = "Async"

    if _t.TYPE_CHECKING:
        f_lite_standard: _f_lite_standard.AsyncFLiteStandard
        """fal-ai/f-lite/standard"""
        fast_lcm_diffusion: _fast_lcm_diffusion.AsyncFastLcmDiffusion
        """fal-ai/fast-lcm-diffusion"""
        flux_1_schnell: _flux_1_schnell.AsyncFlux1Schnell
        """fal-ai/flux-1/schnell: FLUX.1 [schnell], turbo mode for next generation text-to-image model FLUX."""
        hidream_i1_fast: _hidream_i1_fast.AsyncHidreamI1Fast
        """fal-ai/hidream-i1-fast"""
        hidream_i1_full: _hidream_i1_full.AsyncHidreamI1Full
        """fal-ai/hidream-i1-full"""
        ideogram_v2: _ideogram_v2.AsyncIdeogramV2
        """fal-ai/ideogram/v2: Ideogram's state-of-the-art image generation model. Can be used as an API directly from fal."""
        imagen4_preview: _imagen4_preview.AsyncImagen4Preview
        """fal-ai/imagen4/preview: Generate images using Google's Imagen 4 model. Imagen 4 is designed to generate high-quality images with enhanced detail, richer lighting, and fewer artifacts. The model excels at: Capturing fine details and textures; Rendering diverse art styles from photorealism to animation; Understanding natural language prompts; Maintaining high visual quality and composition."""
        imagen4_preview_fast: _imagen4_preview_fast.AsyncImagen4PreviewFast
        """fal-ai/imagen4/preview/fast: Generate images using Google's Imagen 4 Fast model."""
        omnigen_v2: _omnigen_v2.AsyncOmnigenV2
        """fal-ai/omnigen-v2"""
        recraft_v2_text_to_image: _recraft_v2_text_to_image.AsyncRecraftV2TextToImage
        """fal-ai/recraft/v2/text-to-image"""
        stable_cascade: _stable_cascade.AsyncStableCascade
        """fal-ai/stable-cascade"""
        stable_cascade_sote_diffusion: (
            _stable_cascade_sote_diffusion.AsyncStableCascadeSoteDiffusion
        )
        """fal-ai/stable-cascade/sote-diffusion: Anime finetune of Würstchen V3."""
        stable_diffusion_v35_large: (
            _stable_diffusion_v35_large.AsyncStableDiffusionV35Large
        )
        """fal-ai/stable-diffusion-v35-large"""
