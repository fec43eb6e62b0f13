"""The scale benchmark (`intentlab bench --scale`): report layout and failure handling.

No timed assertions: these tests check what the report holds, not how fast anything is.
"""

import json

import pytest

from experiments import cli
from experiments.benchmarks import bench

SIZE_KEYS = {
    "size",
    "corporations",
    "solvers",
    "status",
    "reason",
    "rounds_requested",
    "rounds_done",
    "setup",
    "wall_seconds",
    "first_round_cpu_seconds",
    "first_round_stage_cpu_seconds",
    "cpu_seconds_per_round",
    "mean_cpu_seconds_per_round",
    "full_size",
    "active_by_round",
    "stage_cpu_seconds_by_round",
    "stage_cpu_seconds_per_round",
    "unstaged_cpu_seconds_per_round",
    "cpu_seconds_by_round",
    "peak_rss_mib_by_round",
    "peak_rss_gib",
    "rss_growth",
    "floor",
    "engine_over_floor",
    "targets",
    "meets_cpu_target",
    "meets_cpu_target_at_full_size",
    "meets_memory_target",
    "meets_growth_target",
    "meets_target",
}


def test_scale_quick_writes_a_report_with_every_key(tmp_path, capsys):
    out = tmp_path / "bench" / "report.json"
    args = ["bench", "--scale", "--quick", "--no-sweep", "--sizes", "12x4", "--rounds", "2"]
    assert cli.main([*args, "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["quick"] and report["scale_only"]
    assert "planner" not in report and "sweep" not in report
    assert {"environment", "scale"} <= set(report)
    (size,) = report["scale"]["sizes"]
    assert SIZE_KEYS <= set(size)
    assert size["status"] == "ok" and size["reason"] is None
    assert size["size"] == "12x4" and size["rounds_done"] == 2
    assert len(size["cpu_seconds_by_round"]) == len(size["peak_rss_mib_by_round"]) == 2
    assert {"market", "clearing", "optimum"} <= set(size["stage_cpu_seconds_per_round"])
    assert len(size["active_by_round"]) == 2 and size["full_size"]["rounds"] <= 1
    assert size["floor"]["status"] == "ok" and size["floor"]["price_matches_dutch"]
    assert size["meets_target"] is None  # no target at this size
    assert not list(out.parent.glob(".*.tmp"))  # written atomically
    assert "scale 12x4, 2/2 rounds" in capsys.readouterr().out


def test_a_size_past_its_time_limit_is_recorded_as_failed():
    result = bench.bench_scale(sizes=[(12, 4, 2), (100, 30, 1)], time_limit=0.001)
    failed = result["sizes"]
    assert [s["status"] for s in failed] == ["failed", "failed"]  # the report goes on
    for size in failed:
        assert "time limit" in size["reason"] and size["rounds_done"] == 0
        assert size["cpu_seconds_per_round"] is None
        assert size["floor"]["status"] == "ok"  # the floor is measured all the same
    assert failed[1]["meets_cpu_target"] is False and failed[1]["meets_target"] is False


def test_a_sweep_past_its_time_limit_is_recorded_as_failed():
    result = bench.bench_sweep(runs=2, rounds=1, time_limit=0.001)
    assert result["serial"]["status"] == result["parallel"]["status"] == "failed"
    assert "time limit" in result["serial"]["reason"]
    assert result["ratio_parallel_over_serial"] is None and result["meets_target"] is False
    assert "hydra/launcher=basic" in result["serial"]["command"]


def test_floor_prices_like_the_dutch_auction():
    floor = bench.bench_floor(40, 12, seed=3, repeats=2)
    assert floor["price_matches_dutch"] and floor["volume"] > 0
    assert len(floor["cpu_seconds_by_repeat"]) == 2


def test_parse_sizes():
    assert bench.parse_sizes("100x30, 1000X300:5") == [(100, 30, None), (1000, 300, 5)]
    for bad in ("100", "100x", "ax3", "100x30:0", "0x5"):
        with pytest.raises(ValueError, match="--sizes"):
            bench.parse_sizes(bad)


def test_bad_bench_options_are_one_line_and_exit_2(tmp_path, capsys):
    assert cli.main(["bench", "--scale", "--sizes", "10by3", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--sizes" in err
    assert cli.main(["bench", "--scale", "--time-limit", "0"]) == 2
    assert "--time-limit" in capsys.readouterr().err
