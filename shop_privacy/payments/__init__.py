"""Payment methods and the provider interface (the shop never sees a card number, P06)."""
