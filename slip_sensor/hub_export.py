"""`slip export`: writes a complete Hugging Face Hub folder for a SLIP model.

The folder holds safetensors weights, `config.json` with `auto_map` and `custom_pipelines`, the generation config,
the feature extractor, processor and tokenizer files, the flat `trust_remote_code` modules and the model card, so that
`AutoModel`, `AutoProcessor` and the three pipelines load it with `trust_remote_code=True` (transformers 4.57 and 5.x),
offline too.

`--model DIR` exports a saved `SlipForConditionalGeneration` with its processor files; `--preset NAME` exports a
randomly initialised (seeded) model of a preset with a caption tokenizer trained on built-in sentences, so the whole
path runs offline.

`--space` makes `--out` a Hugging Face Space that runs the model from any installation of the package: the same
folder plus the demo app (`app.py`, `examples/`, the Space's `README.md` with its metadata; shipped as package data
of `slip_sensor.space`), the package's own source under `slip_sensor/` (it is not on PyPI) and a `requirements.txt`
of its third-party requirements; the model card moves to `MODEL_CARD.md` (`space_export`). The app finds the model
in its own folder (`slip_sensor.space_app`).

Nothing is written before the model is checked (finite weights) and `--out` is known to be replaceable: new, empty,
or an earlier export (marked by `output_folders.MARKER`; `--overwrite` replaces it). The folder is written next to
`--out`, checked, and swapped in, so a failed export leaves `--out` as it was.
"""

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

import torch

from .auto_registration import config_auto_map, custom_pipelines, hub_auto_classes
from .errors import UserError
from .hub_cards.model_card import GEMMA_BASE_MODEL, GEMMA_LICENSE, build_model_card
from .hub_folder import V5_ONLY_TOKENIZER_CLASS, code_files, non_finite_weights, validate_hub_folder
from .modeling_slip.configuration_slip import SLIP_PRESETS, SlipConfig, gemma3_270m_text_config
from .loading import load_pretrained
from .modeling_slip.modeling_slip import SlipForConditionalGeneration
from .output_folders import check_replaceable, mark_folder, staged_folder
from .processors import SlipFeatureExtractor, SlipProcessor, train_caption_tokenizer
from .space_export import write_space_files

HELP = "Write a complete Hugging Face Hub folder (weights, configs, processor, remote code, model card), or a Space."
COMMAND = "slip export"  # written into the folder's marker: what `--overwrite` may replace

# Loaded by both transformers 4.57 and 5.x (5.x maps it to its `TokenizersBackend`).
PORTABLE_TOKENIZER_CLASS = "PreTrainedTokenizerFast"

# Caption-like sentences for the tokenizer of a preset export (its weights are random, so the text only has to look
# like what captions and prompts look like).
CAPTION_SENTENCES = (
    "The accelerometer shows a steady periodic pattern consistent with walking.",
    "Heart rate rises sharply at the start and settles back to a resting level.",
    "All three channels stay flat, which suggests the person is sitting still.",
    "A sudden spike on the second channel is followed by a slow decay.",
    "The signal oscillates with a period of about one second and a small amplitude.",
    "Temperature increases gradually over the day and drops during the night.",
    "There is a level shift halfway through the recording on every channel.",
    "The first channel leads the second one by roughly half a cycle.",
    "Missing values appear near the end of the recording.",
    "Running produces larger and faster oscillations than walking.",
    "The electrocardiogram shows regular beats with a stable rhythm.",
    "Breathing is slow and regular, about twelve breaths per minute.",
    "The trend is downward with occasional noisy bursts.",
    "What activity is the person doing? The person is climbing stairs.",
    "Is the heart rate increasing? Yes, it increases during the exercise.",
    "The pressure sensor reports two peaks of similar height.",
    "Power consumption is high in the morning and low at night.",
    "The gyroscope channels are strongly correlated with each other.",
    "This sensor recording shows walking.",
    "This sensor recording shows running.",
    "This sensor recording shows sitting.",
    "This sensor recording shows lying down.",
)


def preset_model(preset: str, seed: int) -> tuple[SlipForConditionalGeneration, SlipProcessor]:
    """A randomly initialised captioning model of `preset` (seeded) and a processor with a freshly trained tokenizer."""
    config = SlipConfig.from_preset(preset)
    torch.manual_seed(seed)
    model = SlipForConditionalGeneration(config).eval()
    tokenizer = train_caption_tokenizer(CAPTION_SENTENCES, vocab_size=min(2048, config.text_config.vocab_size))
    return model, SlipProcessor(SlipFeatureExtractor(), tokenizer)


