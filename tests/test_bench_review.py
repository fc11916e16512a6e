"""bench/review.py's own arguments: a small --runs measures every search, none at all is refused."""

from __future__ import annotations

import pytest

from bench import review


@pytest.mark.parametrize("runs", [1, 2, len(review.SEARCHES) + 1, 200])
def test_every_search_is_measured_however_few_the_runs(runs):
    queries = review.search_queries(runs)
    assert set(queries) == set(review.SEARCHES)
    assert len(queries) == max(runs, len(review.SEARCHES))


@pytest.mark.parametrize("runs", ["0", "-3"])
def test_no_runs_is_refused_with_a_clear_message(runs, capsys):
    with pytest.raises(SystemExit) as stopped:
        review.main(["--runs", runs])
    assert stopped.value.code == 2
    assert "--runs must be at least 1" in capsys.readouterr().err
