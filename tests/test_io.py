"""``disentangle.io``: durable appends of partial results."""

import csv

from disentangle.io import append_csv_rows


def test_appended_rows_keep_one_header_and_every_row(tmp_path):
    path = tmp_path / "deep" / "rows.csv"  # the folder is made
    append_csv_rows(path, [{"a": 1, "b": "x"}], ("a", "b"))
    append_csv_rows(path, [{"a": 2, "b": "y"}, {"a": 3, "b": "z"}], ("a", "b"))
    assert path.read_text().count("a,b") == 1
    with open(path, newline="") as f:
        assert [(r["a"], r["b"]) for r in csv.DictReader(f)] == [("1", "x"), ("2", "y"), ("3", "z")]
