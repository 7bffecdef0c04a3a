"""fal's real catalogue as a test corpus: every document of ``../shared/catalog`` (the Platform
API's answers, read in place and never copied here) generates into one package that imports,
passes ``mypy --strict`` and ``black --check``, takes every example input that satisfies its own
schema, and parses a synthetic output of every endpoint. The problems generation works around or
skips are listed below, each with its reason: a new one, or one that went away, fails the test.

Skipped when the catalogue is not there.
"""

from __future__ import annotations

import importlib
import random
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.ir import Package
from generator.loader import load_folder
from generator.output import LINE_LENGTH, write_tree
from generator.pipeline import generate
from generator.server.catalog import Catalog
from generator.server.files import FileStore
from generator.server.synthetic_outputs import OutputRequest, Synthesizer
from generator.settings import Options
from tests.helpers import CATALOG, explode_catalog, importable

IMPORT_NAME = "catalog_models"
OPTIONS = Options(distribution="catalog-models", import_name=IMPORT_NAME)

UNAVAILABLE = "fal's catalogue has an error object instead of the document"
NO_INPUT = "the request body refers to an input schema the document does not define"
EMPTY_OUTPUT = "the Output schema is empty: the output is untyped"
URL_FOR_FILE = "the example is a URL string where the schema declares a File object"
FILE_FOR_URL = "the example is a File object where the schema declares a URL string"
URL_FOR_LIST = "the example is one URL string where the schema declares a list"
NULL_EXAMPLE = "the example is null where the schema does not allow null"
NO_WIDTH = "the example Image lacks width and height, which the schema requires"
EXTRA_TYPE = "the example word carries a 'type' the schema's enum does not have"
INT_DEFAULT = "the integer default 129 of a string enum ('129', '85') is admitted"
TUPLE_ITEMS = "'items' is written as an object keyed by positions: read as a tuple"
UNKNOWN_FIELDS = "the example carries fields the schema does not define (the model drops them)"
TRACK_POINT = "a property refers to a schema the document does not define: typed as Any"

