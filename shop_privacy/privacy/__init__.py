"""The privacy core: categories, purposes, retention rules and field declarations.

Pure Python; imports nothing from the rest of the package, so every layer may depend on it.
"""
