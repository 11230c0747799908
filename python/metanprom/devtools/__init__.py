"""Developer tools: the synthetic-data generator and its calibration, the benchmark and its baselines."""
