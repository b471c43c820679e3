"""Data-subject rights: export, erasure, rectification history, the DPO's request queue."""
