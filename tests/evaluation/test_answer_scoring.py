import pytest

from slip_sensor.evaluation.answer_scoring import answer_text, match_free_form, normalize_answer, parse_choice, qa_accuracy


@pytest.mark.parametrize(
    "text, expected",
    [
        ("B", "B"),
        ("b", "B"),
        ("(b)", "B"),
        ("[C] sitting", "C"),
        ("Answer: c", "C"),
        ("answer:D.", "D"),
        ("The answer is (A).", "A"),
        ("the correct answer is b, because the signal is periodic", "B"),
        ("Let me think. The signal rises. Answer: B", "B"),
        ("Option d", "D"),
        ("C) walking", "C"),
        ("a.", "A"),
        ("  d  ", "D"),
        ("Answer: B walking", "B"),
        ("answer: b\nbecause it repeats", "B"),
        ("B\nThe signal is periodic.", "B"),
        ("a person walking", None),  # the article is not option A
        ("A person walking", None),
        ("the answer is a walking person", None),
        ("I am not sure", None),
        ("Answer: E", None),  # not an option
    ],
)
def test_parse_choice(text, expected):
    assert parse_choice(text) == expected


def test_parse_choice_last_explicit_marker_wins():
    assert parse_choice("Answer: A? No, on reflection the answer is C.") == "C"


def test_parse_choice_custom_letters():
    assert parse_choice("Answer: E", choices="ABCDE") == "E"
    assert parse_choice("(e)", choices="ABC") is None


def test_echoed_prompt_is_skipped():
    prompt = "Which activity is this?\nOptions: (A) walking (B) running (C) sitting.\nReply with one letter."
    generated = prompt + " c."
    assert parse_choice(generated) == "A"  # without the prompt, the first option in the echo is taken ...
    assert parse_choice(generated, prompt=prompt) == "C"  # ... with it, only the answer is parsed


def test_echo_found_despite_whitespace_changes():
    prompt = "Options: (A) up\n(B) down\nAnswer:"
    assert answer_text("Options: (A) up (B)  down Answer: B", prompt) == " B"
    assert parse_choice("Options: (A) up (B)  down Answer: B", prompt=prompt) == "B"


def test_prompt_not_echoed_parses_everything():
    assert parse_choice("(b)", prompt="a prompt that is not in the output") == "B"


def test_normalize_answer():
    assert normalize_answer("  The  Walking_Down! ") == "walking down"


@pytest.mark.parametrize(
    "prediction, reference, expected",
    [
        ("Walking.", "walking", True),
        ("The activity is walking_down.", "walking down", True),
        ("running", "walking", False),
        ("sleepwalking", "walking", False),  # containment is by whole words
        ("walking", "walking down", False),
    ],
)
def test_match_free_form(prediction, reference, expected):
    assert match_free_form(prediction, reference) is expected


def test_free_form_skips_the_prompt():
    prompt = "Is the person walking or running?"
    assert match_free_form(prompt + " Running.", "walking", prompt=prompt) is False
    assert match_free_form(prompt + " Running.", "running", prompt=prompt) is True


def test_qa_accuracy_choice():
    predictions = ["Answer: A", "(b)", "I think C", "D"]  # the third is unparsable → wrong
    assert qa_accuracy(predictions, ["A", "(B)", "c", "a"]) == pytest.approx(2 / 4)


def test_qa_accuracy_free_form_with_prompts():
    prompts = ["Q1: walking or running?", "Q2: sitting or lying?"]
    predictions = [prompts[0] + " walking", prompts[1] + " I would say sitting"]
    assert qa_accuracy(predictions, ["walking", "lying"], mode="free_form", prompts=prompts) == pytest.approx(0.5)


def test_qa_accuracy_input_errors():
    with pytest.raises(ValueError):
        qa_accuracy(["A"], ["A", "B"])
    with pytest.raises(ValueError):
        qa_accuracy(["A"], ["not a letter"])
    with pytest.raises(ValueError):
        qa_accuracy([], [])
