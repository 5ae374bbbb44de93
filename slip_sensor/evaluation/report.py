"""Markdown summary of a results JSON (one row per task), for logs and model cards."""


def _pct(mean: float, std: float | None = None) -> str:
    return f"{100 * mean:.2f}" if std is None else f"{100 * mean:.2f} ± {100 * std:.2f}"


def results_table(results: dict) -> str:
    """A markdown table of the `tasks` of a results dict (schema in `harness`): accuracies and macro-F1 in %."""
    seeds = next((t["linear_probe"]["seeds"] for t in results["tasks"].values()), [])
    lines = [
        f"Linear probe: mean ± std over {len(seeds)} seeds; zero-shot: nearest class prototype.",
        "",
        "| task | LP acc | LP macro-F1 | ZS acc | ZS macro-F1 | stat. features LP acc | random encoder LP acc |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, task in results["tasks"].items():
        lp, zs = task["linear_probe"], task["zero_shot"]
        stats, rand = task["baselines"]["statistical_features"], task["baselines"]["random_encoder"]
        cells = [
            _pct(lp["accuracy_mean"], lp["accuracy_std"]),
            _pct(lp["macro_f1_mean"], lp["macro_f1_std"]),
            _pct(zs["accuracy"]),
            _pct(zs["macro_f1"]),
            _pct(stats["accuracy_mean"], stats["accuracy_std"]),
            _pct(rand["accuracy_mean"], rand["accuracy_std"]),
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
