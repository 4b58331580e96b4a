"""Files: self-describing models, labelled datasets, recordings and NWB, atomic writes."""

from .atomic import atomic_path, atomic_write_json, atomic_write_text
from .datasets import batch_to_dataset, dataset_to_batch, load_dataset, save_dataset
from .models import load_model, read_header, save_model
from .nwb import read_nwb, write_nwb
from .recordings import as_recording, check_recording, first_bins, recording

__all__ = [
    "as_recording",
    "atomic_path",
    "atomic_write_json",
    "atomic_write_text",
    "batch_to_dataset",
    "check_recording",
    "dataset_to_batch",
    "first_bins",
    "load_dataset",
    "load_model",
    "read_header",
    "read_nwb",
    "recording",
    "save_dataset",
    "save_model",
    "write_nwb",
]
