"""Files: self-describing models, labelled datasets, atomic writes."""

from .atomic import atomic_path, atomic_write_json, atomic_write_text
from .datasets import batch_to_dataset, dataset_to_batch, load_dataset, save_dataset
from .models import load_model, read_header, save_model

__all__ = [
    "atomic_path",
    "atomic_write_json",
    "atomic_write_text",
    "batch_to_dataset",
    "dataset_to_batch",
    "load_dataset",
    "load_model",
    "read_header",
    "save_dataset",
    "save_model",
]
