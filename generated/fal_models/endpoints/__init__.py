"""One module per endpoint (models and resources), plus the private ``_shared`` module of
models that several endpoints use (each endpoint module imports those it uses).

- ``f_lite_standard``: fal-ai/f-lite/standard
- ``fast_lcm_diffusion``: fal-ai/fast-lcm-diffusion
- ``flux_1_schnell``: fal-ai/flux-1/schnell
- ``hidream_i1_fast``: fal-ai/hidream-i1-fast
- ``hidream_i1_full``: fal-ai/hidream-i1-full
- ``ideogram_v2``: fal-ai/ideogram/v2
- ``imagen4_preview``: fal-ai/imagen4/preview
- ``imagen4_preview_fast``: fal-ai/imagen4/preview/fast
- ``omnigen_v2``: fal-ai/omnigen-v2
- ``recraft_v2_text_to_image``: fal-ai/recraft/v2/text-to-image
- ``stable_cascade``: fal-ai/stable-cascade
- ``stable_cascade_sote_diffusion``: fal-ai/stable-cascade/sote-diffusion
- ``stable_diffusion_v35_large``: fal-ai/stable-diffusion-v35-large
"""
