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
        """F Lite (fal-ai/f-lite/standard, text-to-image): F Lite is a 10B parameter diffusion model created by Fal and Freepik, trained exclusively on copyright-safe and SFW content."""
        fast_lcm_diffusion: FastLcmDiffusion
        """Latent Consistency Models (v1.5/XL) (fal-ai/fast-lcm-diffusion, text-to-image): Run SDXL at the speed of light"""
        flux_1_schnell: Flux1Schnell
        """FLUX.1 [schnell] (fal-ai/flux-1/schnell, text-to-image): Fastest inference in the world for the 12 billion parameter FLUX.1 [schnell] text-to-image model."""
        hidream_i1_fast: HidreamI1Fast
        """Hidream I1 Fast (fal-ai/hidream-i1-fast, text-to-image): HiDream-I1 fast is a new open-source image generative foundation model with 17B parameters that achieves state-of-the-art image generation quality within 16 steps."""
        hidream_i1_full: HidreamI1Full
        """Hidream I1 Full (fal-ai/hidream-i1-full, text-to-image): HiDream-I1 full is a new open-source image generative foundation model with 17B parameters that achieves state-of-the-art image generation quality within seconds."""
        ideogram_v2: IdeogramV2
        """Ideogram V2 (fal-ai/ideogram/v2, text-to-image): Generate high-quality images, posters, and logos with Ideogram V2."""
        imagen4_preview: Imagen4Preview
        """Imagen 4 (fal-ai/imagen4/preview, text-to-image): Google’s highest quality image generation model"""
        imagen4_preview_fast: Imagen4PreviewFast
        """Imagen 4 (fal-ai/imagen4/preview/fast, text-to-image): Google’s highest quality image generation model"""
        omnigen_v2: OmnigenV2
        """Omnigen V2 (fal-ai/omnigen-v2, text-to-image): OmniGen is a unified image generation model that can generate a wide range of images from multi-modal prompts."""
        recraft_v2_text_to_image: RecraftV2TextToImage
        """Deprecated. fal-ai/recraft/v2/text-to-image (text-to-image)"""
        stable_cascade: StableCascade
        """Stable Cascade (fal-ai/stable-cascade, text-to-image): Stable Cascade: Image generation on a smaller & cheaper latent space."""
        stable_cascade_sote_diffusion: StableCascadeSoteDiffusion
        """SoteDiffusion (fal-ai/stable-cascade/sote-diffusion, text-to-image): Anime finetune of Würstchen V3."""
        stable_diffusion_v35_large: StableDiffusionV35Large
        """Stable Diffusion 3.5 Large (fal-ai/stable-diffusion-v35-large, text-to-image): Stable Diffusion 3.5 Large is a Multimodal Diffusion Transformer (MMDiT) text-to-image model that features improved performance in image quality, typography, complex prompt understanding, and resource-efficiency."""


class AsyncFalClient(_rt.AsyncClient):
    """Asynchronous client for 13 fal endpoints.

    The API key comes from ``key=...``, ``FAL_KEY``, or ``FAL_KEY_ID`` + ``FAL_KEY_SECRET``.
    """

    _endpoints = _ENDPOINTS
    _flavour = "Async"

    if _t.TYPE_CHECKING:
        f_lite_standard: AsyncFLiteStandard
        """F Lite (fal-ai/f-lite/standard, text-to-image): F Lite is a 10B parameter diffusion model created by Fal and Freepik, trained exclusively on copyright-safe and SFW content."""
        fast_lcm_diffusion: AsyncFastLcmDiffusion
        """Latent Consistency Models (v1.5/XL) (fal-ai/fast-lcm-diffusion, text-to-image): Run SDXL at the speed of light"""
        flux_1_schnell: AsyncFlux1Schnell
        """FLUX.1 [schnell] (fal-ai/flux-1/schnell, text-to-image): Fastest inference in the world for the 12 billion parameter FLUX.1 [schnell] text-to-image model."""
        hidream_i1_fast: AsyncHidreamI1Fast
        """Hidream I1 Fast (fal-ai/hidream-i1-fast, text-to-image): HiDream-I1 fast is a new open-source image generative foundation model with 17B parameters that achieves state-of-the-art image generation quality within 16 steps."""
        hidream_i1_full: AsyncHidreamI1Full
        """Hidream I1 Full (fal-ai/hidream-i1-full, text-to-image): HiDream-I1 full is a new open-source image generative foundation model with 17B parameters that achieves state-of-the-art image generation quality within seconds."""
        ideogram_v2: AsyncIdeogramV2
        """Ideogram V2 (fal-ai/ideogram/v2, text-to-image): Generate high-quality images, posters, and logos with Ideogram V2."""
        imagen4_preview: AsyncImagen4Preview
        """Imagen 4 (fal-ai/imagen4/preview, text-to-image): Google’s highest quality image generation model"""
        imagen4_preview_fast: AsyncImagen4PreviewFast
        """Imagen 4 (fal-ai/imagen4/preview/fast, text-to-image): Google’s highest quality image generation model"""
        omnigen_v2: AsyncOmnigenV2
        """Omnigen V2 (fal-ai/omnigen-v2, text-to-image): OmniGen is a unified image generation model that can generate a wide range of images from multi-modal prompts."""
        recraft_v2_text_to_image: AsyncRecraftV2TextToImage
        """Deprecated. fal-ai/recraft/v2/text-to-image (text-to-image)"""
        stable_cascade: AsyncStableCascade
        """Stable Cascade (fal-ai/stable-cascade, text-to-image): Stable Cascade: Image generation on a smaller & cheaper latent space."""
        stable_cascade_sote_diffusion: AsyncStableCascadeSoteDiffusion
        """SoteDiffusion (fal-ai/stable-cascade/sote-diffusion, text-to-image): Anime finetune of Würstchen V3."""
        stable_diffusion_v35_large: AsyncStableDiffusionV35Large
        """Stable Diffusion 3.5 Large (fal-ai/stable-diffusion-v35-large, text-to-image): Stable Diffusion 3.5 Large is a Multimodal Diffusion Transformer (MMDiT) text-to-image model that features improved performance in image quality, typography, complex prompt understanding, and resource-efficiency."""
