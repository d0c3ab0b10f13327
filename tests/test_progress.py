import pytest

from grokkit.progress import LOG_POINTS_PER_DECADE, recorded_epochs


def test_log_schedule_is_log_spaced_and_keeps_the_last_epoch():
    epochs = sorted(recorded_epochs(1, 100_000, "log"))
    assert epochs[:10] == list(range(1, 11)) and epochs[-1] == 100_000
    assert len(epochs) < 5 * LOG_POINTS_PER_DECADE + 10
    assert sum(1000 <= e < 10_000 for e in epochs) == LOG_POINTS_PER_DECADE


def test_every_k_and_windows_of_a_continued_run():
    assert sorted(recorded_epochs(1, 20, 5)) == [5, 10, 15, 20]
    assert sorted(recorded_epochs(11, 23, 5)) == [15, 20, 23]
    assert sorted(recorded_epochs(11, 12, "log")) == [11, 12]
    assert recorded_epochs(5, 4, 1) == set()


@pytest.mark.parametrize("bad", [0, -3, "lin", 1.5])
def test_bad_schedule(bad):
    with pytest.raises((ValueError, TypeError), match="measure_every"):
        recorded_epochs(1, 10, bad)
