"""Captions: three levels, stated facts that match the data, seeded paraphrases, and the paraphraser hook."""

import numpy as np
import pytest

from slip_sensor.data import caption_sensor
from slip_sensor.data.phrasing import Clock, duration, number


def heart_rate_series(rising: bool, n: int = 600) -> np.ndarray:
    rng = np.random.default_rng(0)
    drift = np.linspace(70, 130, n) if rising else np.full(n, 100.0)
    return drift + 2 * rng.normal(size=n)


def periodic_with_events() -> np.ndarray:
    rng = np.random.default_rng(1)
    t = np.arange(1200)
    x = 20 + 3 * np.sin(2 * np.pi * t / 80) + 0.2 * rng.normal(size=1200)
    x[[300, 900]] += [25, -25]
    x[500:530] = np.nan
    return x


def test_levels_units_and_when_extremes_occur():
    x = periodic_with_events()
    result = caption_sensor(x, 50.0, channel_names=["skin temperature"], units=["°C"], domain="health")
    stats = result.facts["channels"][0]["stats"]
    assert result.caption == " ".join([result.semantic, result.statistical, result.structural])
    clock = Clock(result.facts["duration_s"])
    # the extremes are the two spikes: their values, units and times are stated
    assert f"{number(stats['max'], ref=stats['max'])} °C" in result.statistical
    assert clock.at(stats["argmax_s"]) in result.statistical and clock.at(stats["argmin_s"]) in result.statistical
    # and so are the values the model sees after dividing by mean |x|
    assert number(stats["normalised"]["max"]) in result.statistical
    assert stats["normalised"]["max"] == pytest.approx(np.nanmax(x) / np.nanmean(np.abs(x)))
    assert "health" in result.semantic and "50 Hz" in result.semantic


def test_structural_sentences_state_the_computed_facts():
    result = caption_sensor(periodic_with_events(), 50.0)
    channel = result.facts["channels"][0]
    assert duration(channel["periods"][0]["seconds"]) in result.structural  # 1.6 s
    assert channel["periods"][0]["seconds"] == pytest.approx(1.6, rel=0.05)
    assert "2 isolated spikes" in result.structural
    assert "missing" in result.structural and "from 10 s to 10.6 s" in result.structural
    assert [m["start"] for m in channel["missing"]] == [500]


def test_same_seed_same_text_other_seed_other_wording_same_facts():
    x = periodic_with_events()
    a = caption_sensor(x, 50.0, seed=7)
    b = caption_sensor(x, 50.0, seed=7)
    c = caption_sensor(x, 50.0, seed=8)
    assert a == b
    assert a.facts == c.facts
    assert a.caption != c.caption
    assert len(a.paraphrases) == 3 and len({a.caption, *a.paraphrases}) == 4
    for text in a.paraphrases:  # every paraphrase keeps the numbers
        assert duration(a.facts["channels"][0]["periods"][0]["seconds"]) in text
        assert "2 isolated spikes" in text


def test_paraphraser_hook_replaces_template_paraphrases_and_is_validated():
    calls = []

    def paraphraser(text: str, n: int) -> list[str]:
        calls.append(text)
        return [f"variant {k}: {text}" for k in range(n)]

    result = caption_sensor(periodic_with_events(), 50.0, n_paraphrases=2, paraphraser=paraphraser)
    assert calls == [result.caption]
    assert result.paraphrases == [f"variant 0: {result.caption}", f"variant 1: {result.caption}"]
    with pytest.raises(ValueError, match="paraphraser must return 2"):
        caption_sensor(periodic_with_events(), 50.0, n_paraphrases=2, paraphraser=lambda text, n: [text])


@pytest.mark.parametrize("rising, label, expected", [(True, "running", True), (False, "running", False), (True, "sitting", False)])
def test_domain_phrase_needs_both_the_data_and_the_label(rising, label, expected):
    result = caption_sensor(heart_rate_series(rising), 1.0, channel_names=["heart rate"], units=["bpm"], label=label)
    assert ("rises" in result.semantic) == expected  # "heart rate rises during running" and its rewordings
    assert label in result.semantic
    assert result.facts["channels"][0]["trend"]["direction"] == ("increasing" if rising else "none")


def test_heart_rate_from_an_ecg_like_channel():
    rng = np.random.default_rng(2)
    fs, bpm = 100.0, 72.0
    t = np.arange(2000) / fs
    ecg = np.exp(8 * (np.cos(2 * np.pi * t * bpm / 60) - 1)) + 0.02 * rng.normal(size=t.size)
    result = caption_sensor(ecg, fs, channel_names=["ECG"], units=["mV"])
    assert result.facts["extras"]["heart_rate_bpm"] == pytest.approx(bpm, rel=0.05)
    assert f"{number(result.facts['extras']['heart_rate_bpm'])} b" in result.semantic


def test_many_channels_use_the_compact_style_and_cap_the_description():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(9, 200)).cumsum(axis=1)
    result = caption_sensor(x, 10.0)
    assert "Only the first 6 of 9 channels are described." in result.statistical
    assert "channel 7" not in result.structural
    assert len(result.caption.split()) < 600


def test_all_missing_channel_and_bad_input():
    x = np.stack([np.full(50, np.nan), np.arange(50.0)])
    result = caption_sensor(x, 1.0)
    assert result.facts["channels"][0]["missing"] == [{"start": 0, "end": 49, "start_s": 0.0, "end_s": 50.0}]
    assert "for the first 50 s" in result.structural and "channel 1" in result.structural.lower()
    assert "channel 1" not in result.statistical.lower()  # no statistics for a channel without values
    with pytest.raises(ValueError):
        caption_sensor(np.zeros((2, 10)), 0.0)
    with pytest.raises(ValueError):
        caption_sensor(np.zeros((2, 10)), 1.0, channel_names=["only one"])


def test_known_facts_prompt_is_how_captions_open():
    from slip_sensor.data.semantics import intro_statement, known_facts_prompt

    names = ["accel x", "accel y"]
    prompt = known_facts_prompt(100, 10.0, 2, names, domain="human activity recognition")
    assert prompt == "A 2-channel human activity recognition recording (accel x and accel y) lasting 10 s, sampled at 10 Hz."
    assert prompt in intro_statement(names, 10.0, 10.0, "human activity recognition")
    assert known_facts_prompt(87, 1.0) == "A recording of the signal lasting 87 s, sampled at 1 Hz."
    with pytest.raises(ValueError, match="sampling rate"):
        known_facts_prompt(10, 0.0)
