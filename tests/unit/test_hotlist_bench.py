"""`alpr bench hotlist` runs end to end on a small list and prints every figure."""

from __future__ import annotations

import json

from tools.cli.main import main


def test_bench_hotlist_prints_the_figures(tmp_path, capsys):
    assert main(["--data", str(tmp_path / "data"), "bench", "hotlist", "--entries", "3000",
                 "--patterns", "5", "--reads", "50", "--stored", "12", "--writers", "3",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("import_seconds", "match_median_ms", "match_p99_ms", "reads_per_second"):
        assert out[key] > 0
    assert out["entries"] == 3000 and out["reads_matched"] == 50 and out["reads_with_hits"] > 0
    # The benchmark works in a temporary folder and leaves the car's data alone.
    assert [p.name for p in (tmp_path / "data").iterdir() if p.name.startswith("bench-")] == []
