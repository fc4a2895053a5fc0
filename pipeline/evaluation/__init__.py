"""Evaluation: benchmarks from the store's problems, greedy or sampled runs stored as eval trajectories,
accuracy / pass@k / maj@k into `eval_result`, and the Table 2 style report."""
