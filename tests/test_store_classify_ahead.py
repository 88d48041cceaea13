"""Store.save_releases classifies a feed's new releases first, then stores them (classify_ahead):
the same rows, failures and calls as one at a time, without the write lock held while
classifying."""

from __future__ import annotations

import sqlite3

import pytest

from monitor.classify import classify
from monitor.errors import StoreError
from monitor.models import Release
from monitor.store import Store
from tests.test_store import release


class Recorder:
    """A classify that notes each call and whether a write transaction was open, and fails on
    the release ids in `fail`."""

    def __init__(self, store: Store, fail: tuple[str, ...] = ()) -> None:
        self.store, self.fail = store, fail
        self.calls: list[tuple[str, bool]] = []

    def __call__(self, r: Release):
        self.calls.append((r.release_id, self.store.db.conn.in_transaction))
        if r.release_id in self.fail:
            raise ValueError(f"cannot classify {r.release_id}")
        return classify(r.title, r.text)


def rows(store: Store) -> list[tuple]:
    return store.db.execute(
        "SELECT r.release_id, r.primary_tag, group_concat(t.tag) FROM releases r "
        "LEFT JOIN release_tags t ON t.release = r.id GROUP BY r.id ORDER BY r.id"
    ).fetchall()


def test_new_releases_are_classified_once_each_before_the_write_transaction(tmp_path):
    with Store(tmp_path / "b.db") as store:
        store.save_releases([release("2", "Acme Signs License")])
        recorder = Recorder(store)
        result = store.save_releases(
            [release("1", "Acme Signs License Agreement"), release("2"), release("3")],
            classify=recorder,
        )
        assert (result.new, result.already, result.failed) == (2, 1, ())
        assert recorder.calls == [("1", False), ("3", False)]  # the stored one is not classified
        assert [row[0] for row in rows(store)] == ["2", "1", "3"]  # stored in their order
        assert "licensing" in rows(store)[1][2]


def test_a_release_that_cannot_be_classified_fails_alone_in_its_place(tmp_path):
    with Store(tmp_path / "b.db") as store:
        recorder = Recorder(store, fail=("2",))
        result = store.save_releases([release("1"), release("2"), release("3")], classify=recorder)
        assert result.new == 2
        assert result.failed == ("2: ValueError: cannot classify 2",)
        assert [row[0] for row in rows(store)] == ["1", "3"]
        assert [call[0] for call in recorder.calls] == ["1", "2", "3"]


@pytest.mark.parametrize(
    ("fail", "calls", "stored", "failed"),
    [
        ((), ["7"], ["7"], ()),  # a repeat is the same release again: classified once
        (("7",), ["7", "7"], [], ("7: ValueError: cannot classify 7",) * 2),  # tried again
    ],
)
def test_a_release_repeated_in_one_call(tmp_path, fail, calls, stored, failed):
    with Store(tmp_path / "b.db") as store:
        recorder = Recorder(store, fail=fail)
        result = store.save_releases([release("7"), release("7")], classify=recorder)
        assert [call[0] for call in recorder.calls] == calls
        assert [row[0] for row in rows(store)] == stored
        assert result.failed == failed


def test_ahead_and_one_at_a_time_store_the_same_rows(tmp_path):
    batch = [
        release(str(i), title, text=f"Acme today announced {title.lower()} number {i}.")
        for i, title in enumerate(
            ["Acme Signs License Agreement", "Acme Receives NIH Grant", "Acme Prices Offering"]
        )
    ]
    with Store(tmp_path / "a.db") as ahead, Store(tmp_path / "b.db") as alone:
        ahead.save_releases(batch, classify=lambda r: classify(r.title, r.text))
        for r in batch:
            alone.save_release(r, classify=lambda r: classify(r.title, r.text))
        assert rows(ahead) == rows(alone)


def test_a_database_error_while_classifying_ahead_still_rolls_the_call_back(tmp_path):
    with Store(tmp_path / "b.db") as store:

        def broken(r: Release):
            raise sqlite3.OperationalError("disk I/O error")

        with pytest.raises(StoreError, match="disk I/O error"):
            store.save_releases([release("1"), release("2")], classify=broken)
        assert rows(store) == []


def test_nested_savepoints_of_one_name_roll_back_only_the_inner_one(tmp_path):
    with Store(tmp_path / "b.db") as store:
        with store.transaction():
            store.save_release(release("1"))
            with pytest.raises(RuntimeError), store.transaction():
                store.save_release(release("2"))
                with store.transaction():
                    store.save_release(release("3"))
                raise RuntimeError("inner")
            with store.transaction():
                store.save_release(release("4"))
        assert [row[0] for row in rows(store)] == ["1", "4"]
