"""Problem sources for exploration: procedurally generated problems with exact answers."""

from pipeline.problems.generators import KINDS, GeneratedProblem, GenerationError, generate

__all__ = ["KINDS", "GeneratedProblem", "GenerationError", "generate"]