# source -> {(severity, pointer): reason}
EXPECTED: dict[str, dict[tuple[str, str], str]] = {
    "argil/avatars/audio-to-video.json": {
        ("degraded", "#/components/schemas/AvatarsAudioToVideoInput/properties/audio_url"): (
            FILE_FOR_URL
        ),
    },
    "bria/fibo-edit/edit/structured_instruction.json": {
        ("degraded", "#/components/schemas/FiboEditEditStructured_instructionOutput"): EMPTY_OUTPUT,
    },
    "bria/fibo-lite/generate/structured_prompt/lite.json": {
        ("degraded", "#/components/schemas/FiboLiteGenerateStructured_promptLiteOutput"): (
            EMPTY_OUTPUT
        ),
    },
    "bria/fibo/generate/structured_prompt.json": {
        ("degraded", "#/components/schemas/FiboGenerateStructured_promptOutput"): EMPTY_OUTPUT,
    },
    "cassetteai/video-sound-effects-generator.json": {
        (
            "degraded",
            "#/components/schemas/VideoSoundEffectsGeneratorInput/properties/video_url",
        ): URL_FOR_FILE,
    },
    "decart/lucy-restyle.json": {
        ("degraded", "#/components/schemas/LucyRestyleOutput/properties/video"): URL_FOR_FILE,
    },
    "fal-ai/ben/v2/video.json": {
        ("degraded", "#/components/schemas/BenV2VideoInput/properties/background_color/items"): (
            TUPLE_ITEMS
        ),
    },
    "fal-ai/bytedance/video-stylize.json": {
        ("degraded", "#/components/schemas/BytedanceVideoStylizeOutput"): EMPTY_OUTPUT,
    },
    "fal-ai/chatterbox/text-to-speech.json": {
        ("degraded", "#/components/schemas/ChatterboxTextToSpeechOutput"): EMPTY_OUTPUT,
    },
    "fal-ai/elevenlabs/speech-to-text/scribe-v2.json": {
        (
            "degraded",
            "#/components/schemas/ElevenlabsSpeechToTextScribeV2Output/properties/words",
        ): (EXTRA_TYPE),
    },
    "fal-ai/hidream-i1-full.json": {
        ("degraded", "#/components/schemas/HidreamI1FullOutput"): EMPTY_OUTPUT,
    },
    "fal-ai/hunyuan-image/v2.1/text-to-image.json": {
        ("degraded", "#/components/schemas/HunyuanImageV21TextToImageOutput/properties/images"): (
            NO_WIDTH
        ),
    },
    "fal-ai/hunyuan-video-lora.json": {
        ("degraded", "#/components/schemas/HunyuanVideoLoraInput/properties/num_frames"): (
            INT_DEFAULT
        ),
    },
    "fal-ai/hunyuan-video.json": {
        ("degraded", "#/components/schemas/HunyuanVideoInput/properties/num_frames"): INT_DEFAULT,
    },
    "fal-ai/hunyuan-video/video-to-video.json": {
        ("degraded", "#/components/schemas/HunyuanVideoVideoToVideoInput/properties/num_frames"): (
            INT_DEFAULT
        ),
    },
    "fal-ai/hyper-sdxl.json": {("skipped", "#/error"): UNAVAILABLE},
    "fal-ai/hyper3d/rodin.json": {
        ("degraded", "#/components/schemas/Hyper3dRodinInput/properties/input_image_urls"): (
            URL_FOR_LIST
        ),
    },
    "fal-ai/index-tts-2/text-to-speech.json": {
        (
            "degraded",
            "#/components/schemas/IndexTts2TextToSpeechInput/properties/emotional_strengths",
        ): NULL_EXAMPLE,
        ("degraded", "#/components/schemas/IndexTts2TextToSpeechOutput/properties/audio"): (
            URL_FOR_FILE
        ),
    },
    "fal-ai/kling-video/v1/pro/image-to-video.json": {("skipped", "#/error"): UNAVAILABLE},
    "fal-ai/kling-video/v1/pro/text-to-video.json": {("skipped", "#/error"): UNAVAILABLE},
    "fal-ai/lightx/recamera.json": {
        ("degraded", "#/components/schemas/LightxRecameraOutput/properties/video"): URL_FOR_FILE,
    },
    "fal-ai/ltxv-13b-098-distilled/extend.json": {
        ("degraded", "#/components/schemas/Ltxv13b098DistilledExtendInput/properties/video"): (
            UNKNOWN_FIELDS
        ),
    },
    "fal-ai/maya/stream.json": {
        ("degraded", "#/components/schemas/MayaStreamOutput"): EMPTY_OUTPUT,
    },
    "fal-ai/nemotron/asr/stream.json": {
        ("degraded", "#/components/schemas/NemotronAsrStreamOutput"): EMPTY_OUTPUT,
    },
    "fal-ai/pika/v2.2/pikaframes.json": {
        ("degraded", "#/components/schemas/KeyframeTransition/properties/prompt"): NULL_EXAMPLE,
    },
    "fal-ai/sadtalker/reference.json": {
        ("degraded", "#/components/schemas/SadtalkerReferenceInput/properties/face_enhancer"): (
            NULL_EXAMPLE
        ),
    },
    "fal-ai/sam-3/video.json": {
        ("degraded", "#/components/schemas/Sam3VideoOutput/properties/video"): URL_FOR_FILE,
    },
    "fal-ai/speech-to-text/turbo/stream.json": {
        ("degraded", "#/components/schemas/SpeechToTextTurboStreamOutput"): EMPTY_OUTPUT,
    },
    "fal-ai/stable-audio-25/audio-to-audio.json": {
        ("degraded", "#/components/schemas/StableAudio25AudioToAudioOutput/properties/audio"): (
            URL_FOR_FILE
        ),
    },
    "fal-ai/stable-audio-25/text-to-audio.json": {
        ("degraded", "#/components/schemas/StableAudio25TextToAudioOutput/properties/audio"): (
            URL_FOR_FILE
        ),
    },
    "fal-ai/stable-avatar.json": {
        ("degraded", "#/components/schemas/StableAvatarOutput/properties/video"): URL_FOR_FILE,
    },
    "fal-ai/wan-ati.json": {
        ("degraded", "#/components/schemas/WanAtiInput/properties/track/items/items/$ref"): (
            TRACK_POINT
        ),
    },
    "fal-ai/wan-move.json": {
        (
            "degraded",
            "#/components/schemas/WanMoveInput/properties/trajectories/items/items/$ref",
        ): TRACK_POINT,
    },
    "fal-ai/wan/v2.1/1.3b/text-to-video.json": {("skipped", "#/error"): UNAVAILABLE},
    "fal-ai/whisper.json": {
        ("degraded", "#/components/schemas/DiarizationSegment/properties/timestamp/items"): (
            TUPLE_ITEMS
        ),
        ("degraded", "#/components/schemas/WhisperChunk/properties/timestamp/items"): TUPLE_ITEMS,
    },
    "openrouter/router/openai/v1/chat/completions.json": {
        (
            "skipped",
            "#/paths/~1openrouter~1router~1openai~1v1~1chat~1completions/post/requestBody/"
            "content/application~1json/schema/$ref",
        ): NO_INPUT,
    },
    "openrouter/router/openai/v1/embeddings.json": {
        (
            "skipped",
            "#/paths/~1openrouter~1router~1openai~1v1~1embeddings/post/requestBody/content/"
            "application~1json/schema/$ref",
        ): NO_INPUT,
    },
    "openrouter/router/openai/v1/responses.json": {
        (
            "skipped",
            "#/paths/~1openrouter~1router~1openai~1v1~1responses/post/requestBody/content/"
            "application~1json/schema/$ref",
        ): NO_INPUT,
    },
    "perceptron/isaac-01/openai/v1/chat/completions.json": {
        (
            "skipped",
            "#/paths/~1perceptron~1isaac-01~1openai~1v1~1chat~1completions/post/requestBody/"
            "content/application~1json/schema/$ref",
        ): NO_INPUT,
    },
}


