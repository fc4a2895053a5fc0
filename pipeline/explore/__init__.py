"""Exploration and distillation: sample rollouts per problem in rounds, verify each, store every one."""
