"""The catalogue of services the shop sells."""
