"""The self-improvement loop (`still2 iterate`): explore -> verify -> filter -> score -> D_t -> train -> eval,
round after round, each step recorded in the store so that a rerun resumes where it stopped."""
