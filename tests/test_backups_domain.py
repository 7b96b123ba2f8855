"""The rotation policy of backups, on dates alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.backups import Kept, Rotation, backup_due, kept_backups

NOW = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)  # a Sunday


def _days_back(*days: float) -> list[datetime]:
    return [NOW - timedelta(days=d) for d in days]


def test_a_backup_a_day_for_a_year_keeps_a_week_of_days_five_weeks_and_a_year_of_months():
    made = [NOW - timedelta(days=d, hours=1) for d in range(400)]
    kept = kept_backups(made, NOW)
    daily = sorted(t for t, why in kept.items() if Kept.DAILY in why)
    assert daily == sorted(made[:7])
    weekly = sorted((t for t, why in kept.items() if Kept.WEEKLY in why), reverse=True)
    # The newest of this week (Monday to Sunday) and of each of the four before.
    assert [t.date().isoformat() for t in weekly] == [
        "2026-11-29", "2026-11-22", "2026-11-15", "2026-11-08", "2026-11-01"]  # fmt: skip
    monthly = sorted((t for t, why in kept.items() if Kept.MONTHLY in why), reverse=True)
    assert len(monthly) == 12
    assert [t.date().isoformat() for t in monthly[:3]] == ["2026-11-29", "2026-10-31", "2026-09-30"]
    assert monthly[-1].date().isoformat() == "2025-12-31"
    assert len(kept) == 7 + 4 + 11  # a day can be the newest of its day, week and month
    assert kept[made[0]] == {Kept.NEWEST, Kept.DAILY, Kept.WEEKLY, Kept.MONTHLY}


def test_of_two_backups_on_one_day_the_later_is_kept():
    morning, evening = NOW.replace(hour=8), NOW.replace(hour=17)
    kept = kept_backups([morning, evening], NOW)
    assert set(kept) == {evening}


def test_the_newest_backup_is_kept_however_old_it_is():
    (old,) = _days_back(800)
    assert kept_backups([old], NOW) == {old: {Kept.NEWEST}}


def test_no_backups_keeps_nothing():
    assert kept_backups([], NOW) == {}


def test_a_shorter_rotation_keeps_fewer():
    made = [NOW - timedelta(days=d) for d in range(10)]
    kept = kept_backups(made, NOW, Rotation(days=2, weeks=0, months=0))
    assert set(kept) == set(made[:2])


def test_a_backup_is_due_when_there_is_none_or_the_newest_is_a_day_old():
    assert backup_due([], NOW)
    assert not backup_due(_days_back(0.9, 3), NOW)
    assert backup_due(_days_back(1, 3), NOW)
