"""Caption generation: `generate` over the pooled sensor tokens, with a dynamic or a static decoding cache.

The model keeps no decoding state: each call builds its cache (or uses the one passed in) and hands it to
transformers' `GenerationMixin`; the caller's and the model's generation configs are never modified.
"""

import copy
from typing import Any

import torch
from transformers import GenerationConfig, GenerationMixin

from .cache_slip import SlipStaticCache
from .compat_slip import CACHE_FIELD, new_token_count

CACHE_IMPLEMENTATIONS = (None, "dynamic", "static")


def static_cache_length(
    prompt_length: int, generation_config: GenerationConfig, generate_kwargs: dict[str, Any]
) -> int:
    """Tokens a static cache must hold: the prompt plus `max_new_tokens`, else `max_length` (keyword arguments of
    `generate` first, then the generation config)."""
    max_new_tokens = generate_kwargs.get("max_new_tokens", generation_config.max_new_tokens)
    if max_new_tokens is not None:
        return prompt_length + max_new_tokens
    max_length = generate_kwargs.get("max_length", generation_config.max_length)
    if max_length is None:
        raise ValueError("cache_implementation='static' needs max_new_tokens or max_length to size the cache")
    return max_length


class SlipGenerationMixin(GenerationMixin):
    """`generate` for [`SlipForConditionalGeneration`] (which provides `slip`, `config` and `generation_config`).

    The sensor tower runs once; its pooled tokens are passed to every decoding step (and expanded for beams) by
    `GenerationMixin`, and the decoder's cross-attention keys are computed once per sequence.
    """

    @classmethod
    def _supports_default_dynamic_cache(cls) -> bool:
        # The model builds its own cache (one full-length layer per Gemma layer plus the cross-attention keys), so
        # `generate` must not hand it a sliding-window cache whose eviction the masks would not know about.
        return False

    def prepare_inputs_for_generation(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        sensor_tokens: torch.Tensor | None = None,
        use_cache: bool = True,
        next_sequence_length: int | None = None,
        cache_position: torch.Tensor | None = None,
        **kwargs,
    ) -> dict[str, Any]:
        """Feeds only the tokens the cache has not seen, with the precomputed sensor tokens. With a static cache the
        mask is padded to the cache's length here, outside a compiled decoding step, so its shapes never change."""
        cache = kwargs.get("cache", kwargs.get("past_key_values"))
        new_tokens = new_token_count(next_sequence_length, cache_position)
        if new_tokens is not None:
            input_ids = input_ids[:, -new_tokens:]
        elif cache is not None:
            input_ids = input_ids[:, cache.get_seq_length() :]
        if isinstance(cache, SlipStaticCache):
            attention_mask = cache.pad_mask(attention_mask)
        return {
            "input_ids": input_ids.contiguous(),  # a slice's strides grow with the sequence: a compiled step recompiles
            "attention_mask": attention_mask,
            "sensor_tokens": sensor_tokens,
            "cache": cache,
            "use_cache": use_cache,
            "logits_to_keep": 1,
            "return_loss": False,
        }

    @torch.no_grad()
    def generate(
        self,
        sensor_values: torch.Tensor | None = None,
        sensor_mask: torch.Tensor | None = None,
        sensor_time: torch.Tensor | None = None,
        patch_size: torch.Tensor | None = None,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        sensor_tokens: torch.Tensor | None = None,
        generation_config: GenerationConfig | None = None,
        **generate_kwargs,
    ) -> torch.LongTensor:
        """Captions (or answers about) sensors. Without `input_ids`, decoding starts from BOS.

        `cache_implementation="static"` decodes with a [`SlipStaticCache`] sized for the prompt plus `max_new_tokens`:
        every step then has the same shapes, and on a GPU transformers compiles the step (CUDA graphs). To reuse the
        buffers (and the compiled step) across calls, pass the cache back in (`cache=` in transformers 5,
        `past_key_values=` in 4.57; `return_dict_in_generate=True` returns it): a `SlipStaticCache` given to
        `generate` is reset and filled again, so it must hold the prompt plus the new tokens.

        Returns `[B, prompt + new]` token ids (the prompt included, as for decoder-only models).
        """
        if sensor_tokens is None:
            if sensor_values is None:
                raise ValueError("generate needs sensor inputs or sensor_tokens")
            sensor_tokens = self.slip.sensor_model(sensor_values, sensor_mask, sensor_time, patch_size).pooler_output
        if input_ids is None:
            input_ids = torch.full(
                (sensor_tokens.shape[0], 1), self.config.bos_token_id, dtype=torch.long, device=sensor_tokens.device
            )
            attention_mask = torch.ones_like(input_ids)
        defaults = generation_config if generation_config is not None else self.generation_config
        cache_implementation = generate_kwargs.pop("cache_implementation", defaults.cache_implementation)
        if cache_implementation not in CACHE_IMPLEMENTATIONS:
            raise ValueError(f"cache_implementation={cache_implementation!r}: SLIP supports 'static' and 'dynamic'")
        if cache_implementation == "static" and generate_kwargs.get(CACHE_FIELD) is None:
            length = static_cache_length(input_ids.shape[1], defaults, generate_kwargs)
            generate_kwargs[CACHE_FIELD] = SlipStaticCache.for_config(self.config, length)
        if isinstance(generate_kwargs.get(CACHE_FIELD), SlipStaticCache):
            generate_kwargs[CACHE_FIELD].reset()
        # The model builds its caches itself, and transformers rejects a cache_implementation next to a given cache:
        # the caller's config is copied without it, and an explicit keyword (which wins over the model's
        # generation config in every transformers version) clears the model's default.
        if generation_config is not None and generation_config.cache_implementation is not None:
            generation_config = copy.deepcopy(generation_config)
            generation_config.cache_implementation = None
        if generation_config is None or self.generation_config.cache_implementation is not None:
            generate_kwargs["cache_implementation"] = None
        return super().generate(
            input_ids=input_ids,
            attention_mask=attention_mask,
            sensor_tokens=sensor_tokens,
            generation_config=generation_config,
            **generate_kwargs,
        )


__all__ = ["SlipGenerationMixin", "static_cache_length"]