@dataclass(frozen=True)
class Generated:
    specs: Path
    count: int  # documents in the catalogue
    package: Package
    root: Path  # the generated folder


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Generated]:
    if not CATALOG.is_dir() or not any(CATALOG.glob("*.json")):
        pytest.skip(f"no catalogue: {CATALOG} holds no *.json file")
    root = tmp_path_factory.mktemp("catalog")
    count = sum(map(len, explode_catalog(root / "specs").values()))
    generation = generate(root / "specs", OPTIONS)
    write_tree(root / "out", generation.files)
    with importable(root / "out", IMPORT_NAME):
        yield Generated(root / "specs", count, generation.package, root / "out")


def test_every_document_is_generated_degraded_or_skipped_as_expected(
    generated: Generated,
) -> None:
    found: dict[str, dict[tuple[str, str], str]] = {}
    for problem in generated.package.problems:
        found.setdefault(problem.source, {})[(problem.severity, problem.pointer)] = problem.message
    assert {source: set(found[source]) for source in found} == {
        source: set(expected) for source, expected in EXPECTED.items()
    }
    skipped = {source for source, problems in EXPECTED.items() if "skipped" in str(problems)}
    assert len(generated.package.endpoints) == generated.count - len(skipped)


def test_every_endpoint_imports_and_takes_its_valid_example_input(generated: Generated) -> None:
    client = importlib.import_module(f"{IMPORT_NAME}._client").FalClient(key="k")
    complete = 0
    for endpoint in generated.package.endpoints:
        module = importlib.import_module(f"{IMPORT_NAME}.endpoints.{endpoint.module}")
        importlib.import_module(f"{IMPORT_NAME}.cli.commands.{endpoint.module}")
        assert getattr(client, endpoint.attribute).endpoint_id == endpoint.endpoint_id
        input_model = getattr(module, endpoint.input.class_name)
        if endpoint.example_complete:
            model = input_model.model_validate(endpoint.example_input)
            sent = model.model_dump(mode="json", by_alias=True, exclude_unset=True)
            assert sent == endpoint.example_input, endpoint.endpoint_id
            complete += 1
    assert complete > len(generated.package.endpoints) // 2


def test_every_endpoint_parses_a_synthetic_output(generated: Generated) -> None:
    outputs = importlib.import_module(f"{IMPORT_NAME}._runtime._outputs")
    catalog = Catalog(load_folder(generated.specs).documents)
    files = FileStore()
    for endpoint in generated.package.endpoints:
        served = catalog.get(endpoint.endpoint_id)
        assert served is not None, endpoint.endpoint_id
        request = OutputRequest(
            model_input=served.with_defaults(dict(endpoint.example_input)),
            rng=random.Random(0),
            cdn_url="http://127.0.0.1:1/cdn",
            inference_time=0.1,
        )
        data = Synthesizer(served, files).output(request)
        module = importlib.import_module(f"{IMPORT_NAME}.endpoints.{endpoint.module}")
        output = outputs.parse_output(getattr(module, endpoint.output.class_name), data)
        assert output.model_dump(mode="json", by_alias=True, exclude_unset=True) == data


def test_the_package_passes_mypy_strict(generated: Generated, tmp_path: Path) -> None:
    checked = subprocess.run(
        [
            *(sys.executable, "-m", "mypy", "--strict", "--no-incremental"),
            *("--cache-dir", str(tmp_path / ".mypy"), IMPORT_NAME),
        ],
        cwd=generated.root,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert checked.returncode == 0, checked.stdout[-5000:] + checked.stderr


def test_the_tree_is_black_formatted(generated: Generated) -> None:
    checked = subprocess.run(
        [
            *(sys.executable, "-m", "black", "--check", "--quiet"),
            *(f"--line-length={LINE_LENGTH}", "--target-version=py311", "."),
        ],
        cwd=generated.root,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert checked.returncode == 0, checked.stdout[-5000:] + checked.stderr
