"""Processor for SLIP: the sensor feature extractor and the caption tokenizer behind one call.

Hub-shipped file: it is copied flat next to `feature_extraction_slip.py` and loaded with `trust_remote_code`, so it
imports nothing but numpy and transformers (and that sibling file).
"""

import os

import numpy as np
from transformers import AutoTokenizer, BatchFeature, ProcessorMixin
from transformers.utils import TensorType

from .feature_extraction_slip import NOT_GIVEN, SlipFeatureExtractor

# What the processor's tokenisation can honour: every text is padded into one array, and a text is one sequence.
PADDING = (True, "longest", "max_length")
TRUNCATION = {True: True, "longest_first": True, False: False, "do_not_truncate": False}


class SlipProcessor(ProcessorMixin):
    r"""
    Constructs a SLIP processor: a [`SlipFeatureExtractor`] for the sensor series and a tokenizer (Gemma-3's, or one
    from `train_caption_tokenizer`) for the captions and prompts.

    Text is BOS-prefixed (by the tokenizer), padded to the longest text on the LEFT with the pad id and truncated to
    `max_text_length` tokens. Texts are captions by default: they end with EOS when `caption_eos` is set, so a text
    embedded for retrieval or zero-shot is tokenised exactly as the captions the model was trained on, and the
    embedding is read at the same position. Prompts to be continued by `generate` are passed with
    `append_eos=False`.

    Args:
        feature_extractor ([`SlipFeatureExtractor`]):
            Turns the sensor series into `sensor_values`, `sensor_mask`, `sensor_time` and `patch_size`.
        tokenizer ([`PreTrainedTokenizerBase`]):
            Tokenizes `text`; it must prepend BOS itself (as Gemma's does).
        max_text_length (`int`, *optional*, defaults to 512):
            Default truncation length of the text, special tokens included (the paper caps text at 512 tokens).
        caption_eos (`bool`, *optional*, defaults to `True`):
            Whether captions end with EOS: the token policy of the model's training texts. Checkpoints converted from
            the reference set it to `False` (the reference trained on captions without EOS).
    """

    # Read by transformers 4.57 (`attributes` + `*_class`; the Auto names make the constructor accept any feature
    # extractor / tokenizer). transformers 5 infers the sub-processors from the `__init__` argument names and reads
    # `*_class` only in `_get_arguments_from_pretrained`, which is overridden below, so nothing warns.
    attributes = ["feature_extractor", "tokenizer"]
    feature_extractor_class = "AutoFeatureExtractor"
    tokenizer_class = "AutoTokenizer"

    def __init__(
        self, feature_extractor: SlipFeatureExtractor, tokenizer, max_text_length: int = 512, caption_eos: bool = True
    ):
        super().__init__(feature_extractor, tokenizer)
        if not isinstance(max_text_length, int) or max_text_length < 2:
            raise ValueError(f"max_text_length must be an integer >= 2, got {max_text_length!r}")
        self.max_text_length = max_text_length
        self.caption_eos = bool(caption_eos)

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, *args, **kwargs):
        try:
            return super().from_pretrained(pretrained_model_name_or_path, *args, **kwargs)
        # transformers says only that the name is no folder and not on the Hub (a ValueError for a path-like name)
        except (OSError, ValueError) as error:
            if os.path.isdir(pretrained_model_name_or_path):
                raise
            raise OSError(
                f"{str(pretrained_model_name_or_path)!r} is no local folder and could not be loaded from the Hub "
                f"({error}). A SLIP processor is saved with its model: give the path of a folder written by "
                "training, `slip export` or `slip convert-reference --tokenizer`, or build one with "
                "`SlipProcessor(SlipFeatureExtractor(), tokenizer)`."
            ) from error

    @classmethod
    def _get_arguments_from_pretrained(cls, pretrained_model_name_or_path, processor_dict=None, **kwargs):
        # The feature extractor is loaded by class rather than through AutoFeatureExtractor, so that neither an Auto*
        # registration nor an `auto_map` entry is needed, in transformers 4.57 and 5 alike, from a local folder or
        # from a `trust_remote_code` Hub folder.
        return [
            SlipFeatureExtractor.from_pretrained(pretrained_model_name_or_path, **kwargs),
            AutoTokenizer.from_pretrained(pretrained_model_name_or_path, **kwargs),
        ]

    def __call__(
        self,
        sensors=None,
        text: str | list[str] | None = None,
        sampling_rate: float | list[float | None] | None = NOT_GIVEN,
        patch_size: int | list[int | None] | None = None,
        return_tensors: str | TensorType | None = "pt",
        append_eos: bool | None = None,
        **text_kwargs,
    ) -> BatchFeature:
        """
        Prepares sensor series and/or texts for the model; the keys can be passed as `model(**outputs)`.

        Args:
            sensors (`np.ndarray`, `torch.Tensor` or `list`, *optional*):
                Sensor samples, see [`SlipFeatureExtractor.__call__`].
            text (`str` or `list[str]`, *optional*):
                One text per sensor sample (captions, prompts or prompt + answer).
            sampling_rate (`float` or `list`, *optional*):
                Sampling rate(s) in Hz, used to choose the patch size; left out with `sensors`, it warns (pass
                `None` for a rate unknown on purpose).
            patch_size (`int` or `list`, *optional*):
                Explicit patch size(s); overrides the automatic rule.
            return_tensors (`str` or [`~utils.TensorType`], *optional*, defaults to `"pt"`):
                `"pt"` for torch tensors, `"np"` or `None` for numpy arrays.
            append_eos (`bool`, *optional*, defaults to `caption_eos`):
                Append the EOS id to every text before padding (truncation keeps room for it), so the decoder learns
                to stop and the text embedding is read where training read it. Pass `False` for generation prompts.
            text_kwargs:
                Passed to the tokenizer. `padding` (default `True`; `"longest"` or `"max_length"`), `padding_side`
                (default `"left"`), `pad_to_multiple_of`, `truncation` (default `True`; `False`, `"longest_first"`
                or `"do_not_truncate"`) and `max_length` (default `max_text_length`) are honoured; other `padding`
                or `truncation` values raise a `ValueError`, and text arguments without `text` a `TypeError`.

        Returns:
            [`BatchFeature`] with `sensor_values`, `sensor_mask`, `sensor_time`, `patch_size` (when `sensors` is
            given; see [`SlipFeatureExtractor.__call__`]) and `input_ids`, `attention_mask` (int64 `[B, T]`) when
            `text` is given.
        """
        if sensors is None and text is None:
            raise ValueError("SlipProcessor needs `sensors`, `text` or both")
        if text is None and append_eos:
            raise ValueError("append_eos needs `text`")
        if text is None and text_kwargs:
            raise TypeError(f"SlipProcessor got {sorted(text_kwargs)} without `text`; they are tokenizer arguments")
        append_eos = self.caption_eos if append_eos is None else append_eos
        data = {}
        if sensors is not None:
            data.update(self.feature_extractor(sensors, sampling_rate=sampling_rate, patch_size=patch_size))
        if text is not None:
            data.update(self._tokenize(text, append_eos=append_eos, **text_kwargs))
        if sensors is not None and text is not None and len(data["patch_size"]) != len(data["input_ids"]):
            raise ValueError(
                f"Got {len(data['patch_size'])} sensor samples but {len(data['input_ids'])} texts; pass one text "
                "per sample"
            )
        return BatchFeature(data=data, tensor_type=return_tensors)

    def pad(
        self, features: list[dict] | list[BatchFeature], return_tensors: str | TensorType | None = "pt", **pad_kwargs
    ) -> BatchFeature:
        """
        Joins processor outputs (or token id lists) into one batch, as one processor call over all their samples
        gives: sensor arrays by [`SlipFeatureExtractor.pad`], token ids left-padded with the pad id.

        Args:
            features (`list` of `dict` or [`BatchFeature`]):
                Each may hold the sensor keys (see [`SlipFeatureExtractor.pad`]) and `input_ids` (`[b, T]` with an
                `attention_mask`, or one list of ids); every feature must hold the same kinds of keys.
            return_tensors (`str` or [`~utils.TensorType`], *optional*, defaults to `"pt"`):
                `"pt"` for torch tensors, `"np"` or `None` for numpy arrays.
            pad_kwargs:
                `padding_side` (default `"left"`), `padding`, `max_length`, `pad_to_multiple_of` for the token ids.
        """
        data = {}
        if "sensor_values" in features[0]:
            data.update(self.feature_extractor.pad(features))
        if "input_ids" in features[0]:
            data.update(self._pad_tokens([ids for feature in features for ids in _token_rows(feature)], **pad_kwargs))
        if not data:
            raise ValueError("pad needs features holding sensor arrays and/or input_ids")
        return BatchFeature(data=data, tensor_type=return_tensors)

    def _tokenize(self, text: str | list[str], append_eos: bool, **text_kwargs) -> dict:
        """Tokenizes, appends EOS and pads; returns int64 numpy arrays `[B, T]`."""
        texts = [text] if isinstance(text, str) else text
        if not isinstance(texts, (list, tuple)) or not texts or not all(isinstance(t, str) for t in texts):
            raise ValueError("text must be a string or a non-empty list of strings")
        eos_token_id = self.tokenizer.eos_token_id
        if append_eos and eos_token_id is None:
            raise ValueError("append_eos=True but the tokenizer has no EOS token")

        pad_keys = ("padding", "padding_side", "pad_to_multiple_of")
        pad_kwargs = {key: text_kwargs.pop(key) for key in pad_keys if key in text_kwargs}
        if pad_kwargs.get("padding", True) not in PADDING:
            raise ValueError(
                f"padding={pad_kwargs['padding']!r} is not supported: the texts of a batch are returned as one array, "
                f"so padding must be one of {PADDING}"
            )
        truncation = text_kwargs.pop("truncation", True)
        if truncation not in TRUNCATION or not isinstance(truncation, (bool, str)):
            raise ValueError(
                f"truncation={truncation!r} is not supported: each text is one sequence, so truncation must be one of "
                f"{tuple(TRUNCATION)}"
            )
        truncation = TRUNCATION[truncation]
        max_length = text_kwargs.pop("max_length", self.max_text_length)
        if truncation:
            # Keep room for the EOS so that truncated texts still end with it, as with a tokenizer-added EOS.
            text_kwargs["max_length"] = max_length - 1 if append_eos else max_length
        encoded = self.tokenizer(
            list(texts),
            padding=False,
            truncation=truncation,
            return_attention_mask=False,
            return_token_type_ids=False,
            **text_kwargs,
        )
        input_ids = [list(ids) + [eos_token_id] if append_eos else list(ids) for ids in encoded["input_ids"]]
        return self._pad_tokens(input_ids, max_length=max_length, **pad_kwargs)

    def _pad_tokens(
        self,
        input_ids: list[list[int]],
        padding: bool | str = True,
        padding_side: str = "left",
        max_length: int | None = None,
        pad_to_multiple_of: int | None = None,
    ) -> dict:
        """Pads token id lists (on the left by default, where decoding continues); int64 numpy `[B, T]`."""
        padded = self.tokenizer.pad(
            {"input_ids": input_ids},
            padding=padding,
            max_length=max_length if padding == "max_length" else None,
            pad_to_multiple_of=pad_to_multiple_of,
            padding_side=padding_side,
            return_attention_mask=True,
            return_tensors="np",
        )
        return {
            "input_ids": padded["input_ids"].astype(np.int64),
            "attention_mask": padded["attention_mask"].astype(np.int64),
        }


def _token_rows(feature) -> list[list[int]]:
    """The unpadded token ids of each text in one feature."""
    input_ids = feature["input_ids"]
    if hasattr(input_ids, "tolist"):
        input_ids = input_ids.tolist()
    if not input_ids or not isinstance(input_ids[0], list):  # one list of ids
        return [list(input_ids)]
    mask = feature.get("attention_mask")
    mask = mask.tolist() if hasattr(mask, "tolist") else mask
    if mask is None:
        return [list(ids) for ids in input_ids]
    return [[token for token, keep in zip(ids, row) if keep] for ids, row in zip(input_ids, mask)]


__all__ = ["SlipProcessor"]
