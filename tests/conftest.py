"""Session-wide pytest fixtures."""

import pytest

_SUBJECTS = (
    "The heart rate",
    "The accelerometer x-axis",
    "Outdoor air temperature",
    "The PPG signal",
    "Hourly energy consumption",
    "The ECG lead II",
)
_PATTERNS = (
    "rises steadily over the window",
    "falls sharply after a single peak",
    "stays flat with small noise",
    "oscillates with a clear daily cycle",
    "shows two spikes near the end",
)
# A few dozen caption-like sentences (statistical, structural and semantic phrasing, as in SLIP's captions).
CAPTIONS = [
    f"{subject} {pattern}; its mean is {0.5 + 1.7 * i:.1f} and it ends {'higher' if i % 2 else 'lower'}."
    for i, (subject, pattern) in enumerate((s, p) for s in _SUBJECTS for p in _PATTERNS)
]


@pytest.fixture(scope="session")
def tiny_tokenizer():
    """A byte-level BPE caption tokenizer with Gemma's special ids (<pad>=0, <eos>=1, <bos>=2, <unk>=3)."""
    from slip_sensor.processors.tokenizer_training import train_caption_tokenizer

    return train_caption_tokenizer(CAPTIONS, vocab_size=2048)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A random slip-tiny captioning model saved with its processor; tests read it and write elsewhere."""
    from slip_sensor.hub_export import preset_model

    model, processor = preset_model("slip-tiny", seed=0)
    directory = tmp_path_factory.mktemp("slip-tiny")
    model.save_pretrained(directory)
    processor.save_pretrained(directory)
    return directory
