"""Rapport's benchmarks: the coach against the stock Rasa bot, on the same machine.

`make bench` (or `.venv/bin/python -m bench`) measures NLU quality, turn latency
over REST, throughput, cold start, memory and training time for the coach and
for the bot `rasa init` makes, profiles one turn, and writes docs/benchmarks.json
and docs/benchmarks.md. `python -m bench --quick` is a small run to check the
harness (results/bench/). Benchmarks are not tests: nothing here asserts a time.
"""