def saved_model(path: str | Path) -> tuple[SlipForConditionalGeneration, SlipProcessor]:
    """The captioning model and processor saved in `path`; fails if the checkpoint lacks any weight."""
    model, loading_info = load_pretrained(SlipForConditionalGeneration, path, output_loading_info=True)
    if loading_info["missing_keys"]:
        raise UserError(
            f"{path} is not a full SLIP captioning checkpoint; missing weights: {sorted(loading_info['missing_keys'])}"
        )
    return model.eval(), load_pretrained(SlipProcessor, path, what="processor")


def read_results(path: str | Path) -> dict:
    """An evaluation results JSON (`slip evaluate --out`); a missing or unreadable file is a `UserError`."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"results file {str(path)!r} does not exist (`slip evaluate --out FILE` writes one)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise UserError(f"results file {str(path)!r} is not a JSON file: {error}") from None


def default_base_model(config: SlipConfig) -> str | None:
    """`google/gemma-3-270m` when the text stack has its shape (the checkpoint was then started from it), else None."""
    gemma, text = gemma3_270m_text_config(), config.text_config
    sizes = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers")
    return GEMMA_BASE_MODEL if all(getattr(text, size) == getattr(gemma, size) for size in sizes) else None


def _update_json(path: Path, **values: Any) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(values)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def export_hub_folder(
    model: SlipForConditionalGeneration,
    processor: SlipProcessor,
    out_dir: str | Path,
    card_kwargs: dict[str, Any],
    overwrite: bool = False,
    space: bool = False,
) -> Path:
    """
    Writes the Hub folder of `model` and `processor` to `out_dir` and checks it (`validate_hub_folder`); with
    `space`, a Space that runs it (`write_space_files`).

    Args:
        model ([`SlipForConditionalGeneration`]): the full model; `AutoModel` loads its two-tower part from the same
            weights. Weights with NaN or infinite values are refused.
        processor ([`SlipProcessor`]): feature extractor and tokenizer.
        out_dir (`str` or `Path`): the folder to write: new or empty, or with `overwrite` an earlier export, which is
            replaced as a whole (no stale file, an old weight shard say, ends up in the upload). Any other folder is
            refused ([`OutputFolderError`]) and left untouched.
        card_kwargs (`dict`): keyword arguments of [`build_model_card`] besides the config; with `results`, the
            results JSON is also written as `eval_results.json`.
        overwrite (`bool`): replace an earlier export in `out_dir`.
        space (`bool`): write a Hugging Face Space that runs the model instead of a model repository folder.
    """
    out = Path(out_dir)
    check_replaceable(out, COMMAND, overwrite, "export")
    problem = non_finite_weights(model.state_dict().items())
    if problem:
        raise UserError(f"Nothing was exported to {out}: the model's {problem}")
    with staged_folder(out) as staged:
        write_hub_folder(model, processor, staged, card_kwargs)
        problems = validate_hub_folder(staged)
        if problems:
            raise RuntimeError(f"The folder exported for {out} is incomplete:\n- " + "\n- ".join(problems))
        if space:
            write_space_files(staged, card_kwargs.get("license") or license_for(card_kwargs.get("base_model")))
        mark_folder(staged, COMMAND)
    return out


def card_defaults(config: SlipConfig) -> dict[str, Any]:
    """Model card arguments for a trained checkpoint: its base model when known, and the license that goes with it."""
    base_model = default_base_model(config)
    return dict(base_model=base_model, license=license_for(base_model))


def license_for(base_model: str | None) -> str:
    return GEMMA_LICENSE if base_model and "gemma" in base_model.lower() else "apache-2.0"


def write_hub_folder(
    model: SlipForConditionalGeneration,
    processor: SlipProcessor,
    out: str | Path,
    card_kwargs: dict[str, Any] | None = None,
) -> None:
    """Writes every file of the Hub folder of `model` and `processor` into `out` (unchecked, in place); the card
    as in `complete_hub_folder`."""
    with hub_auto_classes():
        model.save_pretrained(out)
        processor.save_pretrained(out)
    complete_hub_folder(out, model.config, processor, card_kwargs)


def complete_hub_folder(
    out: str | Path, config: SlipConfig, processor: SlipProcessor, card_kwargs: dict[str, Any] | None = None
) -> None:
    """Adds what makes a Hub folder to `out`, which holds the model and processor saved under `hub_auto_classes()`
    (by `write_hub_folder`, or by the Trainer for its checkpoints): `auto_map` and `custom_pipelines` in
    `config.json`, the feature extractor's own file, a portable tokenizer class, the code files and the model card
    (`card_kwargs`, by default `card_defaults(config)`)."""
    out = Path(out)
    card_kwargs = card_defaults(config) if card_kwargs is None else card_kwargs
    # transformers 5 nests the feature extractor in processor_config.json; 4.57 and AutoFeatureExtractor read
    # preprocessor_config.json.
    with hub_auto_classes():
        processor.feature_extractor.save_pretrained(out)
    # save_pretrained records only the saved model's Auto class; the pipelines are not saved by any save_pretrained.
    _update_json(out / "config.json", auto_map=config_auto_map(), custom_pipelines=custom_pipelines())
    tokenizer_config = json.loads((out / "tokenizer_config.json").read_text(encoding="utf-8"))
    if tokenizer_config.get("tokenizer_class") == V5_ONLY_TOKENIZER_CLASS:
        _update_json(out / "tokenizer_config.json", tokenizer_class=PORTABLE_TOKENIZER_CLASS)
    for name, source in code_files().items():
        shutil.copyfile(source, out / name)
    build_model_card(config, feature_extractor=processor.feature_extractor, **card_kwargs).save(out / "README.md")
    if card_kwargs.get("results") is not None:  # the card's numbers, in full, next to it
        (out / "eval_results.json").write_text(json.dumps(card_kwargs["results"], indent=2) + "\n", encoding="utf-8")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--model",
        metavar="DIR_OR_PRESET",
        help="a saved SlipForConditionalGeneration folder with its processor files, or a preset name",
    )
    source.add_argument("--preset", choices=sorted(SLIP_PRESETS), help="export a randomly initialised preset model")
    parser.add_argument("--out", required=True, help="the Hub folder to write (new or empty)")
    parser.add_argument("--overwrite", action="store_true", help="replace an earlier `slip export` in --out")
    parser.add_argument("--space", action="store_true",
                        help="write a Hugging Face Space that runs the model (the demo app, its examples, the Space's "
                             "README, the package's source and requirements; the model card as MODEL_CARD.md)")
    parser.add_argument("--seed", type=int, default=0, help="initialisation seed of a preset export (default: 0)")
    parser.add_argument("--results", help="evaluation results JSON (slip_sensor.evaluation) to report in the card")
    parser.add_argument("--repo-id", help="Hub repo id, used in the card's title and usage snippets")
    parser.add_argument(
        "--base-model",
        help=f"Hub id of the model the weights derive from (default: {GEMMA_BASE_MODEL} for a trained checkpoint "
        "whose text stack has its shape)",
    )
    parser.add_argument(
        "--license",
        help=f"Hub license id (default: {GEMMA_LICENSE} when the base model is Gemma, else apache-2.0)",
    )
    parser.add_argument("--datasets", nargs="*", help="Hub ids of the training datasets, e.g. LeoChen085/SlipDataset")


def run(args: argparse.Namespace) -> int:
    preset = args.preset or (args.model if args.model in SLIP_PRESETS and not Path(args.model).is_dir() else None)
    if preset is not None:
        model, processor = preset_model(preset, args.seed)
        base_model = args.base_model
    else:
        model, processor = saved_model(args.model)
        base_model = args.base_model or default_base_model(model.config)
    license = args.license or license_for(base_model)
    results = read_results(args.results) if args.results else None
    card_kwargs = dict(
        model_id=args.repo_id,
        results=results,
        base_model=base_model,
        datasets=args.datasets,
        license=license,
        preset=preset,
        seed=args.seed if preset is not None else None,
    )
    out = export_hub_folder(model, processor, args.out, card_kwargs, overwrite=args.overwrite, space=args.space)
    run_it = f" (a Space: `python {out / 'app.py'}` runs it)" if args.space else ""
    print(f"Wrote {len(list(out.iterdir()))} files to {out}{run_it}")
    return 0


__all__ = [
    "CAPTION_SENTENCES",
    "card_defaults",
    "complete_hub_folder",
    "export_hub_folder",
    "preset_model",
    "saved_model",
    "write_hub_folder",
]
