"""Training (TRL): SFT on a dataset version and DPO on pairs, saving safetensors and registering the model.

torch / transformers / trl / peft are imported inside the functions that train, never at import time.
"""

from pipeline.training.config import DPOTrainConfig, SFTTrainConfig, TrainResult

__all__ = ["DPOTrainConfig", "SFTTrainConfig", "TrainResult"]
