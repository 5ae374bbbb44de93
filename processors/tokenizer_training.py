"""Trains a small byte-level BPE caption tokenizer with Gemma's special-token layout.

For tiny models, tests and offline work: the real SLIP checkpoints use the (gated) Gemma-3 tokenizer. The special
tokens keep Gemma's ids (`<pad>`=0, `<eos>`=1, `<bos>`=2, `<unk>`=3) and the same conventions (BOS prepended, no EOS,
left padding), so the processor and the model treat both tokenizers alike.
"""

from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

# Order = id: the trainer assigns the special tokens the first ids, in this order.
SPECIAL_TOKENS = {"pad_token": "<pad>", "eos_token": "<eos>", "bos_token": "<bos>", "unk_token": "<unk>"}


def train_caption_tokenizer(texts: Iterable[str], vocab_size: int = 2048) -> PreTrainedTokenizerFast:
    """
    Trains a byte-level BPE tokenizer on `texts`.

    Args:
        texts (`Iterable[str]`): training texts (captions, prompts).
        vocab_size (`int`, *optional*, defaults to 2048): largest vocabulary size, special tokens and the 256 byte
            symbols included; fewer tokens result when the texts do not support that many merges.

    Returns:
        `PreTrainedTokenizerFast` with `<pad>`=0, `<eos>`=1, `<bos>`=2, `<unk>`=3, BOS prepended to every encoded
        text (no EOS), `padding_side="left"`. Every text round-trips through `decode(..., skip_special_tokens=True)`,
        unless it contains a special token's literal text. Saves with `save_pretrained` and reloads with
        `AutoTokenizer.from_pretrained`.
    """
    texts = [texts] if isinstance(texts, str) else list(texts)
    if not texts or not all(isinstance(text, str) for text in texts):
        raise ValueError("texts must be a non-empty iterable of strings")
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    if vocab_size < len(alphabet) + len(SPECIAL_TOKENS):
        raise ValueError(
            f"vocab_size must be at least {len(alphabet) + len(SPECIAL_TOKENS)} (256 bytes + "
            f"{len(SPECIAL_TOKENS)} special tokens), got {vocab_size}"
        )

    tokenizer = Tokenizer(models.BPE(unk_token=SPECIAL_TOKENS["unk_token"]))
    # add_prefix_space=False keeps decode(encode(text)) == text (no leading space is invented).
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS.values()),
        initial_alphabet=alphabet,
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    ids = {name: tokenizer.token_to_id(token) for name, token in SPECIAL_TOKENS.items()}
    if list(ids.values()) != [0, 1, 2, 3]:
        raise RuntimeError(f"special tokens got ids {ids}, expected Gemma's 0..3")  # a `tokenizers` behaviour change

    bos = SPECIAL_TOKENS["bos_token"]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A", pair=f"{bos} $A {bos} $B:1", special_tokens=[(bos, ids["bos_token"])]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        padding_side="left",
        model_input_names=["input_ids", "attention_mask"],
        clean_up_tokenization_spaces=False,
        **SPECIAL_TOKENS,
    )


__all__ = ["SPECIAL_TOKENS", "train_caption_tokenizer"]
