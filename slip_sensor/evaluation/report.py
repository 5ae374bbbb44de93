"""Markdown summary of a results JSON (one row per task), for logs and model cards."""


def _pct(mean: float, std: float | None = None) -> str:
    return f"{100 * mean:.2f}" if std is None else f"{100 * mean:.2f} ± {100 * std:.2f}"


def _chance(task: dict) -> float | None:
    """1 / classes: stored since the `chance` key was added, derived from the dataset entry for older results."""
    if "chance" in task["zero_shot"]:
        return task["zero_shot"]["chance"]
    classes = task.get("dataset", {}).get("num_classes")
    return 1 / classes if classes else None


def reference_protocol_note(epochs: int) -> str:
    """The warning every output of the reference linear-probe protocol carries."""
    return (
        f"> **Reference protocol: the linear-probe epoch is chosen on the test split.** LP numbers (the model's and "
        f"the baselines') are the best test accuracy over {epochs} epochs, as in the SLIP authors' evaluation; they "
        "are optimistic and not comparable with the default protocol, which selects on a validation split of train."
    )


def results_table(results: dict) -> str:
    """A markdown table of the `tasks` of a results dict (schema in `harness`): accuracies and macro-F1 in %, chance
    (1 / classes) next to the zero-shot accuracy, under a warning when the reference protocol chose the linear-probe
    epoch on test; then the synthetic-attribute summary, retrieval and captions, when present."""
    seeds = next((t["linear_probe"]["seeds"] for t in results["tasks"].values()), [])
    lines = [
        f"Linear probe: mean ± std over {len(seeds)} seeds; zero-shot: nearest class prototype; chance: 1 / classes.",
        "",
        "| task | LP acc | LP macro-F1 | ZS acc | chance | ZS macro-F1 | stat. features LP acc "
        "| random encoder LP acc |",
        "|---|---|---|---|---|---|---|---|",
    ]
    if not results["tasks"]:  # only retrieval or captions ran
        lines = []
    elif results.get("protocol", {}).get("name") == "reference":
        lines[0:0] = [reference_protocol_note(results["protocol"]["linear_probe"]["epochs"]), ""]
    for name, task in results["tasks"].items():
        lp, zs = task["linear_probe"], task["zero_shot"]
        stats, rand = task["baselines"]["statistical_features"], task["baselines"]["random_encoder"]
        chance = _chance(task)
        cells = [
            _pct(lp["accuracy_mean"], lp["accuracy_std"]),
            _pct(lp["macro_f1_mean"], lp["macro_f1_std"]),
            _pct(zs["accuracy"]),
            _pct(chance) if chance is not None else "–",
            _pct(zs["macro_f1"]),
            _pct(stats["accuracy_mean"], stats["accuracy_std"]),
            _pct(rand["accuracy_mean"], rand["accuracy_std"]),
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    synthetic = results.get("summary", {}).get("synthetic_attributes")
    if synthetic:
        count = len(synthetic.get("tasks", []))
        lines += [
            "",
            f"Synthetic attributes ({count} task{'' if count == 1 else 's'}): mean zero-shot accuracy "
            f"{_pct(synthetic['zero_shot_mean'])}% vs chance {_pct(synthetic['chance_mean'])}% "
            f"({synthetic['ratio_to_chance']:.2f}x chance).",
        ]
    retrieval = results.get("retrieval")
    if retrieval:
        ks = retrieval["ks"]
        lines += [
            "",
            f"Retrieval on {retrieval['corpus']} ({retrieval['split']}, {retrieval['num_pairs']} pairs, "
            f"text: {retrieval['text']}); recall in %, chance R@k = k / pairs.",
            "",
            "| direction | " + " | ".join(f"R@{k}" for k in ks) + " | mean rank |",
            "|---|" + "---|" * (len(ks) + 1),
        ]
        scorers = {"": retrieval, **{f" ({name.replace('_', ' ')})": result
                                      for name, result in retrieval.get("baselines", {}).items()}}
        for direction in ("text_to_sensor", "sensor_to_text"):
            for scorer, result in scorers.items():
                metrics = result[direction]
                cells = [_pct(metrics[f"recall_at_{k}"]) for k in ks] + [f"{metrics['mean_rank']:.1f}"]
                lines.append(f"| {direction.replace('_', ' ')}{scorer} | " + " | ".join(cells) + " |")
        chance = retrieval["chance_recall_at_k"]
        mean_rank = (retrieval["num_pairs"] + 1) / 2  # of a random ranking
        lines.append("| chance | " + " | ".join(_pct(chance[str(k)]) for k in ks) + f" | {mean_rank:.1f} |")
    if results.get("captions"):
        lines += captions_table(results["captions"])
    return "\n".join(lines).lstrip("\n") + "\n"


def _maybe_pct(value: float | None) -> str:
    return "–" if value is None else _pct(value)


def captions_table(captions: dict) -> list[str]:
    """Markdown lines of the captions task (`evaluation.captioning`): the share of stated facts that are true and the
    facts stated per caption, for the generated text and for the references (the scorer's ceiling), and the
    generated captions' BLEU@4, ROUGE-L and BERTScore F1 against the references (in %)."""
    samples = captions.get("samples", {})
    source = samples.get("source", "")
    prompt = "after the known-facts prompt" if captions.get("known_facts_prompt") else "from BOS"
    lines = [
        "",
        f"Captions of {captions['num_samples']} held-out {source} series (greedy, at most "
        f"{captions.get('max_new_tokens', '?')} new tokens {prompt}). Facts true: share of the facts a caption "
        "states that the series bears out (facts given in the prompt are not counted); the references' share is "
        "the scorer's ceiling. Similarity to the references in %.",
        "",
        "| captions | facts true | facts per caption | captions without facts | BLEU@4 | ROUGE-L | BERTScore F1 |",
        "|---|---|---|---|---|---|---|",
    ]
    metrics = captions.get("metrics") or {}
    for name, key, similarity in (
        ("generated", "faithfulness", [metrics.get("bleu4"), metrics.get("rouge_l"), metrics.get("bertscore_f1")]),
        ("references (ceiling)", "reference_faithfulness", [None, None, None]),
    ):
        facts = captions.get(key)
        if facts is None:
            continue
        cells = [
            _maybe_pct(facts["share_true"]),
            f"{facts['mean_facts_per_caption']:.1f}",
            f"{facts['captions_without_facts']} / {facts['num_captions']}",
            *(_maybe_pct(value) for value in similarity),
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines
