"""Issue 21's section of docs/benchmarks.md (bench/speed.py): each target beside its
figure, met or missed as the ratio says, and written into an existing report without
touching its other sections. From a run's numbers, not from a timing of ours."""

from __future__ import annotations

import json

from bench import speed


def a_run(coach_p95=60.0, stock_p95=120.0, coach_50=2000.0, stock_50=2000.0, coach_tput=20.0, stock_tput=10.0):
    def bot(p95, p95_50, tput, cold, rss):
        return {
            "latency": {"all": {"p95": p95}, "by_kind": {"segment_done": {"p95": p95 * 1.2}, "form": {"p95": p95}}},
            "throughput": {"1": {"turns_per_s": tput}, "50": {"turns_per_s": tput, "latency": {"p95": p95_50}}},
            "cold_start": {"first_answer_s": cold},
            "memory_after_latency": {"rasa": {"rss_mb": rss}},
            "load_average_before": [3.5, 3.0, 2.0],
            "load_average_after": [4.25, 3.0, 2.0],
        }

    return {
        "meta": {"steps": ["serve"], "parameters": {"conversations": 15}, "date": "2026-12-02", "git_commit": "abc"},
        "serve": {
            "coach": bot(coach_p95, coach_50, coach_tput, 10.0, 630.0),
            "stock": bot(stock_p95, stock_50, stock_tput, 80.0, 1100.0),
        },
    }


def test_each_target_is_met_or_missed_by_its_ratio():
    rows = {row["target"].split(" ≤")[0].split(" ≥")[0]: row for row in speed.rows(a_run())}
    assert rows["Turn p95 over REST"]["ratio"] == 0.5 and rows["Turn p95 over REST"]["met"] is True
    assert rows["50 at once: p95"]["ratio"] == 1.0 and rows["50 at once: p95"]["met"] is False
    assert rows["50 at once: throughput"]["ratio"] == 2.0 and rows["50 at once: throughput"]["met"] is True
    assert rows["Cold start"]["ratio"] == 0.12 and rows["Cold start"]["met"] is True
    digressions = rows["60-turn digression interview: last ten"]
    assert digressions["met"] is None, "not measured by a serve run: said so, not counted as met"


def test_the_section_shows_each_figure_the_load_and_what_bounds_it():
    text = speed.section(a_run(coach_p95=80.0, stock_p95=100.0))
    assert "| Turn p95 over REST ≤ 0.6x the stock bot's | 80.0 ms | 100.0 ms | 0.80x | **missed** | 3.5 → 4.2;" in text
    assert "| 50 at once: throughput ≥ 1.3x | 20.00 turns/s | 10.00 turns/s | 2.00x | **met** |" in text
    assert "What bounds each figure" in text and "segment done (draft autosaved) 96.0 ms" in text
    assert text.startswith(speed.START) and text.rstrip().endswith(speed.END)


def test_written_into_a_report_it_replaces_only_its_own_section(tmp_path):
    report = tmp_path / "benchmarks.md"
    report.write_text(f"# Benchmarks\n\nbefore\n\n{speed.START}\nold figures\n{speed.END}\n\n## NLU\n\nkept\n")
    speed.write(a_run(), tmp_path)
    text = report.read_text()
    assert "old figures" not in text and "0.50x" in text
    assert text.startswith("# Benchmarks\n\nbefore\n\n") and text.endswith("## NLU\n\nkept\n")
    assert json.loads((tmp_path / "benchmarks-issue21.json").read_text())["serve"]["coach"]["cold_start"]
