"""Import and export formats: readers for JSONL/JSON/Parquet/CSV/HF datasets, problem and trajectory mappings, TRL-ready exports."""
