"""Trajectory file layouts are registered objects: detection in registration order, one mapper each,
a default origin each, and a new layout is one `register_layout` call."""

from __future__ import annotations

import json

import pytest

from store import Store
from store.formats import trajectories as fmt
from store.formats.readers import Source, SourceRow
from store.importer import import_trajectories


def _source(*rows: dict) -> Source:
    return Source("mem.jsonl", "jsonl", [SourceRow(i + 1, r) for i, r in enumerate(rows)])


@pytest.mark.parametrize(
    "row, layout",
    [
        ({"question": "q", "combined_text": "t"}, "still2"),
        ({"question": "q", "code": ["a", "b"], "gt": "1"}, "skyt1"),
        ({"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}, "messages"),
        ({"prompt": "q", "completion": "a"}, "prompt-completion"),
        ({"problem": "q", "output": "a"}, "prompt-response"),
    ],
)
def test_each_layout_is_detected_and_maps_its_rows(row, layout):
    assert fmt.detect_layout(set(row)) == layout
    out, errors, used = fmt.map_trajectory_rows(_source(row))
    assert used == layout and not errors and out and out[0].question == "q"


def test_a_refused_row_names_its_layouts_need():
    out, errors, _ = fmt.map_trajectory_rows(_source({"question": 3, "combined_text": "t"}), layout="still2")
    assert not out and "combined_text" in errors[0].message


def test_a_registered_layout_is_detected_imported_and_gives_its_origin(tmp_path, monkeypatch):
    def qa(row: fmt.Row):
        return [row.record(row.data["Q"], row.data["A"])] if row.data.get("A") else "A is empty"

    # registered after the fallback: detection still tries it before falling back to prompt-response
    monkeypatch.setitem(
        fmt.TRAJECTORY_LAYOUTS, "qa", fmt.TrajectoryLayout("qa", lambda k: {"Q", "A"} <= k, qa, origin="distill")
    )
    path = tmp_path / "qa.jsonl"
    path.write_text(json.dumps({"Q": "What is 1+1?", "A": "2", "answer": "2"}) + "\n", encoding="utf-8")
    store = Store(tmp_path / "s.duckdb")
    report = import_trajectories(store, str(path))
    assert report.layout == "qa" and report.added == 1
    with store.read() as conn:
        assert conn.execute("SELECT origin FROM trajectory").fetchall() == [("distill",)]


def test_an_unknown_layout_is_an_error_naming_the_known_ones(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps({"question": "q", "response": "a"}) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="still2, skyt1"):
        import_trajectories(Store(tmp_path / "s.duckdb"), str(path), layout="nope")
