"""The retention sweep (P11, P13): what has no legal basis left is deleted or reduced."""
